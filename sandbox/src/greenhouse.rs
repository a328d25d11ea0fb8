//! Greenhouse, Harvest API v3, rendering the company's [`hiring`](crate::hiring) view:
//! `POST /auth/token` (the client credentials grant: HTTP Basic `client_id:client_secret`, form
//! `grant_type=client_credentials`) answers a bearer `access_token` good for an hour;
//! `GET /v3/{applications, candidates, offers, jobs, job_hiring_managers, departments, offices,
//! users}` answer JSON arrays, `per_page` 1 to 500 (default 100), paged by an opaque `cursor` in
//! the `Link` header's `rel="next"` URL, which must be the next request's only parameter. They
//! filter by `ids` / `candidate_ids` / `application_ids` (at most 50 each), `status`,
//! `current_only` (offers) and `updated_at=gte|<ISO time>`. A list the credential has no scope
//! for answers 403 (the tenant's withheld attributes: jobs carry the job title, departments,
//! offices, hiring managers and offers theirs). Throttling is 50 requests per 10 seconds, 429
//! with `Retry-After`, and every answer says `X-RateLimit-Limit` and `X-RateLimit-Remaining`.
//! The tenant's `key` is the client id, its `secret` the client secret.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::company::{Attribute, Company};
use crate::hiring::{self, Stage};
use crate::tenant::{Endpoint, Quota, Refusal, Tenant};
use crate::wire::{self, basic_auth, bearer};
use crate::{FakeProvider, FullRead, Holds, SampleCredentials, Tenants};

pub struct Greenhouse;

const ID: &str = "greenhouse";
const MAX_PER_PAGE: usize = 500;
const DEFAULT_PER_PAGE: usize = 100;
const MAX_IDS: usize = 50;
/// What a credential may read, by list: the attribute whose scope it needs, if any.
const LISTS: &[(&str, Option<Attribute>)] = &[
    ("applications", None),
    ("candidates", None),
    ("offers", Some(Attribute::HireDate)),
    ("jobs", Some(Attribute::JobTitle)),
    ("job_hiring_managers", Some(Attribute::Manager)),
    ("departments", Some(Attribute::Department)),
    ("offices", Some(Attribute::Location)),
    ("users", None),
];
/// When applicants who were not hired last changed: long before any sync.
const LONG_AGO: &str = "2020-01-01T00:00:00Z";

impl FakeProvider for Greenhouse {
    fn id(&self) -> &'static str {
        ID
    }

    fn routes(&self, cfg: &mut web::ServiceConfig) {
        cfg.route("/auth/token", web::post().to(token)).route("/v3/{list}", web::get().to(list));
    }

    fn settings(&self, base: &str) -> Vec<(String, String)> {
        vec![
            ("GREENHOUSE_API_BASE".into(), format!("{base}/v3")),
            ("GREENHOUSE_OAUTH_BASE".into(), format!("{base}/auth")),
        ]
    }

    fn credentials(&self, tenant: &Tenant) -> SampleCredentials {
        SampleCredentials {
            provider_id: ID,
            subdomain: None,
            api_key: tenant.key.clone(),
            api_secret: Some(tenant.secret.clone()),
        }
    }

    fn quotas(&self) -> Vec<Quota> {
        vec![Quota { requests: 50, per: Duration::from_secs(10) }]
    }

    /// A token; the lookups (jobs and their hiring managers, a page of 500 per 500 hires;
    /// departments, offices and users, a page each), each list's pages one after another but
    /// the lists at once; then pages of 500 hired applications, each naming the next, each
    /// followed by its candidates and offers, 50 ids a request, all at once.
    fn full_read(&self, employees: usize) -> FullRead {
        let pages = employees.div_ceil(MAX_PER_PAGE).max(1);
        let lookups = 2 * pages + 3;
        let requests = 1 + lookups + pages + 2 * employees.div_ceil(MAX_IDS).max(1);
        FullRead { requests, round_trips: 1 + pages + 2 * pages }
    }

    fn holds(&self) -> Holds {
        Holds::Hires
    }

    fn withholding(&self, attribute: Attribute) -> Vec<&'static str> {
        match attribute {
            // A credential without the jobs scope knows no job: no title, department or office.
            Attribute::JobTitle => vec!["jobTitle", "department", "location"],
            // Without offers, no start date, so nor whether a hire has started.
            Attribute::HireDate => vec!["startDate", "employmentStatus"],
            Attribute::Department | Attribute::Location | Attribute::Manager => vec![attribute.directory_field()],
            // Scopes are by list: a candidate's names and emails, and who was hired, are read
            // whole or not at all.
            Attribute::FirstName | Attribute::LastName | Attribute::WorkEmail | Attribute::Employment => Vec::new(),
        }
    }
}

