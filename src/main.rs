//! The `latchkey` binary: the server and the operator's command line.

use std::process::ExitCode;

use clap::Parser as _;

#[tokio::main]
async fn main() -> ExitCode {
    // Logging starts once the settings are read (`log_filter`, `log_format`).
    match latchkey::run(latchkey::cli::Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("latchkey: {error}");
            ExitCode::FAILURE
        }
    }
}
