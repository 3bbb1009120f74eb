//! Huge and slow requests, sent over raw TCP where no HTTP client can tidy them up:
//! each gets a 4xx (413, 431, 408) or a closed connection, never a 5xx, and the
//! server goes on serving other clients.
#![cfg(feature = "ssr")]

mod common;

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// How long a test waits for an answer or a close before calling the server stuck.
const PATIENCE: Duration = Duration::from_secs(20);

/// The timeouts the slow-client tests configure, so they finish quickly.
const SHORT_TIMEOUT: &str = "2";

/// One answer read off a raw connection.
#[derive(Debug)]
struct RawResponse {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// A raw connection to the server, with a read timeout so a test cannot hang.
fn connect(server: &TestServer) -> TcpStream {
    let stream = TcpStream::connect(server.addr()).expect("connect to the server");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    stream.set_write_timeout(Some(PATIENCE)).unwrap();
    stream
}

/// Reads one response (head, then a `Content-Length` body); `None` if the
/// connection was closed (or reset) first.
fn read_response(stream: &mut TcpStream) -> Option<RawResponse> {
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
fn assert_closed(stream: &mut TcpStream) {
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

/// A fresh client still gets the OpenAPI document.
#[track_caller]
fn assert_still_serving(server: &TestServer) {
    let response = server
        .client()
        .get(server.url("/openapi.json"))
        .send()
        .expect("GET /openapi.json");
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().expect("the OpenAPI document");
    assert!(document["paths"]["/token"].is_object());
}

/// Sends `bytes` from another thread (a client that writes while the server
/// answers), ignoring write errors: the server may close before reading it all.
fn send_in_background(stream: &TcpStream, bytes: Vec<u8>) -> JoinHandle<()> {
    let mut writer = stream.try_clone().expect("clone the stream");
    thread::spawn(move || {
        for chunk in bytes.chunks(64 * 1024) {
            if writer.write_all(chunk).is_err() {
                return;
            }
        }
    })
}

/// Sends `bytes` one at a time, `pause` apart, until all are sent, a write
/// fails or `stop` is set.
fn trickle(
    stream: &TcpStream,
    bytes: Vec<u8>,
    pause: Duration,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    let mut writer = stream.try_clone().expect("clone the stream");
    thread::spawn(move || {
        for byte in bytes {
            if stop.load(Ordering::Relaxed) || writer.write_all(&[byte]).is_err() {
                return;
            }
            thread::sleep(pause);
        }
    })
}

fn post_head(path: &str, content_type: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: latchkey\r\nContent-Type: {content_type}\r\n\
         Content-Length: {length}\r\n\r\n"
    )
}

fn chunked_post_head(path: &str, content_type: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: latchkey\r\nContent-Type: {content_type}\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    )
}

/// `size` bytes of body in 8 KiB chunks of the chunked encoding, with the end.
fn chunked_body(size: usize) -> Vec<u8> {
    let mut body = Vec::new();
    let mut left = size;
    while left > 0 {
        let chunk = left.min(8192);
        body.extend_from_slice(format!("{chunk:x}\r\n").as_bytes());
        body.extend(std::iter::repeat_n(b'x', chunk));
        body.extend_from_slice(b"\r\n");
        left -= chunk;
    }
    body.extend_from_slice(b"0\r\n\r\n");
    body
}

fn get_with_headers(path: &str, headers: &[(String, String)]) -> String {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: latchkey\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request
}

#[track_caller]
fn assert_too_large(response: &RawResponse) {
    assert_eq!(response.status, 413, "{response:?}");
    assert_eq!(response.json(), json!({"detail": "Request body too large"}));
    assert_eq!(response.header("connection"), Some("close"));
}

// ----- body size -----

#[test]
fn a_ten_megabyte_body_gets_413_and_a_clean_close() {
    let server = TestServer::start();
    let size = 10 * 1024 * 1024;
    let mut stream = connect(&server);
    let head = post_head("/token", "application/x-www-form-urlencoded", size);
    stream.write_all(head.as_bytes()).unwrap();
    let writer = send_in_background(&stream, vec![b'x'; size]);
    let response = read_response(&mut stream).expect("an answer before the close");
    assert_too_large(&response);
    assert_closed(&mut stream);
    writer.join().unwrap();
    assert_still_serving(&server);
}

#[test]
fn a_client_that_sends_its_whole_body_before_reading_still_gets_the_413() {
    let server = TestServer::start();
    let size = 10 * 1024 * 1024;
    let mut stream = connect(&server);
    let mut request = post_head("/token", "application/x-www-form-urlencoded", size).into_bytes();
    request.resize(request.len() + size, b'x');
    // The server answers at once and reads no more; it must keep discarding the
    // body until the answer is read, not reset the connection under it.
    stream
        .write_all(&request)
        .expect("the server discards the body it refused");
    let response = read_response(&mut stream).expect("the 413, not a reset");
    assert_too_large(&response);
    assert_closed(&mut stream);
    assert_still_serving(&server);
}

#[test]
fn a_chunked_body_over_the_limit_gets_413_on_the_api_and_the_server_functions() {
    let server = TestServer::start();
    for (path, content_type) in [
        ("/token", "application/x-www-form-urlencoded"),
        ("/users/", "application/json"),
        ("/api/login", "application/x-www-form-urlencoded"),
    ] {
        let mut stream = connect(&server);
        stream
            .write_all(chunked_post_head(path, content_type).as_bytes())
            .unwrap();
        let writer = send_in_background(&stream, chunked_body(1024 * 1024));
        let response = read_response(&mut stream).expect("an answer before the close");
        assert_too_large(&response);
        assert_closed(&mut stream);
        writer.join().unwrap();
    }
    assert_still_serving(&server);
}

#[test]
fn the_body_limit_is_configurable() {
    let server = TestServer::start_with(&[("LATCHKEY_MAX_BODY_KIB", "1")]);
    let form = |size: usize| format!("username=nobody&password={}", "p".repeat(size - 25));
    let mut stream = connect(&server);
    let body = form(1024);
    assert_eq!(body.len(), 1024);
    let request = post_head("/token", "application/x-www-form-urlencoded", 1024) + &body;
    stream.write_all(request.as_bytes()).unwrap();
    let response = read_response(&mut stream).expect("an answer");
    assert_eq!(response.status, 401, "{response:?}");
    let body = form(1025);
    let request = post_head("/token", "application/x-www-form-urlencoded", 1025) + &body;
    stream.write_all(request.as_bytes()).unwrap();
    assert_too_large(&read_response(&mut stream).expect("an answer"));
    assert_still_serving(&server);
}

// ----- lying Content-Length -----

#[test]
fn a_body_shorter_than_its_content_length_times_out_with_408() {
    let server = TestServer::start_with(&[("LATCHKEY_REQUEST_TIMEOUT_SECONDS", SHORT_TIMEOUT)]);
    let mut stream = connect(&server);
    let request = post_head("/token", "application/x-www-form-urlencoded", 100) + "username=a";
    let started = Instant::now();
    stream.write_all(request.as_bytes()).unwrap();
    let response = read_response(&mut stream).expect("a 408 before the close");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "answered before the timeout"
    );
    assert_eq!(response.status, 408, "{response:?}");
    assert_eq!(response.json(), json!({"detail": "Request Timeout"}));
    assert_eq!(response.header("connection"), Some("close"));
    assert_closed(&mut stream);
    assert_still_serving(&server);
}

