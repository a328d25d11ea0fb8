//! BambooHR: `/api/gateway.php/{subdomain}/v1/...` with API-key (HTTP Basic, key as user name,
//! `x` as password) or OAuth bearer auth, JSON only when `Accept: application/json` (XML
//! otherwise, as BambooHR does), errors carried in `X-BambooHR-Error-Message`, 429 with
//! `Retry-After` when throttled, and the OAuth endpoints `/oauth/{subdomain}/authorize.php` and
//! `/token.php`. Its change feed (`/employees/changed`) lists each employee by when it last
//! changed, as the tests change them. The tenant's name is its company domain.

use std::collections::{BTreeMap, HashMap};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::company::{Attribute, Employee, Employment};
use crate::oauth;
use crate::tenant::{ChangeKind, Endpoint, Quota, Refusal, Tenant};
use crate::wire::{self, basic_auth, bearer, Admission};
use crate::{FakeProvider, FullRead, SampleCredentials, Tenants, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET};

pub struct BambooHr;

const ID: &str = "bamboohr";

impl FakeProvider for BambooHr {
    fn id(&self) -> &'static str {
        ID
    }

    fn routes(&self, cfg: &mut web::ServiceConfig) {
        cfg.route("/api/gateway.php/{subdomain}/v1/meta/fields", web::get().to(meta_fields))
            .route("/api/gateway.php/{subdomain}/v1/meta/fields/", web::get().to(meta_fields))
            .route("/api/gateway.php/{subdomain}/v1/reports/custom", web::post().to(custom_report))
            .route("/api/gateway.php/{subdomain}/v1/employees/changed", web::get().to(changed_employees))
            .route("/api/gateway.php/{subdomain}/v1/employees/changed/", web::get().to(changed_employees))
            .route("/api/gateway.php/{subdomain}/v1/employees/{id}", web::get().to(employee))
            .route("/api/gateway.php/{subdomain}/v1/employees/{id}/", web::get().to(employee))
            .route("/oauth/{subdomain}/authorize.php", web::get().to(authorize))
            .route("/oauth/{subdomain}/token.php", web::post().to(token));
    }

    fn settings(&self, base: &str) -> Vec<(String, String)> {
        vec![
            ("BAMBOOHR_API_BASE".into(), format!("{base}/api/gateway.php")),
            ("BAMBOOHR_OAUTH_BASE".into(), format!("{base}/oauth/{{subdomain}}")),
            ("BAMBOOHR_CLIENT_ID".into(), OAUTH_CLIENT_ID.into()),
            ("BAMBOOHR_CLIENT_SECRET".into(), OAUTH_CLIENT_SECRET.into()),
        ]
    }

    fn credentials(&self, tenant: &Tenant) -> SampleCredentials {
        SampleCredentials {
            provider_id: ID,
            subdomain: Some(tenant.name.clone()),
            api_key: tenant.key.clone(),
            api_secret: None,
        }
    }

    /// BambooHR publishes no figure; it answers 429 with `Retry-After` when it throttles.
    fn quotas(&self) -> Vec<Quota> {
        Vec::new()
    }

    /// The custom report: everyone in one answer.
    fn full_read(&self, _employees: usize) -> FullRead {
        FullRead { requests: 1, round_trips: 1 }
    }
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).insert_header(("X-BambooHR-Error-Message", message)).finish()
}

fn refuse(refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::Status(code, message) => {
            error(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), message)
        }
        Refusal::TooManyRequests { retry_after } => HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", wire::whole_seconds(retry_after).to_string()))
            .finish(),
    }
}

/// Admits a request to the company at `subdomain`: 404 for an unknown domain, then faults, the
/// key or token, API access and throttling.
async fn gate(
    tenants: &Tenants,
    req: &HttpRequest,
    subdomain: &str,
    endpoint: Endpoint,
) -> Result<Admission, HttpResponse> {
    if wire::find_tenant(tenants, ID, |t| t.name == subdomain).is_none() {
        return Err(error(StatusCode::NOT_FOUND, "Company not found"));
    }
    wire::admit(tenants, subdomain, endpoint, |tenant| authenticated(tenant, req)).await.map_err(refuse)
}

