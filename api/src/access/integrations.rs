//! The integrations of one workspace: what an admin on the paid plan may do. Every use case the
//! API offers for connections, mappings and syncs is a method here.

use entity::{connection, directory_user, spreadsheet_upload, sync_issue, sync_run, user_change, user_source};
use tokio::sync::broadcast;
use worker::events::{Event, RunSnapshot};
use worker::history;
use worker::integrations::connections::{self, ApiKeyInput, SignInStarted};
use worker::integrations::mappings::{self, MappingView, PreviewRow};
use worker::integrations::uploads::UploadInput;
use worker::integrations::{runs, schedule};
use worker::joins;
use worker::mapping::MappingEntry;
use worker::providers::ExternalField;

use super::loaders::ConnectionKey;
use super::{ConnectionId, DirectoryAccess, RequestMemo, RunId, SyncIssueId, UserId};
use crate::error::ApiError;

#[derive(Clone)]
pub struct IntegrationsAccess {
    directory: DirectoryAccess,
    /// Who is acting, for `triggeredBy` and sign-ins.
    subject: String,
}

impl IntegrationsAccess {
    pub(super) fn new(directory: DirectoryAccess, subject: String) -> Self {
        Self { directory, subject }
    }

    fn env(&self) -> &worker::Environment {
        &self.directory.api().0.env
    }

    fn workspace(&self) -> &str {
        self.directory.workspace().as_str()
    }

