//! The harness of the integration tests: a real `latchkey serve` process on a free
//! port over a fresh data directory, the operator's CLI against the same directory,
//! and small HTTP helpers.
//!
//! Nothing is written to the repository: the data directory, the server's log and
//! the files handed to `user import` all live in a temporary directory, and the
//! server runs with that directory as its working directory.

// Each test file uses its own subset of the helpers.
#![allow(dead_code)]

use std::fs::File;
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use tempfile::TempDir;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

/// johndoe / secret, from the FastAPI tutorial (Argon2id m=65536, t=3, p=4).
pub const JOHNDOE_HASH: &str = "$argon2id$v=19$m=65536,t=3,p=4$wagCPXjifgvUFBzq4hqe3w$CYaIb8sB+wtD+Vu/P4uod1+Qof8h+1g7bbDlBID48Rc";
/// alice / secretalice, from the FastAPI tutorial (disabled there).
pub const ALICE_HASH: &str = "$argon2id$v=19$m=65536,t=3,p=4$Q/ln9DgZNR/T1XxCYbYVRw$94y+MuDa6i9BOBXRn0f7njkwX9e9K7CJNxf44meBsxU";

/// The prefix of a hash made with the cheap test policy.
pub const CHEAP_HASH_PREFIX: &str = "$argon2id$v=19$m=1024,t=1,p=1$";

/// A 64-character signing key, like the FastAPI app's `SECRET_KEY`.
pub const SHARED_KEY: &str = "09d25e094faa6ca2556c818166b7a9563b93f7099f6f0f4caa6cf63b88e8d3e7";

/// How long the server may take to start answering.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

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

/// What a finished CLI command left behind.
#[derive(Debug)]
pub struct CliOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    fn from(output: Output) -> Self {
        Self {
            status: output.status,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Asserts the command failed with exactly one line on stderr, and returns it.
    #[track_caller]
    pub fn one_line_failure(&self) -> &str {
        assert!(
            !self.status.success(),
            "expected a failure, got {:?}: stdout {:?}, stderr {:?}",
            self.status,
            self.stdout,
            self.stderr
        );
        let line = self.stderr.trim_end_matches('\n');
        assert!(
            !line.is_empty() && !line.contains('\n'),
            "expected one line on stderr, got {:?}",
            self.stderr
        );
        line
    }
}

/// A credential to send in the `Authorization` header.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    Basic(&'a str, &'a str),
    /// The header value exactly as given.
    Raw(&'a str),
}

/// A `latchkey serve` process over its own temporary data directory.
pub struct TestServer {
    root: TempDir,
    env: Vec<(String, String)>,
    child: Option<Child>,
    addr: Option<SocketAddr>,
    starts: usize,
    client: Client,
}

impl TestServer {
    /// A server with the cheap test policy and a generated signing key.
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// A server with extra environment variables (they override the defaults).
    pub fn start_with(env: &[(&str, &str)]) -> Self {
        let mut server = Self::stopped_with(env);
        server.launch();
        server
    }

    /// A fresh data directory and its settings, without a running server (the CLI
    /// can be used on it; [`Self::launch`] starts the server).
    pub fn stopped_with(env: &[(&str, &str)]) -> Self {
        let root = tempfile::Builder::new()
            .prefix("latchkey-test-")
            .tempdir()
            .expect("temporary directory");
        let mut settings: Vec<(String, String)> = vec![
            ("LATCHKEY_ARGON2_MEMORY_KIB".into(), "1024".into()),
            ("LATCHKEY_ARGON2_ITERATIONS".into(), "1".into()),
            ("LATCHKEY_ARGON2_PARALLELISM".into(), "1".into()),
            // The start-up line tells the harness which server answers on its port.
            ("RUST_LOG".into(), "warn,latchkey::server=info".into()),
        ];
        for (key, value) in env {
            settings.retain(|(k, _)| k != key);
            settings.push(((*key).into(), (*value).into()));
        }
        Self {
            root,
            env: settings,
            child: None,
            addr: None,
            starts: 0,
            client: http_client(reqwest::redirect::Policy::none()),
        }
    }

    /// Sets an environment variable for the next start and the next CLI commands.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
    }

