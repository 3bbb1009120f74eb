//! What an attacker forges: JWTs with any header, payload and signature, keys of
//! their own, and the checks that the server refused them the FastAPI way.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};
use reqwest::blocking::Response;
use serde_json::{Value, json};

use super::{TestServer, challenge, jwt_segment};

/// The signing key of [`attack_server`]: known to the tests so that a token the
/// server issued can be re-signed after one claim or header is changed.
pub const SERVER_KEY: &str = "7f3c1a9e5b2d4f6081a3c5e7f9b1d3e5a7c9e1f3b5d7f9a1c3e5b7d9f1a3c5e7";

/// Settings that keep the login throttle out of tests that fail many logins.
pub const NO_THROTTLE: [(&str, &str); 2] = [
    ("LATCHKEY_THROTTLE_ACCOUNT_FAILURES", "1000000"),
    ("LATCHKEY_THROTTLE_ADDRESS_FAILURES", "1000000"),
];

/// The detail of every refused token.
pub const INVALID: &str = "Could not validate credentials";

/// The protected routes and the challenge each answers a bad token with.
pub const ROUTES: [(&str, &str); 3] = [
    ("/users/me/", "Bearer scope=\"me\""),
    ("/users/me/items/", "Bearer scope=\"items me\""),
    ("/status/", "Bearer"),
];

/// A server signing with [`SERVER_KEY`], without a practical login throttle, with
/// the FastAPI app's users (johndoe / secret active, alice / secretalice disabled).
pub fn attack_server() -> TestServer {
    let mut env = vec![("LATCHKEY_SECRET_KEY", SERVER_KEY)];
    env.extend(NO_THROTTLE);
    let server = TestServer::start_with(&env);
    server.import_fastapi_users();
    server
}

/// base64url without padding, as JWT segments are written.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A JSON value as a JWT segment.
pub fn segment(value: &Value) -> String {
    b64(value.to_string().as_bytes())
}

/// `header.payload.signature`, the signature made by `alg` with `key` over the
/// first two segments exactly as written.
pub fn sign_segments(header: &str, payload: &str, alg: Algorithm, key: &EncodingKey) -> String {
    let input = format!("{header}.{payload}");
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).expect("signing a forged token");
    format!("{input}.{signature}")
}

/// A token of any header and raw payload bytes, signed by `alg` with `key`.
pub fn forge_raw(header: &Value, payload: &[u8], alg: Algorithm, key: &EncodingKey) -> String {
    sign_segments(&segment(header), &b64(payload), alg, key)
}

/// A token of any header and claims, signed by `alg` with `key`.
pub fn forge(header: &Value, claims: &Value, alg: Algorithm, key: &EncodingKey) -> String {
    forge_raw(header, claims.to_string().as_bytes(), alg, key)
}

/// An HMAC key of these bytes.
pub fn hmac(key: &[u8]) -> EncodingKey {
    EncodingKey::from_secret(key)
}

/// The key of [`attack_server`].
pub fn server_key() -> EncodingKey {
    hmac(SERVER_KEY.as_bytes())
}

/// `token` (one the server issued) with its header and claims edited, signed again
/// with the server's own key: what only a holder of the key could make.
pub fn resigned(token: &str, edit: impl FnOnce(&mut Value, &mut Value)) -> String {
    let mut header = jwt_segment(token, 0);
    let mut claims = jwt_segment(token, 1);
    edit(&mut header, &mut claims);
    forge(&header, &claims, Algorithm::HS256, &server_key())
}

/// The claims of `token` with one claim set (or removed when `value` is `None`).
pub fn claims_with(token: &str, name: &str, value: Option<Value>) -> Value {
    let mut claims = jwt_segment(token, 1);
    let object = claims.as_object_mut().expect("claims object");
    match value {
        Some(value) => object.insert(name.to_owned(), value),
        None => object.remove(name),
    };
    claims
}

