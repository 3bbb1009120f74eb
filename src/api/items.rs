//! `/users/me/items/`: the signed-in user's items.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use super::JsonBody;
use super::authorized::{Authorized, ItemsReader};
use super::error::{ApiError, ErrorBody, FieldError, ValidationErrorBody};
use crate::model::{Item, NewItem};
use crate::store::Store;

/// Longest item id accepted, in characters.
pub const MAX_ITEM_ID_CHARS: usize = 128;
/// Longest description accepted, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2000;

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
pub async fn read_own_items(
    caller: Authorized<ItemsReader>,
    State(store): State<Arc<dyn Store>>,
) -> Result<Json<Vec<Item>>, ApiError> {
    Ok(Json(
        store.list_items(&caller.principal.user.username).await?,
    ))
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
pub async fn create_own_item(
    caller: Authorized<ItemsReader>,
    State(store): State<Arc<dyn Store>>,
    JsonBody(item): JsonBody<NewItem>,
) -> Result<(StatusCode, Json<Item>), ApiError> {
    let created = add_item(store.as_ref(), &caller.principal.user.username, &item).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Checks `item` and adds it for `owner`: shared by the JSON API and the profile page.
pub async fn add_item(store: &dyn Store, owner: &str, item: &NewItem) -> Result<Item, ApiError> {
    validate_item(item)?;
    Ok(store.add_item(owner, item).await?)
}

/// Removes `owner`'s item `item_id`, or answers 404: shared by the JSON API and the
/// profile page.
pub async fn remove_item(store: &dyn Store, owner: &str, item_id: &str) -> Result<(), ApiError> {
    if store.delete_item(owner, item_id).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound("Item not found".into()))
    }
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
pub async fn delete_own_item(
    caller: Authorized<ItemsReader>,
    State(store): State<Arc<dyn Store>>,
    Path(item_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    remove_item(store.as_ref(), &caller.principal.user.username, &item_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks an item to add: a non-empty printable id and a bounded description.
fn validate_item(item: &NewItem) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    let id_chars = item.item_id.chars().count();
    if item.item_id.trim().is_empty() {
        errors.push(FieldError::invalid(
            "string_too_short",
            "item_id",
            "Item id must not be empty",
            &item.item_id,
        ));
    } else if id_chars > MAX_ITEM_ID_CHARS || item.item_id.chars().any(char::is_control) {
        errors.push(FieldError::invalid(
            "string_invalid",
            "item_id",
            format!("Item id must be at most {MAX_ITEM_ID_CHARS} printable characters"),
            &item.item_id,
        ));
    }
    if let Some(description) = &item.description
        && description.chars().count() > MAX_DESCRIPTION_CHARS
    {
        errors.push(FieldError::invalid(
            "string_too_long",
            "description",
            format!("Description must be at most {MAX_DESCRIPTION_CHARS} characters"),
            "",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}
