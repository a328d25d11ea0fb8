//! HTTP routes: GraphQL over POST and WebSocket, GraphiQL, the OAuth callback, health checks.

mod graphql;
mod health;
pub mod limits;
mod oauth;
mod subscriptions;

use std::sync::Arc;

use actix_web::web;

use crate::auth::JwtKeys;
use crate::graphql::context::ApiContext;
use crate::graphql::AppSchema;
use limits::{ApiLimits, RateLimits};

/// Largest GraphQL request body (or WebSocket message) accepted.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Everything the routes share.
#[derive(Clone)]
pub struct ApiState {
    pub schema: AppSchema,
    pub keys: JwtKeys,
    pub api: ApiContext,
    pub limits: ApiLimits,
    rates: Arc<RateLimits>,
}

impl ApiState {
    pub fn new(api: ApiContext, keys: JwtKeys, limits: ApiLimits) -> Self {
        let rates = Arc::new(RateLimits::new(&limits));
        Self { schema: crate::graphql::build_schema(Some(api.clone())), keys, api, limits, rates }
    }
}

/// Mounts every route; `App::new().configure(|cfg| routes(cfg, state))`.
pub fn routes(cfg: &mut web::ServiceConfig, state: ApiState) {
    cfg.app_data(web::Data::new(state))
        .route("/graphql", web::post().to(graphql::execute))
        .route("/graphql/ws", web::get().to(subscriptions::subscribe))
        .route("/graphiql", web::get().to(graphql::graphiql))
        .route("/oauth/callback", web::get().to(oauth::callback))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz));
}
