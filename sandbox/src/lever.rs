//! Lever, the Data API v1, rendering the company's [`hiring`](crate::hiring) view: HTTP Basic
//! with the API key as user name and a blank password; `{"data": …}` answers; lists paged by
//! `limit` (1 to 100) and an opaque `offset` token (`{data, hasNext, next}`);
//! `GET /archive_reasons` (hired and non-hired reasons), `/users` (active only unless
//! `includeDeactivated=true`), `/postings` (one per hire's requisition, `hiringManager` a user
//! id), `/opportunities` (filters `archived`, `archive_reason_id` (repeated), `contact_id`,
//! `updated_at_start` in milliseconds, `expand=applications`), `/opportunities/deleted` and
//! `/opportunities/{id}/offers` (the signed offer, its `anticipated_start_date` a date). A hire
//! stands archived as hired; a rescinded hire is archived for a non-hired reason; applicants are
//! active or archived as rejected. Errors are `{code, message}`; a permission the key lacks is
//! 403 (the tenant's withheld attributes: postings carry the job title, offers the start date,
//! users the hiring manager); throttling is 10 requests a second, 429 without `Retry-After`.
//!
//! Lever's OAuth, for a partner app (the sandbox's): `GET /auth/authorize` (`client_id`,
//! `redirect_uri`, `state`, `response_type=code`, `scope`, `prompt`, and the API as `audience`,
//! without which Lever's tokens open nothing) signs the sandbox's user in to the first Lever
//! tenant by name; `POST /auth/oauth/token` (JSON or a form) trades the code, or a refresh token
//! (issued only with `offline_access`), for a bearer token the API accepts instead of the key.
//! Its refusals are Auth0's: 401 `access_denied` for an unknown app, 403 `invalid_grant`.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use serde_json::{json, Value};

use crate::company::Attribute;
use crate::hiring::{self, Stage};
use crate::oauth;
use crate::tenant::{Endpoint, Quota, Refusal, Tenant};
use crate::wire::{self, basic_auth, bearer};
use crate::{FakeProvider, FullRead, Holds, SampleCredentials, Tenants, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET};

pub struct Lever;

const ID: &str = "lever";
const MAX_LIMIT: usize = 100;
const HIRED: &str = "63dd55b2-a99f-4e7b-985f-22c7bf80ab42";
const RESCINDED: &str = "0ae1ba9c-8b0c-4bd6-9a6e-1e0f3e2f4a11";
const REJECTED: &str = "9c1bca8e-6a5f-4bd0-b8ad-5b5b6c0b7f3d";
/// When applicants who were not hired last changed: long before any sync (ms).
const LONG_AGO: i64 = 1_577_836_800_000;

impl FakeProvider for Lever {
    fn id(&self) -> &'static str {
        ID
    }

    fn routes(&self, cfg: &mut web::ServiceConfig) {
        cfg.route("/v1/archive_reasons", web::get().to(archive_reasons))
            .route("/v1/users", web::get().to(users))
            .route("/v1/postings", web::get().to(postings))
            .route("/v1/opportunities", web::get().to(opportunities))
            .route("/v1/opportunities/deleted", web::get().to(deleted))
            .route("/v1/opportunities/{id}/offers", web::get().to(offers))
            .route("/auth/authorize", web::get().to(authorize))
            .route("/auth/oauth/token", web::post().to(token));
    }

    fn settings(&self, base: &str) -> Vec<(String, String)> {
        vec![
            ("LEVER_API_BASE".into(), format!("{base}/v1")),
            ("LEVER_OAUTH_BASE".into(), format!("{base}/auth")),
            ("LEVER_CLIENT_ID".into(), OAUTH_CLIENT_ID.into()),
            ("LEVER_CLIENT_SECRET".into(), OAUTH_CLIENT_SECRET.into()),
        ]
    }

    fn credentials(&self, tenant: &Tenant) -> SampleCredentials {
        SampleCredentials { provider_id: ID, subdomain: None, api_key: tenant.key.clone(), api_secret: None }
    }

    fn quotas(&self) -> Vec<Quota> {
        vec![Quota { requests: 10, per: Duration::from_secs(1) }]
    }

    /// The archive reasons, the users and the postings (100 a page), at once; the hired
    /// opportunities (100 a page, each naming the next), and one offers request per hire (all
    /// of a page's at once). Founders were not hired through the ATS.
    fn full_read(&self, employees: usize) -> FullRead {
        let pages = employees.div_ceil(MAX_LIMIT).max(1);
        let hires = employees.saturating_sub(hiring::FOUNDERS as usize);
        FullRead { requests: 2 + 2 * pages + hires, round_trips: 3 * pages }
    }

    fn holds(&self) -> Holds {
        Holds::Hires
    }

    fn withholding(&self, attribute: Attribute) -> Vec<&'static str> {
        match attribute {
            // Postings carry the title, the department and the location.
            Attribute::JobTitle => vec!["jobTitle", "department", "location"],
            // Without offers, no start date, so nor whether a hire has started.
            Attribute::HireDate => vec!["startDate", "employmentStatus"],
            Attribute::Manager => vec!["managerId"],
            _ => Vec::new(),
        }
    }
}

