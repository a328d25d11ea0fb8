//! Personio, public API v1: `POST /v1/auth` trades the API credential (client id and secret, in
//! a JSON or form body) for a bearer token, stable for 24 hours; `GET /v1/company/employees`
//! pages by record `offset` and `limit` (at most 100) in the
//! `{success, metadata: {total_elements, current_page, total_pages}, offset, limit, data}`
//! envelope, each attribute a `{label, value, type, universal_id}` object (department and office
//! nested `{type, attributes: {id, name}}`, the supervisor a nested Employee), filtered by
//! `attributes[]` and `updated_since`; `GET /v1/company/employees/attributes` lists what the
//! credential may read. Attributes it may not read are left out of answers entirely. Errors come
//! as `{success: false, error: {code, message}}`; throttling (300 requests a minute, 15 a second)
//! answers 429 without `Retry-After`. The tenant's `key` is the client id, `secret` the secret.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::company::{Attribute, Employee, Employment};
use crate::tenant::{Endpoint, Quota, Refusal, Tenant};
use crate::wire::{self, bearer};
use crate::{FakeProvider, FullRead, SampleCredentials, Tenants};

pub struct Personio;

const ID: &str = "personio";
const MAX_LIMIT: usize = 100;
/// The page size when the request names none.
const DEFAULT_LIMIT: usize = 50;

impl FakeProvider for Personio {
    fn id(&self) -> &'static str {
        ID
    }

    fn routes(&self, cfg: &mut web::ServiceConfig) {
        cfg.route("/v1/auth", web::post().to(auth))
            .route("/v1/company/employees", web::get().to(employees))
            .route("/v1/company/employees/attributes", web::get().to(attributes));
    }

    fn settings(&self, base: &str) -> Vec<(String, String)> {
        vec![("PERSONIO_API_BASE".into(), base.to_string())]
    }

    fn credentials(&self, tenant: &Tenant) -> SampleCredentials {
        SampleCredentials {
            provider_id: ID,
            subdomain: None,
            api_key: format!("papi-{}", tenant.key),
            api_secret: Some(format!("papi-{}", tenant.secret)),
        }
    }

    /// `GET /company/employees`: 300 a minute, in bursts of up to 15 a second.
    fn quotas(&self) -> Vec<Quota> {
        vec![Quota { requests: 300, per: Duration::from_secs(60) }, Quota { requests: 15, per: Duration::from_secs(1) }]
    }

    /// The sign-in, then offset pages of 100, which may overlap.
    fn full_read(&self, employees: usize) -> FullRead {
        FullRead { requests: 1 + employees.div_ceil(MAX_LIMIT).max(1), round_trips: 1 }
    }
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .json(json!({ "success": false, "error": { "code": status.as_u16(), "message": message } }))
}

fn refuse(refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::Status(401, _) => error(StatusCode::UNAUTHORIZED, "Authorization is not provided"),
        Refusal::Status(403, _) => error(StatusCode::FORBIDDEN, "Provided authorization is not valid"),
        Refusal::Status(code, message) => {
            error(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), message)
        }
        // Personio documents no Retry-After: clients wait at least a second.
        Refusal::TooManyRequests { .. } => error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests"),
    }
}

#[derive(Deserialize)]
struct Credential {
    client_id: String,
    client_secret: String,
}

/// `POST /v1/auth`, credentials in a JSON or form body. A credential's token is the same for
/// 24 hours; the API access switch does not stop it from signing in, only from reading.
async fn auth(tenants: web::Data<Tenants>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let Some(credential) = wire::form_or_json::<Credential>(&req, &body) else {
        return error(StatusCode::BAD_REQUEST, "client_id and client_secret are required");
    };
    let key = |value: &str| value.strip_prefix("papi-").unwrap_or(value).to_string();
    let (client_id, secret) = (key(&credential.client_id), key(&credential.client_secret));
    let Some(name) = wire::find_tenant(&tenants, ID, |t| t.key == client_id) else {
        return error(StatusCode::FORBIDDEN, "Wrong credentials");
    };
    let endpoint = Endpoint { name: "auth", lists_records: false, needs_api_access: false };
    if let Err(refusal) = wire::admit(&tenants, &name, endpoint, |t| t.secret == secret).await {
        return match refusal {
            Refusal::Status(401, _) => error(StatusCode::FORBIDDEN, "Wrong credentials"),
            other => refuse(other),
        };
    }
    let mut all = tenants.lock().expect("tenants lock");
    let tenant = all.get_mut(&name).expect("admitted");
    let token = format!("papi-{}", tenant.current_access_token().unwrap_or_else(|| tenant.issue_access_token()));
    HttpResponse::Ok().json(json!({
        "success": true,
        "data": { "token": token, "expires_in": tenant.token_lifetime.as_secs(), "scope": "employees:read" }
    }))
}

