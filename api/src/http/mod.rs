//! HTTP routes: GraphQL over POST and WebSocket, GraphiQL, the OAuth callback, health checks.

mod graphql;
mod health;
mod oauth;

use actix_web::web;

use crate::auth::JwtKeys;
use crate::graphql::context::ApiContext;
use crate::graphql::AppSchema;

/// Largest GraphQL request body accepted.
const MAX_BODY_BYTES: usize = 256 * 1024;

/// Everything the routes share.
#[derive(Clone)]
pub struct ApiState {
    pub schema: AppSchema,
    pub keys: JwtKeys,
    pub api: ApiContext,
}

impl ApiState {
    pub fn new(api: ApiContext, keys: JwtKeys) -> Self {
        Self { schema: crate::graphql::build_schema(Some(api.clone())), keys, api }
    }
}

/// Mounts every route; `App::new().configure(|cfg| routes(cfg, state))`.
pub fn routes(cfg: &mut web::ServiceConfig, state: ApiState) {
    cfg.app_data(web::Data::new(state))
        .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .route("/graphql", web::post().to(graphql::execute))
        .route("/graphql/ws", web::get().to(graphql::subscribe))
        .route("/graphiql", web::get().to(graphql::graphiql))
        .route("/oauth/callback", web::get().to(oauth::callback))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz));
}
