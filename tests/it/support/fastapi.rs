//! What latchkey replaces: the users, hashes and key of FastAPI's "OAuth2 with
//! Password, Bearer with JWT" tutorial app.

use serde_json::{Value, json};

use super::server::TestServer;

/// johndoe / secret, from the FastAPI tutorial (Argon2id m=65536, t=3, p=4).
pub const JOHNDOE_HASH: &str = "$argon2id$v=19$m=65536,t=3,p=4$wagCPXjifgvUFBzq4hqe3w$CYaIb8sB+wtD+Vu/P4uod1+Qof8h+1g7bbDlBID48Rc";
/// alice / secretalice, from the FastAPI tutorial (disabled there).
const ALICE_HASH: &str = "$argon2id$v=19$m=65536,t=3,p=4$Q/ln9DgZNR/T1XxCYbYVRw$94y+MuDa6i9BOBXRn0f7njkwX9e9K7CJNxf44meBsxU";

/// The prefix of a hash made with the cheap test policy.
pub const CHEAP_HASH_PREFIX: &str = "$argon2id$v=19$m=1024,t=1,p=1$";

/// The FastAPI app's `SECRET_KEY` (the example key of the FastAPI docs, published
/// for everyone to copy, so latchkey refuses to sign with it), read from the
/// seeds' app: `LATCHKEY_FASTAPI_SEED_DIR`, else `../shared/anchors/fastapi-seed`
/// beside the repository, else the workplace's `/work/shared/…`. No key is kept in
/// the repository; `None` (said on stderr) where the app is not found.
pub fn fastapi_example_key() -> Option<String> {
    let candidates = [
        std::env::var_os("LATCHKEY_FASTAPI_SEED_DIR").map(std::path::PathBuf::from),
        Some(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/anchors/fastapi-seed"),
        ),
        Some("/work/shared/anchors/fastapi-seed".into()),
    ];
    let key = candidates
        .into_iter()
        .flatten()
        .filter_map(|dir| std::fs::read_to_string(dir.join("main.py")).ok())
        .find_map(|source| {
            source.lines().find_map(|line| {
                let rest = line.trim().strip_prefix("SECRET_KEY = \"")?;
                rest.strip_suffix('"').map(str::to_owned)
            })
        });
    if key.is_none() {
        eprintln!("the seeds' FastAPI app was not found: its example key is not tried");
    }
    key
}

/// A 64-character signing key of the same form as the FastAPI app's (generated
/// for these tests with `openssl rand -hex 32`), shared with the clients that
/// verify latchkey's tokens.
pub const SHARED_KEY: &str = "a30ea48069d19b4f9a14b078076d8d4cd27e372e03fb9dba678f75c27e6a947b";

/// The FastAPI app's `fake_users_db`, as `user import` reads it.
pub fn fastapi_users() -> Value {
    json!({
        "johndoe": {
            "username": "johndoe",
            "full_name": "John Doe",
            "email": "johndoe@example.com",
            "hashed_password": JOHNDOE_HASH,
            "disabled": false,
        },
        "alice": {
            "username": "alice",
            "full_name": "Alice Chains",
            "email": "alicechains@example.com",
            "hashed_password": ALICE_HASH,
            "disabled": true,
        },
    })
}

impl TestServer {
    /// A server with extra environment variables and the FastAPI app's users
    /// (johndoe / secret active, alice / secretalice disabled).
    pub fn start_with_fastapi_users(env: &[(&str, &str)]) -> Self {
        let server = Self::start_with(env);
        server.import_fastapi_users();
        server
    }
}
