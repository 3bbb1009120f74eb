//! Runtime configuration: `Leptos.toml`, then environment variables on top.
//!
//! Every key `some_key` of `Leptos.toml` can be overridden by `LATCHKEY_SOME_KEY`;
//! the site address, site root and database URL also answer to the names the Leptos
//! and sqlx ecosystems use: `LEPTOS_SITE_ADDR`, `LEPTOS_SITE_ROOT`, `DATABASE_URL`.
//! The defaults are written once, in [`Settings::default`]; the shipped
//! `Leptos.toml` spells out the same values (a test keeps them equal) and explains
//! each. The signing key is not a setting: see [`crate::auth::keyring`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::auth::authorization_cache::CachePolicy;
use crate::auth::keyring::KeyAlgorithm;
use crate::auth::password::{HashingParametersError, PasswordHasher};
use crate::auth::rate_limit::RatePolicy;
use crate::auth::sessions::SessionPolicy;
use crate::auth::throttle::ThrottlePolicy;
use crate::auth::token::TokenPolicy;
use crate::store::StoreOptions;

mod trusted_proxies;

/// The configuration file read when `LATCHKEY_CONFIG` does not name another.
pub(crate) const DEFAULT_CONFIG_FILE: &str = "Leptos.toml";

/// Everything the server and the command line can be configured with. What each
/// setting does, and its default, is explained in `Leptos.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Settings {
    /// Address the HTTP server listens on.
    pub site_addr: SocketAddr,
    /// Folder with the compiled browser app (`target/site` after a build).
    pub site_root: String,
    /// Folder holding the embedded SQLite database.
    pub data_dir: PathBuf,
    /// The database; none means SQLite at `data_dir/latchkey.db`.
    pub database_url: Option<String>,
    /// The most connections to a PostgreSQL database at once, per instance.
    pub database_max_connections: u32,
    /// Lifetime of an access token, in minutes.
    pub access_token_minutes: u64,
    /// Algorithm of new signing keys.
    pub signing_algorithm: KeyAlgorithm,
    /// `iss` of issued tokens, required of presented ones.
    pub token_issuer: Option<String>,
    /// `aud` of issued tokens, required of presented ones.
    pub token_audience: Option<String>,
    /// A session ends when its refresh token goes unused this many days.
    pub refresh_token_days: u64,
    /// A session ends this many days after its login, however it is used.
    pub session_max_days: u64,
    /// Seconds at most between two reads of the signing keys from the database.
    pub keyring_refresh_seconds: u64,
    /// Seconds between two deletions of ended and expired sessions.
    pub session_cleanup_seconds: u64,
    /// Sessions (and as many users) kept in memory for authorizing requests; 0
    /// reads both from the database on every request.
    pub auth_cache_entries: usize,
    /// Seconds at most that a cached session or user is used before it is read
    /// again (changes are learnt at once; this is the safety net).
    pub auth_cache_seconds: u64,
    /// Failed logins after which an account is blocked for a while.
    pub throttle_account_failures: u32,
    /// Failed logins after which a client address is blocked for a while.
    pub throttle_address_failures: u32,
    /// Failed logins after which a browser's device cookie is blocked for a while.
    pub throttle_device_failures: u32,
    /// Days a device cookie stays good after the sign-in that set it.
    pub device_cookie_days: u64,
    /// The first block, in seconds; each further failure doubles it.
    pub throttle_base_seconds: u64,
    /// The longest block, in seconds.
    pub throttle_max_seconds: u64,
    /// Failures are forgotten after this many minutes without a new one.
    pub throttle_reset_minutes: u64,
    /// Proxies whose `X-Forwarded-For` / `X-Real-IP` name the client: addresses
    /// (`"127.0.0.1"`) or networks (`"10.0.0.0/8"`).
    #[serde(with = "trusted_proxies")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Refresh grants a minute per session (refresh family).
    pub refresh_session_per_minute: u32,
    /// Refresh grants a minute per client address (IPv6: per /64).
    pub refresh_address_per_minute: u32,
    /// Sign-ups an hour per client address (IPv6: per /64).
    pub signup_address_per_hour: u32,
    /// Password hashes computed at once; 0 means one per CPU core.
    pub password_hash_concurrency: usize,
    /// Logins that may wait for a hashing slot; more are answered 503.
    pub password_hash_queue: usize,
    /// Sign-up hashes (and password strength estimates) computed at once, apart
    /// from the logins' slots.
    pub signup_hash_concurrency: usize,
    /// Sign-ups that may wait for their slot; more are answered 503.
    pub signup_hash_queue: usize,
    /// Argon2id memory cost of new password hashes, in KiB.
    pub argon2_memory_kib: u32,
    /// Argon2id time cost (passes) of new password hashes.
    pub argon2_iterations: u32,
    /// Argon2id parallelism (lanes) of new password hashes.
    pub argon2_parallelism: u32,
    /// Whether people can create their own accounts (`/signup`, `POST /users/`).
    pub self_registration: bool,
    /// Largest request body read, in KiB; a larger one gets 413.
    pub max_body_kib: u32,
    /// Largest request head, in KiB; a larger one gets 431.
    pub max_header_kib: u32,
    /// Most header fields a request may carry; more get 431.
    pub max_headers: u32,
    /// Seconds a client has to send a whole request head.
    pub header_read_timeout_seconds: u64,
    /// Seconds from a request's head to its response; then the answer is 408.
    pub request_timeout_seconds: u64,
    /// `max-age` of `Strict-Transport-Security`; 0 sends no header.
    pub hsts_max_age_seconds: u64,
    /// Origins whose pages may call the JSON API (CORS).
    pub cors_allowed_origins: Vec<String>,
    /// What is logged, as `RUST_LOG`-style directives (`RUST_LOG` wins when set).
    pub log_filter: String,
    /// How log lines are written: human-readable text or JSON lines.
    pub log_format: LogFormat,
    /// Request paths left out of the access log (health checks, by default).
    pub access_log_skip_paths: Vec<String>,
    /// A listener of its own for `GET /metrics`; none keeps it off that way.
    pub metrics_addr: Option<SocketAddr>,
    /// The bearer token `GET /metrics` requires; with no `metrics_addr`, setting
    /// it serves the metrics on the public port.
    pub metrics_token: Option<SecretString>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    /// One human-readable line per event (colours on a terminal).
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// A secret setting: its `Debug` output never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct SecretString(String);

