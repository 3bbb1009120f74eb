//! `GET /healthz` and `GET /readyz`: what load balancers and orchestrators ask
//! before they send traffic. No credential, and never a secret in the answer.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::error::ErrorBody;
use super::users::Status;
use crate::store::{Store, StoreError};

/// How long readiness waits for the database before it answers 503.
const READINESS_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether the process is alive and serving. Touches nothing else, the database
/// included, so a slow database never gets a live process restarted.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "health",
    responses((status = 200, description = "The process serves requests", body = Status))
)]
pub(crate) async fn healthz() -> Json<Status> {
    Json(Status { status: "ok" })
}

/// Whether this instance can serve: its database answers, and every migration
/// this build knows is applied.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "health",
    responses(
        (status = 200, description = "The database answers and its schema is up to date", body = Status),
        (status = 503, description = "The database does not answer, or its schema is not up to date", body = ErrorBody),
    )
)]
pub(crate) async fn readyz(State(store): State<Arc<dyn Store>>) -> Response {
    let detail = match tokio::time::timeout(READINESS_TIMEOUT, store.ready()).await {
        Ok(Ok(())) => return Json(Status { status: "ok" }).into_response(),
        Ok(Err(StoreError::Unmigrated(missing))) => {
            tracing::warn!(%missing, "not ready: the schema is not up to date");
            "Database schema is not up to date"
        }
        Ok(Err(error)) => {
            // The error may name the database's host: it goes to the log only.
            tracing::warn!(%error, "not ready: the database failed");
            "Database unavailable"
        }
        Err(_) => {
            tracing::warn!(timeout = ?READINESS_TIMEOUT, "not ready: the database did not answer");
            "Database unavailable"
        }
    };
    let body = ErrorBody {
        detail: detail.into(),
    };
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}
