//! Merge's unified ATS API, rendering the company's [`hiring`](crate::hiring) view as one linked
//! Greenhouse account. It is Merge's one API (see [`crate::merge`], which serves these routes
//! too): the same keys, Link (category `ats`), errors, cursor pages and quota.
//! `GET /api/ats/v1/{applications, candidates, offers, users, departments, offices}`: applications
//! carry their `candidate`, `job`, `offers`, `current_stage` and `reject_reason` as Merge ids, or
//! as objects where `expand` names them; a hire is in the stage "Hired", a rescinded hire
//! rejected ("Offer rescinded") with its offer DEPRECATED, applicants in earlier stages or
//! rejected; `candidate_id`, `modified_after` and `include_deleted_data` filter. Offers expand
//! their `application`. Fields the tenant's scopes disable answer null.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

use crate::company::{Attribute, Company};
use crate::hiring::{self, Applicant, Hire, Stage};
use crate::merge::{self, Category};
use crate::tenant::{ChangeKind, Endpoint, Quota, Tenant};
use crate::wire;
use crate::{FakeProvider, FullRead, Holds, SampleCredentials, Tenants};

pub struct MergeAts;

const ID: &str = "mergeats";
/// When applicants who were not hired last changed: long before any sync.
const LONG_AGO: &str = "2020-01-01T00:00:00Z";
const LISTS: &[&str] = &["applications", "candidates", "offers", "users", "departments", "offices"];

pub(crate) const ATS: Category = Category {
    provider: ID,
    name: "ats",
    integration: ("Greenhouse", "greenhouse"),
    models: &[("Candidate", "ats.Candidate"), ("Application", "ats.Application"), ("Offer", "ats.Offer")],
    scoped: &[
        (Attribute::FirstName, "Candidate", "first_name"),
        (Attribute::LastName, "Candidate", "last_name"),
        (Attribute::JobTitle, "Job", "name"),
        (Attribute::Manager, "Job", "hiring_managers"),
        (Attribute::HireDate, "Offer", "start_date"),
        (Attribute::Department, "Department", "name"),
        (Attribute::Location, "Office", "name"),
    ],
};

impl FakeProvider for MergeAts {
    fn id(&self) -> &'static str {
        ID
    }

    /// None of its own: Merge serves every category under its one base ([`routes`]).
    fn routes(&self, _cfg: &mut web::ServiceConfig) {}

    /// Merge's, which [`crate::merge::Merge`] gives.
    fn settings(&self, _base: &str) -> Vec<(String, String)> {
        Vec::new()
    }

    fn credentials(&self, tenant: &Tenant) -> SampleCredentials {
        SampleCredentials { provider_id: ID, subdomain: None, api_key: tenant.key.clone(), api_secret: None }
    }

    fn quotas(&self) -> Vec<Quota> {
        merge::Merge.quotas()
    }

    /// The import's state, the scopes, users, departments and offices (a page each, at the
    /// least), all at once; then every application, hired or not (three per hire), 100 a page,
    /// each page naming the next.
    fn full_read(&self, employees: usize) -> FullRead {
        let pages = (3 * employees).div_ceil(merge::MAX_PAGE).max(1);
        FullRead { requests: 5 + pages, round_trips: 1 + pages }
    }

    fn holds(&self) -> Holds {
        Holds::Hires
    }

    fn withholding(&self, attribute: Attribute) -> Vec<&'static str> {
        match attribute {
            // Without the start date, nor whether a hire has started.
            Attribute::HireDate => vec!["startDate", "employmentStatus"],
            // Scopes cannot hide a candidate's emails or who was hired.
            Attribute::WorkEmail | Attribute::Employment => Vec::new(),
            other => vec![other.directory_field()],
        }
    }
}

/// The ATS routes, under Merge's base.
pub(crate) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/ats/v1/{list}", web::get().to(list));
}

/// A Merge id for one of the hiring view's ids.
fn merge_id(kind: &str, id: u64) -> String {
    format!("{kind}-5f3a-4c1e-9d7b-{id:012}")
}

fn department_id(name: &str) -> String {
    format!("dept-{}", name.to_lowercase().replace(' ', "-"))
}

fn office_id(name: &str) -> String {
    format!("office-{}", name.to_lowercase().replace(' ', "-"))
}

fn timestamp(day: Option<NaiveDate>) -> Value {
    day.map_or(Value::Null, |d| json!(format!("{d}T00:00:00Z")))
}

