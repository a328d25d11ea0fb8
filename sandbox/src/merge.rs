//! Merge, the unified HRIS API: every call carries the operator's API key as
//! `Authorization: Bearer`, calls about one linked account also its `X-Account-Token`. Merge
//! Link starts at `POST /api/integrations/create-link-token` (`end_user_email_address`,
//! `end_user_organization_name`, `end_user_origin_id`, `categories` required) and ends with the
//! public token the widget hands the frontend, swapped at
//! `GET /api/integrations/account-token/{public_token}`. The widget is Merge Link's script for
//! plain pages (`/initialize.js`: `MergeLink.initialize({linkToken, onSuccess, onExit})`,
//! `MergeLink.openLink()`), whose frame links the account and posts the public token to the
//! page; the magic link URL links it too, answering `{"public_token"}`.
//! `GET /api/hris/v1/account-details`, `/sync-status` (`is_initial_sync` while Merge's first
//! import runs), `/linked-account-scopes` (fields disabled by scopes, which answers then carry as
//! null) and `/employees`: cursor pages (`{next, previous, results}`, opaque `cursor`,
//! `page_size` default 30, at most 100), `modified_after`, `include_deleted_data`
//! (`remote_was_deleted`), `expand=employments,team,work_location`; the manager as a Merge id,
//! `employment_status` ACTIVE, PENDING or INACTIVE. Errors are `{"detail"}`; 100 requests a minute
//! per linked account (the Launch plan), 429 with `Retry-After`. The tenant is one linked
//! account; its `key` is the account token.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::company::{Attribute, Employee, Employment};
use crate::tenant::{random_token, ChangeKind, Endpoint, Quota, Refusal, Tenant};
use crate::wire::{self, bearer};
use crate::{FakeProvider, FullRead, SampleCredentials, Tenants};

pub struct Merge;

const ID: &str = "merge";
/// The operator's production key every sandbox call must carry.
pub const SANDBOX_API_KEY: &str = "sandbox-merge-production-key";
pub(crate) const DEFAULT_PAGE: usize = 30;
pub(crate) const MAX_PAGE: usize = 100;

/// One of Merge's categories: the sandbox's linked accounts of it are the tenants of the
/// catalogue provider `provider`, each standing for `integration` (name, slug).
pub(crate) struct Category {
    pub provider: &'static str,
    /// As Merge names it in paths and Link (`hris`, `ats`).
    pub name: &'static str,
    pub integration: (&'static str, &'static str),
    /// The models `/sync-status` reports (name, Merge's model id).
    pub models: &'static [(&'static str, &'static str)],
    /// The (model, field) each withheld attribute disables.
    pub scoped: &'static [(Attribute, &'static str, &'static str)],
}

pub(crate) const HRIS: Category = Category {
    provider: ID,
    name: "hris",
    integration: ("BambooHR", "bamboohr"),
    models: &[("Employee", "hris.Employee"), ("Employment", "hris.Employment"), ("Team", "hris.Team")],
    scoped: &[
        (Attribute::FirstName, "Employee", "first_name"),
        (Attribute::LastName, "Employee", "last_name"),
        (Attribute::WorkEmail, "Employee", "work_email"),
        (Attribute::Employment, "Employee", "employment_status"),
        (Attribute::HireDate, "Employee", "start_date"),
        (Attribute::HireDate, "Employee", "hire_date"),
        (Attribute::Manager, "Employee", "manager"),
        (Attribute::JobTitle, "Employment", "job_title"),
        (Attribute::Department, "Team", "name"),
        (Attribute::Location, "Location", "name"),
    ],
};

/// Every category this fake links accounts of.
const CATEGORIES: [&Category; 2] = [&HRIS, &crate::merge_ats::ATS];

fn category_of(tenant: &Tenant) -> Option<&'static Category> {
    CATEGORIES.into_iter().find(|c| c.provider == tenant.provider)
}

