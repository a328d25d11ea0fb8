//! What resolvers get from the request: who is asking, and the access handles that check it.

use async_graphql::Context;

use crate::access::{ApiContext, DirectoryAccess, IntegrationsAccess, PeopleAccess, RequestMemo, WebhooksAccess};
use crate::auth::{AuthError, Viewer};
use crate::error::ApiError;

/// The outcome of authenticating one request (HTTP header or WebSocket `connection_init`).
#[derive(Clone)]
pub struct RequestAuth(pub Result<Viewer, AuthError>);

pub trait ContextExt {
    /// Any signed-in user of a workspace.
    fn viewer(&self) -> Result<&Viewer, ApiError>;
    /// The caller's directory, read-only: any signed-in user.
    fn directory(&self) -> Result<DirectoryAccess, ApiError>;
    /// Adding and editing the caller's people: an admin, on any plan.
    fn people(&self) -> Result<PeopleAccess, ApiError>;
    /// The caller's integrations: an admin on the paid plan.
    fn integrations(&self) -> Result<IntegrationsAccess, ApiError>;
    /// The caller's webhook endpoints: an admin on the paid plan.
    fn webhooks(&self) -> Result<WebhooksAccess, ApiError>;
    /// What this HTTP request already asked providers; none for subscription events.
    fn memo(&self) -> Option<&RequestMemo>;
}

impl ContextExt for Context<'_> {
    fn viewer(&self) -> Result<&Viewer, ApiError> {
        match self.data_opt::<RequestAuth>() {
            Some(RequestAuth(Ok(viewer))) => Ok(viewer),
            Some(RequestAuth(Err(err))) => Err(err.clone().into()),
            None => Err(AuthError::Missing.into()),
        }
    }

    fn directory(&self) -> Result<DirectoryAccess, ApiError> {
        let viewer = self.viewer()?;
        Ok(self.data_unchecked::<ApiContext>().directory(viewer))
    }

    fn people(&self) -> Result<PeopleAccess, ApiError> {
        let viewer = self.viewer()?;
        self.data_unchecked::<ApiContext>().people(viewer)
    }

    fn integrations(&self) -> Result<IntegrationsAccess, ApiError> {
        let viewer = self.viewer()?;
        self.data_unchecked::<ApiContext>().integrations(viewer)
    }

    fn webhooks(&self) -> Result<WebhooksAccess, ApiError> {
        let viewer = self.viewer()?;
        self.data_unchecked::<ApiContext>().webhooks(viewer)
    }

    fn memo(&self) -> Option<&RequestMemo> {
        self.data_opt::<RequestMemo>()
    }
}

/// A list argument `first` (default `default`) checked against 1..=`max`.
pub fn page_size(first: Option<i32>, default: i32, max: i32, field: &str) -> Result<usize, ApiError> {
    let first = first.unwrap_or(default);
    if !(1..=max).contains(&first) {
        return Err(ApiError::validation(field, format!("'{field}' must be between 1 and {max}")));
    }
    Ok(first as usize)
}
