//! Personio (HRIS), public API v1, from Personio's developer reference:
//! - base `https://api.personio.de` (`PERSONIO_API_BASE`); an API credential (client id and
//!   secret) is traded at `POST /v1/auth` (JSON body) for a bearer token, stable for 24 hours;
//! - `GET /v1/company/employees?limit=&offset=&attributes[]=` pages by record offset, at most 100
//!   a page, with `metadata.total_elements`; so once the first page is in, the others are asked
//!   for a few at a time within the quota; `updated_since` lists what changed since a moment (an
//!   INCREMENTAL sync's feed; Personio reports no deletions, so those wait for a FULL sync);
//! - each attribute is `{label, value, type, universal_id}`; department and office are nested
//!   `{type, attributes: {id, name}}` (read as their name), the supervisor a nested Employee (read
//!   as its id); `status` is `onboarding`, `active`, `leave` or `inactive`; attributes the
//!   credential may not read are left out entirely;
//! - `GET /v1/company/employees/attributes` lists the attributes the credential may read;
//! - errors are `{success: false, error: {code, message}}`: the sign-in answers bad credentials
//!   with 401 or 403, data calls a refused token with 401 and a missing permission with 403;
//!   throttling (300 requests a minute in bursts of at most 15 a second) answers 429 without
//!   `Retry-After`, to be retried after at least a second.
//!
//! Why v1 and not v2 (persons and employments, OAuth client credentials, cursor pages of 50):
//! v2 splits an employee into a person and their employments (department, office, supervisor,
//! position, hire date), one more request per person, which at Personio's quotas makes a large
//! company's sync an order of magnitude slower. v1's employees endpoint carries everything in one
//! paginated call and has no announced end of life; the connector keeps to its documented body
//! auth (query-string credentials stop working in December 2026).

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::{stream, StreamExt};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use tokio::sync::OnceCell;

use super::catalogue::{CredentialField, CredentialKey, Provider, ProviderCategory, ProviderContext, ProviderInfo};
use super::http::{forbidden_is_access_disabled, sign_in_meaning, AccountHttp};
use super::pace::Quota;
use super::{
    employment, left_out, scalar_text, Changes, Connector, ExternalField, FetchRequest, PageStream, ProviderError,
    RemotePage, RemoteRecord, EMPLOYMENT_PRE_START,
};
use crate::credentials::Credentials;

const DEFAULT_API_BASE: &str = "https://api.personio.de";
const MAX_PAGE: usize = 100;
/// Pages asked for at once after the first: enough to keep the quota, not the latency, the limit.
const PAGES_IN_FLIGHT: usize = 4;
/// `GET /company/employees`: 300 a minute, never more than 15 in a second. The sign-in (60 a
/// minute of its own) is paced with the same requests: counted against the stricter windows it
/// can never push a page over them, wherever Personio counts it.
const QUOTA: &[Quota] = &[Quota::per_minute(300), Quota::per_second(15)];

static INFO: ProviderInfo = ProviderInfo {
    id: "personio",
    name: "Personio",
    category: ProviderCategory::Hris,
    logo_url: "https://www.personio.com/favicon.ico",
    sign_in: None,
    credential_fields: &[
        CredentialField {
            key: CredentialKey::ApiKey,
            label: "Client ID",
            secret: false,
            help: Some("Settings → Integrations → API credentials; it starts with papi-."),
        },
        CredentialField {
            key: CredentialKey::ApiSecret,
            label: "Client secret",
            secret: true,
            help: Some("Shown once, when the credential is generated."),
        },
    ],
    api_key_instructions: "In Personio, open Settings → Integrations → API credentials and choose \
        \"Generate new credential\". Name it \"directory-sync\", give it read access to employees, \
        and tick the attributes to share: at least email, first and last name, position, \
        department, office, supervisor, status and hire date. Paste the client ID and the client \
        secret here.",
    read_permissions: &[
        "Employee names and work email",
        "Position, department, office and hire date",
        "Supervisor",
        "Employment status (onboarding, active, on leave, inactive)",
    ],
    terms_url: "https://www.personio.com/legal/terms-and-conditions/",
    suggested_mapping: &[
        ("email", "email"),
        ("firstName", "first_name"),
        ("lastName", "last_name"),
        ("jobTitle", "position"),
        ("department", "department"),
        ("location", "office"),
        ("employmentStatus", "status"),
        ("startDate", "hire_date"),
        ("managerId", "supervisor"),
    ],
    named_by_admin: false,
    uploaded: false,
    pushed: false,
};

