//! A BambooHR tenant: `/api/gateway.php/{subdomain}/v1/...` with API-key (HTTP Basic, key as user
//! name, `x` as password) or OAuth bearer auth, JSON only when `Accept: application/json` (XML
//! otherwise, as BambooHR does), errors carried in `X-BambooHR-Error-Message`, and the OAuth
//! endpoints `/oauth/{subdomain}/authorize.php` and `/token.php`. Its change feed
//! (`/employees/changed`) stamps each employee with when it last changed, as the tests change them.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::StreamExt;
use rand::Rng;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::company::{Company, Employee};
use crate::faults::Fault;
use crate::{Tenants, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET};

/// One simulated BambooHR company.
pub struct Tenant {
    pub company: Company,
    pub api_key: String,
    /// When false, every API call answers 403 as when an admin disabled API access.
    pub api_access_enabled: bool,
    /// Requests allowed per second before 429; `None` for no limit.
    pub rate_limit_per_second: Option<u32>,
    /// When false, the sign-in page answers `error=access_denied` instead of a code.
    pub consent: bool,
    /// Lifetime of issued access tokens (`expires_in`); expired tokens answer 401.
    pub token_lifetime: Duration,
    faults: VecDeque<Fault>,
    codes: HashSet<String>,
    access_tokens: HashMap<String, Instant>,
    refresh_tokens: HashSet<String>,
    window: (Instant, u32),
    /// Requests received, by path tail (`meta/fields`, `reports/custom`, ...).
    pub requests: HashMap<String, u32>,
    /// Per employee id: a fingerprint of the record, and when it last changed or was deleted.
    changes: HashMap<u32, Change>,
}

/// What the change feed knows of one employee record.
struct Change {
    /// `None` once deleted.
    fingerprint: Option<u64>,
    inserted: bool,
    at: DateTime<Utc>,
}

fn fingerprint(employee: &Employee) -> u64 {
    let mut hasher = DefaultHasher::new();
    employee.hash(&mut hasher);
    hasher.finish()
}

impl Tenant {
    pub(crate) fn new(company: Company) -> Self {
        let mut tenant = Self {
            company,
            api_key: random_token(40),
            api_access_enabled: true,
            rate_limit_per_second: None,
            consent: true,
            token_lifetime: Duration::from_secs(3600),
            faults: VecDeque::new(),
            codes: HashSet::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashSet::new(),
            window: (Instant::now(), 0),
            requests: HashMap::new(),
            changes: HashMap::new(),
        };
        // The generated company has existed for a while: its records changed long before any sync.
        tenant.record_changes_at(Utc::now() - chrono::Duration::days(1));
        tenant
    }

    /// Stamps employees added, changed or removed since the last call as changed now.
    pub(crate) fn record_changes(&mut self) {
        self.record_changes_at(Utc::now());
    }

    fn record_changes_at(&mut self, now: DateTime<Utc>) {
        let mut present = HashSet::with_capacity(self.company.employees.len());
        for employee in &self.company.employees {
            present.insert(employee.id);
            let print = Some(fingerprint(employee));
            match self.changes.get_mut(&employee.id) {
                Some(change) if change.fingerprint == print => {}
                Some(change) => *change = Change { fingerprint: print, inserted: false, at: now },
                None => {
                    self.changes.insert(employee.id, Change { fingerprint: print, inserted: true, at: now });
                }
            }
        }
        for (id, change) in &mut self.changes {
            if change.fingerprint.is_some() && !present.contains(id) {
                *change = Change { fingerprint: None, inserted: false, at: now };
            }
        }
    }

    /// Queues faults, answered one per request before the tenant answers normally again.
    pub fn inject(&mut self, faults: impl IntoIterator<Item = Fault>) {
        self.faults.extend(faults);
    }

    /// Revokes every token issued so far, as when an admin removes the app's access.
    pub fn revoke_tokens(&mut self) {
        self.access_tokens.clear();
        self.refresh_tokens.clear();
    }

    fn rate_limited(&mut self) -> bool {
        let Some(limit) = self.rate_limit_per_second else { return false };
        if self.window.0.elapsed() >= Duration::from_secs(1) {
            self.window = (Instant::now(), 0);
        }
        self.window.1 += 1;
        self.window.1 > limit
    }
}