fn authenticated(tenant: &Tenant, req: &HttpRequest) -> bool {
    if let Some((key, _)) = basic_auth(req) {
        return key == tenant.key;
    }
    bearer(req).is_some_and(|token| tenant.accepts_token(token))
}

fn wants_json(req: &HttpRequest) -> bool {
    req.headers().get("Accept").and_then(|h| h.to_str().ok()).is_some_and(|accept| accept.contains("application/json"))
}

/// BambooHR's default answer format; our connector must never see it.
fn xml_answer() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/xml")
        .body("<?xml version=\"1.0\"?><error>this sandbox answers XML without Accept: application/json</error>")
}

/// (id, name, type, alias, what it carries) of every field, as `/meta/fields` lists them.
const FIELDS: &[(&str, &str, &str, Option<&str>, Option<Attribute>)] = &[
    ("1", "First Name", "text", Some("firstName"), Some(Attribute::FirstName)),
    ("2", "Last Name", "text", Some("lastName"), Some(Attribute::LastName)),
    ("3", "Display Name", "text", Some("displayName"), None),
    ("4", "Work Email", "email", Some("workEmail"), Some(Attribute::WorkEmail)),
    ("5", "Home Email", "email", Some("homeEmail"), None),
    ("6", "Job Title", "list", Some("jobTitle"), Some(Attribute::JobTitle)),
    ("7", "Department", "list", Some("department"), Some(Attribute::Department)),
    ("8", "Division", "list", Some("division"), None),
    ("9", "Location", "list", Some("location"), Some(Attribute::Location)),
    ("10", "Status", "status", Some("status"), Some(Attribute::Employment)),
    ("11", "Hire Date", "date", Some("hireDate"), Some(Attribute::HireDate)),
    ("12", "Supervisor EID", "employee", Some("supervisorEId"), Some(Attribute::Manager)),
    ("13", "Employee #", "text", Some("employeeNumber"), None),
    ("4047", "T-Shirt Size", "list", None, None),
    ("4048.1", "Emergency Contact", "text", None, None),
];

/// The field a report or employee request names, by alias or id.
fn field(
    requested: &str,
) -> Option<&'static (&'static str, &'static str, &'static str, Option<&'static str>, Option<Attribute>)> {
    FIELDS.iter().find(|(id, _, _, alias, _)| *id == requested || *alias == Some(requested))
}

/// The fields of `requested` the tenant's API user may read; the others are silently left out,
/// as BambooHR leaves out unknown and forbidden fields.
fn readable(tenant: &Tenant, requested: impl IntoIterator<Item = String>) -> Vec<String> {
    requested
        .into_iter()
        .filter(|f| field(f).is_some_and(|(.., attribute)| attribute.is_none_or(|a| !tenant.withheld.contains(&a))))
        .collect()
}

async fn meta_fields(tenants: web::Data<Tenants>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    if let Err(answer) = gate(&tenants, &req, &path, Endpoint::call("meta/fields")).await {
        return answer;
    }
    if !wants_json(&req) {
        return xml_answer();
    }
    let fields: Vec<Value> = FIELDS
        .iter()
        .map(|(id, name, ty, alias, _)| {
            // Real tenants mix numeric and string ids.
            let id = id.parse::<u64>().map_or_else(|_| json!(id), |n| json!(n));
            let mut field = json!({ "id": id, "name": name, "type": ty });
            if let Some(alias) = alias {
                field["alias"] = json!(alias);
            }
            field
        })
        .collect();
    HttpResponse::Ok().json(fields)
}

#[derive(Deserialize)]
struct ReportRequest {
    title: Option<String>,
    fields: Vec<String>,
}

