//! What an attacker forges: JWTs with any header, payload and signature, keys of
//! their own, a public key passed off as an HMAC secret, and tokens the server
//! issued, edited and signed again with its own key.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::Value;

use super::http::assert_token_accepted_with_cookie;
use super::jwt::jwt_segment;
use super::server::TestServer;

/// The signing key of [`attack_server`]: known to the tests so that a token the
/// server issued can be re-signed after one claim or header is changed.
pub const SERVER_KEY: &str = "7f3c1a9e5b2d4f6081a3c5e7f9b1d3e5a7c9e1f3b5d7f9a1c3e5b7d9f1a3c5e7";

/// Settings that keep the login throttle out of tests that fail many logins.
pub const NO_THROTTLE: [(&str, &str); 2] = [
    ("LATCHKEY_THROTTLE_ACCOUNT_FAILURES", "1000000"),
    ("LATCHKEY_THROTTLE_ADDRESS_FAILURES", "1000000"),
];

/// A server signing with [`SERVER_KEY`], without a practical login throttle, with
/// the FastAPI app's users (johndoe / secret active, alice / secretalice disabled).
pub fn attack_server() -> TestServer {
    let mut env = vec![("LATCHKEY_SECRET_KEY", SERVER_KEY)];
    env.extend(NO_THROTTLE);
    TestServer::start_with_fastapi_users(&env)
}

/// base64url without padding, as JWT segments are written.
pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A JSON value as a JWT segment.
pub fn segment(value: &Value) -> String {
    b64(value.to_string().as_bytes())
}

/// The three segments of a compact JWT.
pub fn segments(token: &str) -> [&str; 3] {
    let parts: Vec<&str> = token.split('.').collect();
    parts.try_into().expect("a JWT of three segments")
}

/// `header.payload.signature`, the signature made by `alg` with `key` over the
/// first two segments exactly as written.
pub fn sign_segments(header: &str, payload: &str, alg: Algorithm, key: &EncodingKey) -> String {
    let input = format!("{header}.{payload}");
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).expect("signing a forged token");
    format!("{input}.{signature}")
}

/// A token of any header and claims, signed by `alg` with `key`.
pub fn forge(header: &Value, claims: &Value, alg: Algorithm, key: &EncodingKey) -> String {
    sign_segments(&segment(header), &segment(claims), alg, key)
}

/// An HMAC key of these bytes.
pub fn hmac(key: &[u8]) -> EncodingKey {
    EncodingKey::from_secret(key)
}

/// `value` with `name` set to `new`, or removed when `new` is `None`.
pub fn with_member(value: &Value, name: &str, new: Option<Value>) -> Value {
    let mut value = value.clone();
    let object = value.as_object_mut().expect("a JSON object");
    match new {
        Some(new) => object.insert(name.to_owned(), new),
        None => object.remove(name),
    };
    value
}

/// A token the server issued, and the HMAC key it signs with. Tokens that differ
/// from it in exactly one thing are made from it and signed again with that key,
/// as only a holder of the key could.
///
/// It is made only once the unchanged token, signed again in each way the
/// methods sign, is seen accepted: an edited token that is refused is then
/// refused for the one thing edited, never for how it was rebuilt.
pub struct GenuineToken {
    token: String,
    key: Vec<u8>,
}

impl GenuineToken {
    /// `token`, issued by `server`, which signs with the HMAC key `key`.
    #[track_caller]
    pub fn new(server: &TestServer, token: String, key: &[u8]) -> Self {
        Self::sent_with_cookie(server, token, key, None)
    }

    /// [`Self::new`] for a token that is sent with this `Cookie` header (a token
    /// bound to a browser's fingerprint): the controls send it too.
    #[track_caller]
    pub fn sent_with_cookie(
        server: &TestServer,
        token: String,
        key: &[u8],
        cookie: Option<&str>,
    ) -> Self {
        let genuine = Self {
            token,
            key: key.to_vec(),
        };
        let exp = genuine.claims()["exp"].to_string();
        let claims = genuine.claims().to_string();
        for (way, control) in [
            ("as JSON values", genuine.resigned(|_, _| {})),
            (
                "as raw payload bytes",
                genuine.with_payload(claims.as_bytes()),
            ),
            (
                "with exp as raw text",
                genuine.with_raw_claim("exp", Some(&exp)),
            ),
        ] {
            assert_token_accepted_with_cookie(
                server,
                &control,
                cookie,
                &format!("the issued token signed again unchanged, {way}"),
            );
        }
        genuine
    }

    /// A token [`attack_server`] issued to johndoe with `scope`.
    #[track_caller]
    pub fn of_attack_server(server: &TestServer, scope: Option<&str>) -> Self {
        Self::new(
            server,
            server.login("johndoe", "secret", scope),
            SERVER_KEY.as_bytes(),
        )
    }

    /// The token as issued.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Its header.
    pub fn header(&self) -> Value {
        jwt_segment(&self.token, 0)
    }

    /// Its claims.
    pub fn claims(&self) -> Value {
        jwt_segment(&self.token, 1)
    }

    /// The server's key, as HS256 signs with it.
    pub fn key(&self) -> EncodingKey {
        hmac(&self.key)
    }

