//! Items, beside the auth core: each user's own list, under the rules of
//! [`crate::rules`]. The JSON API and the profile page both come here.

use std::sync::Arc;

use crate::auth::CoreError;
use crate::model::{Item, NewItem};
use crate::rules::Violation;
use crate::store::{Store, StoreError};

/// Why an item operation did nothing.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ItemError {
    /// The item breaks these rules.
    #[error("invalid item")]
    Invalid(Vec<Violation>),
    /// The owner has an item with that id already.
    #[error("Item {0} already exists")]
    Exists(String),
    /// The owner has no item with that id.
    #[error("Item not found")]
    NotFound,
    /// The store failed.
    #[error(transparent)]
    Store(StoreError),
}

impl CoreError for ItemError {
    fn status(&self) -> u16 {
        match self {
            ItemError::Invalid(_) => 422,
            ItemError::Exists(_) => 409,
            ItemError::NotFound => 404,
            ItemError::Store(_) => 500,
        }
    }

    fn failure(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ItemError::Store(e) => Some(e),
            _ => None,
        }
    }
}

impl From<StoreError> for ItemError {
    fn from(error: StoreError) -> Self {
        ItemError::Store(error)
    }
}

/// The items of every user, in a store.
#[derive(Clone)]
pub(crate) struct Items {
    store: Arc<dyn Store>,
}

impl Items {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// `owner`'s items, by id.
    pub(crate) async fn list(&self, owner: &str) -> Result<Vec<Item>, ItemError> {
        Ok(self.store.list_items(owner).await?)
    }

    /// Adds `item` for `owner` if it meets the rules and the id is new to them.
    pub(crate) async fn add(&self, owner: &str, item: NewItem) -> Result<Item, ItemError> {
        let item = item.normalized();
        let violations = item.violations();
        if !violations.is_empty() {
            return Err(ItemError::Invalid(violations));
        }
        self.store
            .add_item(owner, &item)
            .await
            .map_err(|e| match e {
                StoreError::Conflict(_) => ItemError::Exists(item.item_id.clone()),
                other => ItemError::Store(other),
            })
    }

    /// Removes `owner`'s item `item_id`.
    pub(crate) async fn remove(&self, owner: &str, item_id: &str) -> Result<(), ItemError> {
        if self.store.delete_item(owner, item_id).await? {
            Ok(())
        } else {
            Err(ItemError::NotFound)
        }
    }
}
