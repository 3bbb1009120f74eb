//! Who is calling: the credential a request presents, the browser fingerprint its
//! cookie carries, and the client's address — the socket peer or, only when the
//! peer is a configured trusted proxy, the client that proxy names in
//! `X-Forwarded-For` or `X-Real-IP` — and the device cookie a browser holds. Both
//! front doors read the caller here and hand it to the auth core, which decides
//! what each is worth.

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use ipnet::IpNet;

use crate::auth::devices::{DEVICE_COOKIE_NAME, DeviceCookie};
use crate::auth::{Credentials, Fingerprint};
use crate::settings::Settings;

/// The name of the cookie that holds the browser fingerprint. `__Host-`: browsers
/// take it only from this host, over a secure connection, with `Path=/` and no
/// `Domain`, so no other site or subdomain can plant one.
pub(crate) const FINGERPRINT_COOKIE: &str = "__Host-latchkey-fingerprint";

/// The caller of one request.
#[derive(Debug)]
pub(crate) struct Caller {
    /// What the `Authorization` header presents.
    pub credentials: Credentials,
    /// The browser fingerprint of the request's cookie, if it carries exactly one.
    pub fingerprint: Option<Fingerprint>,
    /// The client's address, as the login throttle counts it.
    pub client: IpAddr,
    /// The device cookie the request carries, if any looks like one latchkey
    /// issues (whether it is good, and for which account, the auth core decides).
    pub device: Option<DeviceCookie>,
}

impl<S> FromRequestParts<S> for Caller
where
    Arc<Settings>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        Ok(Self::of(parts, &Arc::<Settings>::from_ref(state)))
    }
}

impl Caller {
    /// The caller of the request with head `parts`.
    pub(crate) fn of(parts: &Parts, settings: &Settings) -> Self {
        // Two credentials are none: a proxy in front could be reading the other one.
        let mut values = parts.headers.get_all(AUTHORIZATION).iter();
        let header = match (values.next(), values.next()) {
            (Some(value), None) => value.to_str().ok(),
            _ => None,
        };
        let peer = socket_peer(&parts.extensions);
        Self {
            credentials: Credentials::from_header(header),
            fingerprint: fingerprint_cookie(&parts.headers),
            client: client_address(peer, &parts.headers, &settings.trusted_proxies),
            device: device_cookie(&parts.headers),
        }
    }
}

/// The first cookie named [`DEVICE_COOKIE_NAME`] in the `Cookie` headers, if its
/// value has the form of one latchkey issues.
fn device_cookie(headers: &HeaderMap) -> Option<DeviceCookie> {
    request_cookies(headers)
        .find(|cookie| cookie.name() == DEVICE_COOKIE_NAME)
        .and_then(|cookie| DeviceCookie::presented(cookie.value()))
}

/// The value of the one fingerprint cookie in the `Cookie` headers; none when
/// there are two (the request is not what a browser sends for this host).
fn fingerprint_cookie(headers: &HeaderMap) -> Option<Fingerprint> {
    let mut values = request_cookies(headers)
        .filter(|cookie| cookie.name() == FINGERPRINT_COOKIE)
        .map(|cookie| Fingerprint::presented(cookie.value()));
    match (values.next(), values.next()) {
        (Some(value), None) => Some(value),
        _ => None,
    }
}

/// Every cookie of the `Cookie` headers.
fn request_cookies(headers: &HeaderMap) -> impl Iterator<Item = cookie::Cookie<'_>> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
}

/// The address of the socket a request came in on (`ConnectInfo`, set by the
/// listener); unspecified when there is none.
pub(crate) fn socket_peer(extensions: &axum::http::Extensions) -> IpAddr {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |info| info.0.ip())
}

/// Whether `peer` is one of the `trusted` proxies, whose headers name the client
/// (and the request id).
pub(crate) fn is_trusted_proxy(peer: IpAddr, trusted: &[IpNet]) -> bool {
    trusted.iter().any(|net| net.contains(&peer.to_canonical()))
}

