//! `latchkey key …`: the token signing keys.

use clap::Subcommand;

use super::CliError;
use crate::auth::keyring::{KeyAlgorithm, KeyState, SigningKey, key_states, load_keyring, rotate};
use crate::settings::Settings;
use crate::store;

/// What `latchkey key` can do.
#[derive(Debug, Subcommand)]
pub(super) enum KeyCommand {
    /// Add a new signing key; it signs from now on (on every instance within
    /// 30 seconds) and older keys verify until their tokens have expired.
    Rotate {
        /// HS256, EdDSA or RS256 (default: signing_algorithm of the configuration).
        #[arg(long)]
        algorithm: Option<KeyAlgorithm>,
    },
    /// List the signing keys (ids, algorithms, states; never the keys).
    List,
}

/// Runs a `key` command against the configured store.
pub(super) async fn run(command: KeyCommand, settings: &Settings) -> Result<(), CliError> {
    let store = store::open(settings.database_url.as_deref(), &settings.data_dir)
        .await
        .map_err(CliError::from_display)?;
    match command {
        KeyCommand::Rotate { algorithm } => {
            let algorithm = algorithm.unwrap_or(settings.signing_algorithm);
            // The keyring must be readable before it is changed.
            load_keyring(store.as_ref())
                .await
                .map_err(CliError::from_display)?;
            let key: SigningKey =
                rotate(store.as_ref(), algorithm, settings.token_policy().lifetime)
                    .await
                    .map_err(CliError::from_display)?;
            println!("new {} signing key {}", algorithm.as_str(), key.kid);
            Ok(())
        }
        KeyCommand::List => {
            let keys = key_states(store.as_ref())
                .await
                .map_err(CliError::from_display)?;
            println!(
                "{:<16}  {:<9}  {:<20}  STATE",
                "KID", "ALGORITHM", "CREATED"
            );
            for (stored, state) in keys {
                let state = match state {
                    KeyState::Signing => "signing".to_owned(),
                    KeyState::Verifying => "verifying".to_owned(),
                    KeyState::VerifyingUntil(end) => format!("verifying until {}", timestamp(end)),
                    KeyState::Retired => "retired".to_owned(),
                };
                println!(
                    "{:<16}  {:<9}  {:<20}  {state}",
                    stored.kid,
                    stored.material.algorithm.as_str(),
                    timestamp(stored.created_at)
                );
            }
            Ok(())
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of a Unix time.
fn timestamp(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0).map_or_else(
        || seconds.to_string(),
        |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
    )
}
