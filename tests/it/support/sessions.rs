//! The token lifecycle over HTTP: the two tokens of a session, refreshing them,
//! ending the session, and checking whether it is still live.

use reqwest::StatusCode;
use reqwest::blocking::Response;
use serde_json::Value;

use super::http::{Auth, assert_access_works, assert_error, assert_token_refused, parts};
use super::server::TestServer;

/// The detail of a refused refresh token.
pub const INVALID_GRANT: &str = "Invalid or expired refresh token";

/// The two tokens a login or a refresh hands out.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
}

impl Tokens {
    /// The tokens of a `POST /token` answer.
    #[track_caller]
    pub fn of(body: &Value) -> Self {
        let text = |name: &str| {
            body[name]
                .as_str()
                .unwrap_or_else(|| panic!("{name} is a string: {body}"))
                .to_owned()
        };
        Self {
            access: text("access_token"),
            refresh: text("refresh_token"),
        }
    }
}

impl TestServer {
    /// A new session of `username`: the tokens of a login that must succeed.
    #[track_caller]
    pub fn login_tokens(&self, username: &str, password: &str, scope: Option<&str>) -> Tokens {
        Tokens::of(&self.login_response(username, password, scope))
    }

    /// `POST /token` with `grant_type=refresh_token`.
    pub fn refresh_request(&self, refresh_token: &str, scope: Option<&str>) -> Response {
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        form.extend(scope.map(|scope| ("scope", scope)));
        self.token_request(&form)
    }

    /// `POST /token` with `grant_type=refresh_token` and, if given, this `Cookie`
    /// header (a browser's fingerprint, which a bound session's refresh needs).
    pub fn refresh_request_with_cookie(
        &self,
        refresh_token: &str,
        cookie: Option<&str>,
    ) -> Response {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        let request = self.client().post(self.url("/token")).form(&form);
        match cookie {
            Some(cookie) => request.header(reqwest::header::COOKIE, cookie),
            None => request,
        }
        .send()
        .expect("POST /token")
    }

    /// Swaps `refresh_token` for new tokens; the swap must succeed.
    #[track_caller]
    pub fn refresh(&self, refresh_token: &str) -> Tokens {
        let (status, _, body) = parts(self.refresh_request(refresh_token, None));
        assert_eq!(status, StatusCode::OK, "refresh failed: {body}");
        Tokens::of(&body)
    }

    /// `POST /logout` with `access_token`.
    pub fn logout(&self, access_token: &str) -> Response {
        self.request(reqwest::Method::POST, "/logout", Auth::Bearer(access_token))
            .send()
            .expect("POST /logout")
    }

    /// `POST /revoke` with these form fields.
    pub fn revoke(&self, form: &[(&str, &str)]) -> Response {
        self.client()
            .post(self.url("/revoke"))
            .form(form)
            .send()
            .expect("POST /revoke")
    }
}

/// A server with users nina and omar, each with the password `pw-<name>`.
pub fn two_user_server() -> TestServer {
    let server = TestServer::start();
    server.add_user("nina", "pw-nina", &[]);
    server.add_user("omar", "pw-omar", &[]);
    server
}

/// A new session of `username`, whose password is `pw-<username>`.
#[track_caller]
pub fn session_of(server: &TestServer, username: &str) -> Tokens {
    server.login_tokens(username, &format!("pw-{username}"), None)
}

/// Asserts `refresh_token` is refused as OAuth2's `invalid_grant`.
#[track_caller]
pub fn assert_refresh_refused(server: &TestServer, refresh_token: &str) {
    assert_error(
        server.refresh_request(refresh_token, None),
        400,
        INVALID_GRANT,
        None,
    );
}

/// Both tokens of a session are refused.
#[track_caller]
pub fn assert_session_ended(server: &TestServer, tokens: &Tokens) {
    assert_token_refused(
        server,
        &tokens.access,
        "the access token of an ended session",
    );
    assert_refresh_refused(server, &tokens.refresh);
}

/// Both tokens of a session still work (the refresh token is spent doing so: the
/// session's new tokens are returned).
#[track_caller]
pub fn assert_session_live(server: &TestServer, tokens: &Tokens, username: &str) -> Tokens {
    assert_access_works(server, &tokens.access, username);
    let next = server.refresh(&tokens.refresh);
    assert_access_works(server, &next.access, username);
    next
}
