//! What a request presents in its `Authorization` header.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// The credentials of one request.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Credentials {
    /// No `Authorization` header, or a scheme latchkey does not take.
    Missing,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: Basic <base64(username:password)>`.
    Basic {
        /// The username.
        username: String,
        /// The password.
        password: String,
    },
    /// A Basic header that does not decode to `username:password`.
    MalformedBasic,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Missing => f.write_str("Missing"),
            Credentials::Bearer(_) => f.write_str("Bearer([redacted])"),
            Credentials::Basic { username, .. } => write!(f, "Basic({username:?}, [redacted])"),
            Credentials::MalformedBasic => f.write_str("MalformedBasic"),
        }
    }
}

impl Credentials {
    /// Reads the `Authorization` header value, if any. Schemes are case-insensitive,
    /// as in FastAPI.
    pub(crate) fn from_header(value: Option<&str>) -> Self {
        let Some(value) = value else {
            return Credentials::Missing;
        };
        let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
            Credentials::Bearer(rest.to_owned())
        } else if scheme.eq_ignore_ascii_case("basic") && !rest.is_empty() {
            decode_basic(rest).unwrap_or(Credentials::MalformedBasic)
        } else {
            Credentials::Missing
        }
    }
}

fn decode_basic(encoded: &str) -> Option<Credentials> {
    let bytes = STANDARD.decode(encoded).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (username, password) = text.split_once(':')?;
    Some(Credentials::Basic {
        username: username.to_owned(),
        password: password.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_bearer_and_basic_in_any_case() {
        assert_eq!(
            Credentials::from_header(Some("bearer abc")),
            Credentials::Bearer("abc".into())
        );
        assert_eq!(
            Credentials::from_header(Some("Basic am9objpzZTpjcmV0")),
            Credentials::Basic {
                username: "john".into(),
                password: "se:cret".into()
            }
        );
    }

    #[test]
    fn other_schemes_and_empty_values_are_missing() {
        for value in ["", "Bearer", "Bearer   ", "Token abc", "Digest x=1"] {
            assert_eq!(
                Credentials::from_header(Some(value)),
                Credentials::Missing,
                "{value}"
            );
        }
        assert_eq!(Credentials::from_header(None), Credentials::Missing);
    }

    #[test]
    fn undecodable_basic_is_malformed() {
        assert_eq!(
            Credentials::from_header(Some("Basic !!!")),
            Credentials::MalformedBasic
        );
        assert_eq!(
            Credentials::from_header(Some("Basic bm9jb2xvbg==")),
            Credentials::MalformedBasic
        );
    }

    #[test]
    fn debug_output_hides_secrets() {
        let basic = Credentials::from_header(Some("Basic am9objpzZWNyZXQ="));
        assert_eq!(format!("{basic:?}"), "Basic(\"john\", [redacted])");
        assert_eq!(
            format!("{:?}", Credentials::Bearer("t".into())),
            "Bearer([redacted])"
        );
    }
}
