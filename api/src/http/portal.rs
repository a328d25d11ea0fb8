//! The admin portal at `/`, from files built into the binary (see `assets/portal/README.md`): a
//! page of plain ES modules that talks only to the public GraphQL API, like any frontend would.
//! In embedded mode it also offers a local sign-in: a person at this computer becomes the admin
//! of the data directory's workspace without a token to paste.

use std::net::IpAddr;

use actix_web::{http::header, web, HttpRequest, HttpResponse};
use serde_json::json;
use worker::providers::catalogue::Widget;

use super::embedded::{self, Asset};
use super::ApiState;
use crate::auth::{Plan, Role};

/// Every file the page loads.
const ASSETS: &[Asset] = &[
    ("app.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/app.js")),
    ("api.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/api.js")),
    ("dom.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/dom.js")),
    ("session.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/session.js")),
    ("integrations.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/integrations.js")),
    ("providers.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/providers.js")),
    ("mapping.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/mapping.js")),
    ("sync.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/sync.js")),
    ("directory.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/directory.js")),
    ("style.css", "text/css; charset=utf-8", include_bytes!("../../assets/portal/style.css")),
    ("graphql-ws.min.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/graphql-ws.min.js")),
];

/// How long a local sign-in's token lasts.
const LOCAL_SIGN_IN_HOURS: i64 = 12;

/// The portal's settings, fixed when the service starts.
pub struct Portal {
    content_security_policy: String,
    /// The workspace a local sign-in makes its admin of; `None` outside embedded mode.
    local_workspace: Option<String>,
}

impl Portal {
    pub fn new(widgets: &[Widget], local_workspace: Option<String>) -> Self {
        Self { content_security_policy: content_security_policy(widgets), local_workspace }
    }
}

/// What the portal may load and do: its own scripts and styles, requests to this server, and the
/// sign-in widgets this deployment's providers open in the page (their script and their frames).
/// The provider's sign-in window is a navigation, not a request of the page's.
fn content_security_policy(widgets: &[Widget]) -> String {
    let scripts: String = widgets.iter().map(|w| format!(" {}", w.script_url)).collect();
    let frames: String = widgets.iter().map(|w| format!(" {}", w.frame_origin)).collect();
    let frame_src = if frames.is_empty() { " 'none'".to_string() } else { frames };
    format!(
        "default-src 'none'; script-src 'self'{scripts}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self' ws: wss:; frame-src{frame_src}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

pub async fn page(state: web::Data<ApiState>) -> HttpResponse {
    embedded::page(include_str!("../../assets/portal/index.html"), &state.portal.content_security_policy)
}

pub async fn asset(name: web::Path<String>) -> HttpResponse {
    // They change with the binary: a new one is looked for on every load.
    embedded::asset(ASSETS, &name, "no-cache")
}

/// Whether a request was made on this computer to this computer: a loopback peer that addressed
/// the service by a loopback name. A site that points its own name at 127.0.0.1 (DNS rebinding)
/// sends that name as `Host`, so its pages cannot sign in.
fn from_this_computer(peer: Option<IpAddr>, host: Option<&str>) -> bool {
    let Some(host) = host else { return false };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    let loopback_name =
        name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    peer.is_some_and(|ip| ip.is_loopback()) && loopback_name
}

/// The workspace a local sign-in may make this request's sender the admin of.
fn local_workspace<'a>(state: &'a ApiState, req: &HttpRequest) -> Option<&'a str> {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    let workspace = state.portal.local_workspace.as_deref()?;
    from_this_computer(req.peer_addr().map(|a| a.ip()), host).then_some(workspace)
}

/// `GET /portal/local-sign-in`: whether the sign-in screen offers "Sign in on this computer".
pub async fn local_sign_in_offered(state: web::Data<ApiState>, req: HttpRequest) -> HttpResponse {
    HttpResponse::Ok().json(json!({ "available": local_workspace(&state, &req).is_some() }))
}

/// `POST /portal/local-sign-in` (JSON, so another site's page cannot send it without a CORS
/// preflight, which this service never grants): a token for the local workspace's admin.
pub async fn local_sign_in(state: web::Data<ApiState>, req: HttpRequest) -> HttpResponse {
    let json_body = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    let refused = |why: &str| HttpResponse::Forbidden().json(json!({ "error": why }));
    if !json_body {
        return refused("A local sign-in is a JSON request.");
    }
    let Some(workspace) = local_workspace(&state, &req) else {
        return refused(
            "Local sign-in is only for a service in embedded mode, opened on its own computer (http://127.0.0.1 or http://localhost). Paste a token instead.",
        );
    };
    let token = state.keys.mint(
        "local-admin",
        workspace,
        Role::Admin,
        Plan::Paid,
        chrono::Duration::hours(LOCAL_SIGN_IN_HOURS),
    );
    tracing::info!(workspace, "local sign-in");
    HttpResponse::Ok().insert_header((header::CACHE_CONTROL, "no-store")).json(json!({ "token": token }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_computer_addressed_by_a_loopback_name_signs_in_locally() {
        let local: Option<IpAddr> = Some("127.0.0.1".parse().unwrap());
        let remote: Option<IpAddr> = Some("203.0.113.9".parse().unwrap());
        for host in ["127.0.0.1:8080", "localhost:8080", "LOCALHOST", "[::1]:8080", "127.0.0.2"] {
            assert!(from_this_computer(local, Some(host)), "{host}");
        }
        assert!(from_this_computer(Some("::1".parse().unwrap()), Some("[::1]:1")));
        // Another computer, a rebound name, no Host at all.
        assert!(!from_this_computer(remote, Some("127.0.0.1:8080")));
        assert!(!from_this_computer(local, Some("attacker.example:8080")));
        assert!(!from_this_computer(local, Some("localhost.attacker.example")));
        assert!(!from_this_computer(local, None));
        assert!(!from_this_computer(None, Some("localhost")));
    }

    #[test]
    fn the_policy_allows_only_the_deployments_widgets() {
        assert!(content_security_policy(&[]).contains("script-src 'self';"));
        assert!(content_security_policy(&[]).contains("frame-src 'none';"));
        let merge = Widget {
            script_url: "https://cdn.merge.dev/initialize.js".into(),
            frame_origin: "https://link.merge.dev".into(),
        };
        let policy = content_security_policy(&[merge]);
        assert!(policy.contains("script-src 'self' https://cdn.merge.dev/initialize.js;"), "{policy}");
        assert!(policy.contains("frame-src https://link.merge.dev;"), "{policy}");
    }
}
