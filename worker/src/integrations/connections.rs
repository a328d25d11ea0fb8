//! Connecting a workspace to a provider: by API key (or the keys the provider's form asks
//! for), or by a sign-in at the provider, which comes back through an OAuth redirect or from
//! an embedded widget.

use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveEnum, ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set,
};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use entity::connection::{self, AuthMethod as StoredAuthMethod, ConnectionStatus};
use entity::field_mapping::{self, MappingStatus};

use crate::credentials::Credentials;
use crate::environment::{begin_write, Environment};
use crate::error::{Error, Result};
use crate::events::Event;
use crate::providers::catalogue::{self, AuthMethod, CredentialKey, Provider, SignInProof, SignInRequest};
use crate::providers::{AccountInfo, Connector, ProviderError};
use crate::text::excerpt;
use crate::webhooks::{self, outbox, EventType};

/// Default scheduled sync interval: daily.
pub const DEFAULT_INTERVAL_MINUTES: i32 = 1440;

/// What the admin typed into the API-key form.
pub struct ApiKeyInput {
    pub provider_id: String,
    pub subdomain: Option<String>,
    pub api_key: SecretString,
    pub api_secret: Option<SecretString>,
    /// Where the provider takes one: the refresh token of the customer's API client, whose id
    /// and secret are then the key and the secret.
    pub refresh_token: Option<SecretString>,
}

/// Company domains are DNS labels: letters, digits and inner hyphens.
pub fn validate_subdomain(raw: &str) -> Result<String> {
    let subdomain = raw.trim().to_lowercase();
    let valid = !subdomain.is_empty()
        && subdomain.len() <= 63
        && subdomain.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !subdomain.starts_with('-')
        && !subdomain.ends_with('-');
    if valid {
        Ok(subdomain)
    } else {
        Err(Error::InvalidSubdomain(format!(
            "'{}' is not a valid company domain: use only letters, digits and hyphens, \
             without spaces or special characters",
            excerpt(raw.trim(), ECHOED_INPUT_CHARS)
        )))
    }
}

fn provider(provider_id: &str, method: AuthMethod) -> Result<&'static dyn Provider> {
    let provider = catalogue::find(provider_id).ok_or(Error::NotFound("provider"))?;
    if !provider.info().auth_methods().contains(&method) {
        return Err(Error::Validation {
            field: "providerId",
            message: format!("{} does not support this way of connecting", provider.info().name),
        });
    }
    Ok(provider)
}

fn subdomain_for(env: &Environment, provider: &dyn Provider, raw: Option<&str>) -> Result<Option<String>> {
    let info = provider.info();
    let name = info.name;
    match (info.subdomain_label(), raw.map(str::trim)) {
        (None, None | Some("")) => Ok(None),
        (None, Some(_)) => {
            Err(Error::Validation { field: "subdomain", message: format!("{name} needs no company domain") })
        }
        (Some(label), None) => Err(Error::InvalidSubdomain(format!("{name} needs the {label}"))),
        (Some(_), Some(raw)) => match provider.tenant_address(&env.providers.context(info.id), raw) {
            Some(address) => address.map(Some).map_err(Error::InvalidSubdomain),
            None => validate_subdomain(raw).map(Some),
        },
    }
}

/// The form's secrets as credentials: each field the provider asks for present, none other.
fn credentials_for(
    provider: &dyn Provider,
    api_key: SecretString,
    api_secret: Option<SecretString>,
    refresh_token: Option<SecretString>,
) -> Result<Credentials> {
    let info = provider.info();
    let given = |secret: Option<&SecretString>| secret.is_some_and(|s| !s.expose_secret().trim().is_empty());
    let label = |key: CredentialKey| info.credential_field(key).map_or(key.as_str(), |f| f.label);
    if !given(Some(&api_key)) {
        return Err(Error::Validation {
            field: "apiKey",
            message: format!("{} is empty", label(CredentialKey::ApiKey)),
        });
    }
    let secret = match (info.credential_field(CredentialKey::ApiSecret), given(api_secret.as_ref())) {
        (Some(_), true) => api_secret,
        (Some(field), false) => {
            return Err(Error::Validation { field: "apiSecret", message: format!("{} is empty", field.label) })
        }
        (None, true) => {
            return Err(Error::Validation {
                field: "apiSecret",
                message: format!("{} takes no second secret; leave apiSecret empty", info.name),
            })
        }
        (None, false) => None,
    };
    match (info.credential_field(CredentialKey::RefreshToken), given(refresh_token.as_ref()), refresh_token, secret) {
        (Some(_), true, Some(refresh_token), Some(client_secret)) => {
            Ok(Credentials::ApiClient { client_id: api_key, client_secret, refresh_token })
        }
        (None, true, _, _) => Err(Error::Validation {
            field: "refreshToken",
            message: format!("{} takes no refresh token; leave refreshToken empty", info.name),
        }),
        (_, _, _, secret) => Ok(Credentials::ApiKey { key: api_key, secret }),
    }
}

