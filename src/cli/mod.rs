//! The command line: `latchkey serve` (the default), and the operator's
//! `latchkey user …` and `latchkey key …`. Serving is the crate root's to start
//! (`crate::run`); the operator's commands run here, through the auth core.

mod db;
mod import;
mod key;
mod progress;
mod user;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::settings::Settings;

/// latchkey: a self-hosted login service (OAuth2 password flow, JWT bearer tokens).
#[derive(Debug, Parser)]
#[command(name = "latchkey", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the JSON API and the browser app (the default).
    Serve,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage the token signing keys.
    Key {
        #[command(subcommand)]
        command: key::KeyCommand,
    },
    /// Migrate, back up, or copy the database.
    Db {
        #[command(subcommand)]
        command: db::DbCommand,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Import users from the FastAPI app's user table (JSON); re-importing updates them.
    Import {
        /// A JSON object keyed by username, or a list of users.
        file: PathBuf,
    },
    /// Add a user; the password is read from stdin (prompted for on a terminal).
    Add {
        /// The username.
        name: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        full_name: Option<String>,
        /// Scopes the user may be granted, space-separated (default: all).
        #[arg(long)]
        scopes: Option<String>,
        /// Create the user disabled.
        #[arg(long)]
        disabled: bool,
    },
    /// List users.
    List,
    /// Set a user's password, read from stdin (prompted for on a terminal).
    SetPassword {
        /// The username.
        name: String,
    },
    /// Disable a user: they can no longer log in.
    Disable {
        /// The username.
        name: String,
    },
    /// Enable a disabled user.
    Enable {
        /// The username.
        name: String,
    },
    /// Delete a user and their items.
    Delete {
        /// The username.
        name: String,
    },
}

/// A command that failed, with a one-line reason for the operator.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CliError(String);

impl CliError {
    pub(crate) fn from_display(error: impl std::fmt::Display) -> Self {
        CliError(error.to_string())
    }
}

impl Cli {
    /// Whether the command is `serve` (or none, which means `serve`).
    pub(crate) fn serves(&self) -> bool {
        matches!(self.command, None | Some(Command::Serve))
    }
}

/// Runs an operator's command (anything but `serve`).
pub(crate) async fn run(cli: Cli, settings: &Settings) -> Result<(), CliError> {
    match cli.command {
        None | Some(Command::Serve) => Err(CliError("`serve` is not an operator's command".into())),
        Some(Command::User { command }) => user::run(command, settings).await,
        Some(Command::Key { command }) => key::run(command, settings).await,
        Some(Command::Db { command }) => db::run(command, settings).await,
    }
}
