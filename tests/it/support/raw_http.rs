//! HTTP/1.1 over a raw TCP connection, where no HTTP client can tidy a request up:
//! lying lengths, huge or slow bodies, answers read while the body is still sent.

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use serde_json::{Value, json};

use super::server::TestServer;

/// How long a test waits for an answer or a close before calling the server stuck.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// One answer read off a raw connection.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The header `name` (any case), if any.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The body as JSON (`Value::Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// A raw connection to the server, with timeouts so a test cannot hang.
pub fn connect(server: &TestServer) -> TcpStream {
    let stream = TcpStream::connect(server.addr()).expect("connect to the server");
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(PATIENCE))
        .expect("write timeout");
    stream
}

/// Reads one response (head, then a `Content-Length` or chunked body); `None` if
/// the connection was closed (or reset) first.
pub fn read_response(stream: &mut TcpStream) -> Option<RawResponse> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(0) => return None,
            Ok(_) => head.push(byte[0]),
            Err(e) if is_timeout(&e) => panic!("no answer within {PATIENCE:?}"),
            Err(_) => return None,
        }
    }
    let head = String::from_utf8(head).expect("an ASCII response head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let mut response = RawResponse {
        status,
        headers,
        body: Vec::new(),
    };
    if response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        response.body = read_chunked(stream)?;
    } else {
        let length: usize = response
            .header("content-length")
            .map_or(0, |v| v.parse().expect("a numeric Content-Length"));
        response.body = vec![0; length];
        stream.read_exact(&mut response.body).ok()?;
    }
    Some(response)
}

/// A body in the chunked encoding (without trailers).
fn read_chunked(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while !line.ends_with(b"\r\n") {
            stream.read_exact(&mut byte).ok()?;
            line.push(byte[0]);
        }
        let size = std::str::from_utf8(&line).ok()?.trim();
        let size = usize::from_str_radix(size, 16).expect("a chunk size");
        let mut chunk = vec![0; size + 2];
        stream.read_exact(&mut chunk).ok()?;
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// Reads until the server closes the connection; panics if it stays open.
#[track_caller]
pub fn assert_closed(stream: &mut TcpStream) {
    let mut sink = [0u8; 8192];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => continue,
            Err(e) if is_timeout(&e) => panic!("the connection is still open after {PATIENCE:?}"),
            Err(_) => return, // reset: closed as well
        }
    }
}

fn is_timeout(error: &std::io::Error) -> bool {
    matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// Sends `bytes` from another thread (a client that writes while the server
/// answers), ignoring write errors: the server may close before reading it all.
pub fn send_in_background(stream: &TcpStream, bytes: Vec<u8>) -> JoinHandle<()> {
    let mut writer = stream.try_clone().expect("clone the stream");
    thread::spawn(move || {
        for chunk in bytes.chunks(64 * 1024) {
            if writer.write_all(chunk).is_err() {
                return;
            }
        }
    })
}

/// The head of a `POST` with a `Content-Length`.
pub fn post_head(path: &str, content_type: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: latchkey\r\nContent-Type: {content_type}\r\n\
         Content-Length: {length}\r\n\r\n"
    )
}

/// The head of a chunked `POST`.
pub fn chunked_post_head(path: &str, content_type: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: latchkey\r\nContent-Type: {content_type}\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    )
}

/// `bytes` in 8 KiB chunks of the chunked encoding, with the end.
pub fn chunked(bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for chunk in bytes.chunks(8192) {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(chunk);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    body
}

/// `POST path` with `headers` and a body of `total` bytes (`prefix`, then `x`s),
/// sent as a big upload is sent: the answer is read while the body is still being
/// written, so an early answer is seen even when the server stops reading.
/// `chunked` sends the body with `Transfer-Encoding: chunked` instead of a
/// (truthful) `Content-Length`. `None` if the server closed without answering.
pub fn post_big_body(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
    prefix: &[u8],
    total: usize,
    chunked_encoding: bool,
) -> Option<RawResponse> {
    let mut body = prefix.to_vec();
    body.resize(total.max(prefix.len()), b'x');
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: latchkey\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if chunked_encoding {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
        body = chunked(&body);
    } else {
        head.push_str(&format!("Content-Length: {total}\r\n\r\n"));
    }
    let mut stream = connect(server);
    stream.write_all(head.as_bytes()).expect("send the head");
    let writer = send_in_background(&stream, body);
    let answer = read_response(&mut stream);
    // The writer may be blocked on a server that stopped reading: cut it short.
    let _ = stream.shutdown(Shutdown::Both);
    writer.join().expect("the writing thread");
    answer
}

/// Asserts a raw answer is the API's 413, closing the connection (the rest of the
/// body is never read, so the connection cannot carry another request).
#[track_caller]
pub fn assert_too_large(response: &RawResponse, case: &str) {
    assert_eq!(response.status, 413, "{case}: {response:?}");
    assert_eq!(
        response.json(),
        json!({"detail": "Request body too large"}),
        "{case}"
    );
    assert_eq!(response.header("connection"), Some("close"), "{case}");
}
