//! A storm of logins whose clients hang up right after sending: password hashing
//! stays within its pool whatever the clients do, every attempt counts against the
//! throttle, and a real user elsewhere still gets in.

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use reqwest::StatusCode;

use crate::support::*;

/// Clients in the storm, and the requests each sends and abandons.
const CLIENTS: usize = 32;
const REQUESTS_PER_CLIENT: usize = 8;
/// Memory of one password hash: the default Argon2 cost.
const ARGON2_MEMORY_KIB: u64 = 65_536;
/// Hashes at once.
const HASHING_SLOTS: u64 = 2;
/// Room for what else a busy server allocates (buffers, thread stacks, the pool).
const MARGIN_KIB: u64 = 64 * 1024;

#[test]
fn an_abandoned_login_storm_stays_within_the_hashing_memory_and_is_throttled() {
    let server = TestServer::start_with(&[
        // The real cost, so that memory shows it.
        ("LATCHKEY_ARGON2_MEMORY_KIB", &ARGON2_MEMORY_KIB.to_string()),
        ("LATCHKEY_ARGON2_ITERATIONS", "3"),
        ("LATCHKEY_ARGON2_PARALLELISM", "4"),
        (
            "LATCHKEY_PASSWORD_HASH_CONCURRENCY",
            &HASHING_SLOTS.to_string(),
        ),
        ("LATCHKEY_THROTTLE_ADDRESS_FAILURES", "20"),
        ("LATCHKEY_THROTTLE_ACCOUNT_FAILURES", "1000000"),
        ("LATCHKEY_THROTTLE_BASE_SECONDS", "300"),
    ]);
    server.add_user("carol", "plum-orbit-lantern-42", &[]);
    let base = server.memory_kib("VmRSS");

    let storm = Instant::now();
    thread::scope(|scope| {
        for client in 0..CLIENTS {
            let server = &server;
            scope.spawn(move || {
                for n in 0..REQUESTS_PER_CLIENT {
                    send_and_hang_up(server, &format!("nobody-{client}-{n}"));
                }
            });
        }
    });
    println!(
        "{} abandoned logins sent in {:?}",
        CLIENTS * REQUESTS_PER_CLIENT,
        storm.elapsed()
    );

    // A real user from another address gets in while the storm's hashes finish.
    let elsewhere = http_client_from(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    let started = Instant::now();
    let answer = elsewhere
        .post(server.url("/token"))
        .form(&[("username", "carol"), ("password", "plum-orbit-lantern-42")])
        .send()
        .expect("POST /token from 127.0.0.2");
    assert_eq!(answer.status(), StatusCode::OK, "{}", server.logs());
    println!(
        "a real user's login from another address took {:?}",
        started.elapsed()
    );

    // Hashes of abandoned requests may still be running: let them finish.
    thread::sleep(Duration::from_secs(2));
    let peak = server.memory_kib("VmHWM");
    let bound = base + HASHING_SLOTS * ARGON2_MEMORY_KIB + MARGIN_KIB;
    println!("memory: {base} KiB at rest, {peak} KiB at the peak, bound {bound} KiB");
    assert!(
        peak <= bound,
        "peak memory {peak} KiB over {bound} KiB: more hashes ran than the pool has slots"
    );

    // The storm's address used up its allowance although it never read an answer.
    let from_storm = server.token_request(&[("username", "nobody"), ("password", "x")]);
    assert_eq!(from_storm.status(), StatusCode::TOO_MANY_REQUESTS);
    // Abandoned requests left nothing broken behind (a connection stuck in a
    // transaction would fail later requests).
    let logs = server.logs();
    assert!(!logs.contains(" ERROR "), "{logs}");
}

/// Sends a whole `POST /token` for `username` and hangs up 30 ms later, before
/// the answer can come.
fn send_and_hang_up(server: &TestServer, username: &str) {
    let body = format!("username={username}&password=wrong");
    let request = format!(
        "POST /token HTTP/1.1\r\nHost: {}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{body}",
        server.addr(),
        body.len()
    );
    let mut stream = TcpStream::connect(server.addr()).expect("connect");
    stream.write_all(request.as_bytes()).expect("send");
    thread::sleep(Duration::from_millis(30));
    drop(stream);
}