impl SecretString {
    /// The secret itself, for the one place that compares it.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// The paths the access log leaves out unless told otherwise: the probes of load
/// balancers and orchestrators, and the metrics scrapes.
const HEALTH_CHECK_PATHS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// The shortest `metrics_token` accepted.
const MIN_METRICS_TOKEN_CHARS: usize = 16;

impl Default for Settings {
    fn default() -> Self {
        Self {
            site_addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            site_root: "target/site".into(),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database_max_connections: 10,
            access_token_minutes: 15,
            signing_algorithm: KeyAlgorithm::HS256,
            token_issuer: None,
            token_audience: None,
            refresh_token_days: 14,
            session_max_days: 30,
            keyring_refresh_seconds: 30,
            session_cleanup_seconds: 300,
            auth_cache_entries: 10_000,
            auth_cache_seconds: 10,
            throttle_account_failures: 5,
            throttle_address_failures: 20,
            throttle_device_failures: 3,
            device_cookie_days: 365,
            throttle_base_seconds: 30,
            throttle_max_seconds: 900,
            throttle_reset_minutes: 720,
            trusted_proxies: Vec::new(),
            refresh_session_per_minute: 10,
            refresh_address_per_minute: 300,
            signup_address_per_hour: 20,
            password_hash_concurrency: 0,
            password_hash_queue: 32,
            signup_hash_concurrency: 1,
            signup_hash_queue: 32,
            argon2_memory_kib: 65536,
            argon2_iterations: 3,
            argon2_parallelism: 4,
            self_registration: true,
            max_body_kib: 64,
            max_header_kib: 16,
            max_headers: 64,
            header_read_timeout_seconds: 10,
            request_timeout_seconds: 30,
            hsts_max_age_seconds: 0,
            cors_allowed_origins: Vec::new(),
            log_filter: "info,sqlx=warn".into(),
            log_format: LogFormat::Text,
            access_log_skip_paths: HEALTH_CHECK_PATHS.map(String::from).to_vec(),
            metrics_addr: None,
            metrics_token: None,
        }
    }
}

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(24 * 3600);

/// The policies of the auth core, built from the settings: every unit conversion
/// happens here.
impl Settings {
    /// Lifetime, issuer and audience of access tokens.
    pub(crate) fn token_policy(&self) -> TokenPolicy {
        TokenPolicy {
            lifetime: MINUTE.saturating_mul(saturating_u32(self.access_token_minutes)),
            issuer: self.token_issuer.clone(),
            audience: self.token_audience.clone(),
        }
    }

