//! `latchkey key …`: the token signing keys.

use clap::Subcommand;

use super::CliError;
use crate::auth::keyring::{KeyAlgorithm, SigningKey, load_keyring, rotate};
use crate::clock::unix_now;
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
            let keys = store.signing_keys().await.map_err(CliError::from_display)?;
            let now = unix_now();
            println!(
                "{:<16}  {:<9}  {:<20}  STATE",
                "KID", "ALGORITHM", "CREATED"
            );
            let mut signing_shown = false;
            for stored in keys.iter() {
                let kid = SigningKey::new(&stored.material)
                    .map(|k| k.kid)
                    .unwrap_or_else(|_| stored.kid.clone());
                let state = match stored.retire_after {
                    None if !signing_shown => {
                        signing_shown = true;
                        "signing".to_owned()
                    }
                    None => "verifying".to_owned(),
                    Some(end) if end > now => format!("verifying until {}", timestamp(end)),
                    Some(_) => "retired".to_owned(),
                };
                println!(
                    "{kid:<16}  {:<9}  {:<20}  {state}",
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