fn error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "code": code, "message": message }))
}

fn refuse(refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::Status(401, _) => error(StatusCode::UNAUTHORIZED, "UnauthorizedError", "Invalid API key"),
        Refusal::Status(403, _) => {
            error(StatusCode::FORBIDDEN, "ForbiddenError", "This API key does not have access to this resource")
        }
        Refusal::Status(code, message) => {
            error(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), "Error", message)
        }
        Refusal::TooManyRequests { .. } => {
            error(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", "Rate limit exceeded")
        }
    }
}

/// Admits a request by its API key or a signed-in bearer token; refused with 403 when the key may
/// not read `scope`.
async fn gate(
    tenants: &Tenants,
    req: &HttpRequest,
    endpoint: Endpoint,
    scope: Option<Attribute>,
) -> Result<wire::Admission, HttpResponse> {
    let key = basic_auth(req).map(|(user, _)| user);
    let token = bearer(req);
    let signed = |t: &Tenant| match (&key, token) {
        (Some(key), _) => t.key == *key,
        (None, Some(token)) => t.accepts_token(token),
        (None, None) => false,
    };
    let Some(name) = wire::find_tenant(tenants, ID, signed) else {
        return Err(refuse(Refusal::Status(401, "")));
    };
    let admission = wire::admit(tenants, &name, endpoint, |_| true).await.map_err(refuse)?;
    let all = tenants.lock().expect("tenants lock");
    if scope.is_some_and(|a| all[&name].withheld.contains(&a)) {
        return Err(refuse(Refusal::Status(403, "")));
    }
    Ok(admission)
}

fn query(req: &HttpRequest) -> Vec<(String, String)> {
    serde_urlencoded::from_str(req.query_string()).unwrap_or_default()
}

fn param<'q>(query: &'q [(String, String)], name: &str) -> Option<&'q str> {
    query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// A page of `rows` as the request's `limit` and `offset` token say.
fn paged(rows: Vec<Value>, query: &[(String, String)]) -> HttpResponse {
    let limit = match param(query, "limit").map(str::parse::<usize>) {
        None => MAX_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => return error(StatusCode::BAD_REQUEST, "BadRequestError", "limit must be between 1 and 100"),
    };
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let offset = match param(query, "offset") {
        None => 0,
        Some(token) => {
            match engine.decode(token).ok().and_then(|b| String::from_utf8(b).ok()).and_then(|s| s.parse().ok()) {
                Some(offset) => offset,
                None => return error(StatusCode::BAD_REQUEST, "BadRequestError", "Invalid offset token"),
            }
        }
    };
    let end = (offset + limit).min(rows.len());
    let has_next = end < rows.len();
    let data: Vec<Value> = rows.into_iter().skip(offset).take(limit).collect();
    let mut page = json!({ "data": data, "hasNext": has_next });
    if has_next {
        page["next"] = json!(engine.encode(end.to_string()));
    }
    HttpResponse::Ok().json(page)
}

fn ms(tenant: &Tenant, employee: u32) -> i64 {
    tenant.changed_at(employee).map_or(LONG_AGO, |t| t.timestamp_millis())
}

fn user_id(id: u64) -> String {
    format!("u-{id}")
}

async fn archive_reasons(tenants: web::Data<Tenants>, req: HttpRequest) -> HttpResponse {
    if let Err(answer) = gate(&tenants, &req, Endpoint::call("archive_reasons"), None).await {
        return answer;
    }
    let reasons = json!([
        { "id": HIRED, "text": "Hired", "status": "active", "type": "hired" },
        { "id": RESCINDED, "text": "Offer rescinded", "status": "active", "type": "non-hired" },
        { "id": REJECTED, "text": "Underqualified", "status": "active", "type": "non-hired" },
    ]);
    paged(reasons.as_array().unwrap().clone(), &query(&req))
}

async fn users(tenants: web::Data<Tenants>, req: HttpRequest) -> HttpResponse {
    let admission = match gate(&tenants, &req, Endpoint::call("users"), Some(Attribute::Manager)).await {
        Ok(admission) => admission,
        Err(answer) => return answer,
    };
    let query = query(&req);
    let deactivated_too = param(&query, "includeDeactivated") == Some("true");
    let rows = {
        let all = tenants.lock().expect("tenants lock");
        let tenant = &all[&admission.name];
        hiring::team(&tenant.company)
            .iter()
            .filter(|m| deactivated_too || !m.disabled)
            .map(|m| {
                let e = m.employee;
                json!({ "id": user_id(m.user_id), "name": format!("{} {}", e.first_name, e.last_name),
                        "email": e.work_email, "accessRole": "team member",
                        "deactivatedAt": if m.disabled { json!(ms(tenant, e.id)) } else { Value::Null } })
            })
            .collect()
    };
    paged(rows, &query)
}