    /// `header` and `claims`, signed with the server's key.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        forge(header, claims, Algorithm::HS256, &self.key())
    }

    /// The token with its header and claims edited, signed with the server's key.
    pub fn resigned(&self, edit: impl FnOnce(&mut Value, &mut Value)) -> String {
        let (mut header, mut claims) = (self.header(), self.claims());
        edit(&mut header, &mut claims);
        self.sign(&header, &claims)
    }

    /// The token with claim `name` set (or removed when `None`), re-signed.
    pub fn with_claim(&self, name: &str, value: Option<Value>) -> String {
        self.sign(&self.header(), &with_member(&self.claims(), name, value))
    }

    /// The token with header parameter `name` set (or removed when `None`),
    /// re-signed.
    pub fn with_header(&self, name: &str, value: Option<Value>) -> String {
        self.sign(&with_member(&self.header(), name, value), &self.claims())
    }

    /// The token with its payload replaced by `payload`, re-signed.
    pub fn with_payload(&self, payload: &[u8]) -> String {
        let [header, _, _] = segments(&self.token);
        sign_segments(header, &b64(payload), Algorithm::HS256, &self.key())
    }

    /// The token with claim `name` written as `raw` JSON text (numbers out of any
    /// Rust type's range, duplicate keys), or removed when `None`, re-signed.
    pub fn with_raw_claim(&self, name: &str, raw: Option<&str>) -> String {
        let claims = with_member(&self.claims(), name, None).to_string();
        let payload = match raw {
            None => claims,
            Some(raw) => {
                let body = claims.strip_suffix('}').expect("a JSON object");
                let separator = if body.len() > 1 { "," } else { "" };
                format!("{body}{separator}\"{name}\":{raw}}}")
            }
        };
        self.with_payload(payload.as_bytes())
    }
}

/// The forms of a published public key (one JWK of a JWKS) that a key-confusion
/// attack feeds to HMAC as if it were the shared secret, each named.
pub fn public_key_as_secrets(jwk: &Value) -> Vec<(&'static str, Vec<u8>)> {
    let text = |name: &str| jwk[name].as_str().expect("a base64url member").to_owned();
    let decoded = |name: &str| URL_SAFE_NO_PAD.decode(text(name)).expect("base64url");
    let mut forms = vec![("the JWK as JSON text", jwk.to_string().into_bytes())];
    let spki = match jwk["kty"].as_str() {
        Some("OKP") => {
            forms.push(("x as text", text("x").into_bytes()));
            forms.push(("x decoded", decoded("x")));
            // SubjectPublicKeyInfo of Ed25519 (RFC 8410): a fixed prefix, then x.
            let prefix = [
                0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
            ];
            [prefix.as_slice(), &decoded("x")].concat()
        }
        Some("RSA") => {
            use rsa::pkcs1::EncodeRsaPublicKey as _;
            use rsa::pkcs8::EncodePublicKey as _;
            forms.push(("n as text", text("n").into_bytes()));
            forms.push(("n decoded", decoded("n")));
            forms.push(("n and e decoded", [decoded("n"), decoded("e")].concat()));
            let key = rsa::RsaPublicKey::new(
                rsa::BigUint::from_bytes_be(&decoded("n")),
                rsa::BigUint::from_bytes_be(&decoded("e")),
            )
            .expect("an RSA public key");
            let pkcs1 = key.to_pkcs1_der().expect("PKCS#1 DER").as_bytes().to_vec();
            forms.push(("the PKCS#1 PEM", pem("RSA PUBLIC KEY", &pkcs1).into_bytes()));
            forms.push(("the PKCS#1 DER", pkcs1));
            key.to_public_key_der()
                .expect("SubjectPublicKeyInfo DER")
                .as_bytes()
                .to_vec()
        }
        other => panic!("unexpected kty {other:?}"),
    };
    let pem = pem("PUBLIC KEY", &spki);
    forms.push((
        "the PEM without its final newline",
        pem.trim_end().as_bytes().to_vec(),
    ));
    forms.push(("the PEM", pem.into_bytes()));
    forms.push(("the DER", spki));
    forms
}

/// Asserts the signature of `token` (EdDSA or RS256) verifies with the public key
/// whose SubjectPublicKeyInfo DER is `der`: what [`public_key_as_secrets`] makes
/// is the key that signed it.
#[track_caller]
pub fn assert_verifies_with_public_key_der(token: &str, der: &[u8]) {
    use sha2::Digest as _;
    let [header, payload, signature] = segments(token);
    let message = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    match jwt_segment(token, 0)["alg"].as_str() {
        Some("EdDSA") => {
            use ed25519_dalek::pkcs8::DecodePublicKey as _;
            let key = ed25519_dalek::VerifyingKey::from_public_key_der(der).expect("Ed25519 DER");
            let signature =
                ed25519_dalek::Signature::from_slice(&signature).expect("an Ed25519 signature");
            key.verify_strict(message.as_bytes(), &signature)
                .expect("the token verifies with the DER key");
        }
        Some("RS256") => {
            use rsa::pkcs8::DecodePublicKey as _;
            let key = rsa::RsaPublicKey::from_public_key_der(der).expect("RSA DER");
            let hashed = sha2::Sha256::digest(message.as_bytes());
            key.verify(
                rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                &hashed,
                &signature,
            )
            .expect("the token verifies with the DER key");
        }
        other => panic!("not a public-key algorithm: {other:?}"),
    }
}

/// `der` as a PEM block labelled `label`, lines of 64 characters.
fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut text = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        text.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        text.push('\n');
    }
    text.push_str(&format!("-----END {label}-----\n"));
    text
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