impl FakeProvider for Merge {
    fn id(&self) -> &'static str {
        ID
    }

    fn routes(&self, cfg: &mut web::ServiceConfig) {
        cfg.route("/api/integrations/create-link-token", web::post().to(create_link_token))
            .route("/api/integrations/account-token/{public_token}", web::get().to(account_token))
            .route("/link/{link_token}", web::get().to(link))
            .route("/initialize.js", web::get().to(link_script))
            .route("/widget/{link_token}", web::get().to(widget))
            .route("/api/{category}/v1/account-details", web::get().to(account_details))
            .route("/api/{category}/v1/sync-status", web::get().to(sync_status))
            .route("/api/{category}/v1/linked-account-scopes", web::get().to(scopes))
            .route("/api/hris/v1/employees", web::get().to(employees));
        // Merge serves every category from one API.
        crate::merge_ats::routes(cfg);
    }

    fn settings(&self, base: &str) -> Vec<(String, String)> {
        vec![
            ("MERGE_API_BASE".into(), base.to_string()),
            ("MERGE_API_KEY".into(), SANDBOX_API_KEY.into()),
            ("MERGE_WIDGET_BASE".into(), base.to_string()),
        ]
    }

    fn credentials(&self, tenant: &Tenant) -> SampleCredentials {
        SampleCredentials { provider_id: ID, subdomain: None, api_key: tenant.key.clone(), api_secret: None }
    }

    /// Per linked account: 100 a minute on the Launch plan (400 and 600 on larger plans).
    fn quotas(&self) -> Vec<Quota> {
        vec![Quota { requests: 100, per: Duration::from_secs(60) }]
    }

    /// The import's state and the account's scopes, then cursor pages of 100, each naming the
    /// next.
    fn full_read(&self, employees: usize) -> FullRead {
        let requests = 2 + employees.div_ceil(MAX_PAGE).max(1);
        FullRead { requests, round_trips: requests }
    }
}

pub(crate) fn error(status: StatusCode, detail: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "detail": detail }))
}

pub(crate) fn refuse(refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::Status(401, _) => error(StatusCode::UNAUTHORIZED, "Invalid account token."),
        Refusal::Status(403, _) => error(StatusCode::FORBIDDEN, "You do not have permission to perform this action."),
        Refusal::Status(code, message) => {
            error(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), message)
        }
        Refusal::TooManyRequests { retry_after } => {
            let seconds = wire::whole_seconds(retry_after);
            HttpResponse::TooManyRequests()
                .insert_header(("Retry-After", seconds.to_string()))
                .json(json!({ "detail": format!("Request was throttled. Expected available in {seconds} seconds.") }))
        }
    }
}

fn operator_key_ok(req: &HttpRequest) -> Result<(), HttpResponse> {
    match bearer(req) {
        Some(SANDBOX_API_KEY) => Ok(()),
        Some(_) => Err(error(StatusCode::UNAUTHORIZED, "Invalid API key.")),
        None => Err(error(StatusCode::UNAUTHORIZED, "Authentication credentials were not provided.")),
    }
}

/// Admits a call about the linked account of `category` named by `X-Account-Token`.
pub(crate) async fn gate(
    tenants: &Tenants,
    req: &HttpRequest,
    endpoint: Endpoint,
    category: &Category,
) -> Result<wire::Admission, HttpResponse> {
    operator_key_ok(req)?;
    let Some(token) = req.headers().get("X-Account-Token").and_then(|h| h.to_str().ok()) else {
        return Err(error(StatusCode::UNAUTHORIZED, "Account Token must be passed in as an X-Account-Token header."));
    };
    let Some(name) = wire::find_tenant(tenants, category.provider, |t| t.key == token) else {
        return Err(error(StatusCode::UNAUTHORIZED, "Invalid account token."));
    };
    wire::admit(tenants, &name, endpoint, |_| true).await.map_err(refuse)
}

#[derive(Deserialize)]
struct LinkTokenRequest {
    end_user_email_address: Option<String>,
    end_user_organization_name: Option<String>,
    end_user_origin_id: Option<String>,
    categories: Option<Vec<String>>,
    should_create_magic_link_url: Option<bool>,
}

