//! The cookie that binds an "Open Window" sign-in to the browser that started it: set by
//! `beginCredentialConnection`'s HTTP answer, sent back only to `/oauth/callback` (SameSite=Lax
//! lets the provider's top-level redirect carry it), and cleared there.

use actix_web::HttpRequest;
use uuid::Uuid;

const PREFIX: &str = "ds_sign_in_";
/// As long as a sign-in may take (`SIGN_IN_WINDOW`).
const MAX_AGE_SECONDS: u32 = 15 * 60;

fn attributes(public_url: &str) -> &'static str {
    if public_url.starts_with("https://") {
        "Path=/oauth/callback; HttpOnly; SameSite=Lax; Secure"
    } else {
        "Path=/oauth/callback; HttpOnly; SameSite=Lax"
    }
}

/// `Set-Cookie` for a started sign-in; one cookie per connection, so two sign-ins started in
/// one browser do not undo each other.
pub fn set(connection_id: Uuid, binding: &str, public_url: &str) -> String {
    format!("{PREFIX}{}={binding}; Max-Age={MAX_AGE_SECONDS}; {}", connection_id.simple(), attributes(public_url))
}

/// `Set-Cookie` that removes the cookie `name`.
pub fn clear(name: &str, public_url: &str) -> String {
    format!("{name}=; Max-Age=0; {}", attributes(public_url))
}

/// The sign-in cookies the browser sent, as (name, binding).
pub fn sent(req: &HttpRequest) -> Vec<(String, String)> {
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| name.starts_with(PREFIX))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect()
}
