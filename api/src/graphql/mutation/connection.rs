use async_graphql::{Context, InputObject, Object, ID};
use secrecy::SecretString;
use validator::{Validate, ValidationError};

use worker::integrations::connections::ApiKeyInput;

use super::validation_error;
use crate::access::ConnectionId;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::ContextExt;
use crate::graphql::types::connection::{Connection, CredentialAuthorization};

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

    /// Forgets the credentials; synced users stay.
    async fn disconnect(&self, ctx: &Context<'_>, connection_id: ID) -> ApiResult<Connection> {
        let integrations = ctx.integrations()?;
        Ok(Connection(integrations.disconnect(ConnectionId::parse(&connection_id, "connectionId")?).await?))
    }
}
