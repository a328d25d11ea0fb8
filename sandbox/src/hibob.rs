//! HiBob (Bob), public API: a service user signs every call with HTTP Basic (its id as user
//! name, its token as password). `POST /v1/people/search` takes `{fields, filters?, showInactive,
//! humanReadable}` and answers every matching employee in one `{"employees": [...]}`, with no
//! pagination: root fields top level and unprefixed (`id`, `email`, `firstName`), the others
//! nested by category (`work.title`, `internal.lifecycleStatus`), slash keys (`/work/title`) for
//! non-null values, and with `humanReadable: "APPEND"` a `humanReadable` object of display values
//! (list fields such as title and department hold list item ids in machine format), or with
//! `"REPLACE"` display values in place of machine ones.
//! `showInactive` defaults to false (active people only). Fields the service user may not read
//! are dropped silently. `GET /v1/company/people/fields` lists every field. Errors are
//! `{"key", "error"}`; both endpoints allow 50 requests a minute and answer 429 with
//! `X-RateLimit-Limit`, `-Remaining` and `-Reset` (Unix time). The tenant's `key` is the service
//! user id, `secret` its token.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::company::{Attribute, Employee, Employment};
use crate::tenant::{Endpoint, Quota, Refusal, Tenant};
use crate::wire::{self, basic_auth};
use crate::{FakeProvider, FullRead, SampleCredentials, Tenants};

pub struct HiBob;

const ID: &str = "hibob";
const MAX_FIELDS: usize = 400;

impl FakeProvider for HiBob {
    fn id(&self) -> &'static str {
        ID
    }

    fn routes(&self, cfg: &mut web::ServiceConfig) {
        cfg.route("/v1/people/search", web::post().to(search))
            .route("/v1/company/people/fields", web::get().to(fields));
    }

    fn settings(&self, base: &str) -> Vec<(String, String)> {
        vec![("HIBOB_API_BASE".into(), base.to_string())]
    }

    fn credentials(&self, tenant: &Tenant) -> SampleCredentials {
        SampleCredentials {
            provider_id: ID,
            subdomain: None,
            api_key: service_user(tenant),
            api_secret: Some(tenant.secret.clone()),
        }
    }

    /// People search and the fields metadata: 50 a minute each (enforced here as 50 in all).
    fn quotas(&self) -> Vec<Quota> {
        vec![Quota { requests: 50, per: Duration::from_secs(60) }]
    }

    /// One people search answers everyone.
    fn full_read(&self, _employees: usize) -> FullRead {
        FullRead { requests: 1, round_trips: 1 }
    }
}

/// A service user's id, as HiBob shows it.
fn service_user(tenant: &Tenant) -> String {
    format!("SERVICE-{}", tenant.key.to_uppercase())
}

fn error(status: StatusCode, key: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "key": key, "error": message }))
}

fn refuse(refusal: Refusal) -> HttpResponse {
    match refusal {
        Refusal::Status(401, _) => error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "Invalid service user credentials"),
        Refusal::Status(403, _) => {
            error(StatusCode::FORBIDDEN, "FORBIDDEN", "The service user has no permission to read people")
        }
        Refusal::Status(code, message) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            error(status, status.canonical_reason().unwrap_or("ERROR"), message)
        }
        Refusal::TooManyRequests { retry_after } => {
            let reset = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default()
                + retry_after.max(Duration::from_secs(1));
            HttpResponse::TooManyRequests()
                .insert_header(("X-RateLimit-Limit", "50"))
                .insert_header(("X-RateLimit-Remaining", "0"))
                .insert_header(("X-RateLimit-Reset", reset.as_secs().to_string()))
                .json(json!({ "key": "TOO_MANY_REQUESTS", "error": "Rate limit exceeded" }))
        }
    }
}

/// Admits a call signed by a service user.
async fn gate(tenants: &Tenants, req: &HttpRequest, endpoint: Endpoint) -> Result<wire::Admission, HttpResponse> {
    let Some((user, token)) = basic_auth(req) else {
        return Err(refuse(Refusal::Status(401, "")));
    };
    let Some(name) = wire::find_tenant(tenants, ID, |t| user == service_user(t)) else {
        return Err(refuse(Refusal::Status(401, "")));
    };
    wire::admit(tenants, &name, endpoint, |t| t.secret == token).await.map_err(refuse)
}

