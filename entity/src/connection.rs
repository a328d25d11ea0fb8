//! A workspace's link to one provider tenant, with its encrypted credentials and schedule.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "connection")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub workspace_id: String,
    pub provider_id: String,
    pub auth_method: AuthMethod,
    pub subdomain: Option<String>,
    pub status: ConnectionStatus,
    pub status_message: Option<String>,
    /// AES-256-GCM sealed credentials (nonce || ciphertext); never leaves the server.
    pub credentials_ciphertext: Option<Vec<u8>>,
    pub credential_hint: Option<String>,
    /// Which system a bridge's linked account is ("BambooHR" behind Merge); `None` otherwise.
    pub linked_system: Option<String>,
    /// The provider fields last discovered (`ExternalField`s as JSON), and when; cleared when
    /// the credentials change.
    pub discovered_fields: Option<Json>,
    pub fields_discovered_at: Option<DateTimeUtc>,
    /// SHA-256 of the OAuth `state` while an authorization is pending.
    pub oauth_state: Option<String>,
    pub schedule_enabled: bool,
    pub schedule_interval_minutes: i32,
    pub next_run_at: Option<DateTimeUtc>,
    pub resync_required: bool,
    /// SHA-256 (hex) of the bearer token a provider that pushes changes (SCIM) presents; the
    /// token itself is shown once, never stored.
    pub push_token_hash: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum AuthMethod {
    #[sea_orm(string_value = "CREDENTIALS")]
    Credentials,
    #[sea_orm(string_value = "API_KEY")]
    ApiKey,
    /// A file the admin uploads.
    #[sea_orm(string_value = "UPLOAD")]
    Upload,
    /// The provider pushes its changes to us (SCIM) with a bearer token we issued.
    #[sea_orm(string_value = "PUSH")]
    Push,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(32))")]
pub enum ConnectionStatus {
    #[sea_orm(string_value = "PENDING_AUTHORIZATION")]
    PendingAuthorization,
    #[sea_orm(string_value = "CONNECTED")]
    Connected,
    #[sea_orm(string_value = "FAILED")]
    Failed,
    #[sea_orm(string_value = "DISCONNECTED")]
    Disconnected,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
