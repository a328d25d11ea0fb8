//! Workday (HRIS), through Report-as-a-Service (RaaS), from Workday's public material on it:
//! - the admin builds an Advanced custom report on workers, ticks "Enable As Web Service",
//!   shares it with an Integration System User (ISU), and gives us its JSON address
//!   (`https://<host>/ccx/service/customreport2/<tenant>/<owner>/<report>?format=json`, under
//!   Related Actions → Web Service → View URLs) with the ISU's user name and password, which
//!   sign each call with HTTP Basic; or with an API Client for Integrations the customer
//!   registered and the refresh token it generated for the ISU, traded at the tenant's token
//!   endpoint (`https://<host>/ccx/oauth2/<tenant>/token`, the client over HTTP Basic) for a
//!   bearer token. `WORKDAY_API_BASE` replaces the address's scheme and host;
//!   `WORKDAY_ALLOWED_HOSTS` admits hosts besides Workday's own;
//! - the answer is one document, `{"Report_Entry": [{column: value, …}, …]}`, each column
//!   under its XML alias; a worker's empty fields are left out of their entry. It is never
//!   paginated, so it is parsed as it downloads and paged through a [`spool`](super::spool),
//!   flat in memory however many workers it holds, and an interrupted read starts over;
//! - fields the ISU may not see (its security groups lack the domain) come back empty, which
//!   here means left out, as if nobody had a value: a mapped column that no worker of the first
//!   page carries is taken as withheld for the whole read, so it is never blanked;
//! - the report's columns are what the admin sees as accessible data: those the first page of
//!   workers carries;
//! - a change feed where the report has a Date and Time prompt `Updated_From` (filtering on the
//!   workers' last update) and its address names it: an INCREMENTAL read sets it to the last
//!   sync's start, a complete read to 1900; without it every sync reads the whole report;
//! - errors: 401 a wrong user name or password; 404 no report at that address; 500 "Processing
//!   error occurred" with a reason, "The task submitted is not authorized" when the report is
//!   not shared with the ISU (or its groups may not run it), and a report cut off at Workday's
//!   time limit; Workday answers XML unless the address asks for `format=json`.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::StreamExt;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use super::catalogue::{CredentialField, CredentialKey, Provider, ProviderCategory, ProviderContext, ProviderInfo};
use super::http::{common_meaning, AccountHttp, HttpFailure};
use super::oauth::HeldToken;
use super::spool::StreamedList;
use super::{
    employment, scalar_text, Changes, Connector, ExternalField, FetchRequest, PageStream, ProviderError, RemotePage,
    RemoteRecord,
};
use crate::credentials::Credentials;
use crate::mapping::headings;

/// The column every report must have: the worker's Employee ID, their record's id here.
const ID_COLUMN: &str = "Employee_ID";
/// Workday's "Active Status": `1` (or true) for someone with the company, `0` for a leaver.
const ACTIVE_COLUMN: &str = "Active_Status";
/// Workers read to learn the report's columns.
const DISCOVERY_SAMPLE: usize = 100;
/// The longest report address accepted.
const MAX_ADDRESS_CHARS: usize = 2_000;
/// The report prompt an INCREMENTAL read sets: workers updated from this moment (a Date and Time
/// prompt the admin adds to the report, filtering on the workers' last update).
const CHANGE_PROMPT: &str = "Updated_From";
/// Hosts Workday serves tenants at.
const WORKDAY_DOMAINS: &[&str] = &["workday.com", "myworkday.com"];

