//! Every request gets an id, answered as `X-Request-Id` and written in its
//! access-log line, so one request can be followed from the proxy's log to
//! latchkey's. A trusted proxy's `X-Request-Id` is kept (the proxy's log names
//! the same id); from anyone else, and whenever it is not a plain token of
//! visible ASCII, it is replaced by a new random UUID, never echoed.

use std::sync::Arc;

use axum::extract::Request;
use axum::http::HeaderValue;
use ipnet::IpNet;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};

use super::HttpService;
use crate::caller::{is_trusted_proxy, socket_peer};

/// The request-id header.
const X_REQUEST_ID: &str = "x-request-id";

/// The longest request id kept.
const MAX_REQUEST_ID_LEN: usize = 128;

/// Gives every request through `inner` an id and every response its
/// `X-Request-Id`. Wrap it around every layer that should see the id (the access
/// log).
pub(super) fn wrap(inner: impl HttpService, trusted_proxies: &[IpNet]) -> impl HttpService {
    let trusted: Arc<[IpNet]> = trusted_proxies.into();
    ServiceBuilder::new()
        .map_request(move |request| keep_only_trusted_id(&trusted, request))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
        .service(inner)
}

/// Removes the request's `X-Request-Id` unless a trusted proxy sent exactly one
/// that is fit to log and answer: the next layer then makes a new one.
fn keep_only_trusted_id(trusted: &[IpNet], mut request: Request) -> Request {
    let mut ids = request.headers().get_all(X_REQUEST_ID).iter();
    let keep = match (ids.next(), ids.next()) {
        (Some(id), None) => {
            is_well_formed(id) && is_trusted_proxy(socket_peer(request.extensions()), trusted)
        }
        _ => false,
    };
    if !keep {
        request.headers_mut().remove(X_REQUEST_ID);
    }
    request
}

/// 1 to [`MAX_REQUEST_ID_LEN`] characters of visible ASCII (no space, no
/// control character): what a log line can hold as one field.
fn is_well_formed(id: &HeaderValue) -> bool {
    let bytes = id.as_bytes();
    (1..=MAX_REQUEST_ID_LEN).contains(&bytes.len()) && bytes.iter().all(u8::is_ascii_graphic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_visible_ascii_ids_are_well_formed() {
        for good in ["a", "0f3c2e8e9b1d4a7c", "req-1:2/3+4=", &"x".repeat(128)] {
            assert!(
                is_well_formed(&HeaderValue::from_str(good).unwrap()),
                "{good}"
            );
        }
        for bad in [
            &b""[..],
            b"two words",
            b"tab\there",
            "é".as_bytes(),
            &[b'x'; 129][..],
        ] {
            let value = HeaderValue::from_bytes(bad).unwrap();
            assert!(!is_well_formed(&value), "{bad:?}");
        }
    }
}