/// The attacker's RSA key (2048 bits, PKCS#1 DER), made for these tests only.
const ATTACKER_RSA_PKCS1: &str = concat!(
    "MIIEpQIBAAKCAQEA4lsyoN6eKTlroNthB+y4SU8OLqbf01YraWjP09x22s3fJQRDFu9CEhfy6ZVn",
    "IpbtrdLZg/7i2LS9lJmQIAQtOmPeyQT+GBMfFpPga6vXuUQo9t5K9WTZHFIWRYKWu9sGSFFVXcZ0",
    "F4BENE5WswE6nl1kew22cPh+NTnyHvifd19KhtJ0WMZsJhIGG2FdvXO2HWqbqhyphSkDlTcEs8Wn",
    "cwRgWJr2Ml/hq9xyCB/F9nkgPSkRPZEsi10yLEB0Xd42oDnpTnYE4hOOuoi9P+VD2hgDJwhfe25E",
    "z4kCZDoj4sv0SlzLBzDHzibquwslcvkciRPVU/HmrfIvEodo3ALZrwIDAQABAoIBADJGRyxrxX0q",
    "f7kugJKeBSBjKqc58SSjUukKmn5XzR4z84fpNm11npseLpmq0UlhdFDTL/SdPA0dt621nck+pDz/",
    "yY+kSDtYo+MD3SiM9lDzzpVmMgfm6kHcCY5OvuPidbbCOc+mMEq39m4XqDIB598cpyCdnxPgXUe9",
    "IwW1+tUsLeyE3mUFeFlVT3x+Vuy2QTppgbxKQPeKNWl6RqPvHptNZ3lbYG+bCwXnYTHTaPbc7jvB",
    "P7ce5JFR4+IUk7HHfBNYOuxp9QagjClFSD3IYEbRdwoAVSMEN4XEyRxtbvQh/Ntb9vyliNBMnqM4",
    "7bKSeXGJi2NdJWB15uDlSPXxTYECgYEA/ndV56Opkz2HqwkYaMU6NFbjFFpgPkxwVGAQ9XcSoGfz",
    "M2SFDO1XMQOx+8CMmzQi5es+LuDp+Hhe426cFJA0u3vJb4GwTn4aDhEE4rnecsz6yaikGgltoJKh",
    "FXdoAxgZFsUQYZPB1GtfAv1gY+B2066NTb+OqdSkQBI9e7qkGTECgYEA47h8bZR5Hv875va/FUbI",
    "og3QsF0aPgalvmiUS1i81OmCq4h4ylWBONX9vGV2amKO+uxpu5fXU95CPlmZBE7oVyTtKidLxbdh",
    "f+08Wjkx1X9UjnwUysSjhnIDl6QJAt2tJk7nfX1X68GECYLc5hebMBcvI88MoAM+v/VzwFTlaN8C",
    "gYEA2q2zJV2AXQiDjnhCgcb8Pf5tJxCDpQYLgncMG+Y4G6E5XvEDZhiQ1Y5XZgIS0036r5t51M90",
    "QhMveEOV3hYPOw8mDK1m1g2IVo5JpI4WnJGK88H5RGbVzygzRj9XI1GSPf8cFL7l06ZyAB++thYw",
    "B7n5tNbpwwj6HhWOwMWkQAECgYEA2DArILUWEBFrwyd53S8oBoFrICQjZ8NT0uLh9m42R0Ow5DxZ",
    "wG1Qkq7FhvgkZXdQGnQbJRdQO7UD2sGg/XAUL7dE2QIZc4lXLOYCp/0ojHGnyuWNr7rjLB5Nvsbi",
    "LzBY08eRCZfXwmAjhAwSvvamRA+elzZX3Al4pzDVRUDT0q0CgYEAigZ3IDsR842ZT1ViD3kE106T",
    "SEtoA5LmrZpI8rqhx2SEz1pMJxVfrUHmKwCE7+Me/6A1/3/WOZMx95+iH0ncIzfhnMRd1P3lhVIN",
    "5O+QZc9A+ro2esxvI/JZR20BkRe+jXdiQyU15g73aF7fziH1AIXGesBPi3z+0nPlO3wAK6Q=",
);

/// The public half of [`ATTACKER_RSA_PKCS1`], as a PEM file holds it: what a
/// key-confusion attack feeds to HMAC as if it were a shared secret.
pub const ATTACKER_RSA_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA4lsyoN6eKTlroNthB+y4
SU8OLqbf01YraWjP09x22s3fJQRDFu9CEhfy6ZVnIpbtrdLZg/7i2LS9lJmQIAQt
OmPeyQT+GBMfFpPga6vXuUQo9t5K9WTZHFIWRYKWu9sGSFFVXcZ0F4BENE5WswE6
nl1kew22cPh+NTnyHvifd19KhtJ0WMZsJhIGG2FdvXO2HWqbqhyphSkDlTcEs8Wn
cwRgWJr2Ml/hq9xyCB/F9nkgPSkRPZEsi10yLEB0Xd42oDnpTnYE4hOOuoi9P+VD
2hgDJwhfe25Ez4kCZDoj4sv0SlzLBzDHzibquwslcvkciRPVU/HmrfIvEodo3ALZ
rwIDAQAB
-----END PUBLIC KEY-----
";

/// The attacker's P-256 key (PKCS#8 DER).
const ATTACKER_EC_PKCS8: &str = concat!(
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgcPt5xD9bZLqoQ4/vtKe5zMEVBLgY",
    "wIxTAey0gDepZ2ihRANCAASQTZPot5kjDwi1+04jzjRCPyFktgVGkVjbjiD2UDQCnIhi9OFA2rZx",
    "fh3ETCBI03jg5h6EnPbZv2nFXe1ulLr6",
);

