//! What resolvers get from the schema and the request, and the access checks they start with.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use async_graphql::Context;

use worker::jobs::SyncQueue;
use worker::Environment;

use crate::auth::{AuthError, Plan, Role, Viewer};
use crate::error::{ApiError, ErrorCode};

/// Shared by every request.
#[derive(Clone)]
pub struct ApiContext {
    pub env: Environment,
    pub queue: Arc<dyn SyncQueue>,
    /// Base of the OAuth redirect URI.
    pub public_url: String,
    known_workspaces: Arc<Mutex<HashSet<(String, Plan)>>>,
}

impl ApiContext {
    pub fn new(env: Environment, queue: Arc<dyn SyncQueue>, public_url: String) -> Self {
        Self { env, queue, public_url, known_workspaces: Arc::default() }
    }

    pub fn redirect_uri(&self) -> String {
        format!("{}/oauth/callback", self.public_url.trim_end_matches('/'))
    }

    /// Creates the viewer's workspace on first use and keeps its plan in step with the token.
    pub async fn ensure_workspace(&self, viewer: &Viewer) -> Result<(), ApiError> {
        let key = (viewer.workspace_id.clone(), viewer.plan);
        if self.known_workspaces.lock().expect("workspace cache").contains(&key) {
            return Ok(());
        }
        let plan = match viewer.plan {
            Plan::Paid => "paid",
            Plan::Free => "free",
        };
        worker::workspaces::ensure_workspace(&self.env.db, &viewer.workspace_id, plan).await?;
        self.known_workspaces.lock().expect("workspace cache").insert(key);
        Ok(())
    }
}

/// The outcome of authenticating one request (HTTP header or WebSocket `connection_init`).
#[derive(Clone)]
pub struct RequestAuth(pub Result<Viewer, AuthError>);

pub trait ContextExt {
    fn api(&self) -> &ApiContext;
    /// Any signed-in user of a workspace.
    fn viewer(&self) -> Result<&Viewer, ApiError>;
    /// An admin on the paid plan: integrations are theirs alone.
    fn integrations_admin(&self) -> Result<&Viewer, ApiError>;
}

impl ContextExt for Context<'_> {
    fn api(&self) -> &ApiContext {
        self.data_unchecked::<ApiContext>()
    }

    fn viewer(&self) -> Result<&Viewer, ApiError> {
        match self.data_opt::<RequestAuth>() {
            Some(RequestAuth(Ok(viewer))) => Ok(viewer),
            Some(RequestAuth(Err(err))) => Err(err.clone().into()),
            None => Err(AuthError::Missing.into()),
        }
    }

    fn integrations_admin(&self) -> Result<&Viewer, ApiError> {
        let viewer = self.viewer()?;
        if viewer.role != Role::Admin {
            return Err(ApiError::new(ErrorCode::Forbidden, "only workspace admins can manage integrations"));
        }
        if viewer.plan != Plan::Paid {
            return Err(ApiError::new(
                ErrorCode::PaidPlanRequired,
                "integrations need a paid plan; upgrade the workspace to connect an HR system",
            ));
        }
        Ok(viewer)
    }
}

/// The connection `connectionId` of the caller's workspace, for an integrations admin.
pub async fn admin_connection<'a>(
    ctx: &'a Context<'_>,
    connection_id: &async_graphql::ID,
) -> Result<(&'a Viewer, entity::connection::Model), ApiError> {
    let viewer = ctx.integrations_admin()?;
    let id = parse_id(connection_id, "connectionId")?;
    let connection = worker::integrations::connections::find(&ctx.api().env.db, &viewer.workspace_id, id).await?;
    Ok((viewer, connection))
}

/// Parses an `ID` argument; a malformed id is VALIDATION_FAILED naming the argument.
pub fn parse_id(id: &async_graphql::ID, field: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(id.as_str()).map_err(|_| ApiError::validation(field, format!("'{field}' is not a valid id")))
}