async fn postings(tenants: web::Data<Tenants>, req: HttpRequest) -> HttpResponse {
    let admission = match gate(&tenants, &req, Endpoint::call("postings"), Some(Attribute::JobTitle)).await {
        Ok(admission) => admission,
        Err(answer) => return answer,
    };
    let rows = {
        let all = tenants.lock().expect("tenants lock");
        let tenant = &all[&admission.name];
        let team = hiring::team(&tenant.company);
        hiring::hires(&tenant.company)
            .iter()
            .map(|h| {
                let e = h.employee;
                let manager = h.hiring_manager.and_then(|m| team.iter().find(|t| t.employee.id == m.id));
                json!({ "id": format!("p-{}", h.job_id), "text": e.job_title, "state": "closed",
                        "categories": { "department": e.department, "team": e.department, "location": e.location },
                        "hiringManager": manager.map(|m| user_id(m.user_id)), "updatedAt": ms(tenant, e.id) })
            })
            .collect()
    };
    paged(rows, &query(&req))
}

/// Every opportunity, as the tenant's company stands.
fn all_opportunities(tenant: &Tenant, expand: bool) -> Vec<Value> {
    let company = &tenant.company;
    let team = hiring::team(company);
    let application = |id: u64, job: u64, manager: Option<String>| {
        if expand {
            json!({ "id": format!("a-{id}"), "type": "posting", "posting": format!("p-{job}"), "postingHiringManager": manager })
        } else {
            json!(format!("a-{id}"))
        }
    };
    let hires = hiring::hires(company).into_iter().map(|h| {
        let e = h.employee;
        let manager =
            h.hiring_manager.and_then(|m| team.iter().find(|t| t.employee.id == m.id)).map(|m| user_id(m.user_id));
        // Lever's emails are untyped: the sandbox's hires gave the address they use at work.
        let emails: Vec<&String> = e.work_email.iter().collect();
        let reason = if h.hired { HIRED } else { RESCINDED };
        json!({ "id": format!("o-{}", h.application_id), "contact": format!("c-{}", h.candidate_id),
                "name": format!("{} {}", e.first_name, e.last_name), "emails": emails,
                "archived": { "reason": reason, "archivedAt": ms(tenant, e.id) },
                "applications": [application(h.application_id, h.job_id, manager)], "updatedAt": ms(tenant, e.id) })
    });
    let others = hiring::applicants(company).into_iter().map(|a| {
        let archived = match a.stage {
            Stage::Rejected | Stage::Withdrawn => json!({ "reason": REJECTED, "archivedAt": LONG_AGO }),
            Stage::InPipeline | Stage::Prospect => Value::Null,
        };
        json!({ "id": format!("o-{}", a.application_id), "contact": format!("c-{}", a.candidate_id),
                "name": format!("{} {}", a.first_name, a.last_name), "emails": [a.email], "archived": archived,
                "applications": [application(a.application_id, a.job_id, None)], "updatedAt": LONG_AGO })
    });
    hires.chain(others).collect()
}

async fn opportunities(tenants: web::Data<Tenants>, req: HttpRequest) -> HttpResponse {
    let admission = match gate(&tenants, &req, Endpoint::records("opportunities"), None).await {
        Ok(admission) => admission,
        Err(answer) => return answer,
    };
    let query = query(&req);
    let reasons: Vec<&str> = query.iter().filter(|(k, _)| k == "archive_reason_id").map(|(_, v)| v.as_str()).collect();
    let archived = param(&query, "archived");
    let contact = param(&query, "contact_id");
    let since = match param(&query, "updated_at_start").map(str::parse::<i64>) {
        None => None,
        Some(Ok(since)) => Some(since),
        Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "BadRequestError", "updated_at_start: milliseconds"),
    };
    let expand = query.iter().any(|(k, v)| k == "expand" && v.split(',').any(|e| e == "applications"));
    let rows: Vec<Value> = {
        let all = tenants.lock().expect("tenants lock");
        all_opportunities(&all[&admission.name], expand)
            .into_iter()
            .filter(|o| match archived {
                Some("true") => !o["archived"].is_null(),
                Some("false") => o["archived"].is_null(),
                _ => true,
            })
            .filter(|o| reasons.is_empty() || o["archived"]["reason"].as_str().is_some_and(|r| reasons.contains(&r)))
            .filter(|o| contact.is_none_or(|c| o["contact"] == c))
            .filter(|o| since.is_none_or(|since| o["updatedAt"].as_i64().is_some_and(|at| at >= since)))
            .collect()
    };
    let offset = param(&query, "offset")
        .and_then(|t| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(0);
    let count = rows.len().saturating_sub(offset).min(MAX_LIMIT);
    if wire::cut_off(&tenants, &admission, offset, count).is_some_and(|cut| cut < count) {
        return error(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "Service temporarily unavailable");
    }
    paged(rows, &query)
}