/// Verifies the key with one live read, then stores it encrypted. Reconnecting the same
/// provider tenant replaces the key on the existing connection.
pub async fn connect_with_api_key(
    env: &Environment,
    workspace_id: &str,
    input: ApiKeyInput,
) -> Result<connection::Model> {
    let provider = provider(&input.provider_id, AuthMethod::ApiKey)?;
    let subdomain = subdomain_for(env, provider, input.subdomain.as_deref())?;
    let credentials = credentials_for(provider, input.api_key, input.api_secret, input.refresh_token)?;
    let ctx = env.providers.context(provider.info().id);
    let account = provider.connector(&ctx, subdomain.as_deref(), &credentials)?.verify().await?;

    let live = [ConnectionStatus::PendingAuthorization, ConnectionStatus::Connected, ConnectionStatus::Failed];
    let existing = tenant_connection(env, workspace_id, provider, subdomain.as_deref(), &live).await?;
    let model = save_connection(env, workspace_id, provider, subdomain, existing, Uuid::now_v7(), |active| {
        active.auth_method = Set(StoredAuthMethod::ApiKey);
        connected(env, active, &credentials, account);
    })
    .await?;
    tracing::info!(connection_id = %model.id, provider = provider.info().id, "connected with an API key");
    Ok(model)
}

/// Marks `active` CONNECTED with `credentials`, sealed, and what verifying them learned.
fn connected(env: &Environment, active: &mut connection::ActiveModel, credentials: &Credentials, account: AccountInfo) {
    active.status = Set(ConnectionStatus::Connected);
    active.status_message = Set(None);
    active.credentials_ciphertext = Set(Some(env.cipher.seal(credentials)));
    active.credential_hint = Set(Some(credentials.hint()));
    active.linked_system = Set(account.linked_system);
    // New credentials may read other fields: discover them afresh.
    active.discovered_fields = Set(None);
    active.fields_discovered_at = Set(None);
}

