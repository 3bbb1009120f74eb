//! Runtime configuration: `Leptos.toml`, then environment variables on top.
//!
//! Every key `some_key` of `Leptos.toml` can be overridden by `LATCHKEY_SOME_KEY`;
//! the site address, site root and database URL also answer to the names the Leptos
//! and sqlx ecosystems use: `LEPTOS_SITE_ADDR`, `LEPTOS_SITE_ROOT`, `DATABASE_URL`.
//! The signing key is not a setting: see [`crate::auth::keys`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The configuration file read when `LATCHKEY_CONFIG` does not name another.
pub const DEFAULT_CONFIG_FILE: &str = "Leptos.toml";

/// Everything the server and the command line can be configured with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address the HTTP server listens on.
    pub site_addr: SocketAddr,
    /// Folder with the compiled browser app (`target/site` after a build).
    pub site_root: String,
    /// Folder holding the SQLite database and the generated signing key.
    pub data_dir: PathBuf,
    /// Database URL; empty means SQLite in `data_dir`.
    pub database_url: String,
    /// Lifetime of an access token, in minutes.
    pub access_token_minutes: u64,
    /// Argon2id memory cost of new password hashes, in KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id time cost (passes) of new password hashes.
    pub argon2_iterations: u32,
    /// Argon2id parallelism (lanes) of new password hashes.
    pub argon2_parallelism: u32,
    /// Whether people can create their own accounts (`/signup`, `POST /users/`).
    pub self_registration: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            site_addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            site_root: "target/site".into(),
            data_dir: PathBuf::from("./data"),
            database_url: String::new(),
            access_token_minutes: 30,
            argon2_memory_kib: 65536,
            argon2_iterations: 3,
            argon2_parallelism: 4,
            self_registration: true,
        }
    }
}

/// Whether `LATCHKEY_<key>` names a setting. Other `LATCHKEY_` variables (the
/// signing key, the config file's path, test and CI helpers) are not settings and
/// must not make the configuration invalid.
fn is_setting(key: &figment::value::UncasedStr) -> bool {
    Settings::keys()
        .iter()
        .any(|name| key.as_str().eq_ignore_ascii_case(name))
}

/// A configuration that cannot be used, with the key at fault.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {0}")]
pub struct ConfigError(String);

impl Settings {
    /// Reads the file named by `LATCHKEY_CONFIG` (default `Leptos.toml`, if present),
    /// then the environment.
    pub fn load() -> Result<Self, ConfigError> {
        let file = std::env::var_os("LATCHKEY_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
        Self::load_from(&file)
    }

    /// Reads `file` (skipped if it does not exist), then the environment.
    pub fn load_from(file: &Path) -> Result<Self, ConfigError> {
        let settings: Settings = Figment::from(Serialized::defaults(Settings::default()))
            .merge(Toml::file(file))
            .merge(Env::prefixed("LATCHKEY_").filter(is_setting))
            .merge(
                Env::raw()
                    .only(&["leptos_site_addr", "leptos_site_root", "database_url"])
                    .map(|key| {
                        key.as_str()
                            .to_ascii_lowercase()
                            .trim_start_matches("leptos_")
                            .to_owned()
                            .into()
                    }),
            )
            .extract()
            .map_err(|e| ConfigError(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    /// The names of the settings, as `Leptos.toml` spells them.
    pub fn keys() -> Vec<String> {
        match serde_json::to_value(Settings::default()) {
            Ok(serde_json::Value::Object(fields)) => fields.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.access_token_minutes == 0 {
            return Err(ConfigError(
                "access_token_minutes must be at least 1".into(),
            ));
        }
        if self.argon2_iterations == 0 || self.argon2_parallelism == 0 {
            return Err(ConfigError(
                "argon2_iterations and argon2_parallelism must be at least 1".into(),
            ));
        }
        if self.argon2_memory_kib < 8 * self.argon2_parallelism {
            return Err(ConfigError(
                "argon2_memory_kib must be at least 8 × argon2_parallelism".into(),
            ));
        }
        Ok(())
    }
}
