//! `/users/me/items/`: the signed-in user's items.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::JsonBody;
use super::authorized::{Authorized, ItemsReader};
use super::error::{ApiError, ErrorBody, ValidationErrorBody};
use crate::items::Items;
use crate::model::{Item, NewItem};

/// The signed-in user's items.
#[utoipa::path(
    get,
    path = "/users/me/items/",
    tag = "items",
    security(("OAuth2PasswordBearer" = ["items", "me"]), ("HTTPBasic" = [])),
    responses(
        (status = 200, description = "The user's items", body = Vec<Item>),
        (status = 400, description = "Inactive user", body = ErrorBody),
        (status = 401, description = "Not authenticated, invalid token or missing scope", body = ErrorBody),
    )
)]
pub(crate) async fn read_own_items(
    caller: Authorized<ItemsReader>,
    State(items): State<Items>,
) -> Result<Json<Vec<Item>>, ApiError> {
    Ok(Json(items.list(&caller.principal.user.username).await?))
}

/// Add an item for the signed-in user.
#[utoipa::path(
    post,
    path = "/users/me/items/",
    tag = "items",
    request_body = NewItem,
    security(("OAuth2PasswordBearer" = ["items", "me"]), ("HTTPBasic" = [])),
    responses(
        (status = 201, description = "Item added", body = Item),
        (status = 401, description = "Not authenticated, invalid token or missing scope", body = ErrorBody),
        (status = 409, description = "The user already has an item with that id", body = ErrorBody),
        (status = 422, description = "Invalid item", body = ValidationErrorBody),
    )
)]
pub(crate) async fn create_own_item(
    caller: Authorized<ItemsReader>,
    State(items): State<Items>,
    JsonBody(item): JsonBody<NewItem>,
) -> Result<(StatusCode, Json<Item>), ApiError> {
    let created = items.add(&caller.principal.user.username, item).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Remove one of the signed-in user's items.
#[utoipa::path(
    delete,
    path = "/users/me/items/{item_id}",
    tag = "items",
    params(("item_id" = String, Path, description = "The item to remove")),
    security(("OAuth2PasswordBearer" = ["items", "me"]), ("HTTPBasic" = [])),
    responses(
        (status = 204, description = "Item removed"),
        (status = 401, description = "Not authenticated, invalid token or missing scope", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
    )
)]
pub(crate) async fn delete_own_item(
    caller: Authorized<ItemsReader>,
    State(items): State<Items>,
    Path(item_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    items
        .remove(&caller.principal.user.username, &item_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