fn error(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "message": message }))
}

fn refuse(refusal: Refusal, list: &str) -> HttpResponse {
    match refusal {
        Refusal::Status(401, _) => error(StatusCode::UNAUTHORIZED, "Invalid or expired access token"),
        Refusal::Status(403, _) => {
            error(StatusCode::FORBIDDEN, &format!("Missing required scope: harvest:{list}:list"))
        }
        Refusal::Status(code, message) => {
            error(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), message)
        }
        Refusal::TooManyRequests { retry_after } => HttpResponse::TooManyRequests()
            .insert_header(("Retry-After", wire::whole_seconds(retry_after).to_string()))
            .insert_header(("X-RateLimit-Limit", "50"))
            .insert_header(("X-RateLimit-Remaining", "0"))
            .json(json!({ "message": "Rate limit exceeded" })),
    }
}

/// `POST /auth/token`: the client credentials grant.
async fn token(tenants: web::Data<Tenants>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if !form.iter().any(|(k, v)| k == "grant_type" && v == "client_credentials") {
        return HttpResponse::BadRequest().json(json!({ "error": "unsupported_grant_type" }));
    }
    let invalid = || HttpResponse::Unauthorized().json(json!({ "error": "invalid_client" }));
    let Some((client_id, secret)) = basic_auth(&req) else { return invalid() };
    let Some(name) = wire::find_tenant(&tenants, ID, |t| t.key == client_id) else { return invalid() };
    let endpoint = Endpoint { name: "token", lists_records: false, needs_api_access: false };
    match wire::admit(&tenants, &name, endpoint, |t| t.secret == secret).await {
        Ok(_) => {}
        Err(Refusal::Status(401, _)) => return invalid(),
        Err(other) => return refuse(other, "token"),
    }
    let mut all = tenants.lock().expect("tenants lock");
    let tenant = all.get_mut(&name).expect("admitted");
    let token = tenant.issue_access_token();
    HttpResponse::Ok().json(json!({
        "access_token": token, "token_type": "Bearer", "expires_in": tenant.token_lifetime.as_secs()
    }))
}

/// The first request's parameters, carried by a cursor, and where the next page starts.
#[derive(serde::Serialize, serde::Deserialize)]
struct Cursor {
    query: Vec<(String, String)>,
    offset: usize,
}

fn encode(cursor: &Cursor) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(serde_json::to_vec(cursor).expect("JSON"))
}

fn decode(raw: &str) -> Option<Cursor> {
    serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE.decode(raw).ok()?).ok()
}