fn random_token(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)])).collect()
}

pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
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

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).insert_header(("X-BambooHR-Error-Message", message)).finish()
}

/// Authenticates, applies faults and rate limits; answers the response to send instead, if any,
/// or after how many employees to break the answer off.
async fn gate(
    tenants: &Tenants,
    req: &HttpRequest,
    subdomain: &str,
    endpoint: &str,
) -> Result<Option<usize>, HttpResponse> {
    let mut break_off = None;
    let delay = {
        let mut all = tenants.lock().expect("tenants lock");
        let Some(tenant) = all.get_mut(subdomain) else {
            return Err(error(StatusCode::NOT_FOUND, "Company not found"));
        };
        *tenant.requests.entry(endpoint.to_string()).or_default() += 1;
        let delay = match tenant.faults.pop_front() {
            Some(Fault::Status(code)) => {
                let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                return Err(error(status, "Injected fault"));
            }
            Some(Fault::RateLimited { retry_after_secs }) => {
                return Err(HttpResponse::TooManyRequests()
                    .insert_header(("Retry-After", retry_after_secs.to_string()))
                    .finish());
            }
            Some(Fault::Slow(delay)) => Some(delay),
            Some(Fault::BreakOff { after_employees }) => {
                break_off = Some(after_employees);
                None
            }
            None => None,
        };
        if !authenticated(tenant, req) {
            return Err(error(StatusCode::UNAUTHORIZED, "Invalid API key"));
        }
        if !tenant.api_access_enabled {
            return Err(error(StatusCode::FORBIDDEN, "API access is disabled for this company"));
        }
        if tenant.rate_limited() {
            return Err(HttpResponse::TooManyRequests().insert_header(("Retry-After", "1")).finish());
        }
        delay
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    Ok(break_off)
}

fn authenticated(tenant: &Tenant, req: &HttpRequest) -> bool {
    let Some(header) = req.headers().get("Authorization").and_then(|h| h.to_str().ok()) else {
        return false;
    };
    if let Some(basic) = header.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD.decode(basic).unwrap_or_default();
        let text = String::from_utf8_lossy(&decoded);
        return text.split_once(':').is_some_and(|(key, _)| key == tenant.api_key);
    }
    header
        .strip_prefix("Bearer ")
        .and_then(|token| tenant.access_tokens.get(token))
        .is_some_and(|expires| Instant::now() < *expires)
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

/// (id, name, type, alias) of every field, as `/meta/fields` lists them.
const FIELDS: &[(&str, &str, &str, Option<&str>)] = &[
    ("1", "First Name", "text", Some("firstName")),
    ("2", "Last Name", "text", Some("lastName")),
    ("3", "Display Name", "text", Some("displayName")),
    ("4", "Work Email", "email", Some("workEmail")),
    ("5", "Home Email", "email", Some("homeEmail")),
    ("6", "Job Title", "list", Some("jobTitle")),
    ("7", "Department", "list", Some("department")),
    ("8", "Division", "list", Some("division")),
    ("9", "Location", "list", Some("location")),
    ("10", "Status", "status", Some("status")),
    ("11", "Hire Date", "date", Some("hireDate")),
    ("12", "Supervisor EID", "employee", Some("supervisorEId")),
    ("13", "Employee #", "text", Some("employeeNumber")),
    ("4047", "T-Shirt Size", "list", None),
    ("4048.1", "Emergency Contact", "text", None),
];

async fn meta_fields(tenants: web::Data<Tenants>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    if let Err(answer) = gate(&tenants, &req, &path, "meta/fields").await {
        return answer;
    }
    if !wants_json(&req) {
        return xml_answer();
    }
    let fields: Vec<Value> = FIELDS
        .iter()
        .map(|(id, name, ty, alias)| {
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

fn field_value(employee: &Employee, key: &str) -> Option<Value> {
    let text = |s: &str| Some(json!(s));
    match key {
        "firstName" | "1" => text(&employee.first_name),
        "lastName" | "2" => text(&employee.last_name),
        "displayName" | "3" => text(&format!("{} {}", employee.first_name, employee.last_name)),
        "workEmail" | "4" => Some(employee.work_email.as_deref().map_or(Value::Null, |e| json!(e))),
        "homeEmail" | "5" => Some(Value::Null),
        "jobTitle" | "6" => text(&employee.job_title),
        "department" | "7" => text(&employee.department),
        "division" | "8" => text(&employee.division),
        "location" | "9" => text(&employee.location),
        "status" | "10" => text(&employee.status),
        "hireDate" | "11" => text(&employee.hire_date),
        "supervisorEId" | "12" => Some(employee.supervisor_eid.map_or(Value::Null, |s| json!(s.to_string()))),
        "employeeNumber" | "13" => text(&format!("E{:05}", employee.id)),
        "4047" => text(["S", "M", "L", "XL"][employee.id as usize % 4]),
        "4048.1" => Some(Value::Null),
        // Unknown or forbidden fields are silently left out, as BambooHR does.
        _ => None,
    }
}

async fn custom_report(
    tenants: web::Data<Tenants>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
    body: web::Bytes,
) -> HttpResponse {
    let break_off = match gate(&tenants, &req, &path, "reports/custom").await {
        Ok(break_off) => break_off,
        Err(answer) => return answer,
    };
    let Ok(request) = serde_json::from_slice::<ReportRequest>(&body) else {
        return error(StatusCode::BAD_REQUEST, "Malformed request body");
    };
    if query.get("format").map(String::as_str) != Some("JSON") || !wants_json(&req) {
        return xml_answer();
    }
    let fields: Vec<String> = request
        .fields
        .into_iter()
        .filter(|f| FIELDS.iter().any(|(id, _, _, alias)| id == f || alias.as_deref() == Some(f.as_str())))
        .collect();
    let described: Vec<Value> = fields
        .iter()
        .map(|f| {
            let (_, name, ty, _) = FIELDS
                .iter()
                .find(|(id, _, _, alias)| id == f || alias.as_deref() == Some(f.as_str()))
                .expect("filtered above");
            json!({ "id": f, "type": ty, "name": name })
        })
        .collect();
    let title = request.title.unwrap_or_else(|| "Report".into());
    let mut head = serde_json::to_vec(&json!({ "title": title, "fields": described })).expect("JSON");
    head.truncate(head.len() - 1);
    head.extend_from_slice(br#","employees":["#);
    let report = ReportStream { tenants, subdomain: path.into_inner(), fields, next: 0, break_off, done: false };
    let chunks = futures::stream::once(async { Ok(Bytes::from(head)) }).chain(futures::stream::unfold(
        report,
        |mut report| async move {
            if report.breaking_off() {
                // Let what was sent reach the client first, as on a real connection that drops.
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            report.next().map(|chunk| (chunk, report))
        },
    ));
    HttpResponse::Ok().content_type("application/json").streaming(chunks)
}

/// The custom report's employees, rendered a chunk of rows at a time as the answer is sent, so
/// a large company costs a chunk's bytes rather than the whole answer's.
struct ReportStream {
    tenants: web::Data<Tenants>,
    subdomain: String,
    fields: Vec<String>,
    next: usize,
    break_off: Option<usize>,
    done: bool,
}

impl ReportStream {
    fn breaking_off(&self) -> bool {
        !self.done && self.break_off.is_some_and(|after| self.next >= after)
    }
}

impl Iterator for ReportStream {
    type Item = Result<Bytes, std::io::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        const ROWS_PER_CHUNK: usize = 256;
        if self.done {
            return None;
        }
        if self.breaking_off() {
            self.done = true;
            return Some(Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected break-off")));
        }
        let all = self.tenants.lock().expect("tenants lock");
        let employees = all.get(&self.subdomain).map_or(&[][..], |t| &t.company.employees[..]);
        let end = (self.next + ROWS_PER_CHUNK).min(employees.len()).min(self.break_off.unwrap_or(usize::MAX));
        let mut chunk = Vec::new();
        for (index, employee) in employees.iter().enumerate().take(end).skip(self.next) {
            let mut row = Map::new();
            row.insert("id".into(), json!(employee.id.to_string()));
            for field in &self.fields {
                if let Some(value) = field_value(employee, field) {
                    row.insert(field.clone(), value);
                }
            }
            if index > 0 {
                chunk.push(b',');
            }
            serde_json::to_writer(&mut chunk, &row).expect("JSON");
        }
        self.next = end;
        if end >= employees.len() {
            self.done = true;
            chunk.extend_from_slice(b"]}");
        }
        Some(Ok(Bytes::from(chunk)))
    }
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
    if let Err(answer) = gate(&tenants, &req, &path, "employees/changed").await {
        return answer;
    }
    if !wants_json(&req) {
        return xml_answer();
    }
    let Some(since) = query.since.as_deref().and_then(|s| DateTime::parse_from_rfc3339(s).ok()) else {
        return error(StatusCode::BAD_REQUEST, "since must be an ISO 8601 timestamp");
    };
    let all = tenants.lock().expect("tenants lock");
    let mut employees = BTreeMap::new();
    let mut latest = since.with_timezone(&Utc);
    for (id, change) in &all[path.as_str()].changes {
        let action = match (change.fingerprint, change.inserted) {
            (None, _) => "Deleted",
            (Some(_), true) => "Inserted",
            (Some(_), false) => "Updated",
        };
        let wanted = query.kind.as_deref().is_none_or(|kind| kind.eq_ignore_ascii_case(action));
        if change.at < since || !wanted {
            continue;
        }
        latest = latest.max(change.at);
        let last_changed = change.at.to_rfc3339_opts(SecondsFormat::Secs, false);
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
    if let Err(answer) = gate(&tenants, &req, &subdomain, "employees/{id}").await {
        return answer;
    }
    if !wants_json(&req) {
        return xml_answer();
    }
    let all = tenants.lock().expect("tenants lock");
    let Some(employee) = all[subdomain.as_str()].company.employees.iter().find(|e| e.id.to_string() == id) else {
        return error(StatusCode::NOT_FOUND, "Employee not found");
    };
    let mut row = Map::new();
    row.insert("id".into(), json!(id));
    for field in query.fields.as_deref().unwrap_or_default().split(',').filter(|f| !f.is_empty()) {
        if let Some(value) = field_value(employee, field) {
            row.insert(field.to_string(), value);
        }
    }
    HttpResponse::Ok().json(Value::Object(row))
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
    let Some(tenant) = all.get_mut(path.as_str()) else {
        return HttpResponse::NotFound().body("Company not found");
    };
    let mut target = redirect;
    {
        let mut pairs = target.query_pairs_mut();
        if tenant.consent {
            let code = random_token(24);
            tenant.codes.insert(code.clone());
            pairs.append_pair("code", &code);
        } else {
            pairs.append_pair("error", "access_denied");
        }
        if let Some(state) = &q.state {
            pairs.append_pair("state", state);
        }
    }
    HttpResponse::Found().insert_header(("Location", target.to_string())).finish()
}

#[derive(Deserialize)]
struct TokenRequest {
    client_id: String,
    client_secret: String,
    code: Option<String>,
    grant_type: String,
    refresh_token: Option<String>,
}

async fn token(tenants: web::Data<Tenants>, path: web::Path<String>, body: web::Json<TokenRequest>) -> HttpResponse {
    let request = body.into_inner();
    if request.client_id != OAUTH_CLIENT_ID || request.client_secret != OAUTH_CLIENT_SECRET {
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let mut all = tenants.lock().expect("tenants lock");
    let Some(tenant) = all.get_mut(path.as_str()) else {
        return HttpResponse::NotFound().body("Company not found");
    };
    *tenant.requests.entry(format!("token:{}", request.grant_type)).or_default() += 1;
    let granted = match request.grant_type.as_str() {
        "authorization_code" => request.code.is_some_and(|c| tenant.codes.remove(&c)),
        "refresh_token" => request.refresh_token.is_some_and(|t| tenant.refresh_tokens.contains(&t)),
        _ => false,
    };
    if !granted {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_grant"}));
    }
    let access_token = random_token(32);
    tenant.access_tokens.insert(access_token.clone(), Instant::now() + tenant.token_lifetime);
    let refresh_token = random_token(32);
    tenant.refresh_tokens.insert(refresh_token.clone());
    HttpResponse::Ok().json(json!({
        "access_token": access_token,
        "expires_in": tenant.token_lifetime.as_secs(),
        "token_type": "Bearer",
        "scope": "openid email employee",
        "refresh_token": refresh_token,
        "id_token": "sandbox",
        "companyDomain": path.as_str(),
    }))
}
