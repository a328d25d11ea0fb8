//! Pages served from files built into the binary (GraphiQL, the admin portal): nothing they run
//! comes from elsewhere, and each page's CSP says so.

use actix_web::HttpResponse;

/// (name, content type, bytes) of a file a page loads.
pub type Asset = (&'static str, &'static str, &'static [u8]);

/// An HTML page under its Content-Security-Policy.
pub fn page(html: &'static str, content_security_policy: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Content-Security-Policy", content_security_policy.to_string()))
        .body(html)
}

/// The file `name` of `assets`, or 404.
pub fn asset(assets: &[Asset], name: &str, cache_control: &'static str) -> HttpResponse {
    match assets.iter().find(|(file, _, _)| *file == name) {
        Some((_, content_type, bytes)) => {
            HttpResponse::Ok().content_type(*content_type).insert_header(("Cache-Control", cache_control)).body(*bytes)
        }
        None => HttpResponse::NotFound().finish(),
    }
}
