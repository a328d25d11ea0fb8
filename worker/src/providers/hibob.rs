//! HiBob (HRIS), from HiBob's public API reference:
//! - base `https://api.hibob.com` (`HIBOB_API_BASE`); a service user signs every call with HTTP
//!   Basic, its id as user name and its token as password (API access tokens and
//!   `GET /v1/people` were shut down in May 2025 and are not used);
//! - `GET /v1/company/people/fields` lists every field (`{id, name, category,
//!   categoryDisplayName, type, ...}`), whatever the service user may read; field ids such as
//!   `root.email` and `work.title` are the mapping's keys;
//! - `POST /v1/people/search` with `fields`, `showInactive: true` (leavers and hires who have not
//!   started are left out otherwise) and `humanReadable: "APPEND"` answers everyone in one
//!   `{"employees": [...]}`, without pagination: so, as with BambooHR's report, it is parsed as it
//!   downloads and paged through a spool. Root fields are top level and unprefixed, others nested
//!   by category; list fields (title, department) carry list item ids, so their display value from
//!   `humanReadable` is read instead, while dates and the manager (`work.reportsTo`, an object
//!   with the manager's `id`) come from the machine values. Fields the service user may not read
//!   are silently left out; empty ones come as null;
//! - `internal.lifecycleStatus` is hired, employed, garden leave, leave, parental leave,
//!   terminated or a company's own leave type: only `terminated` is a leaver;
//! - errors are `{key, error}`: 401 bad credentials, 403 a missing permission; 50 requests a
//!   minute per endpoint, 429 with `X-RateLimit-Reset`. HiBob has no change feed (only webhooks),
//!   so INCREMENTAL syncs read everyone.

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};

use super::catalogue::{CredentialField, CredentialKey, Provider, ProviderCategory, ProviderContext, ProviderInfo};
use super::http::{forbidden_is_access_disabled, AccountHttp};
use super::pace::Quota;
use super::spool::StreamedList;
use super::{
    employment, scalar_text, Connector, ExternalField, FetchRequest, PageStream, ProviderError, RemoteRecord,
    EMPLOYMENT_PRE_START,
};
use crate::credentials::Credentials;

const DEFAULT_API_BASE: &str = "https://api.hibob.com";
/// People search and the fields metadata allow 50 a minute each; one pace for both keeps under
/// either.
const QUOTA: &[Quota] = &[Quota::per_minute(50)];

static INFO: ProviderInfo = ProviderInfo {
    id: "hibob",
    name: "HiBob",
    category: ProviderCategory::Hris,
    logo_url: "https://www.hibob.com/favicon.ico",
    sign_in: None,
    credential_fields: &[
        CredentialField {
            key: CredentialKey::ApiKey,
            label: "Service user ID",
            secret: false,
            help: Some("Settings → Integrations → Automation → Service users."),
        },
        CredentialField {
            key: CredentialKey::ApiSecret,
            label: "Service user token",
            secret: true,
            help: Some("Shown once, when the service user is created."),
        },
    ],
    api_key_instructions: "In Bob, open Settings → Integrations → Automation → Service users and \
        create a service user named \"directory-sync\". Add it to a permission group that may view \
        People's data (Basic info, About, Work and Lifecycle) for everyone, including former \
        employees (remove the \"Lifecycle status equals Employed\" condition). Paste the service \
        user's ID and token here.",
    read_permissions: &[
        "Employee names and email (Basic info, About)",
        "Job title, department, site, start date and manager (Work)",
        "Lifecycle status, including former employees (Lifecycle)",
    ],
    terms_url: "https://www.hibob.com/terms-of-use/",
    suggested_mapping: &[
        ("email", "root.email"),
        ("firstName", "root.firstName"),
        ("lastName", "root.surname"),
        ("displayName", "root.displayName"),
        ("jobTitle", "work.title"),
        ("department", "work.department"),
        ("location", "work.site"),
        ("employmentStatus", "internal.lifecycleStatus"),
        ("startDate", "work.startDate"),
        ("managerId", "work.reportsTo"),
    ],
    named_by_admin: false,
    uploaded: false,
    pushed: false,
};

pub struct HiBob;

#[async_trait]
impl Provider for HiBob {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn connector(
        &self,
        ctx: &ProviderContext,
        _subdomain: Option<&str>,
        credentials: &Credentials,
    ) -> Result<Box<dyn Connector>, ProviderError> {
        let (key, token) = credentials
            .key_and_secret()
            .ok_or_else(|| ProviderError::InvalidCredentials("HiBob needs a service user ID and token".into()))?;
        let user = key.expose_secret().trim().to_string();
        let base = ctx.api_base(DEFAULT_API_BASE);
        // A 403 is a missing permission. HiBob's firewall blocks callers that repeat 401s and
        // 403s; the shared client never retries them.
        let http = ctx.http.account(&format!("hibob:{user}"), forbidden_is_access_disabled, &ctx.quotas(QUOTA));
        Ok(Box::new(HiBobConnector { http, base, user, token: token.clone() }))
    }
}

struct HiBobConnector {
    http: AccountHttp,
    base: String,
    user: String,
    token: SecretString,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FieldInfo {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    category_display_name: Option<String>,
}

impl HiBobConnector {
    fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        request.basic_auth(&self.user, Some(self.token.expose_secret())).header("Accept", "application/json")
    }
}

#[async_trait]
impl Connector for HiBobConnector {
    async fn discover_fields(&self) -> Result<Vec<ExternalField>, ProviderError> {
        let url = format!("{}/v1/company/people/fields", self.base);
        let fields: Vec<FieldInfo> = self.http.json("field list", |c| self.authorize(c.get(&url))).await?;
        Ok(fields.into_iter().map(into_external_field).collect())
    }

