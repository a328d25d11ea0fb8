//! Query roots, one per domain, merged into [`Query`].

mod directory;
mod integrations;
mod viewer;
mod webhooks;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Query(
    viewer::ViewerQuery,
    integrations::IntegrationsQuery,
    directory::DirectoryQuery,
    webhooks::WebhooksQuery,
);
