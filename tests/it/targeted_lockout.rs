//! Targeted lockout: wrong passwords sent from anywhere block an account, but not
//! the browser its user signed in with before. That browser holds a device cookie
//! (HttpOnly, `__Host-`, SameSite=Strict) bound to the account; its logins for the
//! account skip the account's block and have a small allowance of their own. A
//! cookie of another account, a forged one, or a replaced one does not help, and
//! the API (`POST /token` without the cookie) behaves as before.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Barrier;
use std::thread;

use reqwest::StatusCode;
use reqwest::header::SET_COOKIE;
use serde_json::Value;

use crate::support::*;

const JOHN: (&str, &str) = ("johndoe", "correct horse battery");
const JANE: (&str, &str) = ("janedoe", "staple gun yellow");

/// Where the real user's browser connects from.
const HOME: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1));
/// Where the attacker connects from.
const ELSEWHERE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// Accounts are blocked after 3 failures, device cookies after 2; addresses
/// practically never, so only the account's and the cookie's blocks are seen.
fn server() -> TestServer {
    let server = TestServer::start_with(&[
        ("LATCHKEY_THROTTLE_ACCOUNT_FAILURES", "3"),
        ("LATCHKEY_THROTTLE_DEVICE_FAILURES", "2"),
        ("LATCHKEY_THROTTLE_ADDRESS_FAILURES", "1000"),
        ("LATCHKEY_THROTTLE_BASE_SECONDS", "60"),
    ]);
    server.add_user(JOHN.0, JOHN.1, &[]);
    server.add_user(JANE.0, JANE.1, &[]);
    server
}

/// The attacker fails `username`'s password from another address until the
/// account is blocked.
fn lock_out(server: &TestServer, username: &str) {
    let attacker = http_client_from(ELSEWHERE);
    let attempt = || {
        attacker
            .post(server.url("/token"))
            .form(&[("username", username), ("password", "guess")])
            .send()
            .unwrap()
            .status()
    };
    for n in 1..=3 {
        assert_eq!(attempt(), StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    assert_eq!(
        attempt(),
        StatusCode::TOO_MANY_REQUESTS,
        "the account is blocked"
    );
}

/// A browser at home that has signed in to `account` once.
fn browser_signed_in<'a>(server: &'a TestServer, account: (&str, &str)) -> Browser<'a> {
    let mut browser = Browser::at(server, HOME);
    assert_eq!(browser.sign_in(account.0, account.1), StatusCode::OK);
    assert!(
        browser.cookie.is_some(),
        "no device cookie after signing in"
    );
    browser
}

#[test]
fn a_browser_sign_in_sets_a_host_only_http_only_strict_device_cookie() {
    let server = server();
    let browser = Browser::at(&server, HOME);
    let answer = browser.sign_in_with_cookie(JOHN.0, JOHN.1, None);
    assert_eq!(answer.status(), StatusCode::OK);
    let header = device_cookie_header(&answer).expect("a device cookie");
    let mut attributes: Vec<String> = header
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    attributes.sort();
    assert_eq!(
        attributes,
        [
            "httponly",
            "max-age=31536000",
            "path=/",
            "samesite=strict",
            "secure"
        ],
        "{header}"
    );
    assert_eq!(cookie_value(&header).len(), 43, "256 random bits: {header}");
    // A failed sign-in sets nothing, and the JSON API never sets cookies.
    let failed = browser.sign_in_with_cookie(JOHN.0, "wrong", None);
    assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
    assert!(failed.headers().get(SET_COOKIE).is_none());
    let api = server.login_attempt(JOHN.0, JOHN.1);
    assert_eq!(api.status(), StatusCode::OK);
    assert!(api.headers().get(SET_COOKIE).is_none());
}

