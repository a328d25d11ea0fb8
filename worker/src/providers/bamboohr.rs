//! BambooHR (HRIS). Wire format from BambooHR's public API reference:
//! - base `https://api.bamboohr.com/api/gateway.php/{subdomain}/v1` (`BAMBOOHR_API_BASE` replaces
//!   the part before `/{subdomain}`);
//! - API key as HTTP Basic user name with `x` as password, or an OAuth bearer token;
//! - `Accept: application/json` on every call, or BambooHR answers XML;
//! - `GET /meta/fields` lists fields; `POST /reports/custom?format=JSON&onlyCurrent=true` returns
//!   every employee, active and inactive, in one answer. That report is not paginated, so this
//!   connector parses it as it downloads and pages through it via a [`spool`](super::spool), in
//!   the report's order. It cannot resume mid-way (an offset would skip or repeat people if the
//!   company changed in between), so an interrupted fetch starts over; the paginated Datasets
//!   API can replace [`BambooHrConnector::fetch`] without touching callers;
//! - `GET /employees/changed/?since=…` lists the ids inserted, updated or deleted since a moment
//!   (`{"latest", "employees": {id: {id, action, lastChanged}}}`), and
//!   `GET /employees/{id}/?fields=…` reads one of them: an INCREMENTAL sync's change feed;
//! - errors: 401 a bad key, 403 no permission or API access disabled, 404 an unknown company
//!   domain (or employee), 429 with `Retry-After` when throttled, 503 unavailable; the reason in
//!   the `X-BambooHR-Error-Message` header;
//! - fields the key may not read are silently left out of reports and employee answers, which
//!   otherwise carry every requested field (null when empty); `status` is `Active`/`Inactive`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::{stream, StreamExt};
use secrecy::SecretString;
use serde::de::{MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Value};

use super::catalogue::{
    CredentialField, CredentialKey, Provider, ProviderCategory, ProviderContext, ProviderInfo, SignIn, SignInProof,
    SignInRequest, SignInStart,
};
use super::http::{common_meaning, AccountHttp, HttpFailure};
use super::oauth::{self, CallAuth};
use super::spool::StreamedList;
use super::{
    employment, left_out, scalar_text, Changes, Connector, ExternalField, FetchRequest, PageStream, ProviderError,
    RemotePage, RemoteRecord,
};
use crate::credentials::Credentials;

const DEFAULT_API_BASE: &str = "https://api.bamboohr.com/api/gateway.php";
const DEFAULT_OAUTH_BASE: &str = "https://{subdomain}.bamboohr.com";
/// Beyond this many changed employees, one report of everyone costs less than a request each.
const MAX_CHANGES_READ_ONE_BY_ONE: usize = 1000;
const OAUTH_SCOPES: &str = "openid email employee employee:job employee:contact field";

static INFO: ProviderInfo = ProviderInfo {
    id: "bamboohr",
    name: "BambooHR",
    category: ProviderCategory::Hris,
    logo_url: "https://www.bamboohr.com/favicon.ico",
    sign_in: Some(SignIn::OAuthRedirect),
    credential_fields: &[
        CredentialField {
            key: CredentialKey::Subdomain,
            label: "Company domain (the part before .bamboohr.com)",
            secret: false,
            help: Some("If you sign in at acme.bamboohr.com, enter acme."),
        },
        CredentialField {
            key: CredentialKey::ApiKey,
            label: "API key",
            secret: true,
            help: Some("Your name (top right) → API Keys → Add New Key."),
        },
    ],
    api_key_instructions: "In BambooHR, click your name in the top-right corner, choose \
        \"API Keys\", then \"Add New Key\". Name it \"directory-sync\", copy the key and paste \
        it here together with your company domain (the part before .bamboohr.com). The key acts \
        with your permissions, so create it as an administrator who can see all employees.",
    read_permissions: &[
        "Employee names, work email and photo-free profile fields",
        "Job information: job title, department, division, location, hire date",
        "Reporting lines (supervisor)",
        "Employment status (active or inactive)",
    ],
    terms_url: "https://www.bamboohr.com/legal/terms-of-service",
    suggested_mapping: &[
        ("email", "workEmail"),
        ("firstName", "firstName"),
        ("lastName", "lastName"),
        ("displayName", "displayName"),
        ("jobTitle", "jobTitle"),
        ("department", "department"),
        ("location", "location"),
        ("employmentStatus", "status"),
        ("startDate", "hireDate"),
        ("managerId", "supervisorEId"),
    ],
    named_by_admin: false,
    uploaded: false,
    pushed: false,
};

