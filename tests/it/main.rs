//! The integration tests of latchkey, all in this one test binary: each module is
//! one area of behaviour, and `support` is the harness they share (see its
//! documentation, `LATCHKEY_TEST_DATABASE_URL` included).
//!
//! Every test starts the real `latchkey` binary and talks HTTP to it (or runs its
//! CLI); nothing here imports the library crate.
//!
//! Add tests as modules here, never as new files directly under `tests/`: each
//! file there is another test binary that links the harness and every dependency
//! again. Run one area with a name filter:
//!
//! ```sh
//! cargo test --test it -- attack_tokens::
//! ```
#![cfg(feature = "ssr")]

mod support;

mod attack_headers;
mod attack_login_form;
mod attack_token_claims;
mod attack_tokens;
mod authorization_cache;
mod bad_input;
mod behind_nginx;
mod cli;
mod contention;
mod cors_hsts;
mod crash;
mod credential_changes;
mod database_tools;
mod http_limits;
mod items;
mod login_storm;
mod metrics;
mod openapi;
mod operations;
mod protected_routes;
mod rate_limits;
mod refresh_and_revocation;
mod restart_and_keys;
mod rolling_restart;
mod secrets_in_logs;
mod security_headers;
mod server_functions;
mod sessions;
mod shared_database;
mod signing_keys;
mod site_assets;
mod table_sizes;
mod targeted_lockout;
mod throttle;
mod timing;
mod token_binding;
mod token_endpoint;
mod write_stream;