/// Starts a Merge Link session; the sandbox's linked account of the first category asked for
/// (the first by name, where there are several) is the one the admin will pick in the widget.
async fn create_link_token(tenants: web::Data<Tenants>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    if let Err(answer) = operator_key_ok(&req) {
        return answer;
    }
    let Ok(request) = serde_json::from_slice::<LinkTokenRequest>(&body) else {
        return error(StatusCode::BAD_REQUEST, "JSON parse error.");
    };
    let mut missing = serde_json::Map::new();
    let present = |v: &Option<String>| v.as_deref().is_some_and(|s| (1..=100).contains(&s.len()));
    for (field, ok) in [
        ("end_user_email_address", present(&request.end_user_email_address)),
        ("end_user_organization_name", present(&request.end_user_organization_name)),
        ("end_user_origin_id", present(&request.end_user_origin_id)),
        ("categories", request.categories.as_ref().is_some_and(|c| !c.is_empty())),
    ] {
        if !ok {
            missing.insert(field.into(), json!(["This field is required."]));
        }
    }
    if !missing.is_empty() {
        return HttpResponse::BadRequest().json(Value::Object(missing));
    }
    let asked = request.categories.unwrap_or_default();
    let Some(category) = CATEGORIES.into_iter().find(|c| asked.first().is_some_and(|a| a == c.name)) else {
        return HttpResponse::BadRequest().json(json!({ "categories": ["\"{}\" is not a valid choice."] }));
    };
    let mut all = tenants.lock().expect("tenants lock");
    let linkable = all.values_mut().filter(|t| t.provider == category.provider);
    let Some(tenant) = linkable.min_by(|a, b| a.name.cmp(&b.name)) else {
        return error(StatusCode::BAD_REQUEST, "No integration is available to link.");
    };
    let link_token = format!("lt_{}", random_token(32));
    tenant.codes.insert(link_token.clone());
    let base = req.connection_info();
    let magic = request
        .should_create_magic_link_url
        .unwrap_or(false)
        .then(|| format!("{}://{}/{ID}/link/{link_token}", base.scheme(), base.host()));
    HttpResponse::Ok().json(json!({ "link_token": link_token, "integration_name": null, "magic_link_url": magic }))
}

/// The sandbox's Merge Link: the admin picks the account and signs in, and the widget hands the
/// frontend a one-time public token.
async fn link(tenants: web::Data<Tenants>, path: web::Path<String>) -> HttpResponse {
    let mut all = tenants.lock().expect("tenants lock");
    let Some(tenant) = all.values_mut().find(|t| category_of(t).is_some() && t.codes.contains(path.as_str())) else {
        return error(StatusCode::NOT_FOUND, "This link has expired.");
    };
    tenant.codes.remove(path.as_str());
    if !tenant.consent {
        return error(StatusCode::BAD_REQUEST, "The user closed Merge Link without linking an account.");
    }
    let public_token = format!("pt_{}", random_token(32));
    tenant.codes.insert(public_token.clone());
    HttpResponse::Ok().json(json!({ "public_token": public_token }))
}

/// Merge Link's script for plain pages (Merge serves it at `https://cdn.merge.dev/initialize.js`).
async fn link_script() -> HttpResponse {
    HttpResponse::Ok().content_type("text/javascript; charset=utf-8").body(include_str!("merge_link/initialize.js"))
}

/// The widget's frame for a live link token: the admin links the account, and the frame hands
/// the page that opened it the public token of [`link`].
async fn widget(tenants: web::Data<Tenants>, path: web::Path<String>) -> HttpResponse {
    let all = tenants.lock().expect("tenants lock");
    // Only a token this sandbox issued is written into the page.
    let Some(category) = all.values().filter(|t| t.codes.contains(path.as_str())).find_map(category_of) else {
        return error(StatusCode::NOT_FOUND, "This link has expired.");
    };
    let page = include_str!("merge_link/widget.html")
        .replace("LINK_TOKEN", &path)
        .replace("INTEGRATION", category.integration.0);
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(page)
}

/// The linked account's Merge id.
fn account_id(tenant: &Tenant) -> String {
    let mut hasher = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(&tenant.key, &mut hasher);
    format!("7a3e0c1d-0000-4000-8000-{:012x}", std::hash::Hasher::finish(&hasher) & 0xffff_ffff_ffff)
}