/// Attributes shown under "Employment" rather than "Employees".
const EMPLOYMENT_ATTRIBUTES: &[&str] =
    &["position", "department", "office", "status", "hire_date", "termination_date", "supervisor", "subcompany"];

pub struct Personio;

#[async_trait]
impl Provider for Personio {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn connector(
        &self,
        ctx: &ProviderContext,
        _subdomain: Option<&str>,
        credentials: &Credentials,
    ) -> Result<Box<dyn Connector>, ProviderError> {
        let (key, secret) = credentials.key_and_secret().ok_or_else(|| {
            ProviderError::InvalidCredentials("Personio needs a client ID and a client secret".into())
        })?;
        let client_id = key.expose_secret().trim().to_string();
        let base = ctx.api_base(DEFAULT_API_BASE);
        Ok(Box::new(PersonioConnector {
            // Data calls answer 403 for an attribute or API access not granted; `POST /auth`
            // answers wrong credentials with 401 or 403.
            http: ctx.http.account(&format!("personio:{client_id}"), forbidden_is_access_disabled, &ctx.quotas(QUOTA)),
            auth_http: ctx.http.account(&format!("personio:{client_id}"), sign_in_meaning, &ctx.quotas(QUOTA)),
            base,
            client_id,
            client_secret: secret.clone(),
            token: OnceCell::new(),
        }))
    }
}

struct PersonioConnector {
    http: AccountHttp,
    auth_http: AccountHttp,
    base: String,
    client_id: String,
    client_secret: SecretString,
    /// The bearer token, asked for on first use.
    token: OnceCell<String>,
}

#[derive(Deserialize)]
struct AuthAnswer {
    data: AuthData,
}

#[derive(Deserialize)]
struct AuthData {
    token: String,
}

#[derive(Deserialize)]
struct AttributeList {
    data: Vec<AttributeInfo>,
}

#[derive(Deserialize)]
struct AttributeInfo {
    key: String,
    label: String,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct EmployeePage {
    metadata: Option<PageMetadata>,
    #[serde(default)]
    data: Vec<EmployeeEntry>,
}

#[derive(Deserialize)]
struct PageMetadata {
    total_elements: usize,
}

#[derive(Deserialize)]
struct EmployeeEntry {
    attributes: Map<String, Value>,
}

impl PersonioConnector {
    async fn token(&self) -> Result<&str, ProviderError> {
        let token = self
            .token
            .get_or_try_init(|| async {
                let url = format!("{}/v1/auth", self.base);
                let body = json!({ "client_id": self.client_id, "client_secret": self.client_secret.expose_secret() });
                let answer: AuthAnswer = self
                    .auth_http
                    .json("sign-in answer", |c| c.post(&url).header("Accept", "application/json").json(&body))
                    .await?;
                Ok::<_, ProviderError>(answer.data.token)
            })
            .await?;
        Ok(token)
    }

