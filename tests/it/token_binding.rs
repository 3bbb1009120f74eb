//! Browser token binding (OWASP's token sidejacking defence): the browser app's
//! sign-in sets a random fingerprint in a `__Host-` cookie and binds its session
//! to it, so the session's access and refresh tokens are refused without that
//! cookie, by the JSON API as by the server functions. A token lifted out of the
//! browser's LocalStorage is useless elsewhere. Sessions of `POST /token` (API
//! clients) stay unbound.

use std::sync::Barrier;
use std::thread;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::{Cookie, SameSite};
use reqwest::StatusCode;
use reqwest::blocking::Response;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::forge::{GenuineToken, SERVER_KEY, attack_server};
use crate::support::*;

const JOHNDOE: [(&str, &str); 2] = [("username", "johndoe"), ("password", "secret")];

/// What a browser holds after signing in through the app: the tokens it keeps in
/// LocalStorage and the fingerprint cookie the server set.
struct BrowserSession {
    tokens: Tokens,
    set_cookie: Cookie<'static>,
}

impl BrowserSession {
    /// The `Cookie` header the browser sends back.
    fn cookie(&self) -> String {
        format!("{FINGERPRINT_COOKIE}={}", self.set_cookie.value())
    }
}

/// Signs johndoe in through the app's `login` server function.
#[track_caller]
fn browser_sign_in(server: &TestServer) -> BrowserSession {
    let response = server.server_fn("login", &JOHNDOE).send().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = fingerprint_set_cookie(&response);
    let body: Value = response.json().unwrap();
    BrowserSession {
        tokens: Tokens::of(&body),
        set_cookie,
    }
}

/// The one `Set-Cookie` of the fingerprint cookie in an answer, parsed.
#[track_caller]
fn fingerprint_set_cookie(response: &Response) -> Cookie<'static> {
    let values: Vec<Cookie<'static>> = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| Cookie::parse(v.to_str().unwrap().to_owned()).expect("a Set-Cookie header"))
        .filter(|cookie| cookie.name() == FINGERPRINT_COOKIE)
        .collect();
    assert_eq!(values.len(), 1, "one fingerprint Set-Cookie: {values:?}");
    values.into_iter().next().unwrap()
}

/// What sessions and tokens keep of a fingerprint: its SHA-256, hex.
fn fingerprint_hash(fingerprint: &str) -> String {
    hex::encode(Sha256::digest(fingerprint.as_bytes()))
}

/// Asserts every protected route refuses `token` sent with `cookie` as it refuses
/// any bad token (401, the same body and challenge).
#[track_caller]
fn assert_refused_with_cookie(server: &TestServer, token: &str, cookie: &str, case: &str) {
    for (path, challenge) in ROUTES {
        let response = server.get_with_cookie(path, Auth::Bearer(token), Some(cookie));
        assert_answer(
            response,
            401,
            INVALID_TOKEN,
            Some(challenge),
            &format!("{case} on {path}"),
        );
    }
}

/// Asserts every protected route lets `token` sent with `cookie` in.
#[track_caller]
fn assert_accepted_with_cookie(server: &TestServer, token: &str, cookie: &str, case: &str) {
    for (path, _) in ROUTES {
        let response = server.get_with_cookie(path, Auth::Bearer(token), Some(cookie));
        assert_eq!(response.status(), StatusCode::OK, "{case} on {path}");
    }
}

#[test]
fn sign_in_sets_a_host_only_script_proof_cookie_whose_hash_the_token_carries() {
    let server = attack_server();
    let browser = browser_sign_in(&server);
    let cookie = &browser.set_cookie;
    assert_eq!(cookie.name(), FINGERPRINT_COOKIE);
    assert_eq!(cookie.path(), Some("/"));
    assert_eq!(cookie.domain(), None);
    assert_eq!(cookie.secure(), Some(true));
    assert_eq!(cookie.http_only(), Some(true));
    assert_eq!(cookie.same_site(), Some(SameSite::Strict));
    // It outlives the session (30 days by default): a renewal never needs a new one.
    assert_eq!(
        cookie.max_age(),
        Some(cookie::time::Duration::days(30)),
        "{cookie}"
    );
    let bits = URL_SAFE_NO_PAD.decode(cookie.value()).expect("base64url");
    assert_eq!(bits.len(), 32, "256 random bits");
    let claims = jwt_segment(&browser.tokens.access, 1);
    assert_eq!(claims["fgp"], json!(fingerprint_hash(cookie.value())));
    // Every sign-in gets a fingerprint of its own.
    let again = browser_sign_in(&server);
    assert_ne!(again.set_cookie.value(), cookie.value());
}

