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
    ("upload.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/upload.js")),
    ("scim.js", "text/javascript; charset=utf-8", include_bytes!("../../assets/portal/scim.js")),
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
         connect-src 'self'; frame-src{frame_src}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

pub async fn page(state: web::Data<ApiState>) -> HttpResponse {
    embedded::page(include_str!("../../assets/portal/index.html"), &state.portal.content_security_policy)
}

pub async fn asset(name: web::Path<String>) -> HttpResponse {
    // They change with the binary: a new one is looked for on every load.
    embedded::asset(ASSETS, &name, "no-cache")
}

/// What a request says of where it comes from.
struct Caller<'a> {
    peer: Option<IpAddr>,
    host: Option<&'a str>,
    /// `Origin`, which browsers send with every POST from a page.
    origin: Option<&'a str>,
    /// Whether a proxy passed it on (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`).
    forwarded: bool,
}

/// Whether a request was made on this computer to this computer: a loopback peer that addressed
/// the service by a loopback name, not passed on by a proxy, and (from a page) sent by a page of
/// this very address. A site that points its own name at 127.0.0.1 (DNS rebinding) sends that
/// name as `Host`, and any other site's page its own `Origin`, so neither can sign in.
fn from_this_computer(caller: &Caller) -> bool {
    let Some(host) = caller.host else { return false };
    if caller.forwarded || caller.origin.is_some_and(|origin| origin != format!("http://{host}")) {
        return false;
    }
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    let loopback_name =
        name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    caller.peer.is_some_and(|ip| ip.to_canonical().is_loopback()) && loopback_name
}

/// The workspace a local sign-in may make this request's sender the admin of.
fn local_workspace<'a>(state: &'a ApiState, req: &'a HttpRequest) -> Option<&'a str> {
    let workspace = state.portal.local_workspace.as_deref()?;
    let text = |name| req.headers().get(name).and_then(|h| h.to_str().ok());
    let caller = Caller {
        peer: req.peer_addr().map(|a| a.ip()),
        host: text(header::HOST),
        origin: text(header::ORIGIN),
        forwarded: ["forwarded", "x-forwarded-for", "x-real-ip"].iter().any(|name| req.headers().contains_key(*name)),
    };
    from_this_computer(&caller).then_some(workspace)
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

    fn caller<'a>(peer: &str, host: Option<&'a str>) -> Caller<'a> {
        Caller { peer: Some(peer.parse().unwrap()), host, origin: None, forwarded: false }
    }

    #[test]
    fn only_this_computer_addressed_by_a_loopback_name_signs_in_locally() {
        for host in ["127.0.0.1:8080", "localhost:8080", "LOCALHOST", "[::1]:8080", "127.0.0.2"] {
            assert!(from_this_computer(&caller("127.0.0.1", Some(host))), "{host}");
        }
        assert!(from_this_computer(&caller("::1", Some("[::1]:1"))));
        // An IPv4 caller of a service listening on [::].
        assert!(from_this_computer(&caller("::ffff:127.0.0.1", Some("127.0.0.1:1"))));
        // Another computer, a rebound name, no Host at all.
        assert!(!from_this_computer(&caller("203.0.113.9", Some("127.0.0.1:8080"))));
        for host in
            ["attacker.example:8080", "localhost.attacker.example", "127.0.0.1.attacker.example", "localhost.", ""]
        {
            assert!(!from_this_computer(&caller("127.0.0.1", Some(host))), "{host}");
        }
        assert!(!from_this_computer(&caller("127.0.0.1", None)));
        assert!(!from_this_computer(&Caller { peer: None, ..caller("127.0.0.1", Some("localhost")) }));
        // Passed on by a proxy on this computer: its callers may be anywhere.
        assert!(!from_this_computer(&Caller { forwarded: true, ..caller("127.0.0.1", Some("localhost:8080")) }));
        // A page of this address may; a page of any other site may not.
        let from_page = |origin| Caller { origin: Some(origin), ..caller("127.0.0.1", Some("localhost:8080")) };
        assert!(from_this_computer(&from_page("http://localhost:8080")));
        assert!(!from_this_computer(&from_page("http://localhost:9999")));
        assert!(!from_this_computer(&from_page("https://attacker.example")));
        assert!(!from_this_computer(&from_page("null")));
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