    /// `connection`, when it belongs to this workspace: nested fields are resolved only for
    /// what this handle itself handed out.
    fn own<'m>(&self, connection: &'m connection::Model) -> Result<&'m connection::Model, ApiError> {
        if connection.workspace_id == self.workspace() {
            Ok(connection)
        } else {
            Err(ApiError::not_found("connection"))
        }
    }

    /// Where this service is reached from outside (for cookies and redirects).
    pub fn public_url(&self) -> &str {
        self.directory.api().public_url()
    }

    pub async fn connections(&self) -> Result<Vec<connection::Model>, ApiError> {
        Ok(connections::list(&self.env().db, self.workspace()).await?)
    }

    /// The connection, or NOT_FOUND.
    pub async fn connection(&self, id: ConnectionId) -> Result<connection::Model, ApiError> {
        Ok(connections::find(&self.env().db, self.workspace(), id.0).await?)
    }

    /// The connection, or `None`.
    pub async fn find_connection(&self, id: ConnectionId) -> Result<Option<connection::Model>, ApiError> {
        optional(connections::find(&self.env().db, self.workspace(), id.0).await)
    }

    /// The connection by id, batched with others asked for at the same time.
    pub async fn connection_batched(&self, id: ConnectionId) -> Result<Option<connection::Model>, ApiError> {
        let loaders = &self.directory.api().0.loaders;
        loaders.load_one(ConnectionKey { workspace_id: self.workspace().to_string(), id: id.0 }).await
    }

    /// The connection a user was synced by.
    pub async fn connection_of_source(
        &self,
        source: &user_source::Model,
    ) -> Result<Option<connection::Model>, ApiError> {
        self.connection_batched(ConnectionId(source.connection_id)).await
    }

    pub async fn connect_with_api_key(&self, input: ApiKeyInput) -> Result<connection::Model, ApiError> {
        Ok(connections::connect_with_api_key(self.env(), self.workspace(), input).await?)
    }

    pub async fn upload_spreadsheet(
        &self,
        input: UploadInput,
    ) -> Result<(connection::Model, spreadsheet_upload::Model), ApiError> {
        Ok(worker::integrations::uploads::upload_spreadsheet(self.env(), self.workspace(), input).await?)
    }

    /// Connects a SCIM source; answers the connection, its base URL and its token (shown once).
    pub async fn connect_scim(&self) -> Result<(connection::Model, String, secrecy::SecretString), ApiError> {
        let (connection, token) = worker::integrations::scim::connect(self.env(), self.workspace()).await?;
        let base_url = self.directory.api().scim_base_url(connection.id);
        Ok((connection, base_url, token))
    }

    /// A new token for a SCIM connection; the old one stops working at once.
    pub async fn rotate_scim_token(
        &self,
        id: ConnectionId,
    ) -> Result<(connection::Model, String, secrecy::SecretString), ApiError> {
        let connection = self.connection(id).await?;
        let (connection, token) = worker::integrations::scim::rotate_token(self.env(), connection).await?;
        let base_url = self.directory.api().scim_base_url(connection.id);
        Ok((connection, base_url, token))
    }

    /// Deactivates the people whose SCIM deactivation the guard held.
    pub async fn confirm_scim_deactivations(&self, id: ConnectionId) -> Result<(connection::Model, u64), ApiError> {
        let connection = self.connection(id).await?;
        let confirmed = worker::integrations::scim::confirm_held(self.env(), &connection).await?;
        Ok((connection, confirmed))
    }

    /// A SCIM connection's base URL, held deactivations and recent activity.
    pub async fn scim_endpoint(
        &self,
        connection: &connection::Model,
    ) -> Result<(String, u64, Vec<entity::scim_activity::Model>), ApiError> {
        let connection = self.own(connection)?;
        let env = self.env();
        let held = worker::integrations::scim::held_count(env, connection.id).await?;
        let days = worker::scim::activity::recent(&env.db, connection.id, 30).await.map_err(worker::Error::from)?;
        Ok((self.directory.api().scim_base_url(connection.id), held, days))
    }

    /// The connection's newest upload, for a spreadsheet connection.
    pub async fn latest_upload(
        &self,
        connection: &connection::Model,
    ) -> Result<Option<spreadsheet_upload::Model>, ApiError> {
        let upload = worker::uploads::latest(&self.env().db, self.own(connection)?.id).await;
        Ok(upload.map_err(worker::Error::from)?)
    }

    pub async fn begin_credential_connection(
        &self,
        provider_id: &str,
        subdomain: Option<&str>,
    ) -> Result<SignInStarted, ApiError> {
        let redirect_uri = self.directory.api().redirect_uri();
        let (env, workspace) = (self.env(), self.workspace());
        Ok(connections::begin_credential_connection(
            env,
            workspace,
            &self.subject,
            provider_id,
            subdomain,
            &redirect_uri,
        )
        .await?)
    }

    pub async fn complete_linked_sign_in(
        &self,
        id: ConnectionId,
        public_token: &str,
    ) -> Result<connection::Model, ApiError> {
        let connection = self.connection(id).await?;
        Ok(connections::complete_linked_sign_in(self.env(), connection, public_token).await?)
    }

    pub async fn disconnect(&self, id: ConnectionId) -> Result<connection::Model, ApiError> {
        let connection = self.connection(id).await?;
        Ok(connections::disconnect(self.env(), connection).await?)
    }

    /// The provider fields the connection can read: once per HTTP request (`memo`), and from
    /// the connection's kept fields while they are fresh.
    pub async fn accessible_fields(
        &self,
        connection: &connection::Model,
        memo: Option<&RequestMemo>,
    ) -> Result<Vec<ExternalField>, ApiError> {
        let connection = self.own(connection)?;
        match memo {
            Some(memo) => memo.accessible_fields(self.env(), connection).await,
            None => Ok(worker::integrations::fields::accessible_fields(self.env(), connection).await?),
        }
    }

    /// The latest saved mapping, or a suggestion before the first save.
    pub async fn latest_or_suggested_mapping(&self, connection: &connection::Model) -> Result<MappingView, ApiError> {
        Ok(mappings::latest_or_suggested(self.env(), self.own(connection)?).await?)
    }

    pub async fn confirmed_mapping(&self, connection: &connection::Model) -> Result<Option<MappingView>, ApiError> {
        Ok(mappings::confirmed(&self.env().db, self.own(connection)?.id).await?)
    }

    pub async fn save_mapping(
        &self,
        id: ConnectionId,
        entries: Vec<MappingEntry>,
        hiring_team: Option<bool>,
    ) -> Result<MappingView, ApiError> {
        let connection = self.connection(id).await?;
        Ok(mappings::save(self.env(), &connection, entries, hiring_team).await?)
    }

    pub async fn confirm_mapping(&self, id: ConnectionId, version: i32) -> Result<MappingView, ApiError> {
        let connection = self.connection(id).await?;
        Ok(mappings::confirm(self.env(), &connection, version).await?)
    }

    pub async fn preview_mapping(
        &self,
        id: ConnectionId,
        entries: Option<Vec<MappingEntry>>,
        limit: usize,
    ) -> Result<Vec<PreviewRow>, ApiError> {
        let connection = self.connection(id).await?;
        Ok(mappings::preview(self.env(), &connection, entries, limit).await?)
    }

    pub async fn runs_of(
        &self,
        connection: &connection::Model,
        limit: usize,
    ) -> Result<Vec<sync_run::Model>, ApiError> {
        Ok(runs::list(&self.env().db, self.own(connection)?.id, limit as u64).await?)
    }

    pub async fn issues_of(&self, run: &RunSnapshot, limit: usize) -> Result<Vec<sync_issue::Model>, ApiError> {
        if run.workspace_id != self.workspace() {
            return Err(ApiError::not_found("sync run"));
        }
        Ok(runs::issues(&self.env().db, run.id, limit as u64).await?)
    }

    /// What `run` changed, in order: up to `first` entries after the entry `after`.
    pub async fn changes_of(
        &self,
        run: &RunSnapshot,
        first: usize,
        after: Option<uuid::Uuid>,
    ) -> Result<Vec<user_change::Model>, ApiError> {
        if run.workspace_id != self.workspace() {
            return Err(ApiError::not_found("sync run"));
        }
        let scope = history::Scope::Run(run.id);
        Ok(history::page(&self.env().db, self.workspace(), scope, first as u64, after).await?)
    }

    /// The run, or NOT_FOUND.
    pub async fn run(&self, id: RunId) -> Result<sync_run::Model, ApiError> {
        Ok(runs::find(&self.env().db, self.workspace(), id.0).await?)
    }

    /// The run, or `None`.
    pub async fn find_run(&self, id: RunId) -> Result<Option<sync_run::Model>, ApiError> {
        optional(runs::find(&self.env().db, self.workspace(), id.0).await)
    }

    pub async fn start_sync(&self, id: ConnectionId, mode: sync_run::SyncMode) -> Result<sync_run::Model, ApiError> {
        let connection = self.connection(id).await?;
        let queue = self.directory.api().0.queue.as_ref();
        Ok(runs::start_sync(self.env(), queue, &connection, mode, format!("admin:{}", self.subject)).await?)
    }

    pub async fn cancel_sync(&self, id: RunId) -> Result<sync_run::Model, ApiError> {
        let run = self.run(id).await?;
        Ok(runs::cancel_sync(self.env(), run).await?)
    }

    /// Applies the deactivations the guard held in the run.
    pub async fn confirm_deactivations(&self, id: RunId) -> Result<sync_run::Model, ApiError> {
        let run = self.run(id).await?;
        // The admin's decision, listed among the changes of the run that held them.
        let author = history::Author { run_id: Some(run.id), ..history::Author::admin(&self.subject) };
        Ok(worker::sync::confirm_deactivations(self.env(), run, &author).await?)
    }

    pub async fn set_schedule(
        &self,
        id: ConnectionId,
        enabled: bool,
        interval_minutes: Option<i32>,
    ) -> Result<connection::Model, ApiError> {
        let connection = self.connection(id).await?;
        Ok(schedule::set_schedule(self.env(), connection, enabled, interval_minutes).await?)
    }

    /// Joins two people the sync could not match (see `worker::joins`).
    pub async fn join_people(&self, into: UserId, other: UserId) -> Result<directory_user::Model, ApiError> {
        Ok(joins::join(&self.env().db, self.workspace(), &self.author(), into.0, other.0).await?)
    }

    /// Undoes the join that brought `connection`'s record into `user`; answers both people.
    pub async fn separate_people(
        &self,
        user: UserId,
        connection: ConnectionId,
    ) -> Result<Vec<directory_user::Model>, ApiError> {
        let connection = self.connection(connection).await?;
        Ok(joins::separate(&self.env().db, self.workspace(), &self.author(), user.0, connection.id).await?)
    }

    /// Says the two people of a POSSIBLE_DUPLICATE issue are not one.
    pub async fn dismiss_sync_issue(&self, id: SyncIssueId) -> Result<sync_issue::Model, ApiError> {
        Ok(joins::dismiss(&self.env().db, self.workspace(), id.0).await?)
    }

    fn author(&self) -> history::Author {
        history::Author::admin(&self.subject)
    }

    /// Events of every workspace; subscribers keep those about what this handle can read.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.env().events.subscribe()
    }
}

/// What a lookup found, `None` where it found nothing: for fields that answer null.
fn optional<T>(found: worker::Result<T>) -> Result<Option<T>, ApiError> {
    match found {
        Ok(model) => Ok(Some(model)),
        Err(worker::Error::NotFound(_)) => Ok(None),
        Err(err) => Err(err.into()),
    }
}
