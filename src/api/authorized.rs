//! The gate every protected route passes: an extractor that asks the auth core
//! whether the request's credentials meet the route's [`Requirement`].

use std::marker::PhantomData;
use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use super::client_address::ClientAddress;
use super::error::ApiError;
use crate::auth::{AuthService, Credentials, Principal, Requirement, Scope};
use crate::config::Settings;

/// A route's requirement, named as a type so a handler states it in its signature.
pub trait RouteRequirement {
    /// What the route needs.
    const REQUIREMENT: Requirement;
}

/// An active user with scope `me` (FastAPI's `get_current_active_user`).
pub struct ActiveUser;
impl RouteRequirement for ActiveUser {
    const REQUIREMENT: Requirement = Requirement {
        scopes: &[Scope::Me],
        active_user: true,
    };
}

/// An active user with scopes `items` and `me`.
pub struct ItemsReader;
impl RouteRequirement for ItemsReader {
    const REQUIREMENT: Requirement = Requirement {
        scopes: &[Scope::Items, Scope::Me],
        active_user: true,
    };
}

/// Any valid credential (FastAPI's `get_current_user` without scopes).
pub struct AnyUser;
impl RouteRequirement for AnyUser {
    const REQUIREMENT: Requirement = Requirement {
        scopes: &[],
        active_user: false,
    };
}

/// The caller, once the auth core has let them in under requirement `R`.
pub struct Authorized<R> {
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
        // Two credentials are none: a proxy in front could be reading the other one.
        let mut values = parts.headers.get_all(AUTHORIZATION).iter();
        let header = match (values.next(), values.next()) {
            (Some(value), None) => value.to_str().ok(),
            _ => None,
        };
        let credentials = Credentials::from_header(header);
        let Ok(ClientAddress(client)) = ClientAddress::from_request_parts(parts, state).await;
        let principal = Arc::<AuthService>::from_ref(state)
            .authorize(credentials, R::REQUIREMENT, client)
            .await?;
        Ok(Self {
            principal,
            _requirement: PhantomData,
        })
    }
}
