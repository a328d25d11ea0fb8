//! Access control as types, after lldap's access-controlled handlers: resolvers reach the
//! directory and the integrations only through a handle, and get one only by passing its check
//! (`ctx.directory()` for any signed-in member, `ctx.integrations()` for an admin on the paid
//! plan). A handle owns its workspace, so nothing done through it reaches another workspace;
//! the service's database and providers are private to this module, so without a handle
//! there is nothing to call.

mod directory;
mod ids;
mod integrations;
mod loaders;
mod people;
mod webhooks;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;
use uuid::Uuid;

use entity::connection;
use worker::integrations::{connections, fields};
use worker::jobs::SyncQueue;
use worker::providers::ExternalField;
use worker::Environment;

use crate::auth::{Plan, Role, Viewer};
use crate::error::{ApiError, ErrorCode};

pub use directory::DirectoryAccess;
pub use ids::{ConnectionId, RunId, SyncIssueId, UserId, WebhookEndpointId, WorkspaceId};
pub use integrations::IntegrationsAccess;
use loaders::Loaders;
pub use people::PeopleAccess;
pub use webhooks::WebhooksAccess;

/// Shared by every request: what handles are made from. Cheap to clone.
#[derive(Clone)]
pub struct ApiContext(Arc<Shared>);

struct Shared {
    env: Environment,
    queue: Arc<dyn SyncQueue>,
    /// Base of the OAuth redirect URI.
    public_url: String,
    loaders: Loaders,
    known_workspaces: Mutex<HashSet<(String, Plan)>>,
}

impl ApiContext {
    pub fn new(env: Environment, queue: Arc<dyn SyncQueue>, public_url: String) -> Self {
        let loaders = loaders::loaders(env.db.clone());
        Self(Arc::new(Shared { env, queue, public_url, loaders, known_workspaces: Mutex::default() }))
    }

    /// The largest file an upload may carry (`UPLOAD_MAX_BYTES`).
    pub fn max_upload_bytes(&self) -> usize {
        self.0.env.upload_limits.max_bytes
    }

    pub fn public_url(&self) -> &str {
        &self.0.public_url
    }

    /// The engine, for the SCIM endpoints: their callers are a connection's token, not a
    /// viewer (see `http::scim`, which authenticates them before any use).
    pub(crate) fn env(&self) -> &Environment {
        &self.0.env
    }

    /// The base URL a SCIM connection's provider is given.
    pub fn scim_base_url(&self, connection_id: uuid::Uuid) -> String {
        format!("{}/scim/v2/{connection_id}", self.0.public_url.trim_end_matches('/'))
    }

    pub fn redirect_uri(&self) -> String {
        format!("{}/oauth/callback", self.0.public_url.trim_end_matches('/'))
    }

    /// Creates the viewer's workspace on first use and keeps its plan in step with the token.
    pub async fn ensure_workspace(&self, viewer: &Viewer) -> Result<(), ApiError> {
        let key = (viewer.workspace_id.clone(), viewer.plan);
        if self.0.known_workspaces.lock().expect("workspace cache").contains(&key) {
            return Ok(());
        }
        let plan = match viewer.plan {
            Plan::Paid => "paid",
            Plan::Free => "free",
        };
        worker::workspaces::ensure_workspace(&self.0.env.db, &viewer.workspace_id, plan).await?;
        self.0.known_workspaces.lock().expect("workspace cache").insert(key);
        Ok(())
    }

    /// The read-only directory of the viewer's workspace.
    pub fn directory(&self, viewer: &Viewer) -> DirectoryAccess {
        DirectoryAccess::new(self.clone(), WorkspaceId::of(viewer))
    }

    /// Adding and editing the viewer's workspace's people: for admins, on any plan (the
    /// directory is every plan's; the sync is what the paid plan adds).
    pub fn people(&self, viewer: &Viewer) -> Result<PeopleAccess, ApiError> {
        if viewer.role != Role::Admin {
            return Err(ApiError::new(ErrorCode::Forbidden, "only workspace admins can add or edit people"));
        }
        Ok(PeopleAccess::new(self.directory(viewer), viewer.subject.clone()))
    }

    /// The integrations of the viewer's workspace: for admins on the paid plan alone.
    pub fn integrations(&self, viewer: &Viewer) -> Result<IntegrationsAccess, ApiError> {
        paid_admin(viewer, "integrations")?;
        Ok(IntegrationsAccess::new(self.directory(viewer), viewer.subject.clone()))
    }

    /// The webhook endpoints of the viewer's workspace: for admins of a plan that can connect
    /// an HR system (the paid plan), whose changes they announce.
    pub fn webhooks(&self, viewer: &Viewer) -> Result<WebhooksAccess, ApiError> {
        paid_admin(viewer, "webhooks")?;
        Ok(WebhooksAccess::new(self.directory(viewer)))
    }

    /// The provider sent the browser back from an "Open Window" sign-in. No token comes with
    /// it: the sign-in's `state` and the browser's binding cookies are the credentials.
    pub async fn complete_redirect_sign_in(
        &self,
        state: &str,
        browser_bindings: &[&str],
        outcome: Result<&str, &str>,
    ) -> Result<connection::Model, worker::Error> {
        let redirect_uri = self.redirect_uri();
        connections::complete_credential_connection(&self.0.env, state, browser_bindings, outcome, &redirect_uri).await
    }
}

/// Admins on the paid plan pass; anyone else is told why `what` is not theirs.
fn paid_admin(viewer: &Viewer, what: &str) -> Result<(), ApiError> {
    if viewer.role != Role::Admin {
        return Err(ApiError::new(ErrorCode::Forbidden, format!("only workspace admins can manage {what}")));
    }
    if viewer.plan != Plan::Paid {
        return Err(ApiError::new(
            ErrorCode::PaidPlanRequired,
            format!("{what} need a paid plan; upgrade the workspace to connect an HR system"),
        ));
    }
    Ok(())
}

/// What one HTTP request (a batch included) has already asked a provider, so aliases and batched
/// copies of `accessibleData` cost one provider call, not one each. Failures are kept too.
#[derive(Clone, Default)]
pub struct RequestMemo {
    fields: Arc<Mutex<HashMap<Uuid, Arc<OnceCell<Result<Vec<ExternalField>, ApiError>>>>>>,
}

impl RequestMemo {
    async fn accessible_fields(
        &self,
        env: &Environment,
        connection: &connection::Model,
    ) -> Result<Vec<ExternalField>, ApiError> {
        let cell = self.fields.lock().expect("request memo").entry(connection.id).or_default().clone();
        cell.get_or_init(|| async { fields::accessible_fields(env, connection).await.map_err(ApiError::from) })
            .await
            .clone()
    }
}