    /// One page of employees from `offset`, with the `fields` asked for, changed since `since`.
    async fn page(
        &self,
        offset: usize,
        limit: usize,
        fields: &[String],
        since: Option<&str>,
    ) -> Result<(Vec<RemoteRecord>, usize), ProviderError> {
        let token = self.token().await?;
        let url = format!("{}/v1/company/employees", self.base);
        let mut query: Vec<(&str, String)> = vec![("limit", limit.to_string()), ("offset", offset.to_string())];
        query.extend(fields.iter().map(|f| ("attributes[]", f.clone())));
        if let Some(since) = since {
            query.push(("updated_since", since.to_string()));
        }
        let what = format!("employees from {offset}");
        let page: EmployeePage = self
            .http
            .json(&what, |c| c.get(&url).bearer_auth(token).header("Accept", "application/json").query(&query))
            .await?;
        let total = page.metadata.map_or(offset + page.data.len(), |m| m.total_elements);
        let records = page.data.into_iter().filter_map(|e| record(e.attributes, fields)).collect();
        Ok((records, total))
    }

    /// Every page from the cursor on: the first alone (it tells how many there are), then the
    /// rest a few at a time, in order.
    async fn pages(&self, request: FetchRequest, since: Option<String>) -> Result<PageStream<'_>, ProviderError> {
        let limit = request.page_size.clamp(1, MAX_PAGE);
        let start = request.cursor.as_deref().and_then(|c| c.parse().ok()).unwrap_or(0);
        let (records, total) = self.page(start, limit, &request.fields, since.as_deref()).await?;
        let page = move |offset: usize, records: Vec<RemoteRecord>| RemotePage {
            records,
            next_cursor: Some((offset + limit).to_string()),
            last: offset + limit >= total,
            total: Some(total),
            estimated_total: None,
        };
        let first = page(start, records);
        let rest = (start + limit..total).step_by(limit).map(move |offset| {
            let (fields, since) = (request.fields.clone(), since.clone());
            async move {
                let (records, _) = self.page(offset, limit, &fields, since.as_deref()).await?;
                Ok(page(offset, records))
            }
        });
        Ok(Box::pin(stream::once(async { Ok(first) }).chain(stream::iter(rest).buffered(PAGES_IN_FLIGHT))))
    }
}

#[async_trait]
impl Connector for PersonioConnector {
    async fn discover_fields(&self) -> Result<Vec<ExternalField>, ProviderError> {
        let token = self.token().await?;
        let url = format!("{}/v1/company/employees/attributes", self.base);
        let list: AttributeList = self
            .http
            .json("attribute list", |c| c.get(&url).bearer_auth(token).header("Accept", "application/json"))
            .await?;
        Ok(list.data.into_iter().map(into_external_field).collect())
    }

    async fn fetch(&self, request: FetchRequest) -> Result<PageStream<'_>, ProviderError> {
        self.pages(request, None).await
    }

    async fn fetch_changes(
        &self,
        since: DateTime<Utc>,
        request: FetchRequest,
    ) -> Result<Option<Changes<'_>>, ProviderError> {
        // Personio documents no time zone for it; read as UTC or as its own (ahead of UTC), it
        // reaches back at least as far as asked.
        let since = since.to_rfc3339_opts(SecondsFormat::Secs, true).trim_end_matches('Z').to_string();
        let pages = self.pages(FetchRequest { cursor: None, ..request }, Some(since)).await?;
        Ok(Some(Changes { pages, removed: Vec::new() }))
    }
}

fn into_external_field(attribute: AttributeInfo) -> ExternalField {
    let field_type = match (attribute.key.as_str(), attribute.kind.as_deref()) {
        ("email", _) => "email",
        ("supervisor", _) => "reference",
        ("status", _) => "status",
        (_, Some("date")) => "date",
        (_, Some("integer" | "decimal")) => "number",
        (_, Some("list" | "tags")) => "list",
        _ => "string",
    };
    let category = if EMPLOYMENT_ATTRIBUTES.contains(&attribute.key.as_str()) { "Employment" } else { "Employees" };
    ExternalField {
        key: attribute.key,
        label: attribute.label,
        field_type: field_type.into(),
        category: category.into(),
    }
}

