//! nginx in front of test servers, with the repository's own `deploy/nginx.conf`:
//! the file is rendered (its `${...}` placeholders replaced by loopback ports and
//! paths in a temporary directory), checked with `nginx -t`, and run in the
//! foreground by the test. A throwaway certificate for `127.0.0.1` is made with
//! the `openssl` command line; clients trust exactly that certificate.
//!
//! Nothing of the system's nginx is used but its binary (`NGINX`, default
//! `/usr/sbin/nginx`; `.ci/setup.sh` installs Debian's nginx-light): pid file,
//! logs and temporary files live in the temporary directory.

use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use tempfile::TempDir;

/// The header `deploy/nginx.conf` adds to every answer: the instance that gave it.
pub const UPSTREAM_HEADER: &str = "x-latchkey-upstream";

/// A running nginx over its own temporary directory; stopped when dropped.
pub struct Nginx {
    dir: TempDir,
    child: Option<Child>,
    https: SocketAddr,
    http: SocketAddr,
}

impl Nginx {
    /// nginx balancing over `upstreams` (exactly two: the file names two).
    pub fn start(upstreams: [SocketAddr; 2]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("latchkey-nginx-")
            .tempdir()
            .expect("temporary directory");
        make_certificate(dir.path());
        let (http, https) = (free_addr(), free_addr());
        let conf = dir.path().join("nginx.conf");
        std::fs::write(&conf, render(dir.path(), upstreams, http, https)).expect("nginx.conf");
        let check = Command::new(nginx_binary())
            .arg("-t")
            .args(prefix_and_conf(dir.path(), &conf))
            .output()
            .expect("run nginx -t (is nginx installed? .ci/setup.sh installs nginx-light)");
        assert!(
            check.status.success(),
            "nginx -t refused the rendered deploy/nginx.conf:\n{}",
            String::from_utf8_lossy(&check.stderr)
        );
        let child = Command::new(nginx_binary())
            .args(prefix_and_conf(dir.path(), &conf))
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        let nginx = Self {
            dir,
            child: Some(child),
            https,
            http,
        };
        nginx.wait_until_listening();
        nginx
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&self.https, Duration::from_millis(100)).is_err() {
            assert!(
                Instant::now() < deadline,
                "nginx did not listen on {}:\n{}",
                self.https,
                self.error_log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The HTTPS URL of `path` through nginx.
    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.https.port())
    }

    /// The plain-HTTP URL of `path` (which only redirects to HTTPS).
    pub fn http_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http.port())
    }

    /// The address nginx's connections to the instances come from.
    pub fn address(&self) -> IpAddr {
        IpAddr::from([127, 0, 0, 1])
    }

    /// A client that trusts nginx's certificate, connecting from `local` (any
    /// 127.0.0.0/8 address is this machine), following no redirect.
    pub fn client_from(&self, local: IpAddr) -> Client {
        let pem = std::fs::read(self.dir.path().join("cert.pem")).expect("certificate");
        Client::builder()
            .no_proxy()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(&pem).expect("PEM certificate"))
            .local_address(local)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .expect("HTTPS client")
    }

    /// nginx's error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// nginx's access log so far.
    pub fn access_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default()
    }
}

/// The instance that answered `response`, as nginx names it.
pub fn upstream_of(response: &Response) -> String {
    response
        .headers()
        .get(UPSTREAM_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // TERM lets the master stop its workers; KILL would leave them listening.
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The repository's `deploy/nginx.conf`, its placeholders filled in.
fn render(dir: &Path, upstreams: [SocketAddr; 2], http: SocketAddr, https: SocketAddr) -> String {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/nginx.conf");
    let template = std::fs::read_to_string(&file).expect("deploy/nginx.conf");
    let dir = dir.to_str().expect("UTF-8 temporary directory");
    let values = [
        ("LATCHKEY_A", upstreams[0].to_string()),
        ("LATCHKEY_B", upstreams[1].to_string()),
        ("HTTP_LISTEN", http.to_string()),
        ("HTTPS_LISTEN", https.to_string()),
        ("SERVER_NAME", "127.0.0.1 localhost".to_owned()),
        ("TLS_CERTIFICATE", format!("{dir}/cert.pem")),
        ("TLS_CERTIFICATE_KEY", format!("{dir}/key.pem")),
        ("NGINX_STATE", dir.to_owned()),
    ];
    let rendered = values.iter().fold(template, |text, (name, value)| {
        text.replace(&format!("${{{name}}}"), value)
    });
    let left: Vec<&str> = rendered
        .lines()
        .filter(|line| !line.trim_start().starts_with('#') && line.contains("${"))
        .collect();
    assert!(
        left.is_empty(),
        "placeholders left in deploy/nginx.conf: {left:?}"
    );
    rendered
}

/// A self-signed certificate for 127.0.0.1 and localhost, valid for a day.
fn make_certificate(dir: &Path) {
    let output = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            // A server's certificate, not a CA's (rustls refuses a CA's).
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-keyout",
        ])
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .output()
        .expect("run openssl");
    assert!(
        output.status.success(),
        "openssl req: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn nginx_binary() -> PathBuf {
    std::env::var_os("NGINX")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/sbin/nginx"))
}

/// `-p DIR -c CONF -e DIR/error.log`: nothing of the system's nginx paths.
fn prefix_and_conf(dir: &Path, conf: &Path) -> Vec<std::ffi::OsString> {
    vec![
        "-p".into(),
        dir.into(),
        "-c".into(),
        conf.into(),
        "-e".into(),
        dir.join("error.log").into(),
    ]
}

/// An address on 127.0.0.1 that was free a moment ago.
fn free_addr() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address")
}