fn field_value(employee: &Employee, key: &str) -> Value {
    let text = |s: &str| json!(s);
    match key {
        "firstName" | "1" => text(&employee.first_name),
        "lastName" | "2" => text(&employee.last_name),
        "displayName" | "3" => text(&format!("{} {}", employee.first_name, employee.last_name)),
        "workEmail" | "4" => employee.work_email.as_deref().map_or(Value::Null, text),
        "jobTitle" | "6" => text(&employee.job_title),
        "department" | "7" => text(&employee.department),
        "division" | "8" => text(&employee.division),
        "location" | "9" => text(&employee.location),
        "status" | "10" => text(if employee.employment == Employment::Left { "Inactive" } else { "Active" }),
        // BambooHR's empty date.
        "hireDate" | "11" => employee.hire_date.map_or_else(|| text("0000-00-00"), |d| text(&d.to_string())),
        "supervisorEId" | "12" => employee.manager_id.map_or(Value::Null, |s| text(&s.to_string())),
        "employeeNumber" | "13" => text(&format!("E{:05}", employee.id)),
        "4047" => text(["S", "M", "L", "XL"][employee.id as usize % 4]),
        _ => Value::Null,
    }
}

fn row(employee: &Employee, fields: &[String]) -> Value {
    let mut row = Map::new();
    row.insert("id".into(), json!(employee.id.to_string()));
    for field in fields {
        row.insert(field.clone(), field_value(employee, field));
    }
    Value::Object(row)
}

async fn custom_report(
    tenants: web::Data<Tenants>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    body: web::Bytes,
) -> HttpResponse {
    let admission = match gate(&tenants, &req, &path, Endpoint::records("reports/custom")).await {
        Ok(admission) => admission,
        Err(answer) => return answer,
    };
    let Ok(request) = serde_json::from_slice::<ReportRequest>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Malformed request body");
    };
    if query.get("format").map(String::as_str) != Some("JSON") || !wants_json(&req) {
        return xml_answer();
    }
    let (fields, count) = {
        let all = tenants.lock().expect("tenants lock");
        let tenant = &all[path.as_str()];
        (readable(tenant, request.fields), tenant.company.employees.len())
    };
    let described: Vec<Value> = fields
        .iter()
        .map(|f| {
            let (_, name, ty, ..) = field(f).expect("readable fields exist");
            json!({ "id": f, "type": ty, "name": name })
        })
        .collect();
    let title = request.title.unwrap_or_else(|| "Report".into());
    let mut head = serde_json::to_vec(&json!({ "title": title, "fields": described })).expect("JSON");
    head.truncate(head.len() - 1);
    head.extend_from_slice(br#","employees":["#);
    let cut = wire::cut_off(&tenants, &admission, 0, count);
    let subdomain = path.into_inner();
    let render = move |range: std::ops::Range<usize>| {
        let all = tenants.lock().expect("tenants lock");
        let employees = all.get(&subdomain).map_or(&[][..], |t| &t.company.employees[..]);
        employees.get(range).unwrap_or_default().iter().map(|e| row(e, &fields)).collect()
    };
    wire::stream_records(head, count, render, b"]}", cut, admission.pace)
}