#[test]
fn a_body_longer_than_its_content_length_is_never_a_server_error() {
    let server = TestServer::start_with(&[("LATCHKEY_HEADER_READ_TIMEOUT_SECONDS", SHORT_TIMEOUT)]);
    let mut stream = connect(&server);
    // The first 10 bytes are the body; the rest is read as the next request.
    let request = post_head("/token", "application/x-www-form-urlencoded", 10)
        + "username=apassword=secret&scope=me items\r\n\r\n";
    stream.write_all(request.as_bytes()).unwrap();
    let mut statuses = Vec::new();
    while let Some(response) = read_response(&mut stream) {
        statuses.push(response.status);
    }
    assert!(!statuses.is_empty(), "no answer at all");
    assert_eq!(statuses[0], 422, "the 10-byte form lacks a password");
    assert!(
        statuses.iter().all(|status| (400..500).contains(status)),
        "{statuses:?}"
    );
    assert_still_serving(&server);
}

// ----- request head -----

#[test]
fn a_head_over_the_size_limit_gets_431_and_one_under_it_is_served() {
    let server = TestServer::start();
    let mut stream = connect(&server);
    let request = get_with_headers(
        "/openapi.json",
        &[("X-Padding".into(), "p".repeat(12 * 1024))],
    );
    stream.write_all(request.as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream).expect("an answer").status, 200);

    let mut stream = connect(&server);
    let request = get_with_headers(
        "/openapi.json",
        &[("X-Padding".into(), "p".repeat(32 * 1024))],
    );
    stream.write_all(request.as_bytes()).unwrap();
    let response = read_response(&mut stream).expect("an answer before the close");
    assert_eq!(response.status, 431, "{response:?}");
    assert_closed(&mut stream);
    assert_still_serving(&server);
}

