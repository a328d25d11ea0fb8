//! GraphiQL at `/graphiql`, from files built into the binary (see `assets/graphiql/README.md`):
//! the page where admins paste bearer tokens runs no code from elsewhere, and its CSP says so.

use actix_web::{web, HttpResponse};

use super::embedded::{self, Asset};

/// What the GraphiQL page may load and do: its own scripts and styles, requests to this server.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// Every file the page loads.
const ASSETS: &[Asset] = &[
    ("graphiql.min.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/graphiql/graphiql.min.js")),
    ("graphiql.min.css", "text/css; charset=utf-8", include_bytes!("../../assets/graphiql/graphiql.min.css")),
    (
        "react.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react.production.min.js"),
    ),
    (
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
    ),
    ("start.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/graphiql/start.js")),
    ("start.css", "text/css; charset=utf-8", include_bytes!("../../assets/graphiql/start.css")),
];

pub async fn page() -> HttpResponse {
    embedded::page(include_str!("../../assets/graphiql/index.html"), CONTENT_SECURITY_POLICY)
}

pub async fn asset(name: web::Path<String>) -> HttpResponse {
    // The files change only with the binary.
    embedded::asset(ASSETS, &name, "public, max-age=86400")
}