    /// How long sessions last.
    pub(crate) fn session_policy(&self) -> SessionPolicy {
        SessionPolicy {
            refresh_lifetime: DAY.saturating_mul(saturating_u32(self.refresh_token_days)),
            max_lifetime: DAY.saturating_mul(saturating_u32(self.session_max_days)),
            keyring_refresh: Duration::from_secs(self.keyring_refresh_seconds),
        }
    }

    /// What the auth core caches of sessions and users.
    pub(crate) fn cache_policy(&self) -> CachePolicy {
        CachePolicy {
            entries: self.auth_cache_entries,
            max_age: Duration::from_secs(self.auth_cache_seconds),
        }
    }

    /// The request rates of refresh grants and sign-ups.
    pub(crate) fn rate_policy(&self) -> RatePolicy {
        RatePolicy {
            refresh_per_session_minute: self.refresh_session_per_minute,
            refresh_per_address_minute: self.refresh_address_per_minute,
            signup_per_address_hour: self.signup_address_per_hour,
        }
    }

    /// How the store is opened.
    pub(crate) fn store_options(&self) -> StoreOptions {
        StoreOptions {
            max_connections: self.database_max_connections,
        }
    }

    /// How often ended and expired sessions are deleted.
    pub(crate) fn session_cleanup_interval(&self) -> Duration {
        Duration::from_secs(self.session_cleanup_seconds)
    }

    /// How hard the login throttle is.
    pub(crate) fn throttle_policy(&self) -> ThrottlePolicy {
        ThrottlePolicy {
            account_failures: self.throttle_account_failures,
            address_failures: self.throttle_address_failures,
            device_failures: self.throttle_device_failures,
            base_seconds: self.throttle_base_seconds,
            max_seconds: self.throttle_max_seconds,
            reset_seconds: self.throttle_reset_minutes.saturating_mul(60),
        }
    }

    /// How long a device cookie stays good.
    pub(crate) fn device_cookie_lifetime(&self) -> Duration {
        DAY.saturating_mul(saturating_u32(self.device_cookie_days))
    }