async fn list(tenants: web::Data<Tenants>, req: HttpRequest, path: web::Path<String>) -> HttpResponse {
    let list = path.into_inner();
    if !LISTS.contains(&list.as_str()) {
        return merge::error(StatusCode::NOT_FOUND, "Not found.");
    }
    let endpoint = if list == "applications" { Endpoint::records("applications") } else { Endpoint::call("ats") };
    let admission = match merge::gate(&tenants, &req, endpoint, &ATS).await {
        Ok(admission) => admission,
        Err(answer) => return answer,
    };
    let query: Vec<(String, String)> = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let param = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let Some(page_size) = param("page_size").map_or(Some(merge::DEFAULT_PAGE), |v| v.parse::<usize>().ok()) else {
        return merge::error(StatusCode::BAD_REQUEST, "page_size must be a number.");
    };
    let page_size = page_size.clamp(1, merge::MAX_PAGE);
    let start = match param("cursor").map(merge::position) {
        None => 0,
        Some(Some(start)) => start,
        Some(None) => return merge::error(StatusCode::NOT_FOUND, "Invalid cursor."),
    };
    let since = match param("modified_after").map(DateTime::parse_from_rfc3339) {
        None => None,
        Some(Ok(at)) => Some(at.with_timezone(&Utc)),
        Some(Err(_)) => return merge::error(StatusCode::BAD_REQUEST, "modified_after must be an ISO 8601 datetime."),
    };
    let expand: Vec<&str> = param("expand").map(|e| e.split(',').collect()).unwrap_or_default();
    let (page, matching) = {
        let all = tenants.lock().expect("tenants lock");
        let tenant = &all[&admission.name];
        let view = View::new(tenant, &expand);
        let mut rows = view.rows(&list);
        if param("include_deleted_data") == Some("true") && list == "applications" {
            rows.extend(view.deleted_applications());
        }
        rows.retain(|row| row.matches(since, param("candidate_id")));
        let page: Vec<Value> = rows.iter().skip(start).take(page_size).map(|row| (row.render)()).collect();
        (page, rows.len())
    };
    let cut = if list == "applications" { wire::cut_off(&tenants, &admission, start, page.len()) } else { None };
    if cut.is_some_and(|cut| cut < page.len()) {
        return merge::error(StatusCode::SERVICE_UNAVAILABLE, "Service temporarily unavailable.");
    }
    let next = (start + page.len() < matching).then(|| merge::cursor(start + page.len()));
    let previous = (start > 0).then(|| merge::cursor(start.saturating_sub(page_size)));
    HttpResponse::Ok().json(json!({ "next": next, "previous": previous, "results": page }))
}

/// One tenant's hiring view in Merge's terms, with the objects a request expands.
struct View<'t> {
    tenant: &'t Tenant,
    expand: &'t [&'t str],
    hires: Vec<Hire<'t>>,
    /// The ATS user id of each employee who has one.
    users: HashMap<u32, u64>,
}