    async fn fetch(&self, request: FetchRequest) -> Result<PageStream<'_>, ProviderError> {
        let url = format!("{}/v1/people/search", self.base);
        let mut fields = request.fields.clone();
        if !fields.iter().any(|f| f == "root.id") {
            fields.push("root.id".into());
        }
        let body = json!({ "fields": fields, "showInactive": true, "humanReadable": "APPEND" });
        let response = self.http.send_streamed(|c| self.authorize(c.post(&url)).json(&body)).await?;
        let list = StreamedList { what: "people search", key: "employees", page_size: request.page_size };
        let requested = request.fields;
        list.spool(response, move |employee: Value| record(&employee, &requested))
    }
}

fn into_external_field(field: FieldInfo) -> ExternalField {
    let field_type = match (field.id.as_str(), field.kind.as_deref()) {
        ("root.email" | "work.email", _) => "email",
        ("internal.lifecycleStatus" | "internal.status", _) => "status",
        (_, Some("employee" | "employee-reference")) => "reference",
        (_, Some("date" | "short-date")) => "date",
        (_, Some("number" | "currency")) => "number",
        (_, Some("list" | "multi-list" | "hierarchy-list" | "list_id")) => "list",
        _ => "string",
    };
    let category = field.category_display_name.unwrap_or_else(|| "People".into());
    ExternalField { key: field.id, label: field.name, field_type: field_type.into(), category }
}

/// Where a field id's value sits in an employee: root fields top level, others nested by
/// category (`work.title` → `work` → `title`).
fn lookup<'v>(employee: &'v Value, field: &str) -> Option<&'v Value> {
    let path = field.strip_prefix("root.").unwrap_or(field);
    path.split('.').try_fold(employee, |here, part| here.get(part))
}

/// One employee of a people search as a record; `requested` fields it lacks were withheld.
/// `None` without an id.
fn record(employee: &Value, requested: &[String]) -> Option<RemoteRecord> {
    let remote_id = text(employee.get("id")?)?;
    let mut record = RemoteRecord::new(remote_id, Default::default());
    let human = employee.get("humanReadable");
    for field in requested {
        let Some(machine) = lookup(employee, field) else {
            record.withheld.insert(field.clone());
            continue;
        };
        let value = match machine {
            // The manager: the machine value names them by id.
            Value::Object(reference) => reference.get("id").and_then(text),
            // Dates are ISO in machine format, the caller's locale in display format.
            Value::String(s) if is_iso_date(s) => text(machine),
            _ => human.and_then(|h| lookup(h, field)).and_then(text).or_else(|| text(machine)),
        };
        let value = match field.as_str() {
            "internal.lifecycleStatus" | "internal.status" => value.map(|s| employment_of(&s).to_string()),
            _ => value,
        };
        if let Some(value) = value {
            record.values.insert(field.clone(), value);
        }
    }
    Some(record)
}

fn is_iso_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").is_ok()
}

fn text(value: &Value) -> Option<String> {
    scalar_text(value.clone())
}

/// HiBob's lifecycle (or `internal.status`) in the directory's terms: a terminated employee has
/// left; a hired one has not started yet; everyone else, on any kind of leave, is with the
/// company. Read from
/// `internal.status`, `Inactive` is a leaver too.
fn employment_of(status: &str) -> &'static str {
    if status.eq_ignore_ascii_case("hired") {
        return EMPLOYMENT_PRE_START;
    }
    employment(status.eq_ignore_ascii_case("terminated") || status.eq_ignore_ascii_case("inactive"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{EMPLOYMENT_ACTIVE, EMPLOYMENT_INACTIVE, EMPLOYMENT_PRE_START};

    #[test]
    fn display_values_for_lists_machine_values_for_dates_and_managers() {
        let employee = json!({
            "id": "3332883000000000007", "email": "ada@acme.example", "firstName": "Ada",
            "work": { "title": "255490048", "startDate": "2021-05-04", "site": null,
                      "reportsTo": { "id": "3332883000000000002", "displayName": "Sam Boss" } },
            "internal": { "lifecycleStatus": "garden leave" },
            "humanReadable": { "work": { "title": "Engineer", "startDate": "04/05/2021", "reportsTo": "Sam Boss" } }
        });
        let requested: Vec<String> = [
            "root.email",
            "work.title",
            "work.startDate",
            "work.reportsTo",
            "work.site",
            "internal.lifecycleStatus",
            "work.department",
        ]
        .map(String::from)
        .to_vec();
        let record = record(&employee, &requested).unwrap();
        assert_eq!(record.values["root.email"], "ada@acme.example");
        assert_eq!(record.values["work.title"], "Engineer");
        assert_eq!(record.values["work.startDate"], "2021-05-04");
        assert_eq!(record.values["work.reportsTo"], "3332883000000000002");
        assert_eq!(record.values["internal.lifecycleStatus"], EMPLOYMENT_ACTIVE);
        assert!(!record.values.contains_key("work.site"), "null is empty");
        assert_eq!(record.withheld.iter().collect::<Vec<_>>(), ["work.department"], "absent is withheld");
    }

    #[test]
    fn only_a_termination_is_a_leaver() {
        for status in ["employed", "leave", "parental leave", "Sabbatical"] {
            assert_eq!(employment_of(status), EMPLOYMENT_ACTIVE, "{status}");
        }
        assert_eq!(employment_of("hired"), EMPLOYMENT_PRE_START);
        assert_eq!(employment_of("terminated"), EMPLOYMENT_INACTIVE);
    }
}