#[test]
fn the_head_size_limit_is_configurable() {
    let server = TestServer::start_with(&[("LATCHKEY_MAX_HEADER_KIB", "64")]);
    let mut stream = connect(&server);
    let request = get_with_headers(
        "/openapi.json",
        &[("X-Padding".into(), "p".repeat(32 * 1024))],
    );
    stream.write_all(request.as_bytes()).unwrap();
    assert_eq!(read_response(&mut stream).expect("an answer").status, 200);
}

#[test]
fn too_many_headers_get_431_and_fewer_are_served() {
    let server = TestServer::start();
    let headers = |count: usize| -> Vec<(String, String)> {
        (0..count)
            .map(|i| (format!("X-Header-{i}"), "v".into()))
            .collect()
    };
    let mut stream = connect(&server);
    stream
        .write_all(get_with_headers("/openapi.json", &headers(50)).as_bytes())
        .unwrap();
    assert_eq!(read_response(&mut stream).expect("an answer").status, 200);

    let mut stream = connect(&server);
    stream
        .write_all(get_with_headers("/openapi.json", &headers(100)).as_bytes())
        .unwrap();
    let response = read_response(&mut stream).expect("an answer before the close");
    assert_eq!(response.status, 431, "{response:?}");
    assert_closed(&mut stream);
    assert_still_serving(&server);
}

// ----- slow clients -----

#[test]
fn a_head_trickled_one_byte_a_second_is_cut_off() {
    let server = TestServer::start_with(&[("LATCHKEY_HEADER_READ_TIMEOUT_SECONDS", SHORT_TIMEOUT)]);
    let mut stream = connect(&server);
    let head = get_with_headers("/openapi.json", &[("X-Slow".into(), "s".repeat(40))]);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let writer = trickle(
        &stream,
        head.into_bytes(),
        Duration::from_secs(1),
        stop.clone(),
    );
    let answer = read_response(&mut stream);
    let elapsed = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    if let Some(response) = &answer {
        assert_eq!(response.status, 408, "{response:?}");
        assert_closed(&mut stream);
    }
    assert!(
        elapsed < Duration::from_secs(40),
        "the connection lasted {elapsed:?}, as long as the whole head took to send"
    );
    writer.join().unwrap();
    assert_still_serving(&server);
}

#[test]
fn a_connection_that_sends_nothing_is_closed() {
    let server = TestServer::start_with(&[("LATCHKEY_HEADER_READ_TIMEOUT_SECONDS", SHORT_TIMEOUT)]);
    let mut stream = connect(&server);
    assert_closed(&mut stream);
    assert_still_serving(&server);
}