/// Field keys shown under "Employment" rather than "Employees".
const EMPLOYMENT_FIELDS: &[&str] = &[
    "jobTitle",
    "department",
    "division",
    "location",
    "status",
    "employmentHistoryStatus",
    "hireDate",
    "originalHireDate",
    "terminationDate",
    "supervisor",
    "supervisorId",
    "supervisorEId",
    "supervisorEmail",
    "employeeNumber",
    "payType",
    "exempt",
];

/// The BambooHR provider.
pub struct BambooHr;

#[async_trait]
impl Provider for BambooHr {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn connector(
        &self,
        ctx: &ProviderContext,
        subdomain: Option<&str>,
        credentials: &Credentials,
    ) -> Result<Box<dyn Connector>, ProviderError> {
        let subdomain = require_subdomain(subdomain)?;
        let base = ctx.api_base(DEFAULT_API_BASE);
        // BambooHR publishes no quota; it answers 429 with Retry-After when it throttles.
        let http = ctx.http.account(&format!("bamboohr:{subdomain}"), classify, &[]);
        Ok(Box::new(BambooHrConnector {
            http,
            base: format!("{base}/{subdomain}/v1"),
            auth: CallAuth::of(credentials, "x")?,
        }))
    }

    async fn begin_sign_in(
        &self,
        ctx: &ProviderContext,
        request: SignInRequest<'_>,
    ) -> Result<SignInStart, ProviderError> {
        let page = format!("{}/authorize.php", oauth_base(ctx, request.subdomain)?);
        oauth::sign_in_page(
            &page,
            "BAMBOOHR_OAUTH_BASE",
            oauth_app(ctx)?,
            &request,
            OAUTH_SCOPES,
            &[("request", "authorize")],
        )
    }

    async fn complete_sign_in(
        &self,
        ctx: &ProviderContext,
        subdomain: Option<&str>,
        proof: SignInProof<'_>,
    ) -> Result<Credentials, ProviderError> {
        let SignInProof::AuthorizationCode { code, redirect_uri } = proof else {
            return Err(self.no_sign_in());
        };
        request_tokens(ctx, subdomain, oauth::code_grant(code, redirect_uri), None).await
    }

    async fn refresh_tokens(
        &self,
        ctx: &ProviderContext,
        subdomain: Option<&str>,
        refresh_token: &SecretString,
    ) -> Result<Credentials, ProviderError> {
        request_tokens(ctx, subdomain, oauth::refresh_grant(refresh_token), Some(refresh_token)).await
    }
}

/// `POST token.php?request=token`.
async fn request_tokens(
    ctx: &ProviderContext,
    subdomain: Option<&str>,
    grant: Value,
    previous_refresh: Option<&SecretString>,
) -> Result<Credentials, ProviderError> {
    let app = oauth_app(ctx)?;
    let url = format!("{}/token.php?request=token", oauth_base(ctx, subdomain)?);
    let http = ctx.http.account(&format!("bamboohr-oauth:{}", app.client_id), classify_token_answer, &[]);
    oauth::request_tokens(&http, &url, app, grant, previous_refresh).await
}

/// What BambooHR's failure answers mean; the reason is in `X-BambooHR-Error-Message`.
fn classify(failure: &HttpFailure) -> ProviderError {
    let reason = failure
        .headers
        .get("X-BambooHR-Error-Message")
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| failure.detail(), |m| format!("HTTP {}: {m}", failure.status.as_u16()));
    match failure.status.as_u16() {
        401 => ProviderError::InvalidCredentials(reason),
        403 => ProviderError::AccessDisabled(reason),
        404 => ProviderError::UnknownTenant(reason),
        _ => common_meaning(failure),
    }
}

/// OAuth answers a revoked or expired grant with 400 invalid_grant: the admin must sign in again.
fn classify_token_answer(failure: &HttpFailure) -> ProviderError {
    match failure.status.as_u16() {
        400 if failure.body.contains("invalid_grant") => ProviderError::InvalidCredentials(failure.detail()),
        _ => classify(failure),
    }
}

fn require_subdomain(subdomain: Option<&str>) -> Result<&str, ProviderError> {
    subdomain
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ProviderError::UnknownTenant("BambooHR needs the company domain".into()))
}

fn oauth_app(ctx: &ProviderContext) -> Result<&super::catalogue::OAuthApp, ProviderError> {
    oauth::registered_app(ctx, "BambooHR", "BAMBOOHR")
}

fn oauth_base(ctx: &ProviderContext, subdomain: Option<&str>) -> Result<String, ProviderError> {
    let template = ctx.endpoints.oauth_base.as_deref().unwrap_or(DEFAULT_OAUTH_BASE);
    Ok(template.replace("{subdomain}", require_subdomain(subdomain)?).trim_end_matches('/').to_string())
}

struct BambooHrConnector {
    http: AccountHttp,
    base: String,
    auth: CallAuth,
}