async fn account_token(tenants: web::Data<Tenants>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    if let Err(answer) = operator_key_ok(&req) {
        return answer;
    }
    let mut all = tenants.lock().expect("tenants lock");
    let Some(tenant) = all.values_mut().find(|t| category_of(t).is_some() && t.codes.contains(path.as_str())) else {
        return error(StatusCode::NOT_FOUND, "Not found.");
    };
    tenant.codes.remove(path.as_str());
    let category = category_of(tenant).expect("found by category");
    let (name, slug) = category.integration;
    HttpResponse::Ok().json(json!({
        "account_token": tenant.key,
        "integration": { "name": name, "abbreviated_name": null, "categories": [category.name],
            "image": format!("https://merge-api-public.s3.amazonaws.com/media/{name}_Logo.png"),
            "square_image": null, "color": "#73C41D", "slug": slug,
            "api_endpoints_to_documentation_urls": {}, "webhook_setup_guide_url": null, "category_beta_status": {} },
        "id": account_id(tenant),
    }))
}

/// The category named by a request's path, `/api/{category}/v1/…`.
fn category_in(path: &str) -> Result<&'static Category, HttpResponse> {
    CATEGORIES.into_iter().find(|c| c.name == path).ok_or_else(|| error(StatusCode::NOT_FOUND, "Not found."))
}

async fn account_details(tenants: web::Data<Tenants>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let category = match category_in(&path) {
        Ok(category) => category,
        Err(answer) => return answer,
    };
    let admission = match gate(&tenants, &req, Endpoint::call("account-details"), category).await {
        Ok(admission) => admission,
        Err(answer) => return answer,
    };
    let all = tenants.lock().expect("tenants lock");
    let tenant = &all[&admission.name];
    let (name, slug) = category.integration;
    HttpResponse::Ok().json(json!({
        "id": account_id(tenant), "integration": name, "integration_slug": slug, "category": category.name,
        "end_user_origin_id": tenant.name, "end_user_organization_name": tenant.company.domain,
        "end_user_email_address": format!("admin@{}", tenant.company.domain), "status": "COMPLETE",
        "webhook_listener_url": "https://api.merge.dev/api/integrations/webhook-listener/sandbox",
        "is_duplicate": null, "account_type": "PRODUCTION", "completed_at": "2026-01-05T10:00:00Z",
    }))
}

async fn sync_status(tenants: web::Data<Tenants>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let category = match category_in(&path) {
        Ok(category) => category,
        Err(answer) => return answer,
    };
    let admission = match gate(&tenants, &req, Endpoint::call("sync-status"), category).await {
        Ok(admission) => admission,
        Err(answer) => return answer,
    };
    let all = tenants.lock().expect("tenants lock");
    let pending = all[&admission.name].first_import_pending;
    let finished = (!pending).then_some("2026-01-05T10:20:00Z");
    let results: Vec<Value> = category
        .models
        .iter()
        .map(|(model, id)| {
            json!({ "model_name": model, "model_id": id, "last_sync_start": "2026-01-05T10:00:00Z",
                "next_sync_start": "2026-01-05T11:00:00Z", "last_sync_result": finished.map(|_| "DONE"),
                "last_sync_finished": finished, "status": if pending { "SYNCING" } else { "DONE" },
                "is_initial_sync": pending, "selective_sync_configurations_usage": null })
        })
        .collect();
    HttpResponse::Ok().json(json!({ "next": null, "previous": null, "results": results }))
}

/// Whether the tenant's scopes disable `field` of `model`.
pub(crate) fn disabled(tenant: &Tenant, model: &str, field: &str) -> bool {
    let category = category_of(tenant).unwrap_or(&HRIS);
    category.scoped.iter().any(|(a, m, f)| *m == model && *f == field && tenant.withheld.contains(a))
}