#[test]
fn a_body_trickled_slowly_gets_408() {
    let server = TestServer::start_with(&[("LATCHKEY_REQUEST_TIMEOUT_SECONDS", SHORT_TIMEOUT)]);
    let mut stream = connect(&server);
    let body = "username=nobody&password=".to_owned() + &"p".repeat(40);
    let head = post_head("/token", "application/x-www-form-urlencoded", body.len());
    stream.write_all(head.as_bytes()).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = trickle(
        &stream,
        body.into_bytes(),
        Duration::from_millis(500),
        stop.clone(),
    );
    let response = read_response(&mut stream).expect("a 408 before the close");
    stop.store(true, Ordering::Relaxed);
    assert_eq!(response.status, 408, "{response:?}");
    assert_eq!(response.json(), json!({"detail": "Request Timeout"}));
    assert_closed(&mut stream);
    writer.join().unwrap();
    assert_still_serving(&server);
}

// ----- keep-alive after client errors -----

#[test]
fn after_a_client_error_the_same_connection_serves_the_next_request() {
    let server = TestServer::start();
    let item = r#"{"item_id": "x"}"#;
    let requests = [
        // Refused before the handler reads the body.
        post_head("/users/me/items/", "application/json", item.len()) + item,
        post_head("/no/such/route", "application/json", item.len()) + item,
        post_head("/users/me/", "application/json", item.len()) + item,
        // Read, then refused.
        post_head("/token", "application/x-www-form-urlencoded", 10) + "username=a",
        post_head("/users/", "text/plain", item.len()) + item,
    ];
    let mut stream = connect(&server);
    for request in requests {
        stream.write_all(request.as_bytes()).unwrap();
        let refused = read_response(&mut stream).expect("an answer");
        assert!(
            (400..500).contains(&refused.status),
            "{request}: {refused:?}"
        );
        assert_ne!(refused.header("connection"), Some("close"), "{request}");
        stream
            .write_all(get_with_headers("/openapi.json", &[]).as_bytes())
            .unwrap();
        let next = read_response(&mut stream).expect("the next answer on the same connection");
        assert_eq!(next.status, 200, "after {request}");
    }
}

// ----- shutdown -----

#[test]
fn a_request_in_flight_is_answered_after_sigterm() {
    let mut server = TestServer::start();
    let mut stream = connect(&server);
    let body = "username=nobody&password=nothing";
    let head = post_head("/token", "application/x-www-form-urlencoded", body.len());
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(&body.as_bytes()[..5]).unwrap();
    let client = thread::spawn(move || {
        thread::sleep(Duration::from_secs(1));
        stream.write_all(&body.as_bytes()[5..]).unwrap();
        read_response(&mut stream)
    });
    server.stop();
    let response = client
        .join()
        .unwrap()
        .expect("an answer, not a dropped connection");
    assert_eq!(response.status, 401, "{response:?}");
}

// ----- configuration -----

#[test]
fn zero_or_oversized_limits_stop_the_server_with_a_clear_message() {
    for (key, value, message) in [
        (
            "LATCHKEY_MAX_BODY_KIB",
            "0",
            "max_body_kib must be at least 1",
        ),
        (
            "LATCHKEY_MAX_HEADER_KIB",
            "0",
            "max_header_kib must be at least 1",
        ),
        (
            "LATCHKEY_MAX_HEADER_KIB",
            "1024",
            "max_header_kib must be at most 256",
        ),
        (
            "LATCHKEY_MAX_HEADERS",
            "0",
            "max_headers must be at least 1",
        ),
        (
            "LATCHKEY_HEADER_READ_TIMEOUT_SECONDS",
            "0",
            "header_read_timeout_seconds must be at least 1",
        ),
        (
            "LATCHKEY_REQUEST_TIMEOUT_SECONDS",
            "0",
            "request_timeout_seconds must be at least 1",
        ),
    ] {
        let server = TestServer::stopped_with(&[(key, value)]);
        let output = server.serve_expecting_exit();
        let line = output.one_line_failure();
        assert!(line.contains(message), "{key}={value}: {line}");
    }
}
