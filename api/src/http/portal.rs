//! The admin portal at `/`, from files built into the binary (see `assets/portal/README.md`): a
//! page of plain ES modules that talks only to the public GraphQL API, like any frontend would.

use actix_web::{web, HttpResponse};

/// What the portal may load and do: its own scripts and styles, requests to this server. It
/// opens only the provider's sign-in window, a navigation, not a request of its own.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// (name, content type, bytes) of every file the page loads.
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/app.js")),
    ("style.css", "text/css; charset=utf-8", include_bytes!("../../assets/portal/style.css")),
    ("graphql-ws.min.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/graphql-ws.min.js")),
];

pub async fn page() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .body(include_str!("../../assets/portal/index.html"))
}

pub async fn asset(name: web::Path<String>) -> HttpResponse {
    match ASSETS.iter().find(|(file, _, _)| *file == name.as_str()) {
        Some((_, content_type, bytes)) => HttpResponse::Ok()
            .content_type(*content_type)
            // They change with the binary: a new one is looked for on every load.
            .insert_header(("Cache-Control", "no-cache"))
            .body(*bytes),
        None => HttpResponse::NotFound().finish(),
    }
}