impl<'t> View<'t> {
    fn new(tenant: &'t Tenant, expand: &'t [&'t str]) -> Self {
        let users = hiring::team(&tenant.company).iter().map(|m| (m.employee.id, m.user_id)).collect();
        Self { tenant, expand, hires: hiring::hires(&tenant.company), users }
    }

    fn company(&self) -> &Company {
        &self.tenant.company
    }

    /// `value`, or null where the tenant's scopes disable `model`'s `field`.
    fn scoped(&self, model: &str, field: &str, value: Value) -> Value {
        if merge::disabled(self.tenant, model, field) {
            Value::Null
        } else {
            value
        }
    }

    fn modified(&self, employee: u32) -> String {
        self.tenant.changed_at(employee).map_or_else(|| LONG_AGO.to_string(), |t| t.to_rfc3339())
    }

    /// `object` where the request expands `name`, else its id.
    fn expanded(&self, name: &str, id: String, object: impl FnOnce() -> Value) -> Value {
        if self.expand.contains(&name) {
            object()
        } else {
            json!(id)
        }
    }

    /// Every row of `list`, rendered only when asked: a page renders its own rows alone.
    fn rows(&self, list: &str) -> Vec<Row<'_>> {
        let hires = &self.hires;
        match list {
            "applications" => {
                let jobs: HashMap<u64, &Hire> = hires.iter().map(|h| (h.job_id, h)).collect();
                let hired = hires.iter().map(|h| {
                    Row::of(self.modified(h.employee.id), Some(merge_id("cand", h.candidate_id)), move || {
                        self.hired_application(h)
                    })
                });
                let others = hiring::applicants(self.company()).into_iter().map(move |a| {
                    let job = jobs.get(&a.job_id).copied();
                    Row::of(LONG_AGO.to_string(), Some(merge_id("cand", a.candidate_id)), move || {
                        self.applicant_application(&a, job)
                    })
                });
                hired.chain(others).collect()
            }
            "candidates" => hires
                .iter()
                .map(|h| {
                    Row::of(self.modified(h.employee.id), None, move || {
                        let mut candidate = self.candidate(h);
                        candidate["modified_at"] = json!(self.modified(h.employee.id));
                        candidate
                    })
                })
                .collect(),
            "offers" => hires
                .iter()
                .map(|h| {
                    Row::of(self.modified(h.employee.id), None, move || {
                        let mut offer = self.offer(h);
                        let id = merge_id("appl", h.application_id);
                        offer["application"] = self.expanded(
                            "application",
                            id.clone(),
                            || json!({ "id": id, "candidate": merge_id("cand", h.candidate_id) }),
                        );
                        offer
                    })
                })
                .collect(),
            "users" => hiring::team(self.company())
                .into_iter()
                .map(|m| {
                    let e = m.employee;
                    let modified = self.modified(e.id);
                    Row::of(modified.clone(), None, move || {
                        json!({ "id": merge_id("user", m.user_id), "remote_id": m.user_id.to_string(),
                            "first_name": e.first_name, "last_name": e.last_name, "email": e.work_email,
                            "disabled": m.disabled, "access_role": "HIRING_MANAGER", "remote_was_deleted": false,
                            "modified_at": modified })
                    })
                })
                .collect(),
            _ => {
                let departments = list == "departments";
                let mut names: Vec<&str> = self
                    .company()
                    .employees
                    .iter()
                    .map(|e| if departments { e.department.as_str() } else { e.location.as_str() })
                    .collect();
                names.sort_unstable();
                names.dedup();
                let (model, id): (&str, fn(&str) -> String) =
                    if departments { ("Department", department_id) } else { ("Office", office_id) };
                names
                    .into_iter()
                    .map(|name| {
                        Row::of(
                            LONG_AGO.to_string(),
                            None,
                            move || json!({ "id": id(name), "name": self.scoped(model, "name", json!(name)) }),
                        )
                    })
                    .collect()
            }
        }
    }

    /// The application of someone who was not hired, for the job of the hire `job` was.
    fn applicant_application(&self, a: &Applicant, job: Option<&Hire>) -> Value {
        let (stage, reason) = match a.stage {
            Stage::Rejected => (Some("Phone Screen"), Some("Not a fit")),
            Stage::InPipeline => (Some("Onsite Interview"), None),
            Stage::Prospect => (None, None),
            Stage::Withdrawn => (Some("Application Review"), Some("Withdrew")),
        };
        let candidate = json!({ "id": merge_id("cand", a.candidate_id), "first_name": a.first_name,
            "last_name": a.last_name, "email_addresses": [{ "value": a.email, "email_address_type": "PERSONAL" }],
            "remote_was_deleted": false });
        let job = job.map_or(Value::Null, |h| self.job_of(h));
        let mut row = self.application(a.application_id, (a.candidate_id, candidate), job, stage, reason);
        row["offers"] = json!([]);
        row["modified_at"] = json!(LONG_AGO);
        row
    }

    fn candidate(&self, hire: &Hire) -> Value {
        let e = hire.employee;
        let mut emails = Vec::new();
        if let Some(work) = &e.work_email {
            emails.push(json!({ "value": work, "email_address_type": "WORK" }));
        }
        if let Some(personal) = &e.personal_email {
            emails.push(json!({ "value": personal, "email_address_type": "PERSONAL" }));
        }
        json!({ "id": merge_id("cand", hire.candidate_id), "remote_id": hire.candidate_id.to_string(),
            "first_name": self.scoped("Candidate", "first_name", json!(e.first_name)),
            "last_name": self.scoped("Candidate", "last_name", json!(e.last_name)),
            "email_addresses": emails, "applications": [merge_id("appl", hire.application_id)],
            "remote_was_deleted": false })
    }