/// `GET /v3/{list}`.
async fn list(tenants: web::Data<Tenants>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let list = path.into_inner();
    let Some((_, scope)) = LISTS.iter().find(|(name, _)| *name == list) else {
        return error(StatusCode::NOT_FOUND, "Not found");
    };
    let token = bearer(&req).unwrap_or_default().to_string();
    let Some(name) = wire::find_tenant(&tenants, ID, |t| t.accepts_token(&token)) else {
        return refuse(Refusal::Status(401, ""), &list);
    };
    let endpoint = if list == "applications" { Endpoint::records("applications") } else { Endpoint::call("v3") };
    let admission = match wire::admit(&tenants, &name, endpoint, |_| true).await {
        Ok(admission) => admission,
        Err(refusal) => return refuse(refusal, &list),
    };
    let given: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let (query, offset) = match given.iter().find(|(k, _)| k == "cursor") {
        Some(_) if given.len() > 1 => {
            return error(StatusCode::BAD_REQUEST, "cursor must be the only query parameter");
        }
        Some((_, raw)) => match decode(raw) {
            Some(cursor) => (cursor.query, cursor.offset),
            None => return error(StatusCode::BAD_REQUEST, "invalid cursor"),
        },
        None => (given, 0),
    };
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let per_page = match param("per_page").map(str::parse::<usize>) {
        None => DEFAULT_PER_PAGE,
        Some(Ok(n)) if (1..=MAX_PER_PAGE).contains(&n) => n,
        Some(_) => return error(StatusCode::UNPROCESSABLE_ENTITY, "per_page must be between 1 and 500"),
    };
    let mut filters = Filters::default();
    for (key, value) in &query {
        match key.as_str() {
            "ids" | "candidate_ids" | "application_ids" => {
                let ids: Option<Vec<u64>> = value.split(',').map(|id| id.trim().parse().ok()).collect();
                match ids {
                    Some(ids) if ids.len() <= MAX_IDS => {
                        filters.ids.insert(key.clone(), ids);
                    }
                    _ => return error(StatusCode::UNPROCESSABLE_ENTITY, &format!("{key}: at most 50 ids")),
                }
            }
            "updated_at" => match value.strip_prefix("gte|").and_then(|t| DateTime::parse_from_rfc3339(t).ok()) {
                Some(since) => filters.updated_since = Some(since.with_timezone(&Utc)),
                None => return error(StatusCode::UNPROCESSABLE_ENTITY, "updated_at: use gte|<ISO 8601 time>"),
            },
            "status" => filters.status = Some(value.to_lowercase()),
            "current_only" | "per_page" => {}
            other => return error(StatusCode::UNPROCESSABLE_ENTITY, &format!("unknown parameter {other}")),
        }
    }
    let rows = {
        let all = tenants.lock().expect("tenants lock");
        let tenant = &all[&admission.name];
        if scope.is_some_and(|a| tenant.withheld.contains(&a)) {
            return refuse(Refusal::Status(403, ""), &list);
        }
        rows(tenant, &list)
    };
    let matching: Vec<Value> = rows.into_iter().filter(|row| filters.keep(row)).collect();
    let page: Vec<Value> = matching.iter().skip(offset).take(per_page).cloned().collect();
    if list == "applications"
        && wire::cut_off(&tenants, &admission, offset, page.len()).is_some_and(|cut| cut < page.len())
    {
        return error(StatusCode::SERVICE_UNAVAILABLE, "Service temporarily unavailable");
    }
    let mut answer = HttpResponse::Ok();
    answer.insert_header(("X-RateLimit-Limit", "50"));
    if offset + page.len() < matching.len() {
        let next = encode(&Cursor { query: query.clone(), offset: offset + page.len() });
        let url = format!(
            "{}://{}{}?cursor={next}",
            req.connection_info().scheme(),
            req.connection_info().host(),
            req.path()
        );
        answer.insert_header(("Link", format!("<{url}>; rel=\"next\"")));
    }
    answer.json(page)
}

/// What a request narrows its list to.
#[derive(Default)]
struct Filters {
    /// Filter name → the ids it keeps (`ids` matches a row's `id`, `candidate_ids` its
    /// `candidate_id`, ...).
    ids: BTreeMap<String, Vec<u64>>,
    updated_since: Option<DateTime<Utc>>,
    status: Option<String>,
}

impl Filters {
    fn keep(&self, row: &Value) -> bool {
        let ids_match = self.ids.iter().all(|(filter, ids)| {
            let field = match filter.as_str() {
                "ids" => "id",
                "candidate_ids" => "candidate_id",
                _ => "application_id",
            };
            row[field].as_u64().is_some_and(|id| ids.contains(&id))
        });
        let updated = self.updated_since.is_none_or(|since| {
            row["updated_at"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).is_some_and(|t| t >= since)
        });
        let status =
            self.status.as_ref().is_none_or(|s| row["status"].as_str().is_some_and(|r| r.eq_ignore_ascii_case(s)));
        ids_match && updated && status
    }
}