static INFO: ProviderInfo = ProviderInfo {
    id: "workday",
    name: "Workday",
    category: ProviderCategory::Hris,
    logo_url: "https://www.workday.com/favicon.ico",
    sign_in: None,
    credential_fields: &[
        CredentialField {
            key: CredentialKey::Subdomain,
            label: "Report URL (JSON)",
            secret: false,
            help: Some("The report's Related Actions → Web Service → View URLs → JSON, ending in ?format=json."),
        },
        CredentialField {
            key: CredentialKey::ApiKey,
            label: "Integration System User name, or API client ID",
            secret: false,
            help: Some("The ISU the report is shared with; or the Client ID of your API Client for Integrations."),
        },
        CredentialField {
            key: CredentialKey::ApiSecret,
            label: "Password, or client secret",
            secret: true,
            help: None,
        },
        CredentialField {
            key: CredentialKey::RefreshToken,
            label: "Refresh token (API client only)",
            secret: true,
            help: Some(
                "With an API client: the refresh token from its Manage Refresh Tokens for Integrations, for the \
                 account the report is shared with. Leave it empty to sign in as the ISU.",
            ),
        },
    ],
    api_key_instructions: "In Workday, create an Integration System User (Create Integration System User; tick \"Do \
        Not Allow UI Sessions\") in a security group with Get access to Worker Data: Public Worker Reports, Worker \
        Data: Current Staffing Information and Person Data: Work Contact Information. Then create an Advanced \
        custom report on the data source \"All Workers\" (or \"All Active and Terminated Workers\"), tick \"Enable \
        As Web Service\", and add these fields with these column headings (XML aliases): Employee ID \
        (Employee_ID), Worker (Worker), Legal Name - First Name (First_Name), Legal Name - Last Name (Last_Name), \
        Email - Work (Email_Work), Business Title (Business_Title), Supervisory Organization \
        (Supervisory_Organization), Location (Location), Hire Date (Hire_Date), Active Status (Active_Status) and \
        the manager's Employee ID (Manager_Employee_ID). Share the report with the ISU, open Related Actions → Web \
        Service → View URLs, copy the JSON link, and paste it here with the ISU's user name and password. To sync \
        only what changed, add a Date and Time prompt named Updated_From with a filter on the workers' last update \
        (on or after it), and make sure the link ends in &Updated_From=. Or, \
        instead of the ISU's password: register an API Client for Integrations (Register API Client for \
        Integrations, with Non-Expiring Refresh Tokens and the scopes the report's fields need), generate a \
        refresh token for the ISU under its Manage Refresh Tokens for Integrations, and give the client ID, the \
        client secret and that refresh token.",
    read_permissions: &[
        "The report's columns, for every worker it lists",
        "Names, work email, business title, supervisory organization and location",
        "Hire date, active status and the manager's Employee ID",
    ],
    terms_url: "https://www.workday.com/en-us/legal.html",
    suggested_mapping: &[
        ("email", "Email_Work"),
        ("firstName", "First_Name"),
        ("lastName", "Last_Name"),
        ("displayName", "Worker"),
        ("jobTitle", "Business_Title"),
        ("department", "Supervisory_Organization"),
        ("location", "Location"),
        ("employmentStatus", ACTIVE_COLUMN),
        ("startDate", "Hire_Date"),
        ("managerId", "Manager_Employee_ID"),
    ],
    named_by_admin: true,
    uploaded: false,
    pushed: false,
};

pub struct Workday;

#[async_trait]
impl Provider for Workday {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn tenant_address(&self, ctx: &ProviderContext, raw: &str) -> Option<Result<String, String>> {
        Some(report_address(raw, &ctx.endpoints.allowed_hosts).map(|address| address.to_string()))
    }