/// Nothing is ever deleted in the sandbox: an empty list.
async fn deleted(tenants: web::Data<Tenants>, req: HttpRequest) -> HttpResponse {
    if let Err(answer) = gate(&tenants, &req, Endpoint::call("opportunities/deleted"), None).await {
        return answer;
    }
    paged(Vec::new(), &query(&req))
}

async fn offers(tenants: web::Data<Tenants>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let admission = match gate(&tenants, &req, Endpoint::call("offers"), Some(Attribute::HireDate)).await {
        Ok(admission) => admission,
        Err(answer) => return answer,
    };
    let id = path.into_inner();
    let all = tenants.lock().expect("tenants lock");
    let tenant = &all[&admission.name];
    let hire = hiring::hires(&tenant.company).into_iter().find(|h| format!("o-{}", h.application_id) == id);
    let offers: Vec<Value> = hire
        .map(|h| {
            json!({ "id": format!("of-{}", h.offer_id), "opportunityId": id, "posting": format!("p-{}", h.job_id),
                    "createdAt": ms(tenant, h.employee.id), "status": if h.hired { "signed" } else { "denied" },
                    "fields": [
                        { "identifier": "job_title", "text": "Job title", "value": h.employee.job_title },
                        { "identifier": "anticipated_start_date", "text": "Anticipated start date",
                          "value": h.starts_on.map(|d| d.to_string()) },
                    ] })
        })
        .into_iter()
        .collect();
    HttpResponse::Ok().json(json!({ "data": offers }))
}

/// The sign-in page: Lever's own checks of the request, then the sandbox's user signs in.
async fn authorize(tenants: web::Data<Tenants>, req: HttpRequest) -> HttpResponse {
    let query = query(&req);
    let asks = |name: &str| param(&query, name);
    if asks("response_type") != Some("code") {
        return HttpResponse::BadRequest().body("response_type=code is required");
    }
    if asks("client_id") != Some(OAUTH_CLIENT_ID) {
        return HttpResponse::BadRequest().body("ClientID not found");
    }
    // Without the API as audience Lever signs in but its token is for no API.
    if !asks("audience").is_some_and(|a| a.ends_with("/v1/")) {
        return HttpResponse::BadRequest().body("audience must be the Data API, https://api.lever.co/v1/");
    }
    let Some(redirect) = asks("redirect_uri").and_then(|r| url::Url::parse(r).ok()) else {
        return HttpResponse::BadRequest().body("redirect_uri is required");
    };
    let mut all = tenants.lock().expect("tenants lock");
    let Some(tenant) = all.values_mut().filter(|t| t.provider == ID).min_by(|a, b| a.name.cmp(&b.name)) else {
        return HttpResponse::NotFound().body("No Lever account to sign in to");
    };
    let offline = asks("scope").is_some_and(|s| s.split(' ').any(|scope| scope == "offline_access"));
    tenant.offline_access = offline;
    oauth::redirect_back(tenant, redirect, asks("state"))
}

/// The token endpoint, as Auth0 (Lever's) answers it: JSON or a form.
async fn token(tenants: web::Data<Tenants>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let Some(request) = wire::form_or_json::<oauth::TokenRequest>(&req, &body) else {
        return error(StatusCode::BAD_REQUEST, "invalid_request", "Missing required parameter");
    };
    if !request.is_the_sandbox_app() {
        return HttpResponse::Unauthorized()
            .json(json!({ "error": "access_denied", "error_description": "Unauthorized" }));
    }
    let mut all = tenants.lock().expect("tenants lock");
    let issued = all
        .values_mut()
        .find(|t| t.provider == ID && oauth::issued_by(t, &request))
        .and_then(|tenant| Some((oauth::trade(tenant, &request)?, tenant.offline_access)));
    let Some((issued, offline)) = issued else {
        return HttpResponse::Forbidden()
            .json(json!({ "error": "invalid_grant", "error_description": "Invalid authorization code" }));
    };
    let mut answer = json!({ "access_token": issued.access_token, "token_type": "Bearer",
                             "expires_in": issued.expires_in, "scope": "offline_access opportunities:read:admin" });
    if offline {
        answer["refresh_token"] = json!(issued.refresh_token);
    }
    HttpResponse::Ok().json(answer)
}
