//! Workday's Report-as-a-Service: `GET /ccx/service/customreport2/{tenant}/{owner}/{report}`
//! answers the custom report `Directory_Sync` (any owner) as `{"Report_Entry": [...]}` when asked
//! for `format=json` (XML otherwise, Workday's default), each worker's empty fields left out of
//! their entry, and the columns the integration user may not see left out as if empty. HTTP
//! Basic with the integration system user's name (the tenant's key) and password (its secret);
//! 401 otherwise; 404 for another tenant or report; a report not shared with the user (API
//! access off) is 500 "Processing error occurred. The task submitted is not authorized.", as
//! Workday says it; a report stopped at Workday's time limit (the `TimedOut` fault) is 500 with
//! that reason; 429 with `Retry-After` when throttled. The answer streams, with no length
//! past a buffer's worth, and may break off like every fake's. The report has the Date and Time
//! prompt `Updated_From`: given a moment (RFC 3339), it lists only the workers changed since;
//! empty or left out, everyone; anything else is 500 "Invalid value for prompt".
//!
//! An API Client for Integrations, as a tenant registers one: `POST /ccx/oauth2/{tenant}/token`
//! with the client's id and secret over HTTP Basic trades `grant_type=refresh_token` (a refresh
//! token [`api_client`] generated, which does not expire) for a bearer access token the report
//! accepts in place of the ISU's password; 401 `invalid_client` for another client, 400
//! `invalid_grant` for a refresh token the tenant never issued (or revoked).

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

use crate::company::{Attribute, Employee, Employment};
use crate::tenant::{Endpoint, Quota, Refusal, Tenant};
use crate::wire::{self, basic_auth};
use crate::{FakeProvider, FullRead, SampleCredentials, Tenants};

pub struct Workday;

const ID: &str = "workday";
/// The report every tenant has, shared with its integration user.
const REPORT: &str = "Directory_Sync";
/// The report's Date and Time prompt: workers last updated at or after it (all without it).
const CHANGE_PROMPT: &str = "Updated_From";
/// Where a tenant's report lives at Workday: the host is replaced by `WORKDAY_API_BASE`.
const HOST: &str = "https://wd2-impl-services1.workday.com";

impl FakeProvider for Workday {
    fn id(&self) -> &'static str {
        ID
    }

    fn routes(&self, cfg: &mut web::ServiceConfig) {
        cfg.route("/ccx/service/customreport2/{tenant}/{owner}/{report}", web::get().to(report))
            .route("/ccx/oauth2/{tenant}/token", web::post().to(token));
    }

    fn settings(&self, base: &str) -> Vec<(String, String)> {
        vec![("WORKDAY_API_BASE".into(), base.to_string())]
    }

    fn credentials(&self, tenant: &Tenant) -> SampleCredentials {
        SampleCredentials {
            provider_id: ID,
            // As View URLs gives it for a report with the change prompt.
            subdomain: Some(format!(
                "{HOST}/ccx/service/customreport2/{}/ISU_Directory/{REPORT}?format=json&{CHANGE_PROMPT}=",
                tenant.name
            )),
            api_key: format!("ISU_{}", tenant.key),
            api_secret: Some(tenant.secret.clone()),
        }
    }

    /// Workday publishes no quota for RaaS; it answers 429 when it throttles.
    fn quotas(&self) -> Vec<Quota> {
        Vec::new()
    }

    /// The report: everyone in one answer.
    fn full_read(&self, _employees: usize) -> FullRead {
        FullRead { requests: 1, round_trips: 1 }
    }
}

/// The tenant's API client, as its admin registers one: its client ID and secret, and a fresh
/// refresh token generated for the integration user.
pub fn api_client(tenant: &mut Tenant) -> (String, String, String) {
    let refresh_token = crate::tenant::random_token(40);
    tenant.refresh_tokens.insert(refresh_token.clone());
    (client_id(tenant), tenant.secret.clone(), refresh_token)
}

fn client_id(tenant: &Tenant) -> String {
    format!("APICLIENT_{}", tenant.key)
}

#[derive(serde::Deserialize)]
struct RefreshGrant {
    grant_type: String,
    refresh_token: Option<String>,
}

/// The token endpoint: a refresh token traded for an access token, the refresh token kept.
async fn token(
    tenants: web::Data<Tenants>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let tenant = path.into_inner();
    let oauth_error = |status: StatusCode, code: &str| HttpResponse::build(status).json(json!({ "error": code }));
    let client = basic_auth(&req);
    let mut all = tenants.lock().expect("tenants lock");
    let Some(t) = all.get_mut(tenant.as_str()).filter(|t| t.provider == ID) else {
        return error(StatusCode::NOT_FOUND, "The resource could not be found");
    };
    *t.requests.entry("token".into()).or_default() += 1;
    if !client.is_some_and(|(id, secret)| id == client_id(t) && secret == t.secret) {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let grant: Option<RefreshGrant> = serde_urlencoded::from_bytes(&body).ok();
    let refresh_token = match grant {
        Some(RefreshGrant { grant_type, refresh_token: Some(token) }) if grant_type == "refresh_token" => token,
        Some(RefreshGrant { grant_type, .. }) if grant_type != "refresh_token" => {
            return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type")
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "invalid_request"),
    };
    if !t.refresh_tokens.contains(&refresh_token) {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let access_token = t.issue_access_token();
    HttpResponse::Ok().json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "refresh_token": refresh_token,
        "expires_in": t.token_lifetime.as_secs(),
    }))
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message }))
}

