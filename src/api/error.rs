//! Every error the JSON API answers with, and the one place they become HTTP
//! responses: FastAPI's `{"detail": ...}` bodies and `WWW-Authenticate` headers.

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::AuthError;
use crate::auth::registration::RegistrationError;
use crate::store::StoreError;

/// One entry of a `422` answer, in FastAPI's (pydantic's) shape.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// Machine-readable kind, e.g. `missing`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Where the problem is, e.g. `["body", "username"]`.
    pub loc: Vec<String>,
    /// Human-readable message.
    pub msg: String,
    /// The value at fault (`null` when missing).
    #[schema(value_type = Object)]
    pub input: Value,
    /// Extra facts about the rule that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub ctx: Option<Value>,
}

impl FieldError {
    /// A required body field that is absent or empty.
    pub fn missing(field: &str) -> Self {
        Self {
            kind: "missing",
            loc: body_loc(field),
            msg: "Field required".into(),
            input: Value::Null,
            ctx: None,
        }
    }

    /// A body field whose value breaks a rule.
    pub fn invalid(kind: &'static str, field: &str, msg: impl Into<String>, input: &str) -> Self {
        Self {
            kind,
            loc: body_loc(field),
            msg: msg.into(),
            input: json!(input),
            ctx: None,
        }
    }
}

fn body_loc(field: &str) -> Vec<String> {
    vec!["body".into(), field.into()]
}

/// The body of a `422` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ValidationErrorBody {
    pub detail: Vec<FieldError>,
}

/// The body of every other error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub detail: String,
}

/// An error of the JSON API.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Refused by the auth core.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The request body breaks the route's schema (422).
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// The thing named does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The thing to create exists already (409).
    #[error("{0}")]
    Conflict(String),
    /// The server's configuration does not allow this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The request body is over the limit (413).
    #[error("Request body too large")]
    PayloadTooLarge,
    /// The request was not received and answered in time (408).
    #[error("Request Timeout")]
    RequestTimeout,
    /// The request cannot be read (400).
    #[error("{0}")]
    BadRequest(String),
    /// Something on the server failed (500); the cause is logged, never sent.
    #[error("Internal Server Error")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(what) => {
                ApiError::Conflict(format!("{} already exists", capitalize(&what)))
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::BadRequest(rejection.body_text())
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::BytesRejection(inner) => inner.into(),
            JsonRejection::MissingJsonContentType(_) => ApiError::Validation(vec![FieldError {
                kind: "model_attributes_type",
                loc: vec!["body".into()],
                msg: "Input should be a JSON object; send Content-Type: application/json".into(),
                input: Value::Null,
                ctx: None,
            }]),
            other => ApiError::Validation(vec![FieldError {
                kind: "json_invalid",
                loc: vec!["body".into()],
                msg: other.body_text(),
                input: Value::Null,
                ctx: None,
            }]),
        }
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

impl From<RegistrationError> for ApiError {
    fn from(error: RegistrationError) -> Self {
        match error {
            RegistrationError::Closed => ApiError::Forbidden(error.to_string()),
            RegistrationError::Invalid { field, message } => {
                ApiError::Validation(vec![FieldError {
                    kind: "value_error",
                    loc: body_loc(field),
                    msg: message,
                    // Never echo the input: it may be a password.
                    input: Value::Null,
                    ctx: None,
                }])
            }
            RegistrationError::UsernameTaken => ApiError::Conflict(error.to_string()),
            RegistrationError::Refused(e) => e.into(),
            RegistrationError::Store(e) => e.into(),
        }
    }
}

impl ApiError {
    /// The HTTP status of the answer.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Auth(e) => {
                StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
            }
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Logs what the answer does not say: the cause of a server-side failure.
    pub fn log_cause(&self) {
        match self {
            ApiError::Auth(AuthError::Store(e)) => {
                tracing::error!(error = %e, "store failure during authorization")
            }
            ApiError::Internal(cause) => tracing::error!(%cause, "internal error"),
            _ => {}
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log_cause();
        let (challenge, retry_after) = match &self {
            ApiError::Auth(e) => (e.challenge(), e.retry_after()),
            _ => (None, None),
        };
        let detail = match &self {
            ApiError::Validation(errors) => json!(errors),
            other => json!(other.to_string()),
        };
        let mut response = (self.status(), Json(json!({ "detail": detail }))).into_response();
        if let Some(value) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if matches!(self, ApiError::PayloadTooLarge | ApiError::RequestTimeout) {
            // The rest of the body is never read, so the connection is closed after
            // this answer: say so, or clients reuse it and their next request fails.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}