impl BambooHrConnector {
    fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        self.auth.sign(request.header("Accept", "application/json"))
    }

    /// Requests the custom report and pages through it as it downloads.
    async fn custom_report(&self, fields: &[String], page_size: usize) -> Result<PageStream<'_>, ProviderError> {
        let url = format!("{}/reports/custom?format=JSON&onlyCurrent=true", self.base);
        let body = json!({ "title": "directory-sync", "fields": fields });
        let response = self.http.send_streamed(|c| self.authorize(c.post(&url)).json(&body)).await?;
        let requested = fields.to_vec();
        let list = StreamedList { what: "custom report", key: "employees", page_size };
        list.spool(response, move |ReportEmployee(employee)| employee.map(|e| e.complete(&requested)))
    }
}

#[async_trait]
impl Connector for BambooHrConnector {
    async fn discover_fields(&self) -> Result<Vec<ExternalField>, ProviderError> {
        let url = format!("{}/meta/fields", self.base);
        let fields: Vec<MetaField> = self.http.json("field list", |c| self.authorize(c.get(&url))).await?;
        Ok(fields.into_iter().map(into_external_field).collect())
    }

    async fn fetch(&self, request: FetchRequest) -> Result<PageStream<'_>, ProviderError> {
        self.custom_report(&request.fields, request.page_size).await
    }

    async fn fetch_changes(
        &self,
        since: DateTime<Utc>,
        request: FetchRequest,
    ) -> Result<Option<Changes<'_>>, ProviderError> {
        let since = since.to_rfc3339_opts(SecondsFormat::Secs, true);
        let url = format!("{}/employees/changed/", self.base);
        let feed: ChangeFeed = self
            .http
            .json("changed employees", |c| self.authorize(c.get(&url)).query(&[("since", since.as_str())]))
            .await?;
        let (mut removed, mut changed): (Vec<ChangedEmployee>, Vec<ChangedEmployee>) =
            feed.employees.into_iter().partition(|e| e.action.eq_ignore_ascii_case("Deleted"));
        if changed.len() > MAX_CHANGES_READ_ONE_BY_ONE {
            tracing::info!(changed = changed.len(), "many changes: reading the whole report instead");
            return Ok(None);
        }
        changed.sort_by_cached_key(|e| (e.id.parse::<u64>().ok(), e.id.clone()));
        removed.sort_by(|a, b| a.id.cmp(&b.id));
        let total = changed.len();
        let ids: Vec<String> = changed.into_iter().map(|e| e.id).collect();
        let pages = stream::iter(ids.chunks(request.page_size.max(1)).map(<[_]>::to_vec).collect::<Vec<_>>())
            .enumerate()
            .then(move |(index, page)| {
                let fields = request.fields.clone();
                async move {
                    let mut records = Vec::with_capacity(page.len());
                    for id in &page {
                        records.extend(self.employee(id, &fields).await?);
                    }
                    let last = (index + 1) * request.page_size.max(1) >= total;
                    Ok(RemotePage { records, next_cursor: None, last, total: Some(total), estimated_total: None })
                }
            });
        Ok(Some(Changes { pages: Box::pin(pages), removed: removed.into_iter().map(|e| e.id).collect() }))
    }
}