/// Admits a data request by its bearer token.
async fn gate(tenants: &Tenants, req: &HttpRequest, endpoint: Endpoint) -> Result<wire::Admission, HttpResponse> {
    let token = bearer(req).unwrap_or_default().strip_prefix("papi-").unwrap_or_default().to_string();
    let Some(name) = wire::find_tenant(tenants, ID, |t| t.accepts_token(&token)) else {
        return Err(error(StatusCode::UNAUTHORIZED, "Authorization is not provided"));
    };
    wire::admit(tenants, &name, endpoint, |_| true).await.map_err(refuse)
}

/// (key, label, type, what it carries) of every attribute.
const ATTRIBUTES: &[(&str, &str, &str, Option<Attribute>)] = &[
    ("first_name", "First name", "standard", Some(Attribute::FirstName)),
    ("last_name", "Last name", "standard", Some(Attribute::LastName)),
    ("preferred_name", "Name (preferred)", "standard", None),
    ("email", "Email", "standard", Some(Attribute::WorkEmail)),
    ("status", "Status", "standard", Some(Attribute::Employment)),
    ("position", "Position", "standard", Some(Attribute::JobTitle)),
    ("department", "Department", "standard", Some(Attribute::Department)),
    ("office", "Office", "standard", Some(Attribute::Location)),
    ("supervisor", "Supervisor", "standard", Some(Attribute::Manager)),
    ("hire_date", "Hire date", "date", Some(Attribute::HireDate)),
    ("termination_date", "Termination date", "date", None),
    ("last_modified_at", "Last modified", "date", None),
    ("dynamic_24407", "T-shirt size", "list", None),
];

fn readable(
    tenant: &Tenant,
) -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str, Option<Attribute>)> + '_ {
    ATTRIBUTES.iter().filter(|(.., attribute)| attribute.is_none_or(|a| !tenant.withheld.contains(&a)))
}

async fn attributes(tenants: web::Data<Tenants>, req: HttpRequest) -> HttpResponse {
    let admission = match gate(&tenants, &req, Endpoint::call("employees/attributes")).await {
        Ok(admission) => admission,
        Err(answer) => return answer,
    };
    let all = tenants.lock().expect("tenants lock");
    let data: Vec<Value> = readable(&all[&admission.name])
        .map(|(key, label, ty, _)| {
            let universal = (!key.starts_with("dynamic_")).then_some(*key);
            json!({ "key": key, "label": label, "type": ty, "universal_id": universal, "options": [] })
        })
        .collect();
    HttpResponse::Ok().json(json!({ "success": true, "data": data }))
}

fn date(day: Option<NaiveDate>) -> Value {
    day.map_or(Value::Null, |d| json!(format!("{d}T00:00:00+01:00")))
}

fn named(kind: &str, id: usize, name: &str) -> Value {
    json!({ "type": kind, "attributes": { "id": id, "name": name } })
}