async fn scopes(tenants: web::Data<Tenants>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let category = match category_in(&path) {
        Ok(category) => category,
        Err(answer) => return answer,
    };
    let admission = match gate(&tenants, &req, Endpoint::call("linked-account-scopes"), category).await {
        Ok(admission) => admission,
        Err(answer) => return answer,
    };
    let all = tenants.lock().expect("tenants lock");
    let tenant = &all[&admission.name];
    let mut models: Vec<&str> = category.scoped.iter().map(|(_, model, _)| *model).collect();
    models.dedup();
    let models: Vec<Value> = models
        .into_iter()
        .map(|model| {
            let fields = category.scoped.iter().filter(|(_, m, _)| *m == model);
            let (off, on): (Vec<_>, Vec<_>) = fields.partition(|(_, m, f)| disabled(tenant, m, f));
            let names =
                |list: Vec<&(Attribute, &str, &str)>| list.into_iter().map(|(.., f)| json!(f)).collect::<Vec<_>>();
            json!({ "model_name": model,
                "model_permissions": { "READ": { "is_enabled": true }, "WRITE": { "is_enabled": false } },
                "field_permissions": { "enabled_fields": names(on), "disabled_fields": names(off) } })
        })
        .collect();
    HttpResponse::Ok().json(json!({ "common_models": models }))
}

/// A Merge id for sandbox employee `id`.
fn merge_id(id: u32) -> String {
    format!("0958cbc6-6040-430a-848e-{id:012}")
}

fn timestamp(day: Option<NaiveDate>) -> Value {
    day.map_or(Value::Null, |d| json!(format!("{d}T00:00:00Z")))
}

fn render(tenant: &Tenant, employee: &Employee, expand: &[&str]) -> Value {
    let off = |model: &str, field: &str| disabled(tenant, model, field);
    let or_null = |model: &str, field: &str, value: Value| if off(model, field) { Value::Null } else { value };
    let expanded = |name: &str| expand.contains(&name);
    let team = if expanded("team") {
        json!({ "id": format!("team-{}", employee.department.to_lowercase()), "remote_id": employee.department,
            "name": or_null("Team", "name", json!(employee.department)), "parent_team": null })
    } else {
        json!(format!("team-{}", employee.department.to_lowercase()))
    };
    let location = if expanded("work_location") {
        json!({ "id": format!("loc-{}", employee.location.to_lowercase()),
            "name": or_null("Location", "name", json!(employee.location)), "city": employee.location,
            "location_type": "WORK" })
    } else {
        json!(format!("loc-{}", employee.location.to_lowercase()))
    };
    let employment_id = format!("emp-{}", employee.id);
    let employments = if expanded("employments") {
        json!([{ "id": employment_id, "employee": merge_id(employee.id),
            "job_title": or_null("Employment", "job_title", json!(employee.job_title)),
            "effective_date": timestamp(employee.hire_date), "employment_type": "FULL_TIME" }])
    } else {
        json!([employment_id])
    };
    let status = match employee.employment {
        Employment::Onboarding => "PENDING",
        Employment::Employed | Employment::OnLeave => "ACTIVE",
        Employment::Left => "INACTIVE",
    };
    let modified = tenant.changed_at(employee.id).map_or(Value::Null, |at| json!(at.to_rfc3339()));
    json!({
        "id": merge_id(employee.id), "remote_id": employee.id.to_string(),
        "created_at": "2026-01-05T10:05:00Z", "modified_at": modified,
        "employee_number": employee.id.to_string(), "company": "company-1",
        "first_name": or_null("Employee", "first_name", json!(employee.first_name)),
        "last_name": or_null("Employee", "last_name", json!(employee.last_name)),
        "preferred_name": employee.first_name,
        "display_full_name": format!("{} {}", employee.first_name, employee.last_name),
        "username": null, "groups": [],
        "work_email": or_null("Employee", "work_email", employee.work_email.as_deref().map_or(Value::Null, |e| json!(e))),
        "personal_email": employee.personal_email, "mobile_phone_number": null,
        "employments": employments, "home_location": null, "work_location": location,
        "manager": or_null("Employee", "manager", employee.manager_id.map_or(Value::Null, |m| json!(merge_id(m)))),
        "team": team, "pay_group": null, "ssn": null, "gender": null, "ethnicity": null, "marital_status": null,
        "date_of_birth": null,
        "hire_date": or_null("Employee", "hire_date", timestamp(employee.hire_date)),
        "start_date": or_null("Employee", "start_date", timestamp(employee.hire_date)),
        "remote_created_at": null,
        "employment_status": or_null("Employee", "employment_status", json!(status)),
        "termination_date": timestamp(employee.termination_date), "avatar": null,
        "custom_fields": null, "remote_was_deleted": false, "field_mappings": null, "remote_data": null,
    })
}