impl BambooHrConnector {
    /// One employee's `fields`; `None` when it was deleted after the change feed listed it.
    async fn employee(&self, id: &str, fields: &[String]) -> Result<Option<RemoteRecord>, ProviderError> {
        let url = format!("{}/employees/{id}/", self.base);
        let joined = fields.join(",");
        let what = format!("employee {id}");
        match self.http.json(&what, |c| self.authorize(c.get(&url)).query(&[("fields", joined.as_str())])).await {
            Ok(ReportEmployee(record)) => Ok(record.map(|record| record.complete(fields))),
            Err(ProviderError::UnknownTenant(_)) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

/// The change feed's answer. BambooHR keys `employees` by id; an empty feed may come as `[]`.
#[derive(Deserialize)]
struct ChangeFeed {
    #[serde(deserialize_with = "keyed_or_listed")]
    employees: Vec<ChangedEmployee>,
}

#[derive(Deserialize)]
struct ChangedEmployee {
    id: String,
    action: String,
}

fn keyed_or_listed<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<ChangedEmployee>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entries {
        Keyed(BTreeMap<String, ChangedEmployee>),
        Listed(Vec<ChangedEmployee>),
    }
    Ok(match Entries::deserialize(deserializer)? {
        Entries::Keyed(map) => map.into_values().collect(),
        Entries::Listed(list) => list,
    })
}

/// One employee of a custom report, parsed straight into a record, with no intermediate JSON
/// tree. `None` for an entry without an id.
struct ReportEmployee(Option<ParsedEmployee>);

/// An employee's values, and the keys it carried empty.
struct ParsedEmployee {
    record: RemoteRecord,
    empty: Vec<String>,
}

impl ParsedEmployee {
    /// The record, with the `requested` fields the answer left out marked withheld.
    fn complete(self, requested: &[String]) -> RemoteRecord {
        let Self { mut record, empty } = self;
        let withheld = left_out(requested, |f| record.values.contains_key(f) || empty.iter().any(|e| e == f));
        record.withheld = withheld;
        record
    }
}

impl<'de> Deserialize<'de> for ReportEmployee {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EmployeeVisitor;

        impl<'de> Visitor<'de> for EmployeeVisitor {
            type Value = ReportEmployee;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an employee object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ReportEmployee, A::Error> {
                let mut remote_id = None;
                let mut values = BTreeMap::new();
                let mut empty = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let Scalar(value) = map.next_value()?;
                    match (key.as_str(), value) {
                        ("id", id) => remote_id = id,
                        ("status", Some(status)) => {
                            values.insert(key, employment_of(&status).to_string());
                        }
                        (_, Some(value)) => {
                            values.insert(key, value);
                        }
                        (_, None) => empty.push(key),
                    }
                }
                Ok(ReportEmployee(
                    remote_id.map(|remote_id| ParsedEmployee { record: RemoteRecord::new(remote_id, values), empty }),
                ))
            }
        }

        deserializer.deserialize_map(EmployeeVisitor)
    }
}

/// BambooHR's employee status (`Active` / `Inactive`) in the directory's terms.
fn employment_of(status: &str) -> &'static str {
    employment(status.trim().eq_ignore_ascii_case("inactive"))
}

/// A report value as text. BambooHR sends strings or null; numbers appear for some custom
/// fields. Blank text, null and nested values count as absent.
struct Scalar(Option<String>);

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self(scalar_text(Value::deserialize(deserializer)?)))
    }
}

#[derive(Deserialize)]
struct MetaField {
    id: Value,
    name: String,
    #[serde(rename = "type")]
    field_type: String,
    alias: Option<String>,
}

fn into_external_field(field: MetaField) -> ExternalField {
    // A field without an alias is addressed by its id, which may be a number or a dotted string.
    let key = field.alias.unwrap_or_else(|| match field.id {
        Value::String(s) => s,
        other => other.to_string(),
    });
    let field_type = match field.field_type.as_str() {
        "email" => "email",
        "date" => "date",
        "employee" => "reference",
        "status" => "status",
        "int" | "currency" | "decimal" => "number",
        "list" | "multilist" => "list",
        _ if key == "supervisorEId" || key == "supervisorId" => "reference",
        _ => "string",
    };
    let category = if EMPLOYMENT_FIELDS.contains(&key.as_str()) { "Employment" } else { "Employees" };
    ExternalField { key, label: field.name, field_type: field_type.into(), category: category.into() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{EMPLOYMENT_ACTIVE, EMPLOYMENT_INACTIVE};

    #[test]
    fn fields_without_alias_are_keyed_by_id() {
        let numeric = MetaField { id: json!(4047), name: "Shirt size".into(), field_type: "list".into(), alias: None };
        let dotted = MetaField { id: json!("4047.1"), name: "T".into(), field_type: "text".into(), alias: None };
        assert_eq!(into_external_field(numeric).key, "4047");
        assert_eq!(into_external_field(dotted).key, "4047.1");
    }

    #[test]
    fn records_drop_nulls_and_blank_values() {
        let employee = json!({"id": "7", "firstName": " Ada", "workEmail": null, "jobTitle": "  ", "4047": 12});
        let record = serde_json::from_value::<ReportEmployee>(employee).unwrap().0.unwrap().record;
        assert_eq!(record.remote_id, "7");
        assert_eq!(record.values.len(), 2);
        assert_eq!(record.values["firstName"], "Ada");
        assert_eq!(record.values["4047"], "12");
    }

    #[test]
    fn fields_left_out_are_withheld_and_statuses_normalised() {
        let employee = json!({"id": "7", "workEmail": null, "status": "Inactive"});
        let requested: Vec<String> = ["workEmail", "status", "jobTitle"].map(String::from).to_vec();
        let record = serde_json::from_value::<ReportEmployee>(employee).unwrap().0.unwrap().complete(&requested);
        assert_eq!(record.withheld.iter().collect::<Vec<_>>(), ["jobTitle"], "null is empty, absent is withheld");
        assert_eq!(record.values["status"], EMPLOYMENT_INACTIVE);
        assert_eq!(employment_of("Active"), EMPLOYMENT_ACTIVE);
    }
}
