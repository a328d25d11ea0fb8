//! The webhook endpoints of one workspace: what an admin on the paid plan may do with them.

use secrecy::SecretString;

use entity::{webhook_delivery, webhook_endpoint};
use worker::webhooks::endpoints::{self, EndpointInput};

use super::{DirectoryAccess, WebhookEndpointId};
use crate::error::ApiError;

#[derive(Clone)]
pub struct WebhooksAccess {
    directory: DirectoryAccess,
}

impl WebhooksAccess {
    pub(super) fn new(directory: DirectoryAccess) -> Self {
        Self { directory }
    }

    fn env(&self) -> &worker::Environment {
        &self.directory.api().0.env
    }

    fn workspace(&self) -> &str {
        self.directory.workspace().as_str()
    }

    pub async fn endpoints(&self) -> Result<Vec<webhook_endpoint::Model>, ApiError> {
        Ok(endpoints::list(&self.env().db, self.workspace()).await.map_err(worker::Error::from)?)
    }

    pub async fn create(&self, input: EndpointInput) -> Result<(webhook_endpoint::Model, SecretString), ApiError> {
        Ok(endpoints::create(self.env(), self.workspace(), input).await?)
    }

    pub async fn update(
        &self,
        id: WebhookEndpointId,
        input: EndpointInput,
    ) -> Result<webhook_endpoint::Model, ApiError> {
        Ok(endpoints::update(self.env(), self.workspace(), id.0, input).await?)
    }

    pub async fn delete(&self, id: WebhookEndpointId) -> Result<bool, ApiError> {
        Ok(endpoints::delete(&self.env().db, self.workspace(), id.0).await?)
    }

    pub async fn rotate_secret(
        &self,
        id: WebhookEndpointId,
    ) -> Result<(webhook_endpoint::Model, SecretString), ApiError> {
        Ok(endpoints::rotate(self.env(), self.workspace(), id.0).await?)
    }

    pub async fn send_test(&self, id: WebhookEndpointId) -> Result<webhook_delivery::Model, ApiError> {
        Ok(endpoints::send_test(self.env(), self.workspace(), id.0).await?)
    }

    pub async fn deliveries(
        &self,
        id: WebhookEndpointId,
        first: usize,
        after: Option<uuid::Uuid>,
    ) -> Result<Vec<webhook_delivery::Model>, ApiError> {
        Ok(endpoints::deliveries(&self.env().db, self.workspace(), id.0, first as u64, after).await?)
    }
}