    fn connector(
        &self,
        ctx: &ProviderContext,
        subdomain: Option<&str>,
        credentials: &Credentials,
    ) -> Result<Box<dyn Connector>, ProviderError> {
        let address = subdomain
            .ok_or_else(|| ProviderError::UnknownTenant("Workday needs the report's address".into()))
            .and_then(|raw| report_address(raw, &ctx.endpoints.allowed_hosts).map_err(ProviderError::UnknownTenant))?;
        // The address as given, or on the configured base (the sandbox's, in tests).
        let origin = match ctx.endpoints.api_base.as_deref() {
            Some(base) => base.trim_end_matches('/').to_string(),
            None => address[..url::Position::BeforePath].to_string(),
        };
        let url = format!("{origin}{}", &address[url::Position::BeforePath..]);
        let (account, auth) = match credentials {
            Credentials::ApiClient { client_id, client_secret, refresh_token } => {
                // The tenant's token endpoint, on the report's host: …/ccx/oauth2/<tenant>/token.
                let tenant = address.path_segments().and_then(|mut s| s.nth(3)).unwrap_or_default();
                let account = format!("workday:{url}:{}", client_id.expose_secret());
                let auth = ReportAuth::ApiClient {
                    token_url: format!("{origin}/ccx/oauth2/{tenant}/token"),
                    token_http: ctx.http.account(&account, token_meaning, &[]),
                    client_id: client_id.clone(),
                    client_secret: client_secret.clone(),
                    refresh_token: refresh_token.clone(),
                    token: HeldToken::default(),
                };
                (account, auth)
            }
            _ => {
                let Some((user, password)) = credentials.key_and_secret() else {
                    return Err(ProviderError::InvalidCredentials(
                        "Workday needs the ISU's user name and password, or an API client and its refresh token".into(),
                    ));
                };
                let account = format!("workday:{url}:{}", user.expose_secret());
                (account, ReportAuth::Isu { user: user.clone(), password: password.clone() })
            }
        };
        // Workday publishes no quota for RaaS; it answers 429 when it throttles.
        let http = ctx.http.account(&account, classify, &[]);
        let change_prompt = address.query_pairs().any(|(key, _)| key == CHANGE_PROMPT);
        Ok(Box::new(WorkdayConnector { http, url, auth, change_prompt }))
    }
}

/// The report address an admin pasted, if it is one: https, at a Workday host (or one the
/// deployment allows; never an IP address), the RaaS path, and the JSON format.
pub fn report_address(raw: &str, allowed_hosts: &[String]) -> Result<url::Url, String> {
    let raw = raw.trim();
    if raw.chars().count() > MAX_ADDRESS_CHARS {
        return Err(format!("the Report URL is longer than {MAX_ADDRESS_CHARS} characters"));
    }
    // What was typed is never echoed: it may carry a password.
    let not_one = || {
        "the Report URL is not a report's web service address: paste the JSON link from the report's Related \
         Actions → Web Service → View URLs"
            .to_string()
    };
    let address = url::Url::parse(raw).map_err(|_| not_one())?;
    if !address.username().is_empty() || address.password().is_some() {
        return Err("the Report URL must not carry a user name or password: enter them in their own fields".into());
    }
    if address.scheme() != "https" {
        return Err("the Report URL must start with https://".into());
    }
    let host = match address.host() {
        Some(url::Host::Domain(host)) => host.to_lowercase(),
        Some(_) => return Err("the Report URL names an IP address; a Workday report's address names its host".into()),
        None => return Err(not_one()),
    };
    let workdays = WORKDAY_DOMAINS.iter().any(|domain| host.strip_suffix(domain).is_some_and(|sub| sub.ends_with('.')));
    if !workdays && !allowed_hosts.contains(&host) {
        return Err(format!(
            "'{host}' is not a Workday host (…workday.com or …myworkday.com); a deployment can allow another with \
             WORKDAY_ALLOWED_HOSTS"
        ));
    }
    if address.port().is_some() {
        return Err("the Report URL must not name a port: Workday answers on https's own".into());
    }
    let segments: Vec<&str> = address.path_segments().map(Iterator::collect).unwrap_or_default();
    let raas = segments.len() >= 6
        && segments[..3] == ["ccx", "service", "customreport2"]
        && segments[3..].iter().all(|s| !s.is_empty());
    if !raas {
        return Err(
            "the Report URL is not a custom report's address (…/ccx/service/customreport2/<tenant>/<owner>/<report>)"
                .into(),
        );
    }
    let format = address.query_pairs().find(|(key, _)| key == "format").map(|(_, value)| value.to_lowercase());
    if format.as_deref() != Some("json") {
        return Err("the Report URL must ask for JSON: use the JSON link, which ends in ?format=json".into());
    }
    Ok(address)
}

