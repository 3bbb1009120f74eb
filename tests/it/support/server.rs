//! A `latchkey serve` process over its own temporary directory, and the operator's
//! CLI over the same data directory and database.

use std::fs::File;
use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use serde_json::Value;
use tempfile::TempDir;

use super::database::TestDatabase;
use super::fastapi::fastapi_users;
use super::http::{Auth, http_client};

/// How soon a running instance must have heard of a change that another process
/// made on PostgreSQL (`tests/it/authorization_cache.rs` checks it).
pub const CHANGE_HEARD_WITHIN: std::time::Duration = std::time::Duration::from_millis(50);

/// Asks `server` for `path` with `token` right after `changed_at` until the
/// answer is `expected`, which must come within [`CHANGE_HEARD_WITHIN`]. On SQLite the very
/// first answer must be it: the change counter is read before every answer. On
/// PostgreSQL the change travels as a notification, which can arrive a little
/// after the client's next request; returns how long it took to be seen.
pub fn assert_at_once(
    server: &TestServer,
    path: &str,
    token: &str,
    changed_at: Instant,
    expected: reqwest::StatusCode,
) -> Duration {
    let first_answer_only = server.database().is_sqlite();
    loop {
        let asked_after = changed_at.elapsed();
        let status = server.get(path, Auth::Bearer(token)).status();
        if status == expected {
            return asked_after;
        }
        assert!(
            !first_answer_only && asked_after < CHANGE_HEARD_WITHIN,
            "{path} answered {status} (not {expected}) when asked {asked_after:?} after the change"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_latchkey");

/// How long the server may take to start answering.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

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

/// A `latchkey serve` process over its own temporary data directory.
pub struct TestServer {
    root: TempDir,
    database: TestDatabase,
    env: Vec<(String, String)>,
    child: Option<Child>,
    addr: Option<SocketAddr>,
    /// The address every start listens on, once [`Self::keep_address`] was called.
    pinned: Option<SocketAddr>,
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

    /// Another instance over the database of `other` (its own data directory,
    /// port and log), with extra environment variables: what a second replica
    /// behind a load balancer is.
    pub fn start_sharing_database(other: &TestServer, env: &[(&str, &str)]) -> Self {
        let mut server = Self::stopped_sharing_database(other, env);
        server.launch();
        server
    }

    /// Like [`Self::start_sharing_database`], but not started yet.
    pub fn stopped_sharing_database(other: &TestServer, env: &[(&str, &str)]) -> Self {
        let mut server = Self::stopped_with(env);
        server.database = other.database.shared();
        server
    }

    /// Like [`Self::stopped_with`], but on the embedded SQLite default whatever
    /// [`DATABASE_VARIABLE`](super::database::DATABASE_VARIABLE) says: for tests
    /// that move data between kinds of database.
    pub fn stopped_on_embedded_sqlite(env: &[(&str, &str)]) -> Self {
        let mut server = Self::stopped_with(env);
        server.database = TestDatabase::DataDir {
            file: server.data_dir().join("latchkey.db"),
        };
        server
    }

    /// A fresh data directory and its settings, without a running server (the CLI
    /// can be used on it; [`Self::launch`] starts the server).
    pub fn stopped_with(env: &[(&str, &str)]) -> Self {
        assert!(
            env.iter().all(|(key, _)| *key != "DATABASE_URL"),
            "the harness chooses the database: use TestServer::start_sharing_database"
        );
        let root = tempfile::Builder::new()
            .prefix("latchkey-test-")
            .tempdir()
            .expect("temporary directory");
        let database = TestDatabase::for_new_server(root.path(), &root.path().join("data"));
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
            database,
            env: settings,
            child: None,
            addr: None,
            pinned: None,
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

    /// The database of this server.
    pub fn database(&self) -> &TestDatabase {
        &self.database
    }

    /// A path for scratch files of the test, outside the data directory.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.root.path().join(name)
    }

    /// The binary with this instance's environment and nothing inherited that
    /// could change its configuration.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command.args(args);
        self.configure(command)
    }

    /// `command` with this instance's environment and working directory.
    fn configure(&self, mut command: Command) -> Command {
        command.current_dir(self.root.path());
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
        if let Some(url) = self.database.server_url() {
            command.env("DATABASE_URL", url);
        }
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
                Err(log) if log.contains("cannot listen on the site address") => {
                    std::thread::sleep(Duration::from_millis(200));
                    continue;
                }
                Err(log) => panic!("latchkey serve exited during startup:\n{log}"),
            }
        }
        panic!("latchkey serve could not find a free port");
    }

    /// Makes every later start listen on the address of the running server, as
    /// a replica a proxy knows by its address does.
    pub fn keep_address(&mut self) {
        self.pinned = Some(self.addr());
    }

    fn try_launch(&mut self) -> Result<(), String> {
        let addr = self.pinned.unwrap_or_else(free_addr);
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

    /// Kills the server at once (SIGKILL): a crash, with no chance to finish
    /// anything.
    pub fn crash(&mut self) {
        assert!(self.child.is_some(), "the server is not running");
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

    /// Everything the server printed, over all its starts so far.
    pub fn logs(&self) -> String {
        (0..=self.starts)
            .filter_map(|n| std::fs::read_to_string(self.scratch(&format!("server-{n}.log"))).ok())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The full URL of `path` on the running server.
    pub fn url(&self, path: &str) -> String {
        let addr = self.addr.expect("the server is not running");
        format!("http://{addr}{path}")
    }

    /// A figure of the running server's `/proc/PID/status`, in KiB: `VmRSS` (its
    /// memory now) or `VmHWM` (the most it has held).
    pub fn memory_kib(&self, field: &str) -> u64 {
        let pid = self.child.as_ref().expect("the server is not running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .expect("the server's /proc status");
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
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
        let output = CliOutput::from(child.wait_with_output().expect("wait for latchkey"));
        if self.database().is_postgres() {
            // Running instances learn of another process's change as a
            // notification, within milliseconds (on SQLite, before their next
            // answer): what a test checks next is checked after that.
            std::thread::sleep(CHANGE_HEARD_WITHIN);
        }
        output
    }

    /// Runs `latchkey <args>` with a terminal as its stdin, stdout and stderr
    /// (through `script`); what the terminal showed is the output's stdout.
    pub fn cli_on_terminal(&self, args: &[&str]) -> CliOutput {
        let line = std::iter::once(BIN)
            .chain(args.iter().copied())
            .map(|word| format!("'{}'", word.replace('\'', r"'\''")))
            .collect::<Vec<_>>()
            .join(" ");
        let mut script = Command::new("script");
        script.args(["--quiet", "--return", "--command", &line, "/dev/null"]);
        let mut command = self.configure(script);
        // A terminal size, or a progress bar has no room to draw.
        command.env("COLUMNS", "100").env("LINES", "30");
        let output = command
            .stdin(Stdio::null())
            .output()
            .expect("spawn script (util-linux)");
        CliOutput::from(output)
    }

    /// Runs `latchkey <args>` as the system user `user` (through `runuser`; the
    /// tests must run as root), with this instance's environment. The binary is
    /// copied into this instance's directory first, where `user` can run it.
    pub fn cli_as(&self, user: &str, args: &[&str]) -> CliOutput {
        use std::os::unix::fs::PermissionsExt as _;
        let binary = self.scratch("latchkey-bin");
        if !binary.exists() {
            std::fs::copy(BIN, &binary).expect("copy the binary");
            std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o755))
                .expect("make the binary runnable");
        }
        let mut runuser = Command::new("runuser");
        runuser.args(["-u", user, "--"]).arg(&binary).args(args);
        let output = self
            .configure(runuser)
            .stdin(Stdio::null())
            .output()
            .expect("spawn runuser (util-linux)");
        CliOutput::from(output)
    }

    /// The temporary directory of this instance (its data directory is inside).
    pub fn root(&self) -> &Path {
        self.root.path()
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

    /// The `password_hash` column of a user, read from the database (read-only).
    pub fn stored_password_hash(&self, username: &str) -> Option<String> {
        self.database
            .query_texts(
                "SELECT password_hash FROM users WHERE username = ?",
                &[username],
            )
            .into_iter()
            .next()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An address on 127.0.0.1 that was free a moment ago.
fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address")
}