/// Ids of departments and offices, by name.
fn id_of(name: &str) -> u64 {
    name.bytes().fold(1_000u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b))) % 1_000_000
}

fn when(tenant: &Tenant, employee: u32) -> String {
    tenant.changed_at(employee).map_or_else(|| LONG_AGO.to_string(), |t| t.to_rfc3339())
}

/// Every row of `list`, as the tenant's company stands.
fn rows(tenant: &Tenant, list: &str) -> Vec<Value> {
    let company: &Company = &tenant.company;
    let hires = hiring::hires(company);
    let team = hiring::team(company);
    let member_of = |id: u32| team.iter().find(|m| m.employee.id == id);
    match list {
        "applications" => {
            let hired = hires.iter().map(|h| {
                json!({ "id": h.application_id, "candidate_id": h.candidate_id, "job_id": h.job_id, "prospect": false,
                        "status": if h.hired { "hired" } else { "rejected" }, "updated_at": when(tenant, h.employee.id) })
            });
            let others = hiring::applicants(company).into_iter().map(|a| {
                let status = match a.stage {
                    Stage::Rejected | Stage::Withdrawn => "rejected",
                    Stage::InPipeline | Stage::Prospect => "active",
                };
                json!({ "id": a.application_id, "candidate_id": a.candidate_id, "job_id": a.job_id,
                        "prospect": a.stage == Stage::Prospect, "status": status, "updated_at": LONG_AGO })
            });
            hired.chain(others).collect()
        }
        "candidates" => {
            let hired = hires.iter().map(|h| {
                let e = h.employee;
                let mut emails = Vec::new();
                if let Some(work) = &e.work_email {
                    emails.push(json!({ "value": work, "type": "work" }));
                }
                if let Some(personal) = &e.personal_email {
                    emails.push(json!({ "value": personal, "type": "personal" }));
                }
                json!({ "id": h.candidate_id, "first_name": e.first_name, "last_name": e.last_name,
                        "email_addresses": emails, "application_ids": [h.application_id], "updated_at": when(tenant, e.id) })
            });
            let others = hiring::applicants(company).into_iter().map(|a| {
                json!({ "id": a.candidate_id, "first_name": a.first_name, "last_name": a.last_name,
                        "email_addresses": [{ "value": a.email, "type": "personal" }],
                        "application_ids": [a.application_id], "updated_at": LONG_AGO })
            });
            hired.chain(others).collect()
        }
        "offers" => hires
            .iter()
            .map(|h| {
                json!({ "id": h.offer_id, "application_id": h.application_id, "candidate_id": h.candidate_id,
                        "job_id": h.job_id, "version": 1, "status": if h.hired { "accepted" } else { "deprecated" },
                        "start_date": h.starts_on.map(|d| d.to_string()), "updated_at": when(tenant, h.employee.id) })
            })
            .collect(),
        "jobs" => hires
            .iter()
            .map(|h| {
                let e = h.employee;
                json!({ "id": h.job_id, "name": e.job_title, "status": "closed", "department_id": id_of(&e.department),
                        "office_ids": [id_of(&e.location)], "updated_at": when(tenant, e.id) })
            })
            .collect(),
        "job_hiring_managers" => hires
            .iter()
            .filter_map(|h| h.hiring_manager.and_then(|m| member_of(m.id)).map(|m| (h, m)))
            .map(|(h, m)| json!({ "id": h.job_id, "job_id": h.job_id, "user_id": m.user_id, "responsible": true }))
            .collect(),
        "departments" | "offices" => {
            let mut names: Vec<&str> = company
                .employees
                .iter()
                .map(|e| if list == "departments" { e.department.as_str() } else { e.location.as_str() })
                .collect();
            names.sort_unstable();
            names.dedup();
            names.into_iter().map(|name| json!({ "id": id_of(name), "name": name })).collect()
        }
        _ => team
            .iter()
            .map(|m| {
                let e = m.employee;
                json!({ "id": m.user_id, "first_name": e.first_name, "last_name": e.last_name,
                        "primary_email_address": e.work_email, "emails": [e.work_email], "disabled": m.disabled,
                        "updated_at": when(tenant, e.id) })
            })
            .collect(),
    }
}