/// What Workday's failure answers mean; its reason is in the body (`{"error": …}` or text).
fn classify(failure: &HttpFailure) -> ProviderError {
    let reason = failure.body.to_lowercase();
    match failure.status.as_u16() {
        401 => ProviderError::InvalidCredentials(format!(
            "Workday did not accept the connection's credentials: the ISU's user name and password, or the API \
             client's token ({})",
            failure.detail()
        )),
        403 => ProviderError::AccessDisabled(failure.detail()),
        404 => ProviderError::UnknownTenant(format!(
            "Workday has no report at this address: check its tenant, owner and report name ({})",
            failure.detail()
        )),
        500 if reason.contains("not authorized") => ProviderError::AccessDisabled(
            "Workday may not run the report for this user: share the report with the Integration System User \
             (the report's Related Actions → Share) and give its security group access to the report's fields"
                .into(),
        ),
        500 if ["exceeded the maximum time", "time limit", "timed out"].iter().any(|p| reason.contains(p)) => {
            ProviderError::NotConfigured(
                "Workday stopped the report at its time limit before it finished: add a prompt or a filter to the \
                 report (or remove calculated fields it does not need) so that it runs faster"
                    .into(),
            )
        }
        _ => common_meaning(failure),
    }
}

/// What Workday's token endpoint's refusals mean: the API client's id, secret or refresh token
/// is not (or no longer) one Workday knows.
fn token_meaning(failure: &HttpFailure) -> ProviderError {
    match failure.status.as_u16() {
        400 | 401 | 403 => ProviderError::InvalidCredentials(format!(
            "Workday did not accept the API client's ID, secret or refresh token ({}): check them, or generate a new \
             refresh token under the API client's Manage Refresh Tokens for Integrations",
            failure.detail()
        )),
        _ => common_meaning(failure),
    }
}

/// How a connection signs its report requests.
enum ReportAuth {
    /// The Integration System User's name and password, over HTTP Basic.
    Isu { user: SecretString, password: SecretString },
    /// The customer's API client: its refresh token traded at the tenant's token endpoint for a
    /// bearer token (RFC 6749 §6, the client authenticated with HTTP Basic).
    ApiClient {
        token_url: String,
        token_http: AccountHttp,
        client_id: SecretString,
        client_secret: SecretString,
        refresh_token: SecretString,
        token: HeldToken,
    },
}

/// How one read signs its request.
enum Sign<'a> {
    Basic(&'a SecretString, &'a SecretString),
    Bearer(String),
}

/// `url` for one read of a report with the change prompt: the prompt set to `from`, or to 1900
/// for a complete read (so that a required prompt is never empty); its other parameters kept.
fn prompted_address(url: &str, from: Option<DateTime<Utc>>) -> String {
    let Ok(mut address) = url::Url::parse(url) else { return url.to_string() };
    // 1900-01-01T00:00:00Z.
    let from = from.unwrap_or(DateTime::from_timestamp(-2_208_988_800, 0).unwrap_or_default());
    let kept: Vec<(String, String)> =
        address.query_pairs().filter(|(key, _)| key != CHANGE_PROMPT).map(|(k, v)| (k.into(), v.into())).collect();
    address
        .query_pairs_mut()
        .clear()
        .extend_pairs(kept)
        .append_pair(CHANGE_PROMPT, &from.to_rfc3339_opts(SecondsFormat::Millis, false));
    address.to_string()
}

struct WorkdayConnector {
    http: AccountHttp,
    url: String,
    auth: ReportAuth,
    /// The report takes the change prompt (its address names it).
    change_prompt: bool,
}

impl WorkdayConnector {
    /// The report, parsed as it downloads, `page_size` workers a page: everyone, or those the
    /// change prompt lists as updated from `from`.
    async fn report(&self, page_size: usize, from: Option<DateTime<Utc>>) -> Result<PageStream<'_>, ProviderError> {
        let address = if self.change_prompt { prompted_address(&self.url, from) } else { self.url.clone() };
        let sign = match &self.auth {
            ReportAuth::Isu { user, password } => Sign::Basic(user, password),
            ReportAuth::ApiClient { token_url, token_http, client_id, client_secret, refresh_token, token } => {
                let grant = [("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose_secret())];
                let traded = token.get(token_http, |c| {
                    c.post(token_url)
                        .basic_auth(client_id.expose_secret(), Some(client_secret.expose_secret()))
                        .form(&grant)
                });
                Sign::Bearer(traded.await?)
            }
        };
        let response = self
            .http
            .send_streamed(|c| {
                let request = c.get(&address).header("Accept", "application/json");
                match &sign {
                    Sign::Basic(user, password) => {
                        request.basic_auth(user.expose_secret(), Some(password.expose_secret()))
                    }
                    Sign::Bearer(token) => request.bearer_auth(token),
                }
            })
            .await?;
        let list = StreamedList { what: "report", key: "Report_Entry", page_size };
        list.spool(response, Entry::into_record)
    }
}

#[async_trait]
impl Connector for WorkdayConnector {
    async fn discover_fields(&self) -> Result<Vec<ExternalField>, ProviderError> {
        let mut pages = self.report(DISCOVERY_SAMPLE, None).await?;
        let sample = match pages.next().await {
            Some(page) => page?.records,
            None => Vec::new(),
        };
        let mut columns: BTreeSet<&str> = sample.iter().flat_map(|r| r.values.keys().map(String::as_str)).collect();
        if !sample.is_empty() && !columns.contains(ID_COLUMN) {
            return Err(no_id_column());
        }
        columns.insert(ID_COLUMN);
        Ok(columns.into_iter().map(column_field).collect())
    }

