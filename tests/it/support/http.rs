//! HTTP against a test server: requests with a credential, the login form, and the
//! answers FastAPI gives (its JSON bodies, its `WWW-Authenticate` challenges).

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{DATE, HeaderMap};
use serde_json::{Value, json};

use super::server::TestServer;

/// The detail of every refused bearer token.
pub const INVALID_TOKEN: &str = "Could not validate credentials";

/// The challenge of `/users/me/` for a token that falls short.
pub const ME_CHALLENGE: &str = "Bearer scope=\"me\"";
/// The challenge of `/users/me/items/` for a token that falls short.
pub const ITEMS_CHALLENGE: &str = "Bearer scope=\"items me\"";

/// The protected routes and the challenge each answers a bad token with.
pub const ROUTES: [(&str, &str); 3] = [
    ("/users/me/", ME_CHALLENGE),
    ("/users/me/items/", ITEMS_CHALLENGE),
    ("/status/", "Bearer"),
];

/// A credential to send in the `Authorization` header.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
    Basic(&'a str, &'a str),
    /// The header value exactly as given.
    Raw(&'a str),
}

/// An HTTP client whose connections come from `address` (any 127.0.0.0/8
/// address is this machine): another client address for the server.
pub fn http_client_from(address: std::net::IpAddr) -> Client {
    Client::builder()
        .no_proxy()
        .local_address(address)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
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

impl TestServer {
    /// A request to `path` carrying `auth`.
    pub fn request(&self, method: reqwest::Method, path: &str, auth: Auth<'_>) -> RequestBuilder {
        let request = self.client().request(method, self.url(path));
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

    /// `GET path` with `auth` and, if given, this `Cookie` header.
    pub fn get_with_cookie(&self, path: &str, auth: Auth<'_>, cookie: Option<&str>) -> Response {
        let request = self.request(reqwest::Method::GET, path, auth);
        match cookie {
            Some(cookie) => request.header(reqwest::header::COOKIE, cookie),
            None => request,
        }
        .send()
        .expect("GET")
    }

    /// `POST /token` with these form fields.
    pub fn token_request(&self, form: &[(&str, &str)]) -> Response {
        self.client()
            .post(self.url("/token"))
            .form(form)
            .send()
            .expect("POST /token")
    }

    /// `POST /token` with a username and a password, and nothing else.
    pub fn login_attempt(&self, username: &str, password: &str) -> Response {
        self.token_request(&[("username", username), ("password", password)])
    }

    /// The status of [`Self::login_attempt`].
    pub fn login_status(&self, username: &str, password: &str) -> StatusCode {
        self.login_attempt(username, password).status()
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

    /// What `/users/me/` shows to `token`, which must open it.
    #[track_caller]
    pub fn me(&self, token: &str) -> Value {
        let (status, _, body) = parts(self.get("/users/me/", Auth::Bearer(token)));
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// A fresh client still gets the OpenAPI document, and a login of an unknown
    /// user still gets the usual 401: the server answers, its database included.
    #[track_caller]
    pub fn assert_still_serving(&self) {
        let fresh = http_client(reqwest::redirect::Policy::none());
        let response = fresh
            .get(self.url("/openapi.json"))
            .send()
            .expect("GET /openapi.json");
        assert_eq!(response.status(), StatusCode::OK);
        let document: Value = response.json().expect("the OpenAPI document");
        assert!(document["paths"]["/token"].is_object());
        assert_error(
            self.login_attempt("nobody-at-all", "no password"),
            401,
            "Incorrect username or password",
            Some("Bearer"),
        );
    }

    /// [`Self::assert_still_serving`], and `username` still logs in and their token
    /// opens `/users/me/`.
    #[track_caller]
    pub fn assert_still_logs_in(&self, username: &str, password: &str) {
        self.assert_still_serving();
        let token = self.login(username, password, None);
        assert_access_works(self, &token, username);
    }
}

/// Status, headers and the JSON body (`Value::Null` if the body is not JSON).
pub fn parts(response: Response) -> (StatusCode, HeaderMap, Value) {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().expect("response body");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, headers, body)
}

/// The header `name`, if any.
pub fn header_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .map(|v| v.to_str().expect("an ASCII header"))
}

/// The `WWW-Authenticate` header, if any.
pub fn challenge(headers: &HeaderMap) -> Option<&str> {
    header_value(headers, "www-authenticate")
}

/// Every header but the date and the request id (new for every request), sorted:
/// what tells two answers apart.
pub fn headers_but_date(headers: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    let mut list: Vec<(String, Vec<u8>)> = headers
        .iter()
        .filter(|(name, _)| *name != DATE && name.as_str() != "x-request-id")
        .map(|(name, value)| (name.to_string(), value.as_bytes().to_vec()))
        .collect();
    list.sort();
    list
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
    assert_answer(response, status, detail, expected_challenge, "");
}

/// [`assert_error`], naming `case` in every message.
#[track_caller]
pub fn assert_answer(
    response: Response,
    status: u16,
    detail: &str,
    expected_challenge: Option<&str>,
    case: &str,
) {
    let (actual, headers, body) = parts(response);
    assert_eq!(actual.as_u16(), status, "{case}: status (body {body})");
    assert_eq!(body, json!({ "detail": detail }), "{case}: body");
    assert_eq!(
        challenge(&headers),
        expected_challenge,
        "{case}: WWW-Authenticate"
    );
}

/// Asserts every protected route refuses `token` as FastAPI refuses a bad token.
#[track_caller]
pub fn assert_token_refused(server: &TestServer, token: &str, case: &str) {
    for (path, expected) in ROUTES {
        let response = server.get(path, Auth::Bearer(token));
        assert_answer(
            response,
            401,
            INVALID_TOKEN,
            Some(expected),
            &format!("{case} on {path}"),
        );
    }
}

/// Asserts `token` opens `/users/me/` as `username`.
#[track_caller]
pub fn assert_access_works(server: &TestServer, token: &str, username: &str) {
    assert_eq!(server.me(token)["username"], username);
}

/// Asserts `token` passes the token checks: `/status/` (which needs no scope)
/// answers it `{"status": "ok"}`.
#[track_caller]
pub fn assert_token_accepted(server: &TestServer, token: &str, case: &str) {
    assert_token_accepted_with_cookie(server, token, None, case);
}

/// [`assert_token_accepted`], sending this `Cookie` header (a browser's
/// fingerprint, which a bound token needs).
#[track_caller]
pub fn assert_token_accepted_with_cookie(
    server: &TestServer,
    token: &str,
    cookie: Option<&str>,
    case: &str,
) {
    let response = server.get_with_cookie("/status/", Auth::Bearer(token), cookie);
    let (status, _, body) = parts(response);
    assert_eq!(status, StatusCode::OK, "{case}: {body}");
    assert_eq!(body, json!({"status": "ok"}), "{case}");
}

/// FastAPI's 422 entry for a missing body field.
pub fn missing_field(field: &str) -> Value {
    json!({"type": "missing", "loc": ["body", field], "msg": "Field required", "input": null})
}

/// The boundary of [`multipart`] bodies.
pub const MULTIPART_BOUNDARY: &str = "latchkey-test-boundary";

/// A `multipart/form-data` body of these raw parts, as browsers and `curl -F` send
/// it, and its content type.
pub fn multipart(parts: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let mut body = Vec::new();
    for (name, value) in parts {
        body.extend_from_slice(
            format!(
                "--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(value);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{MULTIPART_BOUNDARY}--\r\n").as_bytes());
    (
        format!("multipart/form-data; boundary={MULTIPART_BOUNDARY}"),
        body,
    )
}