fn refuse(refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::Status(401, _) => error(StatusCode::UNAUTHORIZED, "Invalid user name or password"),
        Refusal::Status(403, _) => {
            error(StatusCode::INTERNAL_SERVER_ERROR, "Processing error occurred. The task submitted is not authorized.")
        }
        Refusal::Status(504, _) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Processing error occurred. The report exceeded the maximum time allowed to run.",
        ),
        Refusal::Status(code, message) => {
            error(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), message)
        }
        Refusal::TooManyRequests { retry_after } => HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", wire::whole_seconds(retry_after).to_string()))
            .finish(),
    }
}

/// A worker's entry: the columns with a value that the integration user may see.
fn entry(employee: &Employee, withheld: &std::collections::HashSet<Attribute>) -> Value {
    let mut entry = Map::new();
    let mut put = |column: &str, attribute: Option<Attribute>, value: Option<String>| {
        let hidden = attribute.is_some_and(|a| withheld.contains(&a));
        if let Some(value) = value.filter(|v| !v.is_empty() && !hidden) {
            entry.insert(column.into(), json!(value));
        }
    };
    put("Employee_ID", None, Some(employee.id.to_string()));
    put("Worker", None, Some(format!("{} {}", employee.first_name, employee.last_name)));
    put("First_Name", Some(Attribute::FirstName), Some(employee.first_name.clone()));
    put("Last_Name", Some(Attribute::LastName), Some(employee.last_name.clone()));
    put("Email_Work", Some(Attribute::WorkEmail), employee.work_email.clone());
    put("Business_Title", Some(Attribute::JobTitle), Some(employee.job_title.clone()));
    put("Supervisory_Organization", Some(Attribute::Department), Some(employee.department.clone()));
    put("Location", Some(Attribute::Location), Some(employee.location.clone()));
    put("Hire_Date", Some(Attribute::HireDate), employee.hire_date.map(|d| d.to_string()));
    let active = if employee.employment == Employment::Left { "0" } else { "1" };
    put("Active_Status", Some(Attribute::Employment), Some(active.into()));
    put("Manager_Employee_ID", Some(Attribute::Manager), employee.manager_id.map(|m| m.to_string()));
    put("Termination_Date", Some(Attribute::Employment), employee.termination_date.map(|d| d.to_string()));
    let mut entry = Value::Object(entry);
    // A multi-instance field, as reports often carry: nothing the directory maps.
    entry["Worker_Groups"] = json!([{ "Descriptor": employee.division }]);
    entry
}

async fn report(
    tenants: web::Data<Tenants>,
    req: HttpRequest,
    path: web::Path<(String, String, String)>,
) -> HttpResponse {
    let (tenant, _owner, name) = path.into_inner();
    if name != REPORT || wire::find_tenant(&tenants, ID, |t| t.name == tenant).is_none() {
        return error(StatusCode::NOT_FOUND, "The resource could not be found");
    }
    let credentials = basic_auth(&req);
    let bearer = wire::bearer(&req).map(str::to_string);
    let signed = |t: &Tenant| {
        let isu = credentials
            .as_ref()
            .is_some_and(|(user, password)| *user == format!("ISU_{}", t.key) && *password == t.secret);
        isu || bearer.as_deref().is_some_and(|token| t.accepts_token(token))
    };
    let admission = match wire::admit(&tenants, &tenant, Endpoint::records("report"), signed).await {
        Ok(admission) => admission,
        Err(refusal) => return refuse(refusal),
    };
    let query: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    if !query.iter().any(|(k, v)| k == "format" && v.eq_ignore_ascii_case("json")) {
        return HttpResponse::Ok()
            .content_type("application/xml")
            .body(r#"<?xml version="1.0" encoding="UTF-8"?><wd:Report_Data xmlns:wd="urn:com.workday.report/Directory_Sync"/>"#);
    }
    let from = match query.iter().find(|(k, v)| k == CHANGE_PROMPT && !v.is_empty()) {
        None => None,
        Some((_, raw)) => match DateTime::parse_from_rfc3339(raw) {
            Ok(from) => Some(from.with_timezone(&Utc)),
            Err(_) => {
                let reason = format!("Processing error occurred. Invalid value for prompt {CHANGE_PROMPT}: {raw}");
                return error(StatusCode::INTERNAL_SERVER_ERROR, &reason);
            }
        },
    };
    // The workers the report lists: all, or those updated from the prompt's moment.
    let listed: Vec<usize> = {
        let all = tenants.lock().expect("tenants lock");
        let t = &all[tenant.as_str()];
        let updated = |e: &Employee| from.is_none_or(|from| t.changed_at(e.id).is_some_and(|at| at >= from));
        t.company.employees.iter().enumerate().filter(|(_, e)| updated(e)).map(|(i, _)| i).collect()
    };
    let count = listed.len();
    let cut = wire::cut_off(&tenants, &admission, 0, count);
    let render = move |range: std::ops::Range<usize>| {
        let all = tenants.lock().expect("tenants lock");
        let Some(t) = all.get(&tenant) else { return Vec::new() };
        let listed = listed.get(range).unwrap_or_default();
        listed.iter().filter_map(|i| t.company.employees.get(*i)).map(|e| entry(e, &t.withheld)).collect()
    };
    wire::stream_records(br#"{"Report_Entry":["#.to_vec(), count, render, b"]}", cut, admission.pace)
}
