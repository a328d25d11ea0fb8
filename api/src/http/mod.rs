//! HTTP routes: GraphQL over POST and WebSocket, the admin portal, GraphiQL, the OAuth callback,
//! health checks.

mod embedded;
mod graphiql;
mod graphql;
pub mod health;
pub mod limits;
mod oauth;
pub mod portal;
mod scim;
pub(crate) mod sign_in_cookie;
mod subscriptions;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use actix_web::web;

use crate::access::ApiContext;
use crate::auth::JwtKeys;
use crate::graphql::AppSchema;
use health::Readiness;
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
    portal: Arc<portal::Portal>,
    rates: Arc<RateLimits>,
    readiness: Arc<dyn Readiness>,
    /// Cancelled when the process stops: `/readyz` turns away new traffic and every WebSocket
    /// is closed with 1001 (going away), so clients reconnect to another replica.
    closing: CancellationToken,
}

impl ApiState {
    pub fn new(
        api: ApiContext,
        keys: JwtKeys,
        limits: ApiLimits,
        portal: portal::Portal,
        readiness: Arc<dyn Readiness>,
        closing: CancellationToken,
    ) -> Self {
        let rates = Arc::new(RateLimits::new(&limits));
        let schema = crate::graphql::build_schema(Some(api.clone()));
        Self { schema, keys, api, limits, portal: Arc::new(portal), rates, readiness, closing }
    }
}

/// Headers on every answer: no framing (clickjacking), no MIME sniffing, no referrer leaving
/// with a URL. Wrap the app in it: `App::new().wrap(api::http::security_headers())`.
pub fn security_headers() -> actix_web::middleware::DefaultHeaders {
    actix_web::middleware::DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
}

/// Mounts every route; `App::new().configure(|cfg| routes(cfg, state))`.
pub fn routes(cfg: &mut web::ServiceConfig, state: ApiState) {
    cfg.app_data(web::Data::new(state))
        .route("/graphql", web::post().to(graphql::execute))
        .route("/graphql/ws", web::get().to(subscriptions::subscribe))
        .route("/", web::get().to(portal::page))
        .route("/portal/local-sign-in", web::get().to(portal::local_sign_in_offered))
        .route("/portal/local-sign-in", web::post().to(portal::local_sign_in))
        .route("/portal/{name}", web::get().to(portal::asset))
        .route("/graphiql", web::get().to(graphiql::page))
        .route("/graphiql/assets/{name}", web::get().to(graphiql::asset))
        .route("/oauth/callback", web::get().to(oauth::callback))
        .route("/healthz", web::get().to(health::healthz))
        .route("/readyz", web::get().to(health::readyz))
        .configure(scim::routes);
}