    /// Runs `latchkey serve` in the foreground and returns what it printed when it
    /// exits; panics if it is still running after the startup timeout.
    pub fn serve_expecting_exit(&self) -> CliOutput {
        let mut child = self
            .command(&["serve"])
            .env("LEPTOS_SITE_ADDR", free_addr().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn latchkey serve");
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while child.try_wait().expect("poll the server").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let output = CliOutput::from(child.wait_with_output().expect("wait"));
                panic!("latchkey serve kept running: {output:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        CliOutput::from(child.wait_with_output().expect("wait for latchkey serve"))
    }

    /// The data directory (`LATCHKEY_DATA_DIR`).
    pub fn data_dir(&self) -> PathBuf {
        self.root.path().join("data")
    }

    /// A path for scratch files of the test, outside the data directory.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    /// The binary with this instance's environment and nothing inherited that
    /// could change its configuration.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command.args(args).current_dir(self.root.path());
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if name.starts_with("LATCHKEY_")
                || name.starts_with("LEPTOS_")
                || name == "DATABASE_URL"
            {
                command.env_remove(&key);
            }
        }
        command
            .env("LATCHKEY_DATA_DIR", self.data_dir())
            .env("LATCHKEY_CONFIG", self.root.path().join("absent.toml"));
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    /// Starts the server (again, on the same data directory) and waits until it
    /// answers.
    pub fn launch(&mut self) {
        assert!(self.child.is_none(), "the server is already running");
        // The port is free when picked; another process could take it before the
        // server binds it, so a failure to listen is retried on another port.
        for _ in 0..5 {
            match self.try_launch() {
                Ok(()) => return,
                Err(log) if log.contains("cannot listen on the site address") => continue,
                Err(log) => panic!("latchkey serve exited during startup:\n{log}"),
            }
        }
        panic!("latchkey serve could not find a free port");
    }

    fn try_launch(&mut self) -> Result<(), String> {
        let addr = free_addr();
        self.starts += 1;
        let log_path = self.scratch(&format!("server-{}.log", self.starts));
        let log = File::create(&log_path).expect("server log file");
        let child = self
            .command(&["serve"])
            .env("LEPTOS_SITE_ADDR", addr.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("server log file"))
            .stderr(log)
            .spawn()
            .expect("spawn latchkey serve");
        self.child = Some(child);
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let child = self.child.as_mut().expect("child");
            if let Some(status) = child.try_wait().expect("poll the server") {
                self.child = None;
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!("{status}\n{log}"));
            }
            // The port may have been taken by another test's server meanwhile: only
            // this server's own start-up line says it is the one listening.
            let listening = format!("latchkey listening on http://{addr}");
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
                && std::fs::read_to_string(&log_path).is_ok_and(|log| log.contains(&listening))
            {
                self.addr = Some(addr);
                return Ok(());
            }
            if Instant::now() > deadline {
                self.kill();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                panic!("latchkey serve did not answer within {STARTUP_TIMEOUT:?}:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server gracefully (SIGTERM), or kills it if it lingers.
    pub fn stop(&mut self) {
        let Some(child) = self.child.as_mut() else {
            return;
        };
        let terminated = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if terminated {
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if child.try_wait().expect("poll the server").is_some() {
                    self.child = None;
                    self.addr = None;
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.kill();
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.addr = None;
    }

    /// Stops the server and starts it again on the same data directory.
    pub fn restart(&mut self) {
        self.stop();
        self.launch();
    }

    /// The full URL of `path` on the running server.
    pub fn url(&self, path: &str) -> String {
        let addr = self.addr.expect("the server is not running");
        format!("http://{addr}{path}")
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr.expect("the server is not running")
    }

    /// The client the helpers use (redirects are not followed).
    pub fn client(&self) -> &Client {
        &self.client
    }

    // ----- the CLI -----

    /// Runs `latchkey <args>` on this data directory, with `stdin` as its input.
    pub fn cli(&self, args: &[&str], stdin: Option<&str>) -> CliOutput {
        let mut command = self.command(args);
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        command.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        let mut child = command.spawn().expect("spawn latchkey");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            // The command may exit before reading (e.g. a bad username): ignore EPIPE.
            let _ = pipe.write_all(input.as_bytes());
        }
        CliOutput::from(child.wait_with_output().expect("wait for latchkey"))
    }

    /// Runs a CLI command that must succeed; returns its stdout.
    #[track_caller]
    pub fn cli_ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let output = self.cli(args, stdin);
        assert!(
            output.status.success(),
            "latchkey {args:?} failed: {:?}\nstdout: {}\nstderr: {}",
            output.status,
            output.stdout,
            output.stderr
        );
        output.stdout
    }

    /// `latchkey user add NAME [extra…]` with `password` on stdin.
    #[track_caller]
    pub fn add_user(&self, name: &str, password: &str, extra: &[&str]) {
        let mut args = vec!["user", "add", name];
        args.extend_from_slice(extra);
        self.cli_ok(&args, Some(&format!("{password}\n")));
    }

    /// Writes `users` to a scratch file and runs `latchkey user import` on it.
    pub fn import(&self, file_name: &str, users: &Value) -> CliOutput {
        self.import_text(file_name, &users.to_string())
    }

    /// Writes `text` to a scratch file and runs `latchkey user import` on it.
    pub fn import_text(&self, file_name: &str, text: &str) -> CliOutput {
        let path = self.scratch(file_name);
        std::fs::write(&path, text).expect("write the import file");
        self.cli(
            &["user", "import", path.to_str().expect("UTF-8 path")],
            None,
        )
    }

    /// Imports the FastAPI app's users (johndoe active, alice disabled).
    #[track_caller]
    pub fn import_fastapi_users(&self) {
        let output = self.import("fastapi-users.json", &fastapi_users());
        assert!(output.status.success(), "import failed: {output:?}");
    }

    /// The usernames `latchkey user list` shows.
    pub fn listed_usernames(&self) -> Vec<String> {
        self.cli_ok(&["user", "list"], None)
            .lines()
            .skip(1)
            .filter_map(|line| line.split_whitespace().next().map(str::to_owned))
            .collect()
    }

    /// The `password_hash` column of a user, read from the SQLite file (read-only).
    pub fn stored_password_hash(&self, username: &str) -> Option<String> {
        self.query_texts(
            "SELECT password_hash FROM users WHERE username = ?",
            &[username],
        )
        .into_iter()
        .next()
    }

    /// The one text column `sql` selects, over every row, read from the SQLite file
    /// (read-only), with `binds` for its `?` parameters.
    pub fn query_texts(&self, sql: &str, binds: &[&str]) -> Vec<String> {
        use sqlx::ConnectOptions as _;
        use sqlx::sqlite::SqliteConnectOptions;
        let path = self.data_dir().join("latchkey.db");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async {
            let mut connection = SqliteConnectOptions::new()
                .filename(&path)
                .read_only(true)
                .connect()
                .await
                .expect("open latchkey.db read-only");
            let mut query = sqlx::query_scalar(sql);
            for bind in binds {
                query = query.bind(*bind);
            }
            let rows = query
                .fetch_all(&mut connection)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let _ = sqlx::Connection::close(connection).await;
            rows
        })
    }

    // ----- HTTP -----

    /// A request to `path` carrying `auth`.
    pub fn request(&self, method: reqwest::Method, path: &str, auth: Auth<'_>) -> RequestBuilder {
        let request = self.client.request(method, self.url(path));
        match auth {
            Auth::None => request,
            Auth::Bearer(token) => request.bearer_auth(token),
            Auth::Basic(user, password) => request.basic_auth(user, Some(password)),
            Auth::Raw(value) => request.header(reqwest::header::AUTHORIZATION, value),
        }
    }

    /// `GET path` with `auth`.
    pub fn get(&self, path: &str, auth: Auth<'_>) -> Response {
        self.request(reqwest::Method::GET, path, auth)
            .send()
            .expect("GET")
    }

    /// `POST /token` with these form fields.
    pub fn token_request(&self, form: &[(&str, &str)]) -> Response {
        self.client
            .post(self.url("/token"))
            .form(form)
            .send()
            .expect("POST /token")
    }

    /// Logs in and returns the whole answer of `POST /token`, which must be 200.
    #[track_caller]
    pub fn login_response(&self, username: &str, password: &str, scope: Option<&str>) -> Value {
        let mut form = vec![("username", username), ("password", password)];
        if let Some(scope) = scope {
            form.push(("scope", scope));
        }
        let (status, _, body) = parts(self.token_request(&form));
        assert_eq!(status, StatusCode::OK, "login of {username} failed: {body}");
        body
    }

    /// Logs in and returns the access token.
    #[track_caller]
    pub fn login(&self, username: &str, password: &str, scope: Option<&str>) -> String {
        self.login_response(username, password, scope)["access_token"]
            .as_str()
            .expect("access_token is a string")
            .to_owned()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An HTTP client that never uses a proxy and never hangs a test forever.
pub fn http_client(redirects: reqwest::redirect::Policy) -> Client {
    Client::builder()
        .no_proxy()
        .redirect(redirects)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

/// An address on 127.0.0.1 that was free a moment ago.
pub fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address")
}

/// Status, headers and the JSON body (`Value::Null` if the body is not JSON).
pub fn parts(response: Response) -> (StatusCode, HeaderMap, Value) {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().expect("response body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, headers, body)
}

/// The `WWW-Authenticate` header, if any.
pub fn challenge(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(reqwest::header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().expect("ASCII challenge"))
}

/// Asserts a response is `status` with body `{"detail": detail}` and the given
/// `WWW-Authenticate` challenge (or none).
#[track_caller]
pub fn assert_error(
    response: Response,
    status: u16,
    detail: &str,
    expected_challenge: Option<&str>,
) {
    let (actual_status, headers, body) = parts(response);
    assert_eq!(actual_status.as_u16(), status, "body: {body}");
    assert_eq!(body, json!({ "detail": detail }));
    assert_eq!(challenge(&headers), expected_challenge, "WWW-Authenticate");
}

/// The JSON of one base64url segment of a JWT.
pub fn jwt_segment(token: &str, index: usize) -> Value {
    let segment = token.split('.').nth(index).expect("JWT segment");
    let bytes = URL_SAFE_NO_PAD.decode(segment).expect("base64url segment");
    serde_json::from_slice(&bytes).expect("JSON segment")
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// An HS256 JWT over `claims`, signed with `key` (as PyJWT signs the FastAPI app's).
pub fn sign_hs256(claims: &Value, key: &[u8]) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        claims,
        &jsonwebtoken::EncodingKey::from_secret(key),
    )
    .expect("HS256 signing")
}

/// Forged tokens and attacker keys, for the attack suite.
pub mod forge;

impl TestServer {
    /// Everything the server printed, over all its starts so far.
    pub fn logs(&self) -> String {
        (0..=self.starts)
            .filter_map(|n| std::fs::read_to_string(self.scratch(&format!("server-{n}.log"))).ok())
            .collect::<Vec<_>>()
            .join("\n")
    }
}