    fn offer(&self, hire: &Hire) -> Value {
        let status = if hire.hired { "SIGNED" } else { "DEPRECATED" };
        json!({ "id": merge_id("offr", hire.offer_id), "application": merge_id("appl", hire.application_id),
            "status": status, "created_at": "2026-01-05T10:05:00Z",
            "start_date": self.scoped("Offer", "start_date", timestamp(hire.starts_on)),
            "modified_at": self.modified(hire.employee.id), "remote_was_deleted": false })
    }

    fn hired_application(&self, hire: &Hire) -> Value {
        let (stage, reason) = if hire.hired { ("Hired", None) } else { ("Offer", Some("Offer rescinded")) };
        let candidate = (hire.candidate_id, self.candidate(hire));
        let mut row = self.application(hire.application_id, candidate, self.job_of(hire), Some(stage), reason);
        let offer = self.offer(hire);
        row["offers"] = if self.expand.contains(&"offers") { json!([offer]) } else { json!([offer["id"]]) };
        row["modified_at"] = json!(self.modified(hire.employee.id));
        row
    }

    /// The job `hire` was hired for, expanded where the request asks.
    fn job_of(&self, hire: &Hire) -> Value {
        let e = hire.employee;
        self.expanded("job", merge_id("job", hire.job_id), || {
            let managers: Vec<String> = hire
                .hiring_manager
                .and_then(|m| self.users.get(&m.id))
                .map(|user| merge_id("user", *user))
                .into_iter()
                .collect();
            json!({ "id": merge_id("job", hire.job_id), "name": self.scoped("Job", "name", json!(e.job_title)),
                "status": "CLOSED", "departments": [department_id(&e.department)],
                "offices": [office_id(&e.location)],
                "hiring_managers": self.scoped("Job", "hiring_managers", json!(managers)), "recruiters": [] })
        })
    }

    /// Application `id` of `candidate` (id, object) for `job`, in `stage`, rejected for
    /// `reason` where there is one; its offers are the caller's.
    fn application(
        &self,
        id: u64,
        (candidate_id, candidate): (u64, Value),
        job: Value,
        stage: Option<&str>,
        reason: Option<&str>,
    ) -> Value {
        let slug = |name: &str| name.to_lowercase().replace(' ', "-");
        let current_stage = stage.map_or(Value::Null, |s| {
            let id = format!("stage-{}", slug(s));
            self.expanded("current_stage", id.clone(), || json!({ "id": id, "name": s }))
        });
        let reject_reason = reason.map_or(Value::Null, |r| {
            let id = format!("reason-{}", slug(r));
            self.expanded("reject_reason", id.clone(), || json!({ "id": id, "name": r }))
        });
        json!({
            "id": merge_id("appl", id), "remote_id": id.to_string(),
            "candidate": self.expanded("candidate", merge_id("cand", candidate_id), || candidate),
            "job": job, "applied_at": "2025-11-01T09:00:00Z",
            "rejected_at": reason.map(|_| "2026-01-20T09:00:00Z"),
            "current_stage": current_stage, "reject_reason": reject_reason, "remote_was_deleted": false,
        })
    }

    /// Applications of hires removed from the company, as Merge keeps them.
    fn deleted_applications(&self) -> Vec<Row<'_>> {
        self.tenant
            .changes_since(DateTime::<Utc>::MIN_UTC)
            .into_iter()
            .filter(|(_, kind, _)| *kind == ChangeKind::Deleted)
            .map(|(id, _, at)| {
                let candidate = merge_id("cand", hiring::candidate_id_of(id));
                let row = json!({ "id": merge_id("gone", u64::from(id)), "candidate": candidate,
                    "current_stage": null, "modified_at": at.to_rfc3339(), "remote_was_deleted": true });
                Row::of(at.to_rfc3339(), Some(candidate), move || row.clone())
            })
            .collect()
    }
}

/// One row of a list: what its filters read, and how to render it.
struct Row<'v> {
    modified: String,
    candidate: Option<String>,
    render: Box<dyn Fn() -> Value + 'v>,
}

impl<'v> Row<'v> {
    fn of(modified: String, candidate: Option<String>, render: impl Fn() -> Value + 'v) -> Self {
        Self { modified, candidate, render: Box::new(render) }
    }

    /// Kept by `modified_after` and `candidate_id`.
    fn matches(&self, since: Option<DateTime<Utc>>, candidate: Option<&str>) -> bool {
        let modified = DateTime::parse_from_rfc3339(&self.modified).ok();
        since.is_none_or(|since| modified.is_some_and(|m| m > since))
            && candidate.is_none_or(|c| self.candidate.as_deref() == Some(c))
    }
}