/// (id, name, category, type, list, what it carries) of every field.
type Field = (&'static str, &'static str, &'static str, &'static str, Option<&'static str>, Option<Attribute>);

const FIELDS: &[Field] = &[
    ("root.id", "Employee ID", "root", "text", None, None),
    ("root.email", "Email", "about", "text", None, Some(Attribute::WorkEmail)),
    ("root.firstName", "First name", "root", "text", None, Some(Attribute::FirstName)),
    ("root.surname", "Last name", "root", "text", None, Some(Attribute::LastName)),
    ("root.displayName", "Display name", "root", "text", None, None),
    ("work.title", "Job title", "work", "list", Some("title"), Some(Attribute::JobTitle)),
    ("work.department", "Department", "work", "list", Some("department"), Some(Attribute::Department)),
    ("work.site", "Site", "work", "text", None, Some(Attribute::Location)),
    ("work.startDate", "Start date", "work", "date", None, Some(Attribute::HireDate)),
    ("work.reportsTo", "Reports to", "work", "employee", None, Some(Attribute::Manager)),
    (
        "internal.lifecycleStatus",
        "Lifecycle status",
        "lifecycle",
        "list",
        Some("lifecycleStatus"),
        Some(Attribute::Employment),
    ),
    ("internal.status", "Status", "lifecycle", "list", Some("status"), Some(Attribute::Employment)),
    ("internal.terminationDate", "Termination date", "lifecycle", "date", None, None),
    ("personal.shirtSize", "Shirt size", "personal", "list", Some("shirtSize"), None),
];

fn category_name(category: &str) -> &'static str {
    match category {
        "root" => "Basic info",
        "about" => "About",
        "work" => "Work",
        "lifecycle" => "Lifecycle",
        _ => "Personal",
    }
}

async fn fields(tenants: web::Data<Tenants>, req: HttpRequest) -> HttpResponse {
    if let Err(answer) = gate(&tenants, &req, Endpoint::call("company/people/fields")).await {
        return answer;
    }
    let all: Vec<Value> = FIELDS
        .iter()
        .map(|(id, name, category, ty, list, _)| {
            let json_path = id.strip_prefix("root.").unwrap_or(id);
            let type_data = list.map_or(json!({}), |list| json!({ "listId": list }));
            json!({ "id": id, "name": name, "category": category, "categoryId": category,
                "categoryDisplayName": category_name(category), "description": null, "jsonPath": json_path,
                "type": ty, "typeData": type_data, "historical": *category == "work" })
        })
        .collect();
    HttpResponse::Ok().json(all)
}

/// A backend id, as long and numeric as HiBob's.
fn bob_id(id: u32) -> String {
    format!("3332883{id:012}")
}

/// The id of a list item (HiBob's machine value for list fields).
fn list_item(name: &str) -> String {
    let mut hasher = DefaultHasher::new();
    name.hash(&mut hasher);
    (hasher.finish() % 900_000_000 + 100_000_000).to_string()
}

fn lifecycle(employee: &Employee) -> (&'static str, &'static str, &'static str) {
    // (machine value, display value, internal.status)
    match employee.employment {
        Employment::Onboarding => ("hired", "Hired", "Inactive"),
        Employment::Employed => ("employed", "Employed", "Active"),
        Employment::OnLeave => ("leave", "Leave", "Active"),
        Employment::Left => ("terminated", "Terminated", "Inactive"),
    }
}

/// A field's machine value and display value.
fn value(people: &HashMap<u32, &Employee>, employee: &Employee, field: &str) -> (Value, Value) {
    let text = |s: &str| (json!(s), json!(s));
    match field {
        "root.id" => text(&bob_id(employee.id)),
        "root.email" => employee.work_email.as_deref().map_or((Value::Null, Value::Null), text),
        "root.firstName" => text(&employee.first_name),
        "root.surname" => text(&employee.last_name),
        "root.displayName" => text(&format!("{} {}", employee.first_name, employee.last_name)),
        "work.title" => (json!(list_item(&employee.job_title)), json!(employee.job_title)),
        "work.department" => (json!(list_item(&employee.department)), json!(employee.department)),
        "work.site" => text(&employee.location),
        "work.startDate" => employee
            .hire_date
            .map_or((Value::Null, Value::Null), |d| (json!(d.to_string()), json!(d.format("%d/%m/%Y").to_string()))),
        "work.reportsTo" => {
            let manager = employee.manager_id.and_then(|id| people.get(&id));
            manager.map_or((Value::Null, Value::Null), |m| {
                let display = format!("{} {}", m.first_name, m.last_name);
                let reference = json!({ "id": bob_id(m.id), "email": m.work_email, "firstName": m.first_name,
                    "surname": m.last_name, "displayName": display });
                (reference, json!(display))
            })
        }
        "internal.lifecycleStatus" => {
            let (machine, display, _) = lifecycle(employee);
            (json!(machine), json!(display))
        }
        "internal.status" => text(lifecycle(employee).2),
        "internal.terminationDate" => {
            employee.termination_date.map_or((Value::Null, Value::Null), |d| text(&d.to_string()))
        }
        "personal.shirtSize" => {
            let size = ["S", "M", "L", "XL"][employee.id as usize % 4];
            (json!(list_item(size)), json!(size))
        }
        _ => (Value::Null, Value::Null),
    }
}

