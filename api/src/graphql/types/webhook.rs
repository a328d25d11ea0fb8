use async_graphql::{Enum, InputObject, MaybeUndefined, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use entity::webhook_delivery::{self, DeliveryStatus};
use entity::webhook_endpoint;
use worker::webhooks::endpoints::{self, EndpointInput};

/// Where a workspace hears of changes.
pub struct WebhookEndpoint(pub webhook_endpoint::Model);

#[Object]
impl WebhookEndpoint {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    async fn url(&self) -> &str {
        &self.0.url
    }

    /// The event types it subscribes to.
    async fn events(&self) -> Vec<String> {
        endpoints::event_names(&self.0)
    }

    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// Its recent attempts keep failing (five in a row); cleared by the next that succeeds.
    async fn failing(&self) -> bool {
        self.0.failing
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// An endpoint with its signing secret (`whsec_…`): answered once, when the secret is made.
#[derive(SimpleObject)]
pub struct WebhookEndpointWithSecret {
    pub endpoint: WebhookEndpoint,
    pub secret: String,
}

impl From<(webhook_endpoint::Model, SecretString)> for WebhookEndpointWithSecret {
    fn from((endpoint, secret): (webhook_endpoint::Model, SecretString)) -> Self {
        Self { endpoint: WebhookEndpoint(endpoint), secret: secret.expose_secret().to_string() }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum WebhookDeliveryStatus {
    /// Not delivered yet: an attempt is due, under way, or waiting to be retried.
    Pending,
    /// The endpoint answered 2xx.
    Succeeded,
    /// Every attempt failed.
    Failed,
}

/// One event on its way to one endpoint.
pub struct WebhookDelivery(pub webhook_delivery::Model);

#[Object]
impl WebhookDelivery {
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// The event's `webhook-id` (the same on every attempt).
    async fn event_id(&self) -> ID {
        ID(self.0.event_id.to_string())
    }

    async fn event_type(&self) -> &str {
        &self.0.event_type
    }

    async fn status(&self) -> WebhookDeliveryStatus {
        match self.0.status {
            DeliveryStatus::Pending => WebhookDeliveryStatus::Pending,
            DeliveryStatus::Succeeded => WebhookDeliveryStatus::Succeeded,
            DeliveryStatus::Failed => WebhookDeliveryStatus::Failed,
        }
    }

    /// Attempts begun.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }

    /// The endpoint's HTTP status on the last attempt that got an answer.
    async fn response_status(&self) -> Option<i32> {
        self.0.response_status
    }

    /// When it is tried next, while PENDING.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        (self.0.status == DeliveryStatus::Pending).then_some(self.0.next_attempt_at)
    }

    /// Why the last attempt failed, with a short excerpt of the endpoint's answer.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn delivered_at(&self) -> Option<DateTime<Utc>> {
        self.0.delivered_at
    }
}

/// A new endpoint. `url` must be https and reach a public address; `events` are names from
/// `webhookEventTypes`.
#[derive(InputObject)]
pub struct CreateWebhookEndpointInput {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
}

impl From<CreateWebhookEndpointInput> for EndpointInput {
    fn from(input: CreateWebhookEndpointInput) -> Self {
        Self { url: Some(input.url), events: Some(input.events), description: Some(input.description) }
    }
}

/// Changes to an endpoint: a field left out stays as it is; `description: null` clears it.
#[derive(InputObject)]
pub struct UpdateWebhookEndpointInput {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: MaybeUndefined<String>,
}

impl From<UpdateWebhookEndpointInput> for EndpointInput {
    fn from(input: UpdateWebhookEndpointInput) -> Self {
        let description = match input.description {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(d) => Some(Some(d)),
        };
        Self { url: input.url, events: input.events, description }
    }
}