/// An employee's attributes as a record; `requested` attributes it lacks were withheld. `None`
/// without an id.
fn record(mut attributes: Map<String, Value>, requested: &[String]) -> Option<RemoteRecord> {
    let remote_id = attributes.remove("id").and_then(|id| text(&id["value"]))?;
    let mut record = RemoteRecord::new(remote_id, Default::default());
    for (key, attribute) in &attributes {
        let value = match key.as_str() {
            "status" => text(&attribute["value"]).map(|s| employment_of(&s).to_string()),
            _ => text(&attribute["value"]),
        };
        if let Some(value) = value {
            record.values.insert(key.clone(), value);
        }
    }
    record.withheld = left_out(requested, |f| f == "id" || attributes.contains_key(f));
    Some(record)
}

/// An attribute's value as text: scalars as written, a nested department or office by its name,
/// a nested employee (the supervisor) by its id, lists of named things joined. Null and blank
/// values are absent.
fn text(value: &Value) -> Option<String> {
    match value {
        Value::Object(object) => {
            let attributes = object.get("attributes")?;
            match (attributes.get("name"), attributes.get("id")) {
                (Some(name), _) => text(name),
                (None, Some(Value::Object(id))) => text(id.get("value")?),
                (None, Some(id)) => text(id),
                (None, None) => None,
            }
        }
        Value::Array(items) => {
            let names: Vec<String> = items.iter().filter_map(text).collect();
            (!names.is_empty()).then(|| names.join(", "))
        }
        scalar => scalar_text(scalar.clone()),
    }
}

/// Personio's status (`onboarding`, `active`, `leave`, `inactive`) in the directory's terms:
/// everyone but a leaver is with the company, and onboarding has not started yet.
fn employment_of(status: &str) -> &'static str {
    if status.eq_ignore_ascii_case("onboarding") {
        return EMPLOYMENT_PRE_START;
    }
    employment(status.eq_ignore_ascii_case("inactive"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{EMPLOYMENT_ACTIVE, EMPLOYMENT_INACTIVE};

    fn attribute(value: Value) -> Value {
        json!({ "label": "x", "value": value, "type": "standard", "universal_id": null })
    }

    #[test]
    fn attributes_become_values_and_left_out_ones_are_withheld() {
        let attributes = json!({
            "id": attribute(json!(7)),
            "email": attribute(json!("ada@acme.example")),
            "status": attribute(json!("leave")),
            "department": attribute(json!({"type": "Department", "attributes": {"id": 3, "name": "Support"}})),
            "supervisor": attribute(json!({"type": "Employee", "attributes": {"id": {"label": "ID", "value": 2}}})),
            "hire_date": attribute(json!("2014-11-09T00:00:00+01:00")),
            "termination_date": attribute(Value::Null),
        });
        let Value::Object(attributes) = attributes else { unreachable!() };
        let requested: Vec<String> =
            ["email", "status", "department", "supervisor", "position", "termination_date"].map(String::from).to_vec();
        let record = record(attributes, &requested).unwrap();
        assert_eq!(record.remote_id, "7");
        assert_eq!(record.values["status"], EMPLOYMENT_ACTIVE, "on leave is still with the company");
        assert_eq!(record.values["department"], "Support");
        assert_eq!(record.values["supervisor"], "2");
        assert_eq!(record.values["hire_date"], "2014-11-09T00:00:00+01:00");
        assert!(!record.values.contains_key("termination_date"));
        assert_eq!(record.withheld.iter().collect::<Vec<_>>(), ["position"], "null is empty, absent is withheld");
    }

    #[test]
    fn statuses_read_in_the_directorys_terms() {
        for (status, expected) in
            [("onboarding", EMPLOYMENT_PRE_START), ("active", EMPLOYMENT_ACTIVE), ("inactive", EMPLOYMENT_INACTIVE)]
        {
            assert_eq!(employment_of(status), expected, "{status}");
        }
    }
}