pub(super) fn new_connection(
    id: Uuid,
    workspace_id: &str,
    provider: &dyn Provider,
    subdomain: Option<String>,
) -> connection::ActiveModel {
    let now = Utc::now();
    connection::ActiveModel {
        id: Set(id),
        workspace_id: Set(workspace_id.to_string()),
        provider_id: Set(provider.info().id.to_string()),
        auth_method: Set(StoredAuthMethod::ApiKey),
        subdomain: Set(subdomain),
        status: Set(ConnectionStatus::PendingAuthorization),
        status_message: Set(None),
        credentials_ciphertext: Set(None),
        credential_hint: Set(None),
        linked_system: Set(None),
        discovered_fields: Set(None),
        fields_discovered_at: Set(None),
        oauth_state: Set(None),
        schedule_enabled: Set(false),
        schedule_interval_minutes: Set(DEFAULT_INTERVAL_MINUTES),
        next_run_at: Set(None),
        resync_required: Set(false),
        push_token_hash: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored of a pending sign-in: a digest of its `state` with the browser binding, so a
/// database read cannot complete it, and neither can a `state` without its browser.
fn state_digest(state: &str, browser_binding: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(state.as_bytes());
    digest.update(b"\n");
    digest.update(browser_binding.as_bytes());
    format!("{:x}", digest.finalize())
}

/// A started "Open Window" sign-in.
pub struct SignInStarted {
    pub connection: connection::Model,
    /// Where to send the admin's browser.
    pub authorization_url: String,
    /// A secret for the browser that starts the sign-in (a cookie): the provider's redirect
    /// completes it only in that browser, so an admin cannot be tricked into finishing a
    /// sign-in someone else started (login CSRF), and a leaked callback URL is no use.
    pub browser_binding: String,
    /// For the provider's embedded widget, where it has one: the token to open it with, and
    /// the script that opens it.
    pub link_token: Option<String>,
    pub widget_script_url: Option<String>,
}

/// Starts the "Open Window" sign-in: a PENDING_AUTHORIZATION connection and where the admin
/// signs in. Only a digest of the sign-in's `state` is stored, so a database read cannot
/// complete someone's sign-in.
pub async fn begin_credential_connection(
    env: &Environment,
    workspace_id: &str,
    admin: &str,
    provider_id: &str,
    subdomain: Option<&str>,
    redirect_uri: &str,
) -> Result<SignInStarted> {
    let provider = provider(provider_id, AuthMethod::Credentials)?;
    let subdomain = subdomain_for(env, provider, subdomain)?;
    let state = random_token();
    let browser_binding = random_token();
    // An abandoned or failed sign-in to the same tenant is retried on its own connection.
    let unfinished = [ConnectionStatus::PendingAuthorization, ConnectionStatus::Failed];
    let existing = tenant_connection(env, workspace_id, provider, subdomain.as_deref(), &unfinished).await?;
    let connection_id = existing.as_ref().map_or_else(Uuid::now_v7, |c| c.id);
    let ctx = env.providers.context(provider.info().id);
    let request = SignInRequest {
        subdomain: subdomain.as_deref(),
        state: &state,
        redirect_uri,
        connection_id,
        workspace_id,
        admin,
    };
    let started = provider.begin_sign_in(&ctx, request).await?;
    let model = save_connection(env, workspace_id, provider, subdomain, existing, connection_id, |active| {
        active.auth_method = Set(StoredAuthMethod::Credentials);
        active.status = Set(ConnectionStatus::PendingAuthorization);
        active.oauth_state = Set(Some(state_digest(&state, &browser_binding)));
    })
    .await?;
    let widget_script_url = started.link_token.as_ref().and_then(|_| provider.widget(&ctx)).map(|w| w.script_url);
    Ok(SignInStarted {
        connection: model,
        authorization_url: started.authorization_url,
        browser_binding,
        link_token: started.link_token,
        widget_script_url,
    })
}

/// The workspace's connection to this provider tenant that is in one of `states`.
async fn tenant_connection(
    env: &Environment,
    workspace_id: &str,
    provider: &dyn Provider,
    subdomain: Option<&str>,
    states: &[ConnectionStatus],
) -> Result<Option<connection::Model>> {
    Ok(connection::Entity::find()
        .filter(connection::Column::WorkspaceId.eq(workspace_id))
        .filter(connection::Column::ProviderId.eq(provider.info().id))
        .filter(connection::Column::Subdomain.eq(subdomain))
        .filter(connection::Column::Status.is_in(states.iter().copied()))
        .one(&env.db)
        .await?)
}

/// Applies `change` to `existing`, or to a new connection with id `new_id`, and stores it.
async fn save_connection(
    env: &Environment,
    workspace_id: &str,
    provider: &dyn Provider,
    subdomain: Option<String>,
    existing: Option<connection::Model>,
    new_id: Uuid,
    change: impl FnOnce(&mut connection::ActiveModel),
) -> Result<connection::Model> {
    let is_new = existing.is_none();
    let mut active = match existing {
        Some(model) => model.into_active_model(),
        None => new_connection(new_id, workspace_id, provider, subdomain),
    };
    active.status_message = Set(None);
    change(&mut active);
    active.updated_at = Set(Utc::now());
    Ok(if is_new { active.insert(&env.db).await? } else { active.update(&env.db).await? })
}

/// How long an "Open Window" sign-in may take.
const SIGN_IN_WINDOW: chrono::Duration = chrono::Duration::minutes(15);

/// Most characters of a caller's input repeated in an error message.
const ECHOED_INPUT_CHARS: usize = 64;

/// Most characters of a provider's `error_description` kept in a status message.
const MAX_DENIAL_CHARS: usize = 200;

/// The provider redirected back from an OAuth sign-in: trade the code, verify access with one
/// read, and mark the connection CONNECTED or FAILED. `browser_bindings` are the bindings the
/// browser holds (one per sign-in it started). Answers `NotFound` for an unknown, used or
/// expired `state`, or one this browser did not start.
pub async fn complete_credential_connection(
    env: &Environment,
    state: &str,
    browser_bindings: &[&str],
    outcome: std::result::Result<&str, &str>,
    redirect_uri: &str,
) -> Result<connection::Model> {
    let digests: Vec<String> = browser_bindings.iter().map(|binding| state_digest(state, binding)).collect();
    let pending = connection::Entity::find()
        .filter(connection::Column::OauthState.is_in(digests))
        .filter(connection::Column::Status.eq(ConnectionStatus::PendingAuthorization))
        .filter(connection::Column::UpdatedAt.gt(Utc::now() - SIGN_IN_WINDOW))
        .one(&env.db)
        .await?
        .ok_or(Error::NotFound("pending sign-in"))?;
    let outcome = outcome.map(|code| SignInProof::AuthorizationCode { code, redirect_uri });
    finish_sign_in(env, pending, outcome).await
}

/// The frontend hands over what the provider's embedded widget returned: trade it, verify access
/// with one read, and mark the connection CONNECTED or FAILED.
pub async fn complete_linked_sign_in(
    env: &Environment,
    connection: connection::Model,
    public_token: &str,
) -> Result<connection::Model> {
    let provider = catalogue::find(&connection.provider_id).ok_or(Error::NotFound("provider"))?;
    if provider.info().sign_in != Some(catalogue::SignIn::EmbeddedLink) {
        return Err(Error::Validation {
            field: "connectionId",
            message: format!("{} sign-ins finish at the provider's redirect, not here", provider.info().name),
        });
    }
    let waiting = connection.status == ConnectionStatus::PendingAuthorization
        && connection.oauth_state.is_some()
        && connection.updated_at > Utc::now() - SIGN_IN_WINDOW;
    if !waiting {
        return Err(Error::Validation {
            field: "connectionId",
            message: "this connection is not waiting for a sign-in; start again with beginCredentialConnection".into(),
        });
    }
    if public_token.trim().is_empty() {
        return Err(Error::Validation { field: "publicToken", message: "publicToken is empty".into() });
    }
    finish_sign_in(env, connection, Ok(SignInProof::PublicToken(public_token))).await
}

/// Consumes the pending sign-in of `pending`, trades `outcome` for credentials, verifies them,
/// and stores the result.
async fn finish_sign_in(
    env: &Environment,
    pending: connection::Model,
    outcome: std::result::Result<SignInProof<'_>, &str>,
) -> Result<connection::Model> {
    // Consume the state before trading: a reloaded or prefetched callback, or a second
    // completion, finds nothing.
    let consumed = connection::Entity::update_many()
        .col_expr(connection::Column::OauthState, Expr::value(Option::<String>::None))
        .filter(connection::Column::Id.eq(pending.id))
        .filter(connection::Column::OauthState.eq(pending.oauth_state.clone()))
        .exec(&env.db)
        .await?;
    if consumed.rows_affected != 1 {
        return Err(Error::NotFound("pending sign-in"));
    }
    let provider = catalogue::find(&pending.provider_id).ok_or(Error::NotFound("provider"))?;
    let ctx = env.providers.context(provider.info().id);
    let subdomain = pending.subdomain.clone();
    let verified = match outcome {
        Err(denied) => Err(format!(
            "the sign-in was not completed at {}: {}",
            provider.info().name,
            excerpt(denied, MAX_DENIAL_CHARS)
        )),
        Ok(proof) => {
            let attempt = async {
                let credentials = provider.complete_sign_in(&ctx, subdomain.as_deref(), proof).await?;
                let account = provider.connector(&ctx, subdomain.as_deref(), &credentials)?.verify().await?;
                Ok::<_, ProviderError>((credentials, account))
            };
            attempt.await.map_err(|e| e.to_string())
        }
    };
    let mut active = pending.into_active_model();
    active.oauth_state = Set(None);
    active.updated_at = Set(Utc::now());
    match verified {
        Ok((credentials, account)) => connected(env, &mut active, &credentials, account),
        Err(message) => {
            active.status = Set(ConnectionStatus::Failed);
            active.status_message = Set(Some(message));
        }
    }
    // A disconnect or a new sign-in started during the exchange wins over this outcome.
    let model = connection::Entity::update(active)
        .validate()?
        .filter(connection::Column::Status.eq(ConnectionStatus::PendingAuthorization))
        .filter(connection::Column::OauthState.is_null())
        .exec(&env.db)
        .await
        .map_err(|err| match err {
            sea_orm::DbErr::RecordNotUpdated => Error::NotFound("pending sign-in"),
            other => other.into(),
        })?;
    env.events.publish(Event::ConnectionChanged { connection_id: model.id }).await;
    Ok(model)
}

/// Forgets the credentials and stops the schedule; synced users stay in the directory.
pub async fn disconnect(env: &Environment, connection: connection::Model) -> Result<connection::Model> {
    let mut active = connection.into_active_model();
    active.status = Set(ConnectionStatus::Disconnected);
    active.status_message = Set(None);
    active.credentials_ciphertext = Set(None);
    active.oauth_state = Set(None);
    active.schedule_enabled = Set(false);
    active.next_run_at = Set(None);
    active.updated_at = Set(Utc::now());
    let model = active.update(&env.db).await?;
    super::runs::request_cancel_active(env, model.id).await?;
    env.events.publish(Event::ConnectionChanged { connection_id: model.id }).await;
    Ok(model)
}

/// A connection of the workspace, or `NotFound` (also for another workspace's id).
pub async fn find(db: &DatabaseConnection, workspace_id: &str, id: Uuid) -> Result<connection::Model> {
    connection::Entity::find_by_id(id)
        .filter(connection::Column::WorkspaceId.eq(workspace_id))
        .one(db)
        .await?
        .ok_or(Error::NotFound("connection"))
}

/// The workspace's connections among `ids`; unknown ids are left out.
pub async fn find_many(db: &DatabaseConnection, workspace_id: &str, ids: Vec<Uuid>) -> Result<Vec<connection::Model>> {
    Ok(connection::Entity::find()
        .filter(connection::Column::WorkspaceId.eq(workspace_id))
        .filter(connection::Column::Id.is_in(ids))
        .all(db)
        .await?)
}

pub async fn list(db: &DatabaseConnection, workspace_id: &str) -> Result<Vec<connection::Model>> {
    Ok(connection::Entity::find()
        .filter(connection::Column::WorkspaceId.eq(workspace_id))
        .order_by_asc(connection::Column::CreatedAt)
        .all(db)
        .await?)
}

/// How long before expiry OAuth credentials are refreshed.
const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);

/// A live connector for a CONNECTED connection, refreshing (and storing) OAuth credentials
/// that are about to expire.
pub async fn open_connector(env: &Environment, connection: &connection::Model) -> Result<Box<dyn Connector>> {
    let provider = catalogue::find(&connection.provider_id).ok_or(Error::NotFound("provider"))?;
    let mut ctx = env.providers.context(provider.info().id);
    ctx.connection_id = Some(connection.id);
    let sealed = match (&connection.status, &connection.credentials_ciphertext) {
        (ConnectionStatus::Connected, Some(sealed)) => sealed,
        // An uploaded file, or a provider that pushes to us, has nothing to sign in with.
        (ConnectionStatus::Connected, None) if provider.info().uploaded || provider.info().pushed => {
            return Ok(provider.connector(&ctx, connection.subdomain.as_deref(), &Credentials::None)?);
        }
        (status, _) => return Err(Error::NotConnected(status.to_value())),
    };
    let mut credentials = env.cipher.open(sealed)?;
    if let Some(refresh_token) = credentials.refresh_due(REFRESH_MARGIN) {
        credentials = match provider.refresh_tokens(&ctx, connection.subdomain.as_deref(), refresh_token).await {
            Ok(fresh) => fresh,
            Err(err @ ProviderError::InvalidCredentials(_)) => {
                mark_failed(env, connection.id, "the provider no longer accepts this sign-in; sign in again").await?;
                return Err(err.into());
            }
            Err(err) => return Err(err.into()),
        };
        // Only replace the credentials this call read: a concurrent refresh or a disconnect wins.
        let stored = connection::Entity::update_many()
            .col_expr(connection::Column::CredentialsCiphertext, Expr::value(env.cipher.seal(&credentials)))
            .col_expr(connection::Column::CredentialHint, Expr::value(credentials.hint()))
            .col_expr(connection::Column::UpdatedAt, Expr::value(Utc::now()))
            .filter(connection::Column::Id.eq(connection.id))
            .filter(connection::Column::Status.eq(ConnectionStatus::Connected))
            .filter(connection::Column::CredentialsCiphertext.eq(sealed.clone()))
            .exec(&env.db)
            .await?;
        if stored.rows_affected == 0 {
            let current = connection::Entity::find_by_id(connection.id)
                .one(&env.db)
                .await?
                .ok_or(Error::NotFound("connection"))?;
            return match (&current.status, &current.credentials_ciphertext) {
                (ConnectionStatus::Connected, Some(sealed)) => {
                    Ok(provider.connector(&ctx, current.subdomain.as_deref(), &env.cipher.open(sealed)?)?)
                }
                (status, _) => Err(Error::NotConnected(status.to_value())),
            };
        }
        tracing::info!(connection_id = %connection.id, "refreshed OAuth credentials");
    }
    Ok(provider.connector(&ctx, connection.subdomain.as_deref(), &credentials)?)
}

/// Runs `work` (calls to the connection's provider); when the provider refuses the
/// credentials, the connection is marked FAILED (see [`fail_if_refused`]) before the error is
/// answered.
pub async fn noting_refusal<T>(
    env: &Environment,
    connection_id: Uuid,
    work: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    let done = work.await;
    if let Err(err) = &done {
        fail_if_refused(env, connection_id, err).await?;
    }
    done
}

/// When `err` says the provider refused the connection's credentials (a revoked key, a withdrawn
/// sign-in), marks the connection FAILED with what to do: it stops syncing on schedule, and
/// `connectionStatus` says so, until the admin reconnects it.
pub async fn fail_if_refused(env: &Environment, connection_id: Uuid, err: &Error) -> Result<()> {
    if let Error::Provider(ProviderError::InvalidCredentials(detail)) = err {
        let message = format!(
            "the provider no longer accepts this connection's credentials ({}); reconnect it with a new \
             API key, or sign in again",
            excerpt(detail, MAX_DENIAL_CHARS)
        );
        mark_failed(env, connection_id, &message).await?;
        tracing::warn!(%connection_id, "the provider refused the credentials; the connection is FAILED");
    }
    Ok(())
}

async fn mark_failed(env: &Environment, connection_id: Uuid, message: &str) -> Result<()> {
    let txn = begin_write(&env.db).await?;
    let before = connection::Entity::find_by_id(connection_id).one(&txn).await?;
    let failed = connection::Entity::update_many()
        .col_expr(connection::Column::Status, Expr::value(ConnectionStatus::Failed))
        .col_expr(connection::Column::StatusMessage, Expr::value(message))
        .col_expr(connection::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(connection::Column::Id.eq(connection_id))
        .exec_with_returning(&txn)
        .await?;
    // Announced when it fails, not again for each refused call after.
    if before.is_some_and(|c| c.status != ConnectionStatus::Failed) {
        for connection in &failed {
            let data = webhooks::payload::connection(connection);
            outbox::emit(&txn, &connection.workspace_id, EventType::ConnectionFailed, None, data).await?;
        }
    }
    txn.commit().await?;
    env.events.publish(Event::ConnectionChanged { connection_id }).await;
    Ok(())
}

/// A FULL sync with the latest confirmed mapping applied it: no re-sync is owed any more.
pub async fn clear_resync_required(db: &DatabaseConnection, connection_id: Uuid, mapping_version: i32) -> Result<()> {
    let latest = field_mapping::Entity::find()
        .filter(field_mapping::Column::ConnectionId.eq(connection_id))
        .filter(field_mapping::Column::Status.eq(MappingStatus::Confirmed))
        .order_by_desc(field_mapping::Column::ConfirmedAt)
        .one(db)
        .await?;
    if latest.is_some_and(|m| m.version == mapping_version) {
        connection::Entity::update_many()
            .col_expr(connection::Column::ResyncRequired, Expr::value(false))
            .filter(connection::Column::Id.eq(connection_id))
            .exec(db)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subdomains_are_dns_labels() {
        assert_eq!(validate_subdomain(" Acme-Corp ").unwrap(), "acme-corp");
        for bad in ["", "acme corp", "acme!", "acme.com", "-acme", "ac/me"] {
            assert!(matches!(validate_subdomain(bad), Err(Error::InvalidSubdomain(_))), "{bad:?}");
        }
    }
}