/// The attacker's Ed25519 key (PKCS#8 DER).
const ATTACKER_ED_PKCS8: &str = "MC4CAQAwBQYDK2VwBCIEIGrfrNw2CROoYo+hoJXOC1tOlXsRquAOStML7IQpglsA";

fn der(text: &str) -> Vec<u8> {
    STANDARD.decode(text).expect("base64 DER key")
}

/// The attacker's RSA signing key.
pub fn attacker_rsa() -> EncodingKey {
    EncodingKey::from_rsa_der(&der(ATTACKER_RSA_PKCS1))
}

/// The attacker's P-256 signing key.
pub fn attacker_ec() -> EncodingKey {
    EncodingKey::from_ec_der(&der(ATTACKER_EC_PKCS8))
}

/// The attacker's Ed25519 signing key.
pub fn attacker_ed() -> EncodingKey {
    EncodingKey::from_ed_der(&der(ATTACKER_ED_PKCS8))
}

/// The public JWK of an attacker's key, to embed in a token header.
pub fn public_jwk(key: &EncodingKey, alg: Algorithm) -> Value {
    let jwk = Jwk::from_encoding_key(key, alg).expect("JWK of the attacker's key");
    serde_json::to_value(jwk).expect("JWK as JSON")
}

/// Asserts the answer is `status` with `{"detail": detail}` and `expected_challenge`,
/// naming `case` in every message.
#[track_caller]
pub fn assert_answer(
    response: Response,
    status: u16,
    detail: &str,
    expected_challenge: Option<&str>,
    case: &str,
) {
    let actual = response.status();
    let headers = response.headers().clone();
    let text = response.text().expect("response body");
    assert_eq!(actual.as_u16(), status, "{case}: status (body {text})");
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
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
        let response = server.get(path, super::Auth::Bearer(token));
        assert_answer(
            response,
            401,
            INVALID,
            Some(expected),
            &format!("{case} on {path}"),
        );
    }
}

/// Asserts the server still answers: `token` still opens `/users/me/` as johndoe.
#[track_caller]
pub fn assert_token_works(server: &TestServer, token: &str, case: &str) {
    let response = server.get("/users/me/", super::Auth::Bearer(token));
    let status = response.status();
    let body: Value = response.json().unwrap_or(Value::Null);
    assert_eq!(status.as_u16(), 200, "{case}: {body}");
    assert_eq!(body["username"], "johndoe", "{case}");
}

/// What came back on a raw connection: the status code and body, or `None` when
/// the server closed the connection without answering.
#[derive(Debug)]
pub struct RawAnswer {
    pub status: Option<u16>,
    pub head: String,
    pub body: String,
}

/// `POST path` with a body of `total` bytes (`prefix`, then `x`s), sent over a raw
/// connection as a big upload is sent: the answer is read on another thread while
/// the body is still being written, so an early answer is seen even when the server
/// stops reading. `chunked` sends the body with `Transfer-Encoding: chunked`
/// instead of a (truthful) `Content-Length`.
pub fn post_big_body(
    server: &TestServer,
    path: &str,
    headers: &[(&str, &str)],
    prefix: &[u8],
    total: usize,
    chunked: bool,
) -> RawAnswer {
    use std::io::{Read as _, Write as _};
    use std::net::TcpStream;
    use std::time::Duration;

    let mut stream = TcpStream::connect(server.addr()).expect("connect to the server");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(Duration::from_secs(30)))
        .expect("write timeout");
    let mut reader = stream.try_clone().expect("clone the connection");
    let answer = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        // A reset after the answer is fine: what was read is kept.
        let _ = reader.read_to_end(&mut bytes);
        bytes
    });
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        server.addr()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if chunked {
        head.push_str("Transfer-Encoding: chunked\r\n\r\n");
    } else {
        head.push_str(&format!("Content-Length: {total}\r\n\r\n"));
    }
    let mut body = prefix.to_vec();
    body.resize(total.max(prefix.len()), b'x');
    let written = stream.write_all(head.as_bytes()).is_ok()
        && body.chunks(64 * 1024).all(|chunk| {
            if chunked {
                let size = format!("{:x}\r\n", chunk.len());
                stream.write_all(size.as_bytes()).is_ok()
                    && stream.write_all(chunk).is_ok()
                    && stream.write_all(b"\r\n").is_ok()
            } else {
                stream.write_all(chunk).is_ok()
            }
        });
    if written && chunked {
        let _ = stream.write_all(b"0\r\n\r\n");
    }
    let bytes = answer.join().expect("the reading thread");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok());
    RawAnswer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}
