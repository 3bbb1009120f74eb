//! Where log lines go and which are written: stderr, as text or JSON lines, with
//! the `log_filter` directives of the settings, or `RUST_LOG`'s when it is set.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::settings::{LogFormat, Settings};

/// Starts logging for the rest of the process, as the settings say.
pub(crate) fn init(settings: &Settings) {
    let from_env = std::env::var("RUST_LOG")
        .ok()
        .filter(|directives| !directives.trim().is_empty());
    let (filter, bad_env) = match from_env.as_deref().map(EnvFilter::try_new) {
        Some(Ok(filter)) => (filter, None),
        Some(Err(e)) => (EnvFilter::new(&settings.log_filter), Some(e)),
        None => (EnvFilter::new(&settings.log_filter), None),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // Only the first call in a process takes effect (tests may call it again).
    let _ = match settings.log_format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .try_init(),
    };
    if let Some(error) = bad_env {
        tracing::warn!(%error, "RUST_LOG is not valid: using log_filter instead");
    }
}