fn value(employee: &Employee, key: &str, changed: Option<DateTime<Utc>>) -> Value {
    match key {
        "first_name" => json!(employee.first_name),
        "last_name" => json!(employee.last_name),
        "preferred_name" => json!(employee.first_name),
        "email" => employee.work_email.as_deref().map_or(Value::Null, |e| json!(e)),
        "status" => json!(match employee.employment {
            Employment::Onboarding => "onboarding",
            Employment::Employed => "active",
            Employment::OnLeave => "leave",
            Employment::Left => "inactive",
        }),
        "position" => json!(employee.job_title),
        "department" => named("Department", employee.department.len() * 1000, &employee.department),
        "office" => named("Office", employee.location.len() * 100, &employee.location),
        "supervisor" => employee.manager_id.map_or(Value::Null, |id| {
            json!({ "type": "Employee", "attributes": {
                "id": { "label": "ID", "value": id, "type": "integer", "universal_id": "id" } } })
        }),
        "hire_date" => date(employee.hire_date),
        "termination_date" => date(employee.termination_date),
        "last_modified_at" => changed.map_or(Value::Null, |at| json!(at.to_rfc3339())),
        "dynamic_24407" => json!(["S", "M", "L", "XL"][employee.id as usize % 4]),
        _ => Value::Null,
    }
}

/// One employee with the attributes in `keys` (all readable ones when empty).
fn render(tenant: &Tenant, employee: &Employee, keys: &[String]) -> Value {
    let mut attributes = Map::new();
    attributes
        .insert("id".into(), json!({ "label": "ID", "value": employee.id, "type": "integer", "universal_id": "id" }));
    let changed = tenant.changed_at(employee.id);
    for (key, label, ty, _) in readable(tenant).filter(|(key, ..)| keys.is_empty() || keys.iter().any(|k| k == key)) {
        let universal = (!key.starts_with("dynamic_")).then_some(*key);
        attributes.insert(
            key.to_string(),
            json!({ "label": label, "value": value(employee, key, changed), "type": ty, "universal_id": universal }),
        );
    }
    json!({ "type": "Employee", "attributes": attributes })
}

/// `updated_since`: `2022-12-24T08:15:30` or `2022-12-24` (read as UTC).
fn parse_since(raw: &str) -> Option<DateTime<Utc>> {
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .or_else(|| NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)))
        .map(|t| t.and_utc())
}

async fn employees(tenants: web::Data<Tenants>, req: HttpRequest) -> HttpResponse {
    let admission = match gate(&tenants, &req, Endpoint::records("company/employees")).await {
        Ok(admission) => admission,
        Err(answer) => return answer,
    };
    let query: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let number = |name: &str, default: usize| param(name).map_or(Some(default), |v| v.parse().ok());
    let (Some(limit), Some(offset)) = (number("limit", DEFAULT_LIMIT), number("offset", 0)) else {
        return error(StatusCode::BAD_REQUEST, "limit and offset must be numbers");
    };
    let limit = limit.clamp(1, MAX_LIMIT);
    let keys: Vec<String> =
        query.iter().filter(|(k, _)| k == "attributes[]" || k == "attributes").map(|(_, v)| v.clone()).collect();
    let since = match param("updated_since") {
        Some(raw) => match parse_since(raw) {
            Some(since) => Some(since),
            None => return error(StatusCode::BAD_REQUEST, "updated_since must be 2022-12-24T08:15:30 or 2022-12-24"),
        },
        None => None,
    };
    let (page, total) = {
        let all = tenants.lock().expect("tenants lock");
        let tenant = &all[&admission.name];
        let listed: Vec<&Employee> = tenant
            .company
            .employees
            .iter()
            .filter(|e| since.is_none_or(|since| tenant.changed_at(e.id).is_some_and(|at| at >= since)))
            .collect();
        let page: Vec<Value> = listed.iter().skip(offset).take(limit).map(|e| render(tenant, e, &keys)).collect();
        (page, listed.len())
    };
    let cut = wire::cut_off(&tenants, &admission, offset, page.len());
    if cut == Some(0) && !page.is_empty() {
        return error(StatusCode::SERVICE_UNAVAILABLE, "Service temporarily unavailable");
    }
    let metadata =
        json!({ "total_elements": total, "current_page": offset / limit, "total_pages": total.div_ceil(limit) });
    let mut head =
        serde_json::to_vec(&json!({ "success": true, "metadata": metadata, "offset": offset, "limit": limit }))
            .expect("JSON");
    head.truncate(head.len() - 1);
    head.extend_from_slice(br#","data":["#);
    let count = page.len();
    wire::stream_records(head, count, move |range| page[range].to_vec(), b"]}", cut, admission.pace)
}
