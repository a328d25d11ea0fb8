use async_graphql::{Context, InputObject, Object, ID};
use secrecy::SecretString;
use validator::{Validate, ValidationError};

use worker::integrations::connections::{self, ApiKeyInput};

use super::validation_error;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{admin_connection, ContextExt};
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
        let viewer = ctx.integrations_admin()?;
        input.validate().map_err(validation_error)?;
        let model = connections::connect_with_api_key(
            &ctx.api().env,
            &viewer.workspace_id,
            ApiKeyInput {
                provider_id: input.provider_id.to_string(),
                subdomain: input.subdomain,
                api_key: SecretString::from(input.api_key),
                api_secret: input.api_secret.map(SecretString::from),
            },
        )
        .await
        .map_err(ApiError::from)?;
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
        let viewer = ctx.integrations_admin()?;
        input.validate().map_err(validation_error)?;
        let api = ctx.api();
        let started = connections::begin_credential_connection(
            &api.env,
            &viewer.workspace_id,
            &viewer.subject,
            input.provider_id.as_str(),
            input.subdomain.as_deref(),
            &api.redirect_uri(),
        )
        .await
        .map_err(ApiError::from)?;
        ctx.append_http_header(
            "Set-Cookie",
            crate::http::sign_in_cookie::set(started.connection.id, &started.browser_binding, &api.public_url),
        );
        Ok(CredentialAuthorization {
            connection: Connection(started.connection),
            authorization_url: started.authorization_url,
            link_token: started.link_token,
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
        let (_, connection) = admin_connection(ctx, &connection_id).await?;
        if public_token.len() > 1024 {
            return Err(ApiError::validation("publicToken", "publicToken must be at most 1024 characters").into());
        }
        let env = &ctx.api().env;
        let model =
            connections::complete_linked_sign_in(env, connection, &public_token).await.map_err(ApiError::from)?;
        Ok(Connection(model))
    }

    /// Forgets the credentials; synced users stay.
    async fn disconnect(&self, ctx: &Context<'_>, connection_id: ID) -> ApiResult<Connection> {
        let (_, connection) = admin_connection(ctx, &connection_id).await?;
        let env = &ctx.api().env;
        Ok(Connection(connections::disconnect(env, connection).await.map_err(ApiError::from)?))
    }
}
