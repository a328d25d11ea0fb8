//! What resolvers get from the schema and the request, and the access checks they start with.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_graphql::Context;
use tokio::sync::OnceCell;
use uuid::Uuid;

use worker::integrations::fields;
use worker::jobs::SyncQueue;
use worker::providers::ExternalField;
use worker::Environment;

use crate::auth::{AuthError, Plan, Role, Viewer};
use crate::error::{ApiError, ErrorCode};
use crate::graphql::loaders::Loaders;

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

/// What one HTTP request (a batch included) has already asked a provider, so aliases and batched
/// copies of `accessibleData` cost one provider call, not one each. Failures are kept too.
#[derive(Clone, Default)]
pub struct RequestMemo {
    fields: Arc<Mutex<HashMap<Uuid, Arc<OnceCell<Result<Vec<ExternalField>, ApiError>>>>>>,
}

impl RequestMemo {
    pub async fn accessible_fields(
        &self,
        env: &Environment,
        connection: &entity::connection::Model,
    ) -> Result<Vec<ExternalField>, ApiError> {
        let cell = self.fields.lock().expect("request memo").entry(connection.id).or_default().clone();
        cell.get_or_init(|| async { fields::accessible_fields(env, connection).await.map_err(ApiError::from) })
            .await
            .clone()
    }
}

/// The connection's fields: once per HTTP request, and from the connection's kept fields while
/// they are fresh.
pub async fn accessible_fields(
    ctx: &Context<'_>,
    connection: &entity::connection::Model,
) -> Result<Vec<ExternalField>, ApiError> {
    let env = &ctx.api().env;
    match ctx.data_opt::<RequestMemo>() {
        Some(memo) => memo.accessible_fields(env, connection).await,
        // A subscription event: no memo outlives one event, so each reads the kept fields.
        None => fields::accessible_fields(env, connection).await.map_err(ApiError::from),
    }
}

/// The outcome of authenticating one request (HTTP header or WebSocket `connection_init`).
#[derive(Clone)]
pub struct RequestAuth(pub Result<Viewer, AuthError>);

pub trait ContextExt {
    fn api(&self) -> &ApiContext;
    fn loaders(&self) -> &Loaders;
    /// Any signed-in user of a workspace.
    fn viewer(&self) -> Result<&Viewer, ApiError>;
    /// An admin on the paid plan: integrations are theirs alone.
    fn integrations_admin(&self) -> Result<&Viewer, ApiError>;
}

impl ContextExt for Context<'_> {
    fn api(&self) -> &ApiContext {
        self.data_unchecked::<ApiContext>()
    }

    fn loaders(&self) -> &Loaders {
        self.data_unchecked::<Loaders>()
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

/// A list argument `first` (default `default`) checked against 1..=`max`.
pub fn page_size(first: Option<i32>, default: i32, max: i32, field: &str) -> Result<usize, ApiError> {
    let first = first.unwrap_or(default);
    if !(1..=max).contains(&first) {
        return Err(ApiError::validation(field, format!("'{field}' must be between 1 and {max}")));
    }
    Ok(first as usize)
}