    async fn fetch(&self, request: FetchRequest) -> Result<PageStream<'_>, ProviderError> {
        let pages = self.report(request.page_size, None).await?;
        let mut read = ReportRead { requested: request.fields, unsent: None };
        Ok(Box::pin(pages.map(move |page| read.complete(page?))))
    }

    /// Through the report's change prompt, where it has one: the workers updated since `since`,
    /// leavers among them (by their active status). A worker removed from the report is only
    /// seen gone by a complete read.
    async fn fetch_changes(
        &self,
        since: DateTime<Utc>,
        request: FetchRequest,
    ) -> Result<Option<Changes<'_>>, ProviderError> {
        if !self.change_prompt {
            return Ok(None);
        }
        let pages = self.report(request.page_size, Some(since)).await?;
        let mut read = ReportRead { requested: request.fields, unsent: None };
        Ok(Some(Changes { pages: Box::pin(pages.map(move |page| read.complete(page?))), removed: Vec::new() }))
    }
}

/// What a read of the report decides on its first page and keeps to its end.
struct ReportRead {
    requested: Vec<String>,
    /// The requested columns no worker of the first page carried (see the module's notes).
    unsent: Option<BTreeSet<String>>,
}

impl ReportRead {
    /// `page` as records: entries without an Employee ID left out (a first page of nothing but
    /// such entries is a report without the column, which would otherwise read as nobody), and
    /// each record's unsent columns it does not carry itself withheld.
    fn complete(&mut self, mut page: RemotePage) -> Result<RemotePage, ProviderError> {
        let first = self.unsent.is_none();
        if first && !page.records.is_empty() && page.records.iter().all(|r| r.remote_id.is_empty()) {
            return Err(no_id_column());
        }
        page.records.retain(|r| !r.remote_id.is_empty());
        let requested = &self.requested;
        let unsent = self.unsent.get_or_insert_with(|| {
            requested.iter().filter(|c| !page.records.iter().any(|r| r.values.contains_key(*c))).cloned().collect()
        });
        for record in &mut page.records {
            record.withheld = unsent.iter().filter(|c| !record.values.contains_key(*c)).cloned().collect();
        }
        Ok(page)
    }
}

fn no_id_column() -> ProviderError {
    ProviderError::NotConfigured(format!(
        "the report has no {ID_COLUMN} column: add the worker's Employee ID to it with the column heading {ID_COLUMN}"
    ))
}

/// How the accessible-data screen shows a column, from its name.
fn column_field(column: &str) -> ExternalField {
    let lower = column.to_lowercase();
    let category = if ["email", "name", "worker", "employee_id"].iter().any(|w| lower.contains(w)) {
        "Worker"
    } else {
        "Employment"
    };
    ExternalField::listed(column, &column.replace('_', " "), headings::field_type(column), category)
}

/// One entry of the report: column → value. One worker's entry at a time is held as JSON.
#[derive(Deserialize)]
struct Entry(BTreeMap<String, Value>);