#[test]
fn a_bound_access_token_is_refused_without_its_cookie_on_every_door() {
    let server = attack_server();
    let browser = browser_sign_in(&server);
    let other_browser = browser_sign_in(&server);
    let token = &browser.tokens.access;
    // Positive control: the token with its own cookie opens every route.
    assert_accepted_with_cookie(&server, token, &browser.cookie(), "with its cookie");
    // The same token, lifted and replayed as curl would: no cookie.
    assert_token_refused(&server, token, "a bound token without its cookie");
    assert_refused_with_cookie(
        &server,
        token,
        &other_browser.cookie(),
        "a bound token with another browser's cookie",
    );
    assert_refused_with_cookie(
        &server,
        token,
        &format!(
            "{FINGERPRINT_COOKIE}={}",
            fingerprint_hash(browser.set_cookie.value())
        ),
        "a bound token with the fingerprint's hash as the cookie",
    );
    assert_refused_with_cookie(
        &server,
        token,
        &format!("{}; {}", browser.cookie(), other_browser.cookie()),
        "a bound token with two fingerprint cookies",
    );
    // The server functions too.
    let profile = |cookie: Option<&str>| {
        let request = server
            .server_fn("profile", &[])
            .bearer_auth(token)
            .header("sec-fetch-site", "same-origin");
        match cookie {
            Some(cookie) => request.header(COOKIE, cookie),
            None => request,
        }
        .send()
        .unwrap()
        .status()
    };
    assert_eq!(profile(Some(&browser.cookie())), StatusCode::OK);
    assert_eq!(profile(None), StatusCode::UNAUTHORIZED);
    assert_eq!(
        profile(Some(&other_browser.cookie())),
        StatusCode::UNAUTHORIZED
    );
    // Refusals end nothing: the token still works from its browser.
    assert_accepted_with_cookie(&server, token, &browser.cookie(), "after the refusals");
}

#[test]
fn stripping_or_replacing_the_fingerprint_claim_does_not_unbind_a_token() {
    let server = attack_server();
    let browser = browser_sign_in(&server);
    let cookie = browser.cookie();
    // The issued token, signed again with the server's key, is accepted with its
    // cookie: the edits below are refused for what they change only.
    let genuine = GenuineToken::sent_with_cookie(
        &server,
        browser.tokens.access.clone(),
        SERVER_KEY.as_bytes(),
        Some(&cookie),
    );
    let stripped = genuine.with_claim("fgp", None);
    assert_refused_with_cookie(&server, &stripped, &cookie, "fgp removed, with the cookie");
    assert_token_refused(&server, &stripped, "fgp removed, without a cookie");
    // Bound to the attacker's own cookie instead.
    let attackers = "an-attackers-own-fingerprint";
    let rebound = genuine.with_claim("fgp", Some(json!(fingerprint_hash(attackers))));
    assert_refused_with_cookie(
        &server,
        &rebound,
        &format!("{FINGERPRINT_COOKIE}={attackers}"),
        "fgp replaced by the attacker's, with the attacker's cookie",
    );
    // An unbound session's token, claiming a binding it does not have.
    let unbound = GenuineToken::of_attack_server(&server, None);
    let claimed = unbound.with_claim("fgp", Some(json!(fingerprint_hash(attackers))));
    assert_refused_with_cookie(
        &server,
        &claimed,
        &format!("{FINGERPRINT_COOKIE}={attackers}"),
        "an unbound session's token with an fgp claim",
    );
}

#[test]
fn a_bound_refresh_token_needs_its_cookie_and_a_refusal_spends_nothing() {
    let server = attack_server();
    let browser = browser_sign_in(&server);
    let other_browser = browser_sign_in(&server);
    let refresh = &browser.tokens.refresh;
    for (cookie, case) in [
        (None, "no cookie"),
        (Some(other_browser.cookie()), "another browser's cookie"),
    ] {
        assert_answer(
            server.refresh_request_with_cookie(refresh, cookie.as_deref()),
            400,
            INVALID_GRANT,
            None,
            &format!("POST /token, {case}"),
        );
    }
    let through_app = server
        .server_fn("refresh", &[("refresh_token", refresh)])
        .send()
        .unwrap();
    assert_eq!(through_app.status(), StatusCode::BAD_REQUEST);
    // The refusals neither spent the token nor ended the session: with its
    // cookie it is swapped once, as usual.
    let (status, _, body) =
        parts(server.refresh_request_with_cookie(refresh, Some(&browser.cookie())));
    assert_eq!(status, StatusCode::OK, "{body}");
    let renewed = Tokens::of(&body);
    assert_eq!(
        jwt_segment(&renewed.access, 1)["fgp"],
        jwt_segment(&browser.tokens.access, 1)["fgp"],
        "a renewal keeps the binding"
    );
    assert_accepted_with_cookie(&server, &renewed.access, &browser.cookie(), "renewed");
    assert_token_refused(&server, &renewed.access, "renewed, without the cookie");
    // The app's renewal keeps the cookie as it is.
    let through_app = server
        .server_fn("refresh", &[("refresh_token", &renewed.refresh)])
        .header(COOKIE, browser.cookie())
        .send()
        .unwrap();
    assert_eq!(through_app.status(), StatusCode::OK);
    assert_eq!(set_cookie_header(&through_app, FINGERPRINT_COOKIE), None);
    let body: Value = through_app.json().unwrap();
    assert_accepted_with_cookie(
        &server,
        &Tokens::of(&body).access,
        &browser.cookie(),
        "renewed by the app",
    );
}