/// Puts `value` at a field id's place in a nested employee: root fields top level, others under
/// their category.
fn place(object: &mut Map<String, Value>, field: &str, value: Value) {
    let mut parts: Vec<&str> = field.split('.').collect();
    if parts.first() == Some(&"root") {
        parts.remove(0);
    }
    let (last, path) = parts.split_last().expect("field ids have a name");
    let mut here = object;
    for part in path {
        here =
            here.entry(part.to_string()).or_insert_with(|| json!({})).as_object_mut().expect("categories are objects");
    }
    here.insert(last.to_string(), value);
}

/// How `humanReadable` asks for display values.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Display {
    /// Machine values only.
    Machine,
    /// Machine values, and a `humanReadable` object of display values.
    Append,
    /// Display values in place of machine values.
    Replace,
}

fn render(people: &HashMap<u32, &Employee>, employee: &Employee, fields: &[&Field], display: Display) -> Value {
    let mut main = Map::new();
    let mut readable = Map::new();
    let mut slashed = Vec::new();
    for (id, ..) in fields {
        let (machine, human) = value(people, employee, id);
        let shown = if display == Display::Replace { human.clone() } else { machine.clone() };
        if !shown.is_null() {
            slashed.push((format!("/{}", id.replace('.', "/")), json!({ "value": shown.clone() })));
            place(&mut readable, id, human);
        }
        place(&mut main, id, shown);
    }
    main.insert("id".into(), json!(bob_id(employee.id)));
    main.extend(slashed);
    if display == Display::Append {
        readable.insert("id".into(), json!(bob_id(employee.id)));
        main.insert("humanReadable".into(), Value::Object(readable));
    }
    Value::Object(main)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SearchRequest {
    fields: Option<Vec<String>>,
    filters: Option<Vec<Filter>>,
    #[serde(default)]
    show_inactive: bool,
    human_readable: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    field_path: String,
    operator: String,
    values: Vec<String>,
}

async fn search(tenants: web::Data<Tenants>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let admission = match gate(&tenants, &req, Endpoint::records("people/search")).await {
        Ok(admission) => admission,
        Err(answer) => return answer,
    };
    let Ok(request) = serde_json::from_slice::<SearchRequest>(&body) else {
        return error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "Malformed request body");
    };
    let filter = match request.filters.as_deref() {
        None => None,
        Some([filter])
            if ["root.id", "root.email"].contains(&filter.field_path.as_str()) && filter.operator == "equals" =>
        {
            Some(filter)
        }
        Some(_) => {
            return error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "Only one equals filter on root.id or root.email")
        }
    };
    let requested = request.fields.unwrap_or_else(|| FIELDS.iter().map(|f| f.0.to_string()).collect());
    if requested.len() > MAX_FIELDS {
        return error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "At most 400 fields");
    }
    let display = match request.human_readable.as_deref() {
        None | Some("") => Display::Machine,
        Some("APPEND") => Display::Append,
        Some("REPLACE") => Display::Replace,
        Some(_) => return error(StatusCode::BAD_REQUEST, "BAD_REQUEST", "humanReadable is APPEND or REPLACE"),
    };
    let rows: Vec<Value> = {
        let all = tenants.lock().expect("tenants lock");
        let tenant = &all[&admission.name];
        // Unknown and unreadable fields are dropped without a word.
        let fields: Vec<&Field> = FIELDS
            .iter()
            .filter(|f| requested.iter().any(|r| r == f.0))
            .filter(|f| f.5.is_none_or(|a| !tenant.withheld.contains(&a)))
            .collect();
        let people: HashMap<u32, &Employee> = tenant.company.employees.iter().map(|e| (e.id, e)).collect();
        tenant
            .company
            .employees
            .iter()
            .filter(|e| request.show_inactive || lifecycle(e).2 == "Active")
            .filter(|e| {
                filter.is_none_or(|f| {
                    let key = if f.field_path == "root.id" { Some(bob_id(e.id)) } else { e.work_email.clone() };
                    key.is_some_and(|k| f.values.iter().any(|v| v.eq_ignore_ascii_case(&k)))
                })
            })
            .map(|e| render(&people, e, &fields, display))
            .collect()
    };
    let cut = wire::cut_off(&tenants, &admission, 0, rows.len());
    let count = rows.len();
    wire::stream_records(
        br#"{"employees":["#.to_vec(),
        count,
        move |range| rows[range].to_vec(),
        b"]}",
        cut,
        admission.pace,
    )
}
