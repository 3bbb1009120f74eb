//! Huge and slow requests, sent over raw TCP where no HTTP client can tidy them up:
//! each gets a 4xx (413, 431, 408) or a closed connection, never a 5xx, and the
//! server goes on serving other clients.

use std::io::Write as _;
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::support::raw_http::*;
use crate::support::*;
use serde_json::json;

/// The timeouts the slow-client tests configure, so they finish quickly.
const SHORT_TIMEOUT: &str = "2";

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

fn get_with_headers(path: &str, headers: &[(String, String)]) -> String {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: latchkey\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request
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
    assert_too_large(&response, "");
    assert_closed(&mut stream);
    writer.join().unwrap();
    server.assert_still_serving();
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
    assert_too_large(&response, "");
    assert_closed(&mut stream);
    server.assert_still_serving();
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
        let writer = send_in_background(&stream, chunked(&vec![b'x'; 1024 * 1024]));
        let response = read_response(&mut stream).expect("an answer before the close");
        assert_too_large(&response, path);
        assert_closed(&mut stream);
        writer.join().unwrap();
    }
    server.assert_still_serving();
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
    assert_too_large(
        &read_response(&mut stream).expect("an answer"),
        "1025 bytes",
    );
    server.assert_still_serving();
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
    server.assert_still_serving();
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
    server.assert_still_serving();
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
    server.assert_still_serving();
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
    server.assert_still_serving();
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
    server.assert_still_serving();
}

#[test]
fn a_connection_that_sends_nothing_is_closed() {
    let server = TestServer::start_with(&[("LATCHKEY_HEADER_READ_TIMEOUT_SECONDS", SHORT_TIMEOUT)]);
    let mut stream = connect(&server);
    assert_closed(&mut stream);
    server.assert_still_serving();
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
    server.assert_still_serving();
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
    let head = format!(
        "POST /token HTTP/1.1\r\nHost: latchkey\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    // The server asks for the body once its handler reads it: the request is in
    // flight (not a connection still waiting to be accepted, or an idle one).
    let interim = read_response(&mut stream).expect("100 Continue");
    assert_eq!(interim.status, 100, "{interim:?}");
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
