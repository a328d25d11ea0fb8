use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};

use entity::connection::{self as stored, ConnectionStatus as StoredStatus};
use worker::providers::catalogue;

use super::mapping::FieldMapping;
use super::provider::{AuthMethod, Provider};
use super::sync_run::SyncRun;
use super::upload::SpreadsheetUpload;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{page_size, ContextExt};
use crate::graphql::list_cost;

/// Most runs one `syncRuns` answers.
const MAX_RUNS: i32 = 100;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConnectionStatus {
    PendingAuthorization,
    Connected,
    Failed,
    Disconnected,
}

impl From<StoredStatus> for ConnectionStatus {
    fn from(s: StoredStatus) -> Self {
        match s {
            StoredStatus::PendingAuthorization => Self::PendingAuthorization,
            StoredStatus::Connected => Self::Connected,
            StoredStatus::Failed => Self::Failed,
            StoredStatus::Disconnected => Self::Disconnected,
        }
    }
}

/// A workspace's link to a provider tenant.
pub struct Connection(pub stored::Model);

#[Object]
impl Connection {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn provider(&self) -> ApiResult<Provider> {
        let provider = catalogue::find(&self.0.provider_id).ok_or_else(|| ApiError::not_found("provider"))?;
        Ok(Provider(provider.info()))
    }

    async fn auth_method(&self) -> AuthMethod {
        match self.0.auth_method {
            stored::AuthMethod::Credentials => AuthMethod::Credentials,
            stored::AuthMethod::ApiKey => AuthMethod::ApiKey,
            stored::AuthMethod::Upload => AuthMethod::Upload,
            stored::AuthMethod::Push => AuthMethod::Push,
        }
    }

    async fn subdomain(&self) -> Option<&str> {
        self.0.subdomain.as_deref()
    }

    async fn status(&self) -> ConnectionStatus {
        self.0.status.into()
    }

    /// Why FAILED, in words an admin can act on.
    async fn status_message(&self) -> Option<&str> {
        self.0.status_message.as_deref()
    }

    /// The last characters of the key; never the secret itself.
    async fn credential_hint(&self) -> Option<&str> {
        self.0.credential_hint.as_deref()
    }

    /// Which system a bridge's linked account is (the HRIS behind Merge); null otherwise.
    async fn linked_system(&self) -> Option<&str> {
        self.0.linked_system.as_deref()
    }

    /// What this connection can read, as the provider last told (asked again after 15
    /// minutes, new credentials, or a mapping save). Empty while the provider cannot be asked,
    /// so one broken connection never hides the others.
    async fn accessible_data(&self, ctx: &Context<'_>) -> ApiResult<Vec<DataCategory>> {
        if self.0.status != StoredStatus::Connected {
            return Ok(Vec::new());
        }
        let fields = match ctx.integrations()?.accessible_fields(&self.0, ctx.memo()).await {
            Ok(fields) => fields,
            Err(err) => {
                tracing::warn!(connection_id = %self.0.id, error = %err.message, "could not list the provider's fields");
                return Ok(Vec::new());
            }
        };
        let mut categories: Vec<DataCategory> = Vec::new();
        for field in fields {
            let external = ExternalField { key: field.key, label: field.label, r#type: field.field_type };
            match categories.iter_mut().find(|c| c.name == field.category) {
                Some(category) => category.fields.push(external),
                None => categories.push(DataCategory { name: field.category, fields: vec![external] }),
            }
        }
        Ok(categories)
    }

    /// Latest saved version, or a suggestion before the first save.
    async fn field_mapping(&self, ctx: &Context<'_>) -> ApiResult<Option<FieldMapping>> {
        let integrations = ctx.integrations()?;
        if self.0.status != StoredStatus::Connected {
            return Ok(integrations.confirmed_mapping(&self.0).await?.map(FieldMapping));
        }
        Ok(Some(FieldMapping(integrations.latest_or_suggested_mapping(&self.0).await?)))
    }

    async fn confirmed_mapping(&self, ctx: &Context<'_>) -> ApiResult<Option<FieldMapping>> {
        Ok(ctx.integrations()?.confirmed_mapping(&self.0).await?.map(FieldMapping))
    }

    /// A SCIM connection's endpoint: its base URL, held deactivations and request activity (it
    /// has no runs to show); null for other providers.
    async fn scim(&self, ctx: &Context<'_>) -> ApiResult<Option<super::scim::ScimEndpoint>> {
        if !worker::providers::catalogue::is_pushed(&self.0.provider_id) {
            return Ok(None);
        }
        let (base_url, held_deactivations, days) = ctx.integrations()?.scim_endpoint(&self.0).await?;
        Ok(Some(super::scim::ScimEndpoint { base_url, held_deactivations, days }))
    }

    /// A spreadsheet connection's newest file; null for providers with an API.
    async fn latest_upload(&self, ctx: &Context<'_>) -> ApiResult<Option<SpreadsheetUpload>> {
        Ok(ctx.integrations()?.latest_upload(&self.0).await?.map(SpreadsheetUpload))
    }

    /// The confirmed mapping changed since the last full sync.
    async fn resync_required(&self) -> bool {
        self.0.resync_required
    }

    async fn schedule(&self) -> SyncSchedule {
        SyncSchedule::from(&self.0)
    }

    async fn last_sync(&self, ctx: &Context<'_>) -> ApiResult<Option<SyncRun>> {
        let runs = ctx.integrations()?.runs_of(&self.0, 1).await?;
        Ok(runs.first().map(SyncRun::from))
    }

    #[graphql(complexity = "list_cost(first, MAX_RUNS, child_complexity)")]
    async fn sync_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
    ) -> ApiResult<Vec<SyncRun>> {
        let first = page_size(first, 20, MAX_RUNS, "first")?;
        let runs = ctx.integrations()?.runs_of(&self.0, first).await?;
        Ok(runs.iter().map(SyncRun::from).collect())
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

#[derive(SimpleObject)]
pub struct DataCategory {
    pub name: String,
    pub fields: Vec<ExternalField>,
}

#[derive(SimpleObject)]
pub struct ExternalField {
    pub key: String,
    pub label: String,
    pub r#type: String,
}

#[derive(SimpleObject)]
#[graphql(complex)]
pub struct SyncSchedule {
    pub enabled: bool,
    pub interval_minutes: i32,
    #[graphql(skip)]
    next_run_at: Option<DateTime<Utc>>,
}

#[ComplexObject]
impl SyncSchedule {
    async fn next_run_at(&self) -> Option<DateTime<Utc>> {
        self.next_run_at
    }
}

impl From<&stored::Model> for SyncSchedule {
    fn from(c: &stored::Model) -> Self {
        Self { enabled: c.schedule_enabled, interval_minutes: c.schedule_interval_minutes, next_run_at: c.next_run_at }
    }
}

/// The "Open Window" step: where to send the admin's browser.
#[derive(SimpleObject)]
pub struct CredentialAuthorization {
    pub connection: Connection,
    pub authorization_url: String,
    /// For providers with an embedded widget (Merge Link): open it with this token, then pass
    /// the public token it returns to `completeCredentialConnection`.
    pub link_token: Option<String>,
    /// The script that opens that widget in a page (Merge Link's `initialize.js`, defining
    /// `MergeLink.initialize({linkToken, onSuccess})` and `MergeLink.openLink()`); the admin
    /// portal's Content-Security-Policy allows it and the widget's frames.
    pub widget_script_url: Option<String>,
}
