//! The gate every protected route passes: an extractor that asks the auth core
//! whether the caller meets the route's [`Requirement`].

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;

use super::error::ApiError;
use crate::auth::{AuthService, Principal, Requirement};
use crate::caller::Caller;
use crate::settings::Settings;

/// A route's requirement, named as a type so a handler states it in its signature.
pub(crate) trait RouteRequirement {
    /// What the route needs.
    const REQUIREMENT: Requirement;
}

/// [`Requirement::READ_PROFILE`].
pub(crate) struct ActiveUser;
impl RouteRequirement for ActiveUser {
    const REQUIREMENT: Requirement = Requirement::READ_PROFILE;
}

/// [`Requirement::USE_ITEMS`].
pub(crate) struct ItemsReader;
impl RouteRequirement for ItemsReader {
    const REQUIREMENT: Requirement = Requirement::USE_ITEMS;
}

/// [`Requirement::ANY_USER`].
pub(crate) struct AnyUser;
impl RouteRequirement for AnyUser {
    const REQUIREMENT: Requirement = Requirement::ANY_USER;
}

/// The caller, once the auth core has let them in under requirement `R`.
pub(crate) struct Authorized<R> {
    /// Who they are and what their credential grants.
    pub principal: Principal,
    _requirement: PhantomData<R>,
}

impl<S, R> FromRequestParts<S> for Authorized<R>
where
    Arc<AuthService>: FromRef<S>,
    Arc<Settings>: FromRef<S>,
    S: Send + Sync,
    R: RouteRequirement,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Ok(caller) = Caller::from_request_parts(parts, state).await;
        let principal = Arc::<AuthService>::from_ref(state)
            .authorize(
                caller.credentials,
                caller.fingerprint.as_ref(),
                R::REQUIREMENT,
                caller.client,
            )
            .await?;
        Ok(Self {
            principal,
            _requirement: PhantomData,
        })
    }
}
