//! Where the app sends people, and why.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Where a signed-in user lands when no other page was asked for.
pub(crate) const DEFAULT_LANDING: &str = "/profile";

/// Why the login page is shown, carried in its `reason` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginReason {
    /// A page needs a session and there is none.
    SignIn,
    /// The stored session was refused (expired, forged, or revoked).
    Expired,
    /// The user signed out.
    SignedOut,
    /// An account was just created.
    Registered,
}

impl LoginReason {
    /// The value of the `reason` parameter.
    pub(crate) fn as_param(self) -> &'static str {
        match self {
            LoginReason::SignIn => "signin",
            LoginReason::Expired => "expired",
            LoginReason::SignedOut => "signedout",
            LoginReason::Registered => "registered",
        }
    }

    /// The reason named by a `reason` parameter.
    pub(crate) fn from_param(param: &str) -> Option<Self> {
        [
            LoginReason::SignIn,
            LoginReason::Expired,
            LoginReason::SignedOut,
            LoginReason::Registered,
        ]
        .into_iter()
        .find(|r| r.as_param() == param)
    }

    /// What the login page tells the user.
    pub(crate) fn message(self) -> &'static str {
        match self {
            LoginReason::SignIn => "Please sign in to continue.",
            LoginReason::Expired => {
                "Your session has expired or is no longer valid. Please sign in again."
            }
            LoginReason::SignedOut => "You have been signed out.",
            LoginReason::Registered => "Your account was created. Sign in with your new password.",
        }
    }
}

/// The login page's URL, asking to come back to `next` afterwards.
pub(crate) fn login_url(reason: LoginReason, next: &str) -> String {
    format!(
        "/login?next={}&reason={}",
        encode_component(next),
        reason.as_param()
    )
}

/// The login page's URL after sign-up, with the new username filled in.
pub(crate) fn registered_login_url(username: &str) -> String {
    format!(
        "/login?reason={}&username={}",
        LoginReason::Registered.as_param(),
        encode_component(username)
    )
}

/// `next` if it is a path on this site, else the default landing page. Refuses
/// other origins (`//host`, `/\host`, schemes) so a link cannot send a user who
/// just signed in to someone else's site.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.chars().any(|c| c.is_control() || c == '\\') =>
        {
            path.to_owned()
        }
        _ => DEFAULT_LANDING.to_owned(),
    }
}

/// Query-value encoding that leaves path characters readable.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn encode_component(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_same_origin_paths() {
        assert_eq!(safe_next(Some("/profile?tab=items")), "/profile?tab=items");
        assert_eq!(safe_next(Some("/")), "/");
    }

    #[test]
    fn refuses_other_origins_and_odd_values() {
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "",
            "profile",
            "/a\\b",
            "/a\nb",
        ] {
            assert_eq!(safe_next(Some(bad)), DEFAULT_LANDING, "{bad:?}");
        }
        assert_eq!(safe_next(None), DEFAULT_LANDING);
    }

    #[test]
    fn login_urls_carry_their_parameters_encoded() {
        assert_eq!(
            login_url(LoginReason::Expired, "/profile"),
            "/login?next=/profile&reason=expired"
        );
        assert_eq!(
            login_url(LoginReason::SignIn, "/a b&c"),
            "/login?next=/a%20b%26c&reason=signin"
        );
        assert_eq!(
            registered_login_url("tom&jerry+co"),
            "/login?reason=registered&username=tom%26jerry%2Bco"
        );
        assert_eq!(
            LoginReason::from_param("registered"),
            Some(LoginReason::Registered)
        );
    }
}