#[test]
fn racing_refreshes_without_the_cookie_neither_win_nor_end_the_session() {
    const THIEVES: usize = 8;
    let server = attack_server();
    for trial in 0..5 {
        let browser = browser_sign_in(&server);
        let barrier = Barrier::new(THIEVES + 1);
        let cookie = browser.cookie();
        let (owner, thieves) = thread::scope(|scope| {
            let thieves: Vec<_> = (0..THIEVES)
                .map(|_| {
                    let (server, barrier, refresh) = (&server, &barrier, &browser.tokens.refresh);
                    scope.spawn(move || {
                        barrier.wait();
                        server.refresh_request(refresh, None).status().as_u16()
                    })
                })
                .collect();
            let owner = {
                let (server, barrier, refresh, cookie) =
                    (&server, &barrier, &browser.tokens.refresh, &cookie);
                scope.spawn(move || {
                    barrier.wait();
                    parts(server.refresh_request_with_cookie(refresh, Some(cookie)))
                })
            };
            let thieves: Vec<u16> = thieves.into_iter().map(|t| t.join().unwrap()).collect();
            (owner.join().unwrap(), thieves)
        });
        assert!(
            thieves.iter().all(|status| *status == 400),
            "trial {trial}: {thieves:?}"
        );
        let (status, _, body) = owner;
        assert_eq!(status, StatusCode::OK, "trial {trial}: {body}");
        let renewed = Tokens::of(&body);
        assert_accepted_with_cookie(&server, &renewed.access, &cookie, "the owner's renewal");
        let (status, _, body) =
            parts(server.refresh_request_with_cookie(&renewed.refresh, Some(&cookie)));
        assert_eq!(status, StatusCode::OK, "trial {trial}: {body}");
    }
}

#[test]
fn sessions_of_post_token_are_unbound_and_take_no_cookie() {
    let server = attack_server();
    let response = server.token_request(&JOHNDOE);
    assert_eq!(set_cookie_header(&response, FINGERPRINT_COOKIE), None);
    let (status, _, body) = parts(response);
    assert_eq!(status, StatusCode::OK);
    let tokens = Tokens::of(&body);
    assert!(jwt_segment(&tokens.access, 1).get("fgp").is_none());
    assert_access_works(&server, &tokens.access, "johndoe");
    // A browser's cookie sent along changes nothing.
    let browser = browser_sign_in(&server);
    assert_accepted_with_cookie(&server, &tokens.access, &browser.cookie(), "with a cookie");
    let renewed = server.refresh(&tokens.refresh);
    assert!(jwt_segment(&renewed.access, 1).get("fgp").is_none());
    assert_access_works(&server, &renewed.access, "johndoe");
}

#[test]
fn signing_out_clears_the_cookie_and_ends_the_session() {
    let server = attack_server();
    let browser = browser_sign_in(&server);
    let response = server
        .server_fn("end_session", &[("refresh_token", &browser.tokens.refresh)])
        .header(COOKIE, browser.cookie())
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cleared = fingerprint_set_cookie(&response);
    assert_eq!(cleared.name(), FINGERPRINT_COOKIE);
    assert_eq!(cleared.value(), "");
    assert_eq!(cleared.max_age(), Some(cookie::time::Duration::ZERO));
    assert_eq!(cleared.path(), Some("/"));
    assert_eq!(cleared.secure(), Some(true));
    assert_refused_with_cookie(
        &server,
        &browser.tokens.access,
        &browser.cookie(),
        "after signing out",
    );
}

#[test]
fn refreshes_without_the_cookie_do_not_use_up_the_sessions_refresh_rate() {
    // More than `refresh_session_per_minute` (10) tries of a thief.
    const TRIES: usize = 15;
    let server = attack_server();
    let browser = browser_sign_in(&server);
    for attempt in 0..TRIES {
        assert_answer(
            server.refresh_request(&browser.tokens.refresh, None),
            400,
            INVALID_GRANT,
            None,
            &format!("attempt {attempt} without the cookie"),
        );
    }
    let (status, _, body) =
        parts(server.refresh_request_with_cookie(&browser.tokens.refresh, Some(&browser.cookie())));
    assert_eq!(status, StatusCode::OK, "the browser's own renewal: {body}");
}