/// Walks `X-Forwarded-For` from the right while the hop that added an entry is a
/// trusted proxy; the first entry added by an untrusted hop is the client. With no
/// `X-Forwarded-For`, a trusted peer's `X-Real-IP` is used.
pub(crate) fn client_address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: IpAddr| is_trusted_proxy(ip, trusted);
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    if forwarded.is_empty() {
        return headers
            .get("x-real-ip")
            .and_then(|value| value.to_str().ok())
            .and_then(parse_hop)
            .unwrap_or(peer);
    }
    let mut client = peer;
    for entry in forwarded.iter().rev() {
        if !is_trusted(client) {
            break;
        }
        match parse_hop(entry) {
            Some(ip) => client = ip,
            None => break,
        }
    }
    client
}

/// An address as proxies write it: bare, with a port, or bracketed IPv6.
fn parse_hop(text: &str) -> Option<IpAddr> {
    let text = text.trim();
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn proxies() -> Vec<IpNet> {
        vec![
            "10.0.0.0/8".parse().unwrap(),
            "192.0.2.1/32".parse().unwrap(),
        ]
    }

    #[test]
    fn reads_exactly_one_fingerprint_cookie() {
        let cookie = |value: &str| format!("{FINGERPRINT_COOKIE}={value}");
        let one = headers(&[("cookie", &format!("a=1; {}; b=2", cookie("xyz")))]);
        assert_eq!(
            fingerprint_cookie(&one),
            Some(Fingerprint::presented("xyz"))
        );
        let split = headers(&[("cookie", "a=1"), ("cookie", &cookie("xyz"))]);
        assert_eq!(
            fingerprint_cookie(&split),
            Some(Fingerprint::presented("xyz"))
        );
        let two = headers(&[("cookie", &format!("{}; {}", cookie("x"), cookie("y")))]);
        assert_eq!(fingerprint_cookie(&two), None);
        let other_names = headers(&[("cookie", "latchkey-fingerprint=x; __Host-other=y")]);
        assert_eq!(fingerprint_cookie(&other_names), None);
        assert_eq!(fingerprint_cookie(&HeaderMap::new()), None);
    }

    #[test]
    fn an_untrusted_peer_cannot_name_another_client() {
        let spoof = headers(&[("x-forwarded-for", "1.2.3.4"), ("x-real-ip", "5.6.7.8")]);
        assert_eq!(
            client_address(ip("203.0.113.9"), &spoof, &proxies()),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_address(ip("203.0.113.9"), &spoof, &[]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let forwarded = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(
            client_address(ip("10.1.2.3"), &forwarded, &proxies()),
            ip("198.51.100.7")
        );
        let real_ip = headers(&[("x-real-ip", "198.51.100.8")]);
        assert_eq!(
            client_address(ip("192.0.2.1"), &real_ip, &proxies()),
            ip("198.51.100.8")
        );
    }

    #[test]
    fn entries_the_client_wrote_itself_are_skipped() {
        // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended its peer.
        let forwarded = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.7")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &forwarded, &proxies()),
            ip("198.51.100.7")
        );
        // Two trusted proxies in a row.
        let chained = headers(&[("x-forwarded-for", "1.1.1.1, 198.51.100.7, 10.0.0.2")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &chained, &proxies()),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn the_device_cookie_is_read_among_others() {
        let value = "A".repeat(43);
        let jar = headers(&[(
            "cookie",
            &format!("theme=dark; {DEVICE_COOKIE_NAME}={value}; other=1"),
        )]);
        assert_eq!(device_cookie(&jar), DeviceCookie::presented(&value));
        assert!(device_cookie(&jar).is_some());
        let split = headers(&[
            ("cookie", "a=b"),
            ("cookie", &format!("{DEVICE_COOKIE_NAME}={value}")),
        ]);
        assert!(device_cookie(&split).is_some());
        for garbage in [
            format!("{DEVICE_COOKIE_NAME}=short"),
            DEVICE_COOKIE_NAME.to_owned(),
            format!("latchkey-device={value}"),
            ";;;=".to_owned(),
        ] {
            assert!(
                device_cookie(&headers(&[("cookie", &garbage)])).is_none(),
                "{garbage}"
            );
        }
    }

    #[test]
    fn garbage_stops_at_the_last_trusted_hop() {
        let forwarded = headers(&[("x-forwarded-for", "1.1.1.1, not-an-address")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &forwarded, &proxies()),
            ip("10.0.0.1")
        );
        let with_port = headers(&[("x-forwarded-for", "[2001:db8::1]:4711")]);
        assert_eq!(
            client_address(ip("10.0.0.1"), &with_port, &proxies()),
            ip("2001:db8::1")
        );
    }
}
