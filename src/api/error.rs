//! Every error the JSON API answers with, and the one place they become HTTP
//! responses: FastAPI's `{"detail": ...}` bodies and `WWW-Authenticate` headers.

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::auth::accounts::AccountError;
use crate::auth::{AuthError, CoreError};
use crate::items::ItemError;
use crate::rules::Violation;

/// One entry of a `422` answer, in FastAPI's (pydantic's) shape.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub(crate) struct FieldError {
    /// Machine-readable kind, e.g. `missing`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Where the problem is, e.g. `["body", "username"]`.
    pub loc: Vec<String>,
    /// Human-readable message.
    pub msg: String,
    /// The value at fault: `null` when missing, or never shown (a password).
    #[schema(value_type = Option<String>)]
    pub input: Value,
    /// Extra facts about the rule that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub ctx: Option<Value>,
}

impl FieldError {
    /// A required body field that is absent or empty.
    pub(crate) fn missing(field: &str) -> Self {
        Self {
            kind: "missing",
            loc: body_loc(field),
            msg: "Field required".into(),
            input: Value::Null,
            ctx: None,
        }
    }

    /// A body field whose value breaks a rule.
    pub(crate) fn invalid(
        kind: &'static str,
        field: &str,
        msg: impl Into<String>,
        input: &str,
    ) -> Self {
        Self {
            kind,
            loc: body_loc(field),
            msg: msg.into(),
            input: json!(input),
            ctx: None,
        }
    }
}

impl From<Violation> for FieldError {
    /// A broken rule; the input is never echoed, as it may be a password.
    fn from(violation: Violation) -> Self {
        Self {
            kind: violation.kind,
            loc: body_loc(violation.field.name()),
            msg: violation.message,
            input: Value::Null,
            ctx: None,
        }
    }
}

fn body_loc(field: &str) -> Vec<String> {
    vec!["body".into(), field.into()]
}

/// The body of a `422` answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ValidationErrorBody {
    pub detail: Vec<FieldError>,
}

/// The body of every other error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    pub detail: String,
}

/// An error of the JSON API.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    /// Refused by the auth core.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The request body breaks the route's schema (422).
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// Refused by the accounts or items module, with its status (404, 409, 403).
    #[error("{detail}")]
    Refused {
        /// The status.
        status: StatusCode,
        /// The `detail` text.
        detail: String,
    },
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

impl From<AccountError> for ApiError {
    fn from(error: AccountError) -> Self {
        match error {
            AccountError::Invalid(violation) => ApiError::Validation(vec![violation.into()]),
            AccountError::Refused(e) => e.into(),
            AccountError::Store(e) => ApiError::Internal(e.to_string()),
            other => ApiError::Refused {
                status: status(other.status()),
                detail: other.to_string(),
            },
        }
    }
}

impl From<ItemError> for ApiError {
    fn from(error: ItemError) -> Self {
        match error {
            ItemError::Invalid(violations) => {
                ApiError::Validation(violations.into_iter().map(FieldError::from).collect())
            }
            ItemError::Store(e) => ApiError::Internal(e.to_string()),
            other => ApiError::Refused {
                status: status(other.status()),
                detail: other.to_string(),
            },
        }
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

impl ApiError {
    /// The HTTP status of the answer.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::Auth(e) => status(e.status()),
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Refused { status, .. } => *status,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Logs what the answer does not say: the cause of a server-side failure.
    pub(crate) fn log_cause(&self) {
        match self {
            ApiError::Auth(e) => {
                if let Some(e) = e.failure() {
                    tracing::error!(error = %e, "server-side failure during authorization")
                }
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

/// The limit a request broke, before any route saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BrokenLimit {
    /// The body is over `max_body_kib` (413).
    BodyTooLarge,
    /// The body could not be read (400).
    BodyUnreadable,
    /// The request was not received and answered in time (408).
    Timeout,
}

/// The answer to a request that broke `limit`.
pub(crate) fn limit_response(limit: BrokenLimit) -> Response {
    match limit {
        BrokenLimit::BodyTooLarge => ApiError::PayloadTooLarge,
        BrokenLimit::BodyUnreadable => {
            ApiError::BadRequest("The request body could not be read".into())
        }
        BrokenLimit::Timeout => ApiError::RequestTimeout,
    }
    .into_response()
}
