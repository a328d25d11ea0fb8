use async_graphql::{Context, Object, ID};

use crate::access::WebhookEndpointId;
use crate::error::ApiResult;
use crate::graphql::context::ContextExt;
use crate::graphql::types::webhook::{
    CreateWebhookEndpointInput, UpdateWebhookEndpointInput, WebhookDelivery, WebhookEndpoint, WebhookEndpointWithSecret,
};

#[derive(Default)]
pub struct WebhooksMutation;

#[Object]
impl WebhooksMutation {
    /// Subscribes an endpoint; answers its signing secret, which is not shown again.
    async fn create_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookEndpointInput,
    ) -> ApiResult<WebhookEndpointWithSecret> {
        Ok(ctx.webhooks()?.create(input.into()).await?.into())
    }

    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateWebhookEndpointInput,
    ) -> ApiResult<WebhookEndpoint> {
        let id = WebhookEndpointId::parse(&id, "id")?;
        Ok(WebhookEndpoint(ctx.webhooks()?.update(id, input.into()).await?))
    }

    /// Deletes the endpoint and its deliveries; false when there was none.
    async fn delete_webhook_endpoint(&self, ctx: &Context<'_>, id: ID) -> ApiResult<bool> {
        let id = WebhookEndpointId::parse(&id, "id")?;
        ctx.webhooks()?.delete(id).await
    }

    /// A new signing secret, answered once; deliveries carry a signature with the old one too
    /// for 24 hours, so receivers can switch over.
    async fn rotate_webhook_secret(&self, ctx: &Context<'_>, id: ID) -> ApiResult<WebhookEndpointWithSecret> {
        let id = WebhookEndpointId::parse(&id, "id")?;
        Ok(ctx.webhooks()?.rotate_secret(id).await?.into())
    }

    /// Queues a `webhook.test` event for the endpoint; answers its delivery.
    async fn send_test_webhook(&self, ctx: &Context<'_>, endpoint_id: ID) -> ApiResult<WebhookDelivery> {
        let id = WebhookEndpointId::parse(&endpoint_id, "endpointId")?;
        Ok(WebhookDelivery(ctx.webhooks()?.send_test(id).await?))
    }
}