impl Entry {
    /// Its scalar columns as a record (nested multi-instance values are not a directory field),
    /// the Employee ID its id (empty without one: [`ReportRead`] leaves those out), the active
    /// status in the directory's terms.
    fn into_record(self) -> Option<RemoteRecord> {
        let values: BTreeMap<String, String> = self
            .0
            .into_iter()
            .filter_map(|(column, value)| {
                let value = scalar_text(value)?;
                let value = if column == ACTIVE_COLUMN { active_status(&value).to_string() } else { value };
                Some((column, value))
            })
            .collect();
        let id = values.get(ID_COLUMN).cloned().unwrap_or_default();
        Some(RemoteRecord::new(id, values))
    }
}

/// Workday's Active Status (`1`/`0`, or a boolean) in the directory's terms.
fn active_status(value: &str) -> &'static str {
    employment(matches!(value.trim().to_lowercase().as_str(), "0" | "false" | "no"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "https://wd2-impl-services1.workday.com/ccx/service/customreport2/acme/ISU_Directory/Directory_Sync?format=json";

    #[test]
    fn the_change_prompt_is_set_for_each_read_and_the_rest_of_the_address_kept() {
        let url = format!("{GOOD}&Updated_From=&Organization=Sales");
        let since = DateTime::parse_from_rfc3339("2026-12-01T09:30:00Z").unwrap().with_timezone(&Utc);
        let changes = prompted_address(&url, Some(since));
        assert!(
            changes.ends_with("?format=json&Organization=Sales&Updated_From=2026-12-01T09%3A30%3A00.000%2B00%3A00"),
            "{changes}"
        );
        let complete = prompted_address(&changes, None);
        assert!(
            complete.ends_with("&Updated_From=1900-01-01T00%3A00%3A00.000%2B00%3A00"),
            "the earlier value replaced: {complete}"
        );
        assert_eq!(complete.matches("Updated_From").count(), 1);
    }

    #[test]
    fn a_report_address_is_a_json_raas_link_at_a_workday_host() {
        assert_eq!(report_address(&format!("  {GOOD} "), &[]).unwrap().as_str(), GOOD);
        let custom = "https://hr.acme.example/ccx/service/customreport2/acme/isu/Directory?format=json";
        let refusals = [
            ("http://wd2-impl-services1.workday.com/ccx/service/customreport2/a/b/c?format=json", "https://"),
            ("https://wd2-impl-services1.workday.com/ccx/service/customreport2/a/b/c", "format=json"),
            ("https://wd2-impl-services1.workday.com/ccx/service/customreport2/a/b/c?format=csv", "format=json"),
            ("https://wd2-impl-services1.workday.com/ccx/service/Human_Resources?format=json", "customreport2"),
            ("https://10.0.0.7/ccx/service/customreport2/a/b/c?format=json", "IP address"),
            ("https://[::1]/ccx/service/customreport2/a/b/c?format=json", "IP address"),
            ("https://evilworkday.com/ccx/service/customreport2/a/b/c?format=json", "not a Workday host"),
            ("https://workday.com.evil.example/ccx/service/customreport2/a/b/c?format=json", "not a Workday host"),
            ("http://isu:pw@wd5.myworkday.com/ccx/service/customreport2/a/b/c?format=json", "user name"),
            ("https://wd5.myworkday.com:8443/ccx/service/customreport2/a/b/c?format=json", "port"),
            (custom, "WORKDAY_ALLOWED_HOSTS"),
            ("acme", "not a report's web service address"),
        ];
        for (raw, says) in refusals {
            let refusal = report_address(raw, &[]).unwrap_err();
            assert!(refusal.contains(says), "{raw}: {refusal}");
            assert!(!refusal.contains("pw@"), "{raw}: never echoes what was typed: {refusal}");
        }
        assert!(report_address(custom, &["hr.acme.example".into()]).is_ok());
        let long = report_address(&format!("{GOOD}{}", "x".repeat(MAX_ADDRESS_CHARS)), &[]).unwrap_err();
        assert!(long.contains("longer than"), "{long}");
    }

    fn failure(status: u16, body: &str) -> HttpFailure {
        HttpFailure {
            status: reqwest::StatusCode::from_u16(status).unwrap(),
            headers: Default::default(),
            retry_after: None,
            body: body.into(),
        }
    }

    #[test]
    fn workdays_reasons_become_what_an_admin_can_act_on() {
        let unshared = r#"{"error":"Processing error occurred. The task submitted is not authorized."}"#;
        assert!(matches!(classify(&failure(500, unshared)), ProviderError::AccessDisabled(m) if m.contains("Share")));
        let slow = r#"{"error":"Processing error occurred. The report exceeded the maximum time allowed."}"#;
        assert!(matches!(classify(&failure(500, slow)), ProviderError::NotConfigured(m) if m.contains("prompt")));
        assert!(matches!(classify(&failure(401, "")), ProviderError::InvalidCredentials(_)));
        assert!(matches!(classify(&failure(404, "")), ProviderError::UnknownTenant(_)));
        assert!(matches!(classify(&failure(500, "{}")), ProviderError::Unreachable(_)));
        let other = r#"{"error":"Processing error occurred. Try again without the prompt."}"#;
        assert!(matches!(classify(&failure(500, other)), ProviderError::Unreachable(_)), "not a time limit");
    }

    #[test]
    fn entries_keep_scalar_columns_and_say_who_left() {
        let entry: Entry = serde_json::from_value(serde_json::json!({
            "Employee_ID": "21001", "Worker": " Ada Lovelace ", "Active_Status": "0",
            "Worker_Groups": [{"Group": "A"}], "Cost_Center": ""
        }))
        .unwrap();
        let record = entry.into_record().unwrap();
        assert_eq!(record.remote_id, "21001");
        assert_eq!(record.values["Worker"], "Ada Lovelace");
        assert_eq!(record.values[ACTIVE_COLUMN], super::super::EMPLOYMENT_INACTIVE);
        assert!(!record.values.contains_key("Worker_Groups") && !record.values.contains_key("Cost_Center"));
        let nameless: Entry = serde_json::from_value(serde_json::json!({ "Worker": "No Id" })).unwrap();
        assert_eq!(nameless.into_record().unwrap().remote_id, "");
    }

    fn record(id: &str, values: &[(&str, &str)]) -> RemoteRecord {
        RemoteRecord::new(id.into(), values.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    fn page(records: Vec<RemoteRecord>) -> RemotePage {
        RemotePage { records, next_cursor: None, last: false, total: None, estimated_total: None }
    }

    #[test]
    fn a_column_no_one_on_the_first_page_carries_is_withheld_where_a_record_lacks_it() {
        let requested = ["Email_Work".to_string(), "Business_Title".into(), "Location".into()];
        let mut read = ReportRead { requested: requested.to_vec(), unsent: None };
        let first = read
            .complete(page(vec![
                record("1", &[("Email_Work", "a@x"), ("Business_Title", "CEO")]),
                record("2", &[("Email_Work", "b@x")]),
            ]))
            .unwrap();
        let withheld: Vec<_> = first.records.iter().map(|r| r.withheld.clone()).collect();
        assert_eq!(withheld, [BTreeSet::from(["Location".to_string()]), BTreeSet::from(["Location".to_string()])]);
        // Later pages keep the first page's decision, but a value that is there is read.
        let later = read
            .complete(page(vec![record("3", &[("Location", "Paris")]), record("4", &[("Email_Work", "d@x")])]))
            .unwrap();
        assert_eq!(later.records[0].withheld, BTreeSet::new(), "Business_Title was sent: it is empty here");
        assert_eq!(later.records[1].withheld, BTreeSet::from(["Location".to_string()]));
    }

    #[test]
    fn entries_without_an_employee_id_are_left_out_and_a_report_of_only_them_is_refused() {
        let mut read = ReportRead { requested: Vec::new(), unsent: None };
        let refused = read.complete(page(vec![record("", &[("Worker", "A")]), record("", &[("Worker", "B")])]));
        assert!(matches!(refused, Err(ProviderError::NotConfigured(m)) if m.contains(ID_COLUMN)));
        let mut read = ReportRead { requested: Vec::new(), unsent: None };
        let kept = read.complete(page(vec![record("", &[("Worker", "A")]), record("7", &[("Worker", "B")])])).unwrap();
        assert_eq!(kept.records.len(), 1);
        assert!(read.complete(page(Vec::new())).unwrap().records.is_empty());
    }
}