#[test]
fn an_attacker_elsewhere_locks_the_account_but_not_the_users_browser() {
    let server = server();
    let mut browser = browser_signed_in(&server, JOHN);
    let first_cookie = browser.cookie.clone();
    lock_out(&server, JOHN.0);

    // Control: the same browser without its cookie is refused, and so is the API.
    let without = browser.sign_in_with_cookie(JOHN.0, JOHN.1, None);
    assert_eq!(without.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        server.login_status(JOHN.0, JOHN.1),
        StatusCode::TOO_MANY_REQUESTS
    );

    // With it, the user signs in, and gets a new cookie for the next time.
    assert_eq!(browser.sign_in(JOHN.0, JOHN.1), StatusCode::OK);
    assert_ne!(browser.cookie, first_cookie, "the cookie was not renewed");
    assert_eq!(browser.sign_in(JOHN.0, JOHN.1), StatusCode::OK);
    // An API client that keeps the cookie is let in too: the decision is the core's.
    assert_eq!(
        browser.token_request(JOHN.0, JOHN.1).status(),
        StatusCode::OK
    );
    // The user signing in did not lift the attacker's block.
    let attacker = http_client_from(ELSEWHERE);
    let again = attacker
        .post(server.url("/token"))
        .form(&[("username", JOHN.0), ("password", JOHN.1)])
        .send()
        .unwrap();
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[test]
fn a_replaced_cookie_no_longer_helps() {
    let server = server();
    let mut browser = browser_signed_in(&server, JOHN);
    let old = browser.cookie.clone().unwrap();
    assert_eq!(browser.sign_in(JOHN.0, JOHN.1), StatusCode::OK);
    lock_out(&server, JOHN.0);
    let with_old = browser.sign_in_with_cookie(JOHN.0, JOHN.1, Some(&old));
    assert_eq!(with_old.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(browser.sign_in(JOHN.0, JOHN.1), StatusCode::OK);
}

#[test]
fn a_device_cookie_helps_only_the_account_it_was_issued_to() {
    let server = server();
    let johns_browser = browser_signed_in(&server, JOHN);
    let johns_cookie = johns_browser.cookie.clone().unwrap();
    lock_out(&server, JANE.0);
    let stolen = johns_browser.sign_in_with_cookie(JANE.0, JANE.1, Some(&johns_cookie));
    assert_eq!(stolen.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(device_cookie_header(&stolen).is_none());
    // Positive control: the same cookie still opens the account it was issued to.
    lock_out(&server, JOHN.0);
    let own = johns_browser.sign_in_with_cookie(JOHN.0, JOHN.1, Some(&johns_cookie));
    assert_eq!(own.status(), StatusCode::OK);
}

#[test]
fn forged_and_malformed_cookies_do_not_help_and_break_nothing() {
    let server = server();
    let browser = browser_signed_in(&server, JOHN);
    let real = browser.cookie.clone().unwrap();
    lock_out(&server, JOHN.0);
    let one_char_changed = {
        let mut chars: Vec<char> = real.chars().collect();
        chars[10] = if chars[10] == 'A' { 'B' } else { 'A' };
        chars.into_iter().collect::<String>()
    };
    let forged = [
        one_char_changed,
        real[..42].to_owned(),
        format!("{real}A"),
        "A".repeat(43),
        String::new(),
        "%00%ff".to_owned(),
        "\"quoted\"".to_owned(),
        "x".repeat(8000),
        JOHN.0.to_owned(),
    ];
    for cookie in &forged {
        let answer = browser.sign_in_with_cookie(JOHN.0, JOHN.1, Some(cookie));
        assert_eq!(
            answer.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "cookie {:?}",
            &cookie[..cookie.len().min(60)]
        );
    }
    // The real one still works, and nothing above was a server error.
    let real_answer = browser.sign_in_with_cookie(JOHN.0, JOHN.1, Some(&real));
    assert_eq!(real_answer.status(), StatusCode::OK);
    let logs = server.logs();
    assert!(!logs.contains(" ERROR "), "{logs}");
}

#[test]
fn the_device_cookie_has_its_own_small_allowance() {
    let server = server();
    let browser = browser_signed_in(&server, JOHN);
    let cookie = browser.cookie.clone();
    // The module's server allows a device cookie 2 failures.
    for n in 1..=2 {
        let answer = browser.sign_in_with_cookie(JOHN.0, "wrong", cookie.as_deref());
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "failure {n}");
    }
    let blocked = browser.sign_in_with_cookie(JOHN.0, JOHN.1, cookie.as_deref());
    assert_eq!(blocked.status(), StatusCode::TOO_MANY_REQUESTS);
    // Its failures were the cookie's, not the account's: a client without the
    // cookie still has the account's allowance.
    assert_eq!(server.login_status(JOHN.0, JOHN.1), StatusCode::OK);
}

#[test]
fn concurrent_wrong_passwords_with_a_device_cookie_get_only_its_allowance() {
    const BURST: usize = 30;
    let server = server();
    let browser = browser_signed_in(&server, JOHN);
    let cookie = browser.cookie.clone();
    let barrier = Barrier::new(BURST);
    let statuses: Vec<u16> = thread::scope(|scope| {
        let attempts: Vec<_> = (0..BURST)
            .map(|_| {
                let (browser, barrier, cookie) = (&browser, &barrier, cookie.as_deref());
                scope.spawn(move || {
                    barrier.wait();
                    let answer = browser.sign_in_with_cookie(JOHN.0, "wrong", cookie);
                    answer.status().as_u16()
                })
            })
            .collect();
        attempts.into_iter().map(|a| a.join().unwrap()).collect()
    });
    let count = |status: u16| statuses.iter().filter(|s| **s == status).count();
    assert_eq!(count(401), 2, "{statuses:?}");
    assert_eq!(count(429), BURST - 2, "{statuses:?}");
    let answer = browser.sign_in_with_cookie(JOHN.0, JOHN.1, cookie.as_deref());
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = answer.json().unwrap_or(Value::Null);
    assert!(body.to_string().contains("retry"), "{body}");
}

#[test]
fn a_loop_of_sign_ins_keeps_a_bounded_number_of_device_cookies() {
    let server = server();
    let browser = Browser::at(&server, HOME);
    let mut cookies = Vec::new();
    for _ in 0..25 {
        let answer = browser.sign_in_with_cookie(JOHN.0, JOHN.1, None);
        assert_eq!(answer.status(), StatusCode::OK);
        cookies.push(cookie_value(&device_cookie_header(&answer).unwrap()));
    }
    let stored = server
        .database()
        .query_texts("SELECT token_hash FROM device_cookies", &[]);
    assert_eq!(stored.len(), 20, "the newest 20 are kept");
    // The newest still helps against a block; the oldest no longer does.
    lock_out(&server, JOHN.0);
    let newest = browser.sign_in_with_cookie(JOHN.0, JOHN.1, cookies.last().map(String::as_str));
    assert_eq!(newest.status(), StatusCode::OK);
    let oldest = browser.sign_in_with_cookie(JOHN.0, JOHN.1, Some(&cookies[0]));
    assert_eq!(oldest.status(), StatusCode::TOO_MANY_REQUESTS);
}
