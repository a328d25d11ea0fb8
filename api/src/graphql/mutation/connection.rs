use async_graphql::{Context, InputObject, Object, Upload, ID};
use secrecy::SecretString;
use validator::{Validate, ValidationError};

use worker::integrations::connections::ApiKeyInput;
use worker::integrations::uploads::UploadInput;

use super::validation_error;
use crate::access::ConnectionId;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::ContextExt;
use crate::graphql::types::connection::{Connection, CredentialAuthorization};
use crate::graphql::types::scim::ScimCredentials;
use crate::graphql::types::upload::SpreadsheetUpload;

fn must_be_true(value: &bool) -> Result<(), ValidationError> {
    if *value {
        Ok(())
    } else {
        Err(ValidationError::new("must_be_true").with_message("must be confirmed before connecting".into()))
    }
}

#[derive(InputObject, Validate)]
pub struct ConnectWithApiKeyInput {
    pub provider_id: ID,
    pub subdomain: Option<String>,
    #[validate(length(min = 1, max = 1024, message = "the API key must be 1 to 1024 characters"))]
    pub api_key: String,
    /// second secret where a provider needs one (client secret, service-user token)
    #[validate(length(max = 1024, message = "the API secret must be at most 1024 characters"))]
    pub api_secret: Option<String>,
    /// where a provider takes one (Workday): the refresh token of your own API client, whose
    /// client ID and secret are then apiKey and apiSecret
    #[validate(length(max = 4096, message = "the refresh token must be at most 4096 characters"))]
    pub refresh_token: Option<String>,
    /// "I am an admin"
    #[validate(custom(function = "must_be_true"))]
    pub admin_confirmed: bool,
    /// read permissions + end-user terms
    #[validate(custom(function = "must_be_true"))]
    pub terms_accepted: bool,
}

#[derive(InputObject, Validate)]
pub struct BeginCredentialConnectionInput {
    pub provider_id: ID,
    pub subdomain: Option<String>,
    #[validate(custom(function = "must_be_true"))]
    pub admin_confirmed: bool,
    #[validate(custom(function = "must_be_true"))]
    pub terms_accepted: bool,
}

#[derive(Default)]
pub struct ConnectionMutation;

#[Object]
impl ConnectionMutation {
    /// Verifies the key with one live read call and stores it encrypted.
    async fn connect_with_api_key(&self, ctx: &Context<'_>, input: ConnectWithApiKeyInput) -> ApiResult<Connection> {
        let integrations = ctx.integrations()?;
        input.validate().map_err(validation_error)?;
        let model = integrations
            .connect_with_api_key(ApiKeyInput {
                provider_id: input.provider_id.to_string(),
                subdomain: input.subdomain,
                api_key: SecretString::from(input.api_key),
                api_secret: input.api_secret.map(SecretString::from),
                refresh_token: input.refresh_token.map(SecretString::from),
            })
            .await?;
        Ok(Connection(model))
    }

    /// Starts the "Open Window" sign-in; the provider redirects to GET /oauth/callback. Call it
    /// over HTTP from the browser that opens the window: its answer sets the cookie that
    /// callback needs, so the sign-in completes only in that browser.
    async fn begin_credential_connection(
        &self,
        ctx: &Context<'_>,
        input: BeginCredentialConnectionInput,
    ) -> ApiResult<CredentialAuthorization> {
        let integrations = ctx.integrations()?;
        input.validate().map_err(validation_error)?;
        let started =
            integrations.begin_credential_connection(input.provider_id.as_str(), input.subdomain.as_deref()).await?;
        let cookie = crate::http::sign_in_cookie::set(
            started.connection.id,
            &started.browser_binding,
            integrations.public_url(),
        );
        ctx.append_http_header("Set-Cookie", cookie);
        Ok(CredentialAuthorization {
            connection: Connection(started.connection),
            authorization_url: started.authorization_url,
            link_token: started.link_token,
            widget_script_url: started.widget_script_url,
        })
    }

    /// Finishes a sign-in made in the provider's embedded widget (Merge Link) with the public
    /// token it returned; the connection becomes CONNECTED or FAILED (see `connectionStatus`).
    async fn complete_credential_connection(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
        public_token: String,
    ) -> ApiResult<Connection> {
        let integrations = ctx.integrations()?;
        let id = ConnectionId::parse(&connection_id, "connectionId")?;
        if public_token.len() > 1024 {
            return Err(ApiError::validation("publicToken", "publicToken must be at most 1024 characters"));
        }
        Ok(Connection(integrations.complete_linked_sign_in(id, &public_token).await?))
    }

