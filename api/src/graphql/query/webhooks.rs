use async_graphql::{Context, Object, ID};

use worker::webhooks::EventType;

use crate::access::WebhookEndpointId;
use crate::error::{ApiError, ApiResult};
use crate::graphql::context::{page_size, ContextExt};
use crate::graphql::list_cost;
use crate::graphql::types::webhook::{WebhookDelivery, WebhookEndpoint};

/// Most deliveries one page answers.
const MAX_DELIVERIES: i32 = 100;

#[derive(Default)]
pub struct WebhooksQuery;

#[Object]
impl WebhooksQuery {
    /// The event types an endpoint can subscribe to.
    async fn webhook_event_types(&self, ctx: &Context<'_>) -> ApiResult<Vec<&'static str>> {
        ctx.webhooks()?;
        Ok(EventType::SUBSCRIBABLE.iter().map(|t| t.name()).collect())
    }

    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> ApiResult<Vec<WebhookEndpoint>> {
        Ok(ctx.webhooks()?.endpoints().await?.into_iter().map(WebhookEndpoint).collect())
    }

    /// An endpoint's deliveries, newest first: at most `first` (1 to 100) after the delivery
    /// `after` (a `WebhookDelivery.id`).
    #[graphql(complexity = "list_cost(first, MAX_DELIVERIES, child_complexity)")]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        endpoint_id: ID,
        #[graphql(default = 20)] first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Vec<WebhookDelivery>> {
        let webhooks = ctx.webhooks()?;
        let id = WebhookEndpointId::parse(&endpoint_id, "endpointId")?;
        let first = page_size(first, 20, MAX_DELIVERIES, "first")?;
        let after = after
            .map(|raw| {
                uuid::Uuid::parse_str(&raw).map_err(|_| ApiError::validation("after", "'after' is not a delivery id"))
            })
            .transpose()?;
        Ok(webhooks.deliveries(id, first, after).await?.into_iter().map(WebhookDelivery).collect())
    }
}