/// A record deleted in the HRIS, as Merge keeps it.
fn deleted(id: u32, at: DateTime<Utc>) -> Value {
    json!({ "id": merge_id(id), "remote_id": id.to_string(), "modified_at": at.to_rfc3339(), "first_name": null,
        "last_name": null, "work_email": null, "manager": null, "employment_status": null, "remote_was_deleted": true })
}

pub(crate) fn cursor(position: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("p={position}"))
}

pub(crate) fn position(cursor: &str) -> Option<usize> {
    let decoded = base64::engine::general_purpose::STANDARD.decode(cursor).ok()?;
    String::from_utf8(decoded).ok()?.strip_prefix("p=")?.parse().ok()
}

async fn employees(tenants: web::Data<Tenants>, req: HttpRequest) -> HttpResponse {
    let admission = match gate(&tenants, &req, Endpoint::records("employees"), &HRIS).await {
        Ok(admission) => admission,
        Err(answer) => return answer,
    };
    let query: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let Some(page_size) = param("page_size").map_or(Some(DEFAULT_PAGE), |v| v.parse::<usize>().ok()) else {
        return error(StatusCode::BAD_REQUEST, "page_size must be a number.");
    };
    let page_size = page_size.clamp(1, MAX_PAGE);
    let start = match param("cursor") {
        None => 0,
        Some(raw) => match position(raw) {
            Some(start) => start,
            None => return error(StatusCode::NOT_FOUND, "Invalid cursor."),
        },
    };
    let since = match param("modified_after") {
        None => None,
        Some(raw) => match DateTime::parse_from_rfc3339(raw) {
            Ok(at) => Some(at.with_timezone(&Utc)),
            Err(_) => return error(StatusCode::BAD_REQUEST, "modified_after must be an ISO 8601 datetime."),
        },
    };
    let with_deleted = param("include_deleted_data") == Some("true");
    let expand: Vec<&str> = param("expand").map(|e| e.split(',').collect()).unwrap_or_default();
    let (page, listed) = {
        let all = tenants.lock().expect("tenants lock");
        let tenant = &all[&admission.name];
        let mut listed: Vec<(u32, Option<&Employee>, DateTime<Utc>)> = tenant
            .company
            .employees
            .iter()
            .map(|e| (e.id, Some(e), tenant.changed_at(e.id).unwrap_or_else(Utc::now)))
            .collect();
        if with_deleted {
            let gone = tenant
                .changes_since(DateTime::<Utc>::MIN_UTC)
                .into_iter()
                .filter(|(_, k, _)| *k == ChangeKind::Deleted);
            listed.extend(gone.map(|(id, _, at)| (id, None, at)));
            listed.sort_by_key(|(id, ..)| *id);
        }
        listed.retain(|(.., at)| since.is_none_or(|since| *at > since));
        let page: Vec<Value> = listed
            .iter()
            .skip(start)
            .take(page_size)
            .map(|(id, employee, at)| employee.map_or_else(|| deleted(*id, *at), |e| render(tenant, e, &expand)))
            .collect();
        (page, listed.len())
    };
    let cut = wire::cut_off(&tenants, &admission, start, page.len());
    if cut == Some(0) && !page.is_empty() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "Service temporarily unavailable.");
    }
    let next = (start + page.len() < listed).then(|| cursor(start + page.len()));
    let previous = (start > 0).then(|| cursor(start.saturating_sub(page_size)));
    let mut head = serde_json::to_vec(&json!({ "next": next, "previous": previous })).expect("JSON");
    head.truncate(head.len() - 1);
    head.extend_from_slice(br#","results":["#);
    let count = page.len();
    wire::stream_records(head, count, move |range| page[range].to_vec(), b"]}", cut, admission.pace)
}
