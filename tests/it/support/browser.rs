//! The browser's sign-in over HTTP: the `login` server function called from any
//! loopback address, carrying the device cookie a browser would keep.

use std::net::IpAddr;

use reqwest::StatusCode;
use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::{COOKIE, SET_COOKIE};

use super::http::http_client_from;
use super::server::TestServer;

/// The name of latchkey's device cookie.
pub const DEVICE_COOKIE: &str = "__Host-latchkey-device";

/// The name of the cookie that binds the browser app's tokens to the browser.
pub const FINGERPRINT_COOKIE: &str = "__Host-latchkey-fingerprint";

impl TestServer {
    /// A call of the server function `name` with form fields `form`.
    pub fn server_fn(&self, name: &str, form: &[(&str, &str)]) -> RequestBuilder {
        self.client()
            .post(self.url(&format!("/api/{name}")))
            .form(form)
    }
}

/// The `Set-Cookie` header that sets the device cookie, if the answer has one.
pub fn device_cookie_header(response: &Response) -> Option<String> {
    set_cookie_header(response, DEVICE_COOKIE)
}

/// The `Set-Cookie` header that sets the cookie `name`, if the answer has one.
pub fn set_cookie_header(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// A browser at one client address, keeping the device cookie it is given as a
/// browser does (its cookie jar holds this one cookie).
pub struct Browser<'a> {
    server: &'a TestServer,
    client: Client,
    /// The device cookie's value, if the browser holds one.
    pub cookie: Option<String>,
}

impl<'a> Browser<'a> {
    /// A browser with an empty cookie jar, connecting from `address`.
    pub fn at(server: &'a TestServer, address: IpAddr) -> Self {
        Self {
            server,
            client: http_client_from(address),
            cookie: None,
        }
    }

    /// Signs in through the page's server function, sending the cookie the browser
    /// holds and keeping a new one it is given; returns the answer's status.
    pub fn sign_in(&mut self, username: &str, password: &str) -> StatusCode {
        let cookie = self.cookie.clone();
        let response = self.sign_in_with_cookie(username, password, cookie.as_deref());
        let status = response.status();
        if let Some(header) = device_cookie_header(&response) {
            self.cookie = Some(cookie_value(&header));
        }
        status
    }

    /// Signs in through the page's server function with exactly `cookie` as the
    /// device cookie's value (or none), keeping nothing.
    pub fn sign_in_with_cookie(
        &self,
        username: &str,
        password: &str,
        cookie: Option<&str>,
    ) -> Response {
        let mut request = self
            .client
            .post(self.server.url("/api/login"))
            .form(&[("username", username), ("password", password)]);
        if let Some(value) = cookie {
            request = request.header(COOKIE, format!("theme=dark; {DEVICE_COOKIE}={value}"));
        }
        request.send().expect("POST /api/login")
    }

    /// `POST /token` from this browser's address, sending its device cookie.
    pub fn token_request(&self, username: &str, password: &str) -> Response {
        let mut request = self
            .client
            .post(self.server.url("/token"))
            .form(&[("username", username), ("password", password)]);
        if let Some(value) = &self.cookie {
            request = request.header(COOKIE, format!("{DEVICE_COOKIE}={value}"));
        }
        request.send().expect("POST /token")
    }
}

/// The value of the cookie a `Set-Cookie` header sets.
pub fn cookie_value(set_cookie: &str) -> String {
    let pair = set_cookie.split(';').next().unwrap_or_default();
    pair.split_once('=')
        .map(|(_, value)| value.trim().to_owned())
        .unwrap_or_default()
}