#[derive(Deserialize)]
struct ChangedQuery {
    since: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// `GET /employees/changed/?since=…&type=…`: the employees inserted, updated or deleted since a
/// moment, keyed by id, as `{"latest", "employees": {id: {id, action, lastChanged}}}`.
async fn changed_employees(
    tenants: web::Data<Tenants>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<ChangedQuery>,
) -> HttpResponse {
    if let Err(answer) = gate(&tenants, &req, &path, Endpoint::call("employees/changed")).await {
        return answer;
    }
    if !wants_json(&req) {
        return xml_answer();
    }
    let Some(since) = query.since.as_deref().and_then(|s| DateTime::parse_from_rfc3339(s).ok()) else {
        return error(StatusCode::BAD_REQUEST, "since must be an ISO 8601 timestamp");
    };
    let since = since.with_timezone(&Utc);
    let all = tenants.lock().expect("tenants lock");
    let mut employees = BTreeMap::new();
    let mut latest = since;
    for (id, kind, at) in all[path.as_str()].changes_since(since) {
        let action = match kind {
            ChangeKind::Deleted => "Deleted",
            ChangeKind::Inserted => "Inserted",
            ChangeKind::Updated => "Updated",
        };
        if query.kind.as_deref().is_some_and(|wanted| !wanted.eq_ignore_ascii_case(action)) {
            continue;
        }
        latest = latest.max(at);
        let last_changed = at.to_rfc3339_opts(SecondsFormat::Secs, false);
        employees
            .insert(id.to_string(), json!({ "id": id.to_string(), "action": action, "lastChanged": last_changed }));
    }
    HttpResponse::Ok()
        .json(json!({ "latest": latest.to_rfc3339_opts(SecondsFormat::Secs, false), "employees": employees }))
}

#[derive(Deserialize)]
struct EmployeeQuery {
    fields: Option<String>,
}

/// `GET /employees/{id}/?fields=a,b`: one employee's fields, `{"id", field: value…}`.
async fn employee(
    tenants: web::Data<Tenants>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<EmployeeQuery>,
) -> HttpResponse {
    let (subdomain, id) = path.into_inner();
    if let Err(answer) = gate(&tenants, &req, &subdomain, Endpoint::call("employees/{id}")).await {
        return answer;
    }
    if !wants_json(&req) {
        return xml_answer();
    }
    let all = tenants.lock().expect("tenants lock");
    let tenant = &all[subdomain.as_str()];
    let Some(employee) = tenant.company.employees.iter().find(|e| e.id.to_string() == id) else {
        return error(StatusCode::NOT_FOUND, "Employee not found");
    };
    let requested = query.fields.as_deref().unwrap_or_default().split(',').filter(|f| !f.is_empty());
    let fields = readable(tenant, requested.map(str::to_string));
    HttpResponse::Ok().json(row(employee, &fields))
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    request: Option<String>,
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
}

/// The sign-in page. The sandbox's user always signs in and (unless told otherwise) consents,
/// so it redirects straight back with a code.
async fn authorize(
    tenants: web::Data<Tenants>,
    path: web::Path<String>,
    query: web::Query<AuthorizeQuery>,
) -> HttpResponse {
    let q = query.into_inner();
    if q.request.as_deref() != Some("authorize") || q.response_type.as_deref() != Some("code") {
        return HttpResponse::BadRequest().body("request=authorize and response_type=code are required");
    }
    if q.client_id.as_deref() != Some(OAUTH_CLIENT_ID) {
        return HttpResponse::BadRequest().body("unknown client_id");
    }
    let Some(redirect) = q.redirect_uri.and_then(|r| url::Url::parse(&r).ok()) else {
        return HttpResponse::BadRequest().body("redirect_uri is required");
    };
    let mut all = tenants.lock().expect("tenants lock");
    let Some(tenant) = all.get_mut(path.as_str()).filter(|t| t.provider == ID) else {
        return HttpResponse::NotFound().body("Company not found");
    };
    oauth::redirect_back(tenant, redirect, q.state.as_deref())
}

async fn token(
    tenants: web::Data<Tenants>,
    path: web::Path<String>,
    body: web::Json<oauth::TokenRequest>,
) -> HttpResponse {
    let request = body.into_inner();
    if !request.is_the_sandbox_app() {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let mut all = tenants.lock().expect("tenants lock");
    let Some(tenant) = all.get_mut(path.as_str()).filter(|t| t.provider == ID) else {
        return HttpResponse::NotFound().body("Company not found");
    };
    let Some(issued) = oauth::trade(tenant, &request) else {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_grant"}));
    };
    HttpResponse::Ok().json(json!({
        "access_token": issued.access_token,
        "expires_in": issued.expires_in,
        "token_type": "Bearer",
        "scope": "openid email employee",
        "refresh_token": issued.refresh_token,
        "id_token": "sandbox",
        "companyDomain": path.as_str(),
    }))
}
