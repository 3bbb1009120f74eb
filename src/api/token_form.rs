//! The OAuth2 request form of `POST /token`, read as FastAPI's
//! `OAuth2PasswordRequestForm` reads it: URL-encoded or multipart, empty fields count
//! as missing, the last of repeated fields wins, and every problem is listed in one
//! `422`. Besides the password grant, it takes the refresh token grant.

use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartError};
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;

use super::error::{ApiError, FieldError};

/// The grant types `/token` takes, as a pydantic pattern.
const GRANT_TYPE_PATTERN: &str = "^(password|refresh_token)$";

/// What the client offers for a token.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Grant {
    /// `grant_type=password` (or none): a username and a password.
    Password { username: String, password: String },
    /// `grant_type=refresh_token`: a refresh token.
    RefreshToken(String),
}

impl std::fmt::Debug for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Grant::Password { username, .. } => f
                .debug_struct("Password")
                .field("username", username)
                .finish_non_exhaustive(),
            Grant::RefreshToken(_) => f.write_str("RefreshToken([redacted])"),
        }
    }
}

/// The fields of the form.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct TokenForm {
    /// The grant and its credentials.
    pub grant: Grant,
    /// Space-separated scope names; empty when none are asked.
    pub scope: String,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for TokenForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenForm")
            .field("grant", &self.grant)
            .field("scope", &self.scope)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl TokenForm {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub(crate) fn parse(body: &[u8]) -> Result<Self, ApiError> {
        Self::from_fields(&form_fields(body)?)
    }

    /// Reads a `multipart/form-data` body, which FastAPI's form accepts too.
    async fn parse_multipart(mut multipart: Multipart) -> Result<Self, ApiError> {
        let mut pairs = Vec::new();
        while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or_default().to_owned();
            let value = field.text().await.map_err(multipart_error)?;
            pairs.push((name, value));
        }
        Self::from_fields(&pairs)
    }

    /// The form from its fields, in the order sent.
    fn from_fields(pairs: &[(String, String)]) -> Result<Self, ApiError> {
        let field = |name: &str| {
            pairs
                .iter()
                .rev()
                .find(|(key, _)| key == name)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let mut errors = Vec::new();
        let grant_type = field("grant_type");
        let grant = match grant_type.as_deref() {
            Some("refresh_token") => match field("refresh_token") {
                Some(token) => Some(Grant::RefreshToken(token)),
                None => {
                    errors.push(FieldError::missing("refresh_token"));
                    None
                }
            },
            other => {
                if let Some(other) = other.filter(|g| *g != "password") {
                    let mut error = FieldError::invalid(
                        "string_pattern_mismatch",
                        "grant_type",
                        format!("String should match pattern '{GRANT_TYPE_PATTERN}'"),
                        other,
                    );
                    error.ctx = Some(serde_json::json!({ "pattern": GRANT_TYPE_PATTERN }));
                    errors.push(error);
                }
                let username = field("username");
                let password = field("password");
                if username.is_none() {
                    errors.push(FieldError::missing("username"));
                }
                if password.is_none() {
                    errors.push(FieldError::missing("password"));
                }
                username
                    .zip(password)
                    .map(|(username, password)| Grant::Password { username, password })
            }
        };
        match grant {
            Some(grant) if errors.is_empty() => Ok(Self {
                grant,
                scope: field("scope").unwrap_or_default(),
                client_id: field("client_id"),
                client_secret: field("client_secret"),
            }),
            _ => Err(ApiError::Validation(errors)),
        }
    }
}

impl<S: Send + Sync> FromRequest<S> for TokenForm {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let multipart = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("multipart/form-data"));
        if multipart {
            let multipart = Multipart::from_request(request, state)
                .await
                .map_err(|e| ApiError::BadRequest(e.body_text()))?;
            return Self::parse_multipart(multipart).await;
        }
        let body = Bytes::from_request(request, state).await?;
        Self::parse(&body)
    }
}

/// The fields of an `application/x-www-form-urlencoded` body, in order.
pub(crate) fn form_fields(body: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| ApiError::BadRequest(format!("Malformed form body: {e}")))
}

fn multipart_error(error: MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge
    } else {
        ApiError::BadRequest(format!("Malformed multipart body: {}", error.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(body: &str) -> Vec<(String, &'static str)> {
        match TokenForm::parse(body.as_bytes()) {
            Err(ApiError::Validation(errors)) => errors
                .into_iter()
                .map(|e| (e.loc[1].clone(), e.kind))
                .collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn reads_fields_and_lets_the_last_repeat_win() {
        let form =
            TokenForm::parse(b"username=a&username=johndoe&password=s%20x&scope=me+items").unwrap();
        assert_eq!(
            form.grant,
            Grant::Password {
                username: "johndoe".into(),
                password: "s x".into()
            }
        );
        assert_eq!(form.scope, "me items");
    }

    #[test]
    fn reads_the_refresh_grant() {
        let form = TokenForm::parse(b"grant_type=refresh_token&refresh_token=abc").unwrap();
        assert_eq!(form.grant, Grant::RefreshToken("abc".into()));
        assert_eq!(
            errors("grant_type=refresh_token&username=a&password=b"),
            vec![("refresh_token".into(), "missing")]
        );
        assert!(!format!("{form:?}").contains("abc"));
    }

    #[test]
    fn lists_every_missing_or_empty_field_in_form_order() {
        assert_eq!(
            errors(""),
            vec![
                ("username".into(), "missing"),
                ("password".into(), "missing")
            ]
        );
        assert_eq!(
            errors("username=&password=x"),
            vec![("username".into(), "missing")]
        );
        assert_eq!(
            errors("grant_type=client_credentials&username=x"),
            vec![
                ("grant_type".into(), "string_pattern_mismatch"),
                ("password".into(), "missing")
            ]
        );
    }

    #[test]
    fn a_json_body_is_a_form_with_no_fields() {
        assert_eq!(
            errors(r#"{"username":"johndoe","password":"secret"}"#).len(),
            2
        );
    }

    #[test]
    fn empty_grant_type_is_allowed() {
        assert!(TokenForm::parse(b"grant_type=&username=a&password=b").is_ok());
    }
}