    /// Uploads a spreadsheet (CSV in UTF-8, UTF-16 or Windows-1252, comma-, semicolon- or
    /// tab-separated; or Excel .xlsx) as a source, by the GraphQL multipart request spec. Without
    /// `connectionId` it connects a new spreadsheet (which `adminConfirmed` and `termsAccepted`
    /// must confirm); with one, the file replaces that connection's source for its next sync.
    /// A file that cannot be read as a table of people is VALIDATION_FAILED naming `file`; one
    /// over UPLOAD_MAX_BYTES is refused before it is read.
    async fn upload_spreadsheet(
        &self,
        ctx: &Context<'_>,
        connection_id: Option<ID>,
        file: Upload,
        #[graphql(default = false)] admin_confirmed: bool,
        #[graphql(default = false)] terms_accepted: bool,
    ) -> ApiResult<SpreadsheetUpload> {
        let integrations = ctx.integrations()?;
        let connection_id = connection_id.map(|id| ConnectionId::parse(&id, "connectionId")).transpose()?;
        if connection_id.is_none() {
            for (confirmed, field) in [(admin_confirmed, "adminConfirmed"), (terms_accepted, "termsAccepted")] {
                if !confirmed {
                    return Err(ApiError::validation(field, format!("{field}: must be confirmed before connecting")));
                }
            }
        }
        let value =
            file.value(ctx).map_err(|err| ApiError::validation("file", format!("the file did not arrive: {err}")))?;
        let file_name: String = value.filename.chars().take(255).collect();
        let input = UploadInput { connection_id: connection_id.map(|id| id.0), file_name, file: value.content };
        let (_, upload) = integrations.upload_spreadsheet(input).await?;
        Ok(SpreadsheetUpload(upload))
    }

    /// Connects an identity provider over SCIM ("SCIM (Okta, Entra ID, …)" in the catalogue):
    /// answers the base URL and the bearer token to paste into the identity provider. The
    /// token is shown this once; `adminConfirmed` and `termsAccepted` must confirm.
    async fn connect_scim(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] admin_confirmed: bool,
        #[graphql(default = false)] terms_accepted: bool,
    ) -> ApiResult<ScimCredentials> {
        let integrations = ctx.integrations()?;
        for (confirmed, field) in [(admin_confirmed, "adminConfirmed"), (terms_accepted, "termsAccepted")] {
            if !confirmed {
                return Err(ApiError::validation(field, format!("{field}: must be confirmed before connecting")));
            }
        }
        let (connection, base_url, token) = integrations.connect_scim().await?;
        Ok(ScimCredentials { connection: Connection(connection), base_url, token })
    }

    /// A new bearer token for a SCIM connection, shown this once; the old one stops working at
    /// once. VALIDATION_FAILED for a connection that is not SCIM.
    async fn rotate_scim_token(&self, ctx: &Context<'_>, connection_id: ID) -> ApiResult<ScimCredentials> {
        let integrations = ctx.integrations()?;
        let id = ConnectionId::parse(&connection_id, "connectionId")?;
        let (connection, base_url, token) = integrations.rotate_scim_token(id).await?;
        Ok(ScimCredentials { connection: Connection(connection), base_url, token })
    }

    /// Deactivates the people whose SCIM deactivation the guard held (see
    /// `Connection.scim.heldDeactivations`).
    async fn confirm_scim_deactivations(&self, ctx: &Context<'_>, connection_id: ID) -> ApiResult<Connection> {
        let integrations = ctx.integrations()?;
        let id = ConnectionId::parse(&connection_id, "connectionId")?;
        let (connection, _) = integrations.confirm_scim_deactivations(id).await?;
        Ok(Connection(connection))
    }

    /// Forgets the credentials; synced users stay.
    async fn disconnect(&self, ctx: &Context<'_>, connection_id: ID) -> ApiResult<Connection> {
        let integrations = ctx.integrations()?;
        Ok(Connection(integrations.disconnect(ConnectionId::parse(&connection_id, "connectionId")?).await?))
    }
}
