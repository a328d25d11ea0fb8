//! The admin portal at `/`, from files built into the binary (see `assets/portal/README.md`): a
//! page of plain ES modules that talks only to the public GraphQL API, like any frontend would.

use actix_web::{web, HttpResponse};

use super::embedded::{self, Asset};

/// What the portal may load and do: its own scripts and styles, requests to this server. It
/// opens only the provider's sign-in window, a navigation, not a request of its own.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Every file the page loads.
const ASSETS: &[Asset] = &[
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/app.js")),
    ("style.css", "text/css; charset=utf-8", include_bytes!("../../assets/portal/style.css")),
    ("graphql-ws.min.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/graphql-ws.min.js")),
];

pub async fn page() -> HttpResponse {
    embedded::page(include_str!("../../assets/portal/index.html"), CONTENT_SECURITY_POLICY)
}

pub async fn asset(name: web::Path<String>) -> HttpResponse {
    // They change with the binary: a new one is looked for on every load.
    embedded::asset(ASSETS, &name, "no-cache")
}