    /// The hasher of new passwords, with the configured Argon2id costs.
    pub(crate) fn password_hasher(&self) -> Result<PasswordHasher, HashingParametersError> {
        PasswordHasher::new(
            self.argon2_memory_kib,
            self.argon2_iterations,
            self.argon2_parallelism,
        )
    }
}

fn saturating_u32(value: u64) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
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
pub(crate) struct ConfigError(String);

impl Settings {
    /// Reads the file named by `LATCHKEY_CONFIG` (default `Leptos.toml`, if present),
    /// then the environment.
    pub(crate) fn load() -> Result<Self, ConfigError> {
        let file = std::env::var_os("LATCHKEY_CONFIG")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE));
        Self::load_from(&file)
    }

    /// Reads `file` (skipped if it does not exist), then the environment.
    pub(crate) fn load_from(file: &Path) -> Result<Self, ConfigError> {
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
        settings.validate_http()?;
        settings.validate_operations()?;
        Ok(settings)
    }

    /// The names of the settings, as `Leptos.toml` spells them.
    pub(crate) fn keys() -> Vec<String> {
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
        for (key, value) in [
            ("database_url", &self.database_url),
            ("token_issuer", &self.token_issuer),
            ("token_audience", &self.token_audience),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(ConfigError(format!(
                    "{key} is empty: leave it out (or unset its variable) for none"
                )));
            }
        }
        if self.refresh_token_days == 0 || self.session_max_days == 0 {
            return Err(ConfigError(
                "refresh_token_days and session_max_days must be at least 1".into(),
            ));
        }
        if self.throttle_account_failures == 0
            || self.throttle_address_failures == 0
            || self.throttle_device_failures == 0
        {
            return Err(ConfigError(
                "throttle_account_failures, throttle_address_failures and \
                 throttle_device_failures must be at least 1"
                    .into(),
            ));
        }
        if self.database_max_connections == 0 {
            return Err(ConfigError(
                "database_max_connections must be at least 1".into(),
            ));
        }
        if self.device_cookie_days == 0 {
            return Err(ConfigError("device_cookie_days must be at least 1".into()));
        }
        if self.throttle_base_seconds == 0 || self.throttle_max_seconds < self.throttle_base_seconds
        {
            return Err(ConfigError(
                "throttle_base_seconds must be at least 1 and at most throttle_max_seconds".into(),
            ));
        }
        if self.keyring_refresh_seconds == 0 || self.session_cleanup_seconds == 0 {
            return Err(ConfigError(
                "keyring_refresh_seconds and session_cleanup_seconds must be at least 1".into(),
            ));
        }
        if self.refresh_session_per_minute == 0
            || self.refresh_address_per_minute == 0
            || self.signup_address_per_hour == 0
            || self.signup_hash_concurrency == 0
        {
            return Err(ConfigError(
                "refresh_session_per_minute, refresh_address_per_minute, signup_address_per_hour and signup_hash_concurrency must be at least 1".into(),
            ));
        }
        if self.throttle_reset_minutes == 0 {
            return Err(ConfigError(
                "throttle_reset_minutes must be at least 1".into(),
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

/// The largest `max_header_kib`: hyper's read buffer (about 400 KiB) must hold a
/// whole head.
const MAX_HEADER_KIB_LIMIT: u32 = 256;

/// The HTTP server's limits, in the units the server needs.
impl Settings {
    /// [`Self::max_body_kib`] in bytes: the one limit on request bodies.
    pub(crate) fn max_body_bytes(&self) -> usize {
        usize::try_from(self.max_body_kib)
            .unwrap_or(usize::MAX)
            .saturating_mul(1024)
    }

    /// [`Self::max_header_kib`] in bytes.
    pub(crate) fn max_header_bytes(&self) -> usize {
        usize::try_from(self.max_header_kib)
            .unwrap_or(usize::MAX)
            .saturating_mul(1024)
    }

    /// [`Self::header_read_timeout_seconds`] as a duration.
    pub(crate) fn header_read_timeout(&self) -> Duration {
        Duration::from_secs(self.header_read_timeout_seconds)
    }

    /// [`Self::request_timeout_seconds`] as a duration.
    pub(crate) fn request_timeout(&self) -> Duration {
        Duration::from_secs(self.request_timeout_seconds)
    }

    fn validate_http(&self) -> Result<(), ConfigError> {
        let at_least_one = [
            ("max_body_kib", u64::from(self.max_body_kib)),
            ("max_header_kib", u64::from(self.max_header_kib)),
            ("max_headers", u64::from(self.max_headers)),
            (
                "header_read_timeout_seconds",
                self.header_read_timeout_seconds,
            ),
            ("request_timeout_seconds", self.request_timeout_seconds),
        ];
        if let Some((key, _)) = at_least_one.iter().find(|(_, value)| *value == 0) {
            return Err(ConfigError(format!("{key} must be at least 1")));
        }
        if self.max_header_kib > MAX_HEADER_KIB_LIMIT {
            return Err(ConfigError(format!(
                "max_header_kib must be at most {MAX_HEADER_KIB_LIMIT}"
            )));
        }
        for origin in &self.cors_allowed_origins {
            if let Some(problem) = origin_problem(origin) {
                return Err(ConfigError(format!(
                    "cors_allowed_origins: {origin:?} {problem}; write an origin as browsers \
                     send it, like \"https://app.example.com\""
                )));
            }
        }
        Ok(())
    }
}

/// Logging and metrics.
impl Settings {
    /// Whether `GET /metrics` is served at all (on its own address, or with a
    /// token on the public port).
    pub(crate) fn metrics_enabled(&self) -> bool {
        self.metrics_addr.is_some() || self.metrics_token.is_some()
    }

    fn validate_operations(&self) -> Result<(), ConfigError> {
        if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(&self.log_filter) {
            return Err(ConfigError(format!("log_filter: {e}")));
        }
        if let Some(path) = self
            .access_log_skip_paths
            .iter()
            .find(|path| !path.starts_with('/'))
        {
            return Err(ConfigError(format!(
                "access_log_skip_paths: {path:?} is not a path (it must start with /)"
            )));
        }
        if self.metrics_addr == Some(self.site_addr) {
            return Err(ConfigError(
                "metrics_addr must differ from site_addr: leave it out and set metrics_token \
                 to serve the metrics on the site's port"
                    .into(),
            ));
        }
        if let Some(token) = &self.metrics_token {
            // Never the token itself in the message: it may end up in a log.
            let token = token.expose();
            let bearer_chars = |c: char| c.is_ascii_alphanumeric() || "-._~+/=".contains(c);
            if token.chars().count() < MIN_METRICS_TOKEN_CHARS || !token.chars().all(bearer_chars) {
                return Err(ConfigError(format!(
                    "metrics_token must have at least {MIN_METRICS_TOKEN_CHARS} characters of \
                     A-Z a-z 0-9 - . _ ~ + / = (e.g. `openssl rand -hex 32`)"
                )));
            }
        }
        Ok(())
    }
}

/// What keeps `origin` from being an origin as a browser's `Origin` header spells
/// it (`scheme://host[:port]`, lowercase, no path), if anything.
fn origin_problem(origin: &str) -> Option<&'static str> {
    if origin.contains('*') {
        return Some("is a wildcard, and only listed origins are allowed");
    }
    if origin.chars().any(|c| c.is_ascii_uppercase()) {
        return Some("has capital letters, which browsers lower-case");
    }
    let Ok(uri) = origin.parse::<axum::http::Uri>() else {
        return Some("is not a URL");
    };
    let default_port = match uri.scheme_str() {
        Some("https") => 443,
        Some("http") => 80,
        _ => return Some("does not start with https:// or http://"),
    };
    let Some(authority) = uri.authority() else {
        return Some("has no host");
    };
    let scheme = uri.scheme_str().unwrap_or_default();
    if origin != format!("{scheme}://{authority}") {
        return Some("has a path or a query (even a trailing / is one)");
    }
    if authority.as_str().contains('@') {
        return Some("has a user name");
    }
    if authority.host().is_empty() || authority.as_str().ends_with(':') {
        return Some("has no host or an empty port");
    }
    if authority.port_u16() == Some(default_port) {
        return Some("names its scheme's default port, which browsers leave out");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_leptos_toml_holds_exactly_the_defaults() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join(DEFAULT_CONFIG_FILE);
        let read: Settings = Figment::new()
            .merge(Toml::file_exact(&shipped))
            .extract()
            .expect("Leptos.toml is complete and valid");
        assert_eq!(read, Settings::default());
    }

    #[test]
    fn empty_strings_are_not_a_way_to_say_none() {
        let settings = Settings {
            token_issuer: Some(String::new()),
            ..Settings::default()
        };
        let error = settings.validate().unwrap_err().to_string();
        assert!(error.contains("token_issuer"), "{error}");
    }

    #[test]
    fn policies_convert_units_once() {
        let settings = Settings::default();
        assert_eq!(
            settings.token_policy().lifetime,
            Duration::from_secs(15 * 60)
        );
        assert_eq!(
            settings.session_policy().refresh_lifetime,
            Duration::from_secs(14 * 24 * 3600)
        );
        assert_eq!(settings.throttle_policy().reset_seconds, 720 * 60);
    }

    #[test]
    fn accepts_origins_as_browsers_send_them() {
        for origin in [
            "https://app.example.com",
            "http://localhost:5173",
            "http://127.0.0.1:8080",
            "https://[::1]:8443",
        ] {
            assert_eq!(origin_problem(origin), None, "{origin}");
        }
    }

    #[test]
    fn refuses_what_is_not_an_origin() {
        for origin in [
            "*",
            "https://*.example.com",
            "app.example.com",
            "ftp://app.example.com",
            "https://app.example.com/",
            "https://app.example.com/login",
            "https://app.example.com?x=1",
            "https://user@app.example.com",
            "https://app.example.com:443",
            "http://app.example.com:80",
            "https://App.Example.com",
            "https://",
            "",
            "null",
        ] {
            assert!(origin_problem(origin).is_some(), "{origin:?} was accepted");
        }
    }

    #[test]
    fn zero_limits_name_the_setting() {
        let settings = Settings {
            request_timeout_seconds: 0,
            ..Settings::default()
        };
        let error = settings.validate_http().unwrap_err().to_string();
        assert!(error.contains("request_timeout_seconds"), "{error}");
    }

    #[test]
    fn trusted_proxies_in_the_file_take_addresses_and_networks() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("Leptos.toml");
        std::fs::write(
            &file,
            "trusted_proxies = [\"127.0.0.1\", \"::1\", \"10.0.0.0/8\"]\n",
        )
        .unwrap();
        let settings = Settings::load_from(&file).expect("valid settings");
        let expected: Vec<ipnet::IpNet> = ["127.0.0.1/32", "::1/128", "10.0.0.0/8"]
            .iter()
            .map(|net| net.parse().unwrap())
            .collect();
        assert_eq!(settings.trusted_proxies, expected);
    }

    #[test]
    fn a_bad_trusted_proxy_in_the_file_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("Leptos.toml");
        std::fs::write(&file, "trusted_proxies = [\"127.0.0.1\", \"proxy.lan\"]\n").unwrap();
        let error = Settings::load_from(&file).unwrap_err().to_string();
        assert!(error.contains("\"proxy.lan\""), "{error}");
    }

    #[test]
    fn defaults_are_valid() {
        assert!(Settings::default().validate_http().is_ok());
        assert!(Settings::default().validate_operations().is_ok());
        assert!(!Settings::default().metrics_enabled());
    }

    #[test]
    fn a_bad_log_filter_or_metrics_token_is_refused_without_showing_the_token() {
        let settings = Settings {
            log_filter: "info,latchkey=loud".into(),
            ..Settings::default()
        };
        let error = settings.validate_operations().unwrap_err().to_string();
        assert!(error.contains("log_filter"), "{error}");
        let token = "short secret";
        let settings = Settings {
            metrics_token: Some(SecretString(token.into())),
            ..Settings::default()
        };
        let error = settings.validate_operations().unwrap_err().to_string();
        assert!(error.contains("metrics_token"), "{error}");
        assert!(!error.contains(token), "{error}");
        assert!(!format!("{settings:?}").contains(token));
    }
}
