//! Greenhouse (applicant tracking), Harvest API v3, from Greenhouse's public documentation
//! (harvestdocs.greenhouse.io; v1 and v2 were retired on 31 August 2026):
//! - a custom integration authenticates with the OAuth 2.0 client credentials of a "Harvest V3
//!   (OAuth)" credential: `POST https://auth.greenhouse.io/token` (`GREENHOUSE_OAUTH_BASE`) with
//!   HTTP Basic `client_id:client_secret` and the form `grant_type=client_credentials`, answering
//!   an `access_token` (an hour's) sent as `Authorization: Bearer` to
//!   `https://harvest.greenhouse.io/v3` (`GREENHOUSE_API_BASE`); each list endpoint needs its
//!   scope (`harvest:<resource>:list`), and answers 403 without it;
//! - list endpoints answer a JSON array, `per_page` 1 to 500, and page by cursor: the next page
//!   is the `rel="next"` URL of the `Link` header, whose `cursor` must be the request's only
//!   parameter; filters such as `status=hired`, `ids`/`application_ids` (at most 50) and
//!   `updated_at=gte|<ISO time>` go on the first request;
//! - a hire is an application whose status is `hired`; its candidate (names, `email_addresses`
//!   typed work / personal / other), its current accepted offer (`current_only`, the start
//!   date), and its job (name, department, offices; hiring managers from
//!   `/job_hiring_managers`) make one person, named by the candidate's id; the hiring manager is
//!   a user, named by their email, whom finalize finds in the whole directory. Rejected, active
//!   and prospect applications never become people: nothing of them is kept;
//! - users (recruiters, hiring managers, interviewers) are people too, after the hires, each
//!   yielding to a hire with the same email (see [`RemoteRecord::yields`]); a disabled user has
//!   left;
//! - throttling is 429 with `Retry-After`, over a window of ten seconds; the quota of a custom
//!   integration is paced at 50 requests per 10 seconds.
//!
//! Reads of jobs, departments, offices, hiring managers, offers or users that answer 403 (a
//! scope not granted since connecting) withhold the fields they carry rather than fail the
//! sync; connecting asks for every scope, naming the first one missing.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::Value;

use super::ats::{changes, date_part, hire_status, hires_then_team, record};
use super::catalogue::{CredentialField, CredentialKey, Provider, ProviderCategory, ProviderContext, ProviderInfo};
use super::http::{forbidden_is_access_disabled, sign_in_meaning, AccountHttp};
use super::oauth::HeldToken;
use super::pace::Quota;
use super::{
    AccountInfo, Changes, Connector, ExternalField, FetchRequest, PageStream, ProviderError, RemoteRecord,
    EMPLOYMENT_ACTIVE, EMPLOYMENT_INACTIVE,
};
use crate::credentials::Credentials;

const DEFAULT_API_BASE: &str = "https://harvest.greenhouse.io/v3";
const DEFAULT_OAUTH_BASE: &str = "https://auth.greenhouse.io";
const MAX_PER_PAGE: usize = 500;
/// Most ids one filter (`ids`, `application_ids`) takes.
const MAX_IDS: usize = 50;
const QUOTA: &[Quota] = &[Quota { requests: 50, per: Duration::from_secs(10) }];
/// Beyond this many changes, reading everyone costs no more than holding the changes.
const MAX_CHANGES: usize = 5_000;

static INFO: ProviderInfo = ProviderInfo {
    id: "greenhouse",
    name: "Greenhouse",
    category: ProviderCategory::Ats,
    logo_url: "https://www.greenhouse.com/favicon.ico",
    sign_in: None,
    credential_fields: &[
        CredentialField {
            key: CredentialKey::ApiKey,
            label: "Client ID",
            secret: false,
            help: Some("Configure → Dev Center → API Credentials → your Harvest V3 (OAuth) credential."),
        },
        CredentialField {
            key: CredentialKey::ApiSecret,
            label: "Client secret",
            secret: true,
            help: Some("Shown with the client ID when the credential is created."),
        },
    ],
    api_key_instructions: "In Greenhouse, open Configure → Dev Center → API Credentials and click \"Create new API \
        credentials\". Choose Harvest V3 (OAuth), name it \"directory-sync\" and save it. In its scopes, grant these \
        read scopes and nothing else: harvest:applications:list, harvest:candidates:list, harvest:offers:list, \
        harvest:jobs:list, harvest:job_hiring_managers:list, harvest:departments:list, harvest:offices:list and \
        harvest:users:list. Paste the credential's client ID and client secret here. Greenhouse has no company \
        domain to enter: the credential names your organization.",
    read_permissions: &[
        "Hired applications, and the names and emails of the candidates hired",
        "Accepted offers (start dates)",
        "Jobs with their departments, offices and hiring managers",
        "Users (your hiring team: recruiters, hiring managers, interviewers)",
    ],
    terms_url: "https://www.greenhouse.com/terms-of-service",
    suggested_mapping: &[
        ("email", "email_addresses.work"),
        ("firstName", "first_name"),
        ("lastName", "last_name"),
        ("jobTitle", "job.name"),
        ("department", "job.department"),
        ("location", "job.office"),
        ("employmentStatus", "hire.status"),
        ("startDate", "offer.start_date"),
        ("managerId", "job.hiring_manager"),
    ],
    named_by_admin: false,
    uploaded: false,
    pushed: false,
};

/// (key, label, type, category) of every field a record can carry.
const FIELDS: &[(&str, &str, &str, &str)] = &[
    ("first_name", "First name", "string", "Candidates"),
    ("last_name", "Last name", "string", "Candidates"),
    ("email_addresses.work", "Email (work)", "email", "Candidates"),
    ("email_addresses.personal", "Email (personal)", "email", "Candidates"),
    ("email_addresses.other", "Email (other)", "email", "Candidates"),
    ("job.name", "Job name", "string", "Jobs"),
    ("job.department", "Job department", "string", "Jobs"),
    ("job.office", "Job office", "string", "Jobs"),
    ("job.hiring_manager", "Hiring manager (by email)", "reference", "Jobs"),
    ("offer.start_date", "Offer start date", "date", "Offers"),
    ("hire.status", "Hired (pre-start until the start date), or a disabled user", "status", "Applications"),
];

/// Each list a hire's fields come from, with its scope; in the order connecting checks them.
const LISTS: &[(&str, &[&str])] = &[
    ("applications", &[]),
    ("candidates", &[]),
    ("offers", &["offer.start_date", "hire.status"]),
    ("jobs", &["job.name", "job.department", "job.office"]),
    ("job_hiring_managers", &["job.hiring_manager"]),
    ("departments", &["job.department"]),
    ("offices", &["job.office"]),
    ("users", &["job.hiring_manager"]),
];

pub struct Greenhouse;

#[async_trait]
impl Provider for Greenhouse {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn connector(
        &self,
        ctx: &ProviderContext,
        _subdomain: Option<&str>,
        credentials: &Credentials,
    ) -> Result<Box<dyn Connector>, ProviderError> {
        let (id, secret) = credentials.key_and_secret().ok_or_else(|| {
            ProviderError::InvalidCredentials("Greenhouse needs a Harvest V3 client ID and client secret".into())
        })?;
        let client_id = id.expose_secret().trim().to_string();
        let account = format!("greenhouse:{client_id}");
        let oauth_base = ctx.endpoints.oauth_base.as_deref().unwrap_or(DEFAULT_OAUTH_BASE).trim_end_matches('/');
        Ok(Box::new(GreenhouseConnector {
            // A 403 is a scope the credential lacks. One pace for the token and the API alike:
            // they count against one quota.
            http: ctx.http.account(&account, forbidden_is_access_disabled, &ctx.quotas(QUOTA)),
            token_http: ctx.http.account(&account, sign_in_meaning, &ctx.quotas(QUOTA)),
            base: ctx.api_base(DEFAULT_API_BASE),
            token_url: format!("{oauth_base}/token"),
            client_id,
            client_secret: secret.clone(),
            token: HeldToken::default(),
        }))
    }
}

struct GreenhouseConnector {
    http: AccountHttp,
    token_http: AccountHttp,
    base: String,
    token_url: String,
    client_id: String,
    client_secret: SecretString,
    token: HeldToken,
}

#[derive(Deserialize)]
struct Application {
    id: u64,
    candidate_id: u64,
    job_id: Option<u64>,
    #[serde(default)]
    status: String,
}

#[derive(Deserialize)]
struct Candidate {
    id: u64,
    first_name: Option<String>,
    last_name: Option<String>,
    #[serde(default)]
    email_addresses: Vec<TypedEmail>,
}

#[derive(Deserialize)]
struct TypedEmail {
    value: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct Offer {
    application_id: u64,
    start_date: Option<String>,
}

#[derive(Deserialize)]
struct Job {
    id: u64,
    name: Option<String>,
    department_id: Option<u64>,
    #[serde(default)]
    office_ids: Vec<u64>,
}

#[derive(Deserialize)]
struct HiringManager {
    job_id: u64,
    user_id: u64,
}

#[derive(Deserialize)]
struct Named {
    id: u64,
    name: Option<String>,
}

#[derive(Deserialize)]
struct User {
    id: u64,
    first_name: Option<String>,
    last_name: Option<String>,
    primary_email_address: Option<String>,
    #[serde(default)]
    disabled: bool,
}

/// What every hire's record looks up: jobs, their departments, offices and hiring managers, and
/// the users; with the fields lists the credential may not read withhold.
#[derive(Default)]
struct Lookups {
    jobs: HashMap<u64, Job>,
    departments: HashMap<u64, String>,
    offices: HashMap<u64, String>,
    /// Job id → the email of its first hiring manager.
    hiring_managers: HashMap<u64, String>,
    users: Vec<User>,
    withheld: BTreeSet<String>,
}

impl GreenhouseConnector {
    async fn token(&self) -> Result<String, ProviderError> {
        let token_http = &self.token_http;
        self.token
            .get(token_http, |c| {
                c.post(&self.token_url)
                    .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
                    .form(&[("grant_type", "client_credentials")])
            })
            .await
    }

    /// One page of `list`: from the first request's `query`, or the `cursor` of a `Link` header.
    /// Answers the records and the next page's cursor.
    async fn page<T: serde::de::DeserializeOwned>(
        &self,
        list: &str,
        query: &[(&str, String)],
        cursor: Option<&str>,
    ) -> Result<(Vec<T>, Option<String>), ProviderError> {
        let token = self.token().await?;
        let url = format!("{}/{list}", self.base);
        let query: Vec<(&str, String)> = match cursor {
            // A cursor carries the first request's filters, and must come alone.
            Some(cursor) => vec![("cursor", cursor.to_string())],
            None => query.to_vec(),
        };
        let (items, headers): (Vec<T>, HeaderMap) = self
            .http
            .json_with_headers(list, |c| {
                c.get(&url).bearer_auth(&token).header("Accept", "application/json").query(&query)
            })
            .await?;
        Ok((items, next_cursor(&headers)))
    }

    /// Every record of `list` matching `query`.
    async fn all<T: serde::de::DeserializeOwned>(
        &self,
        list: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, ProviderError> {
        let mut query = query.to_vec();
        query.push(("per_page", MAX_PER_PAGE.to_string()));
        let (mut all, mut cursor) = self.page(list, &query, None).await?;
        while let Some(next) = cursor {
            let (more, after) = self.page(list, &[], Some(&next)).await?;
            all.extend(more);
            cursor = after;
        }
        Ok(all)
    }

    /// Every record of `list` whose `filter` is one of `ids`, asked for fifty at a time.
    async fn by_ids<T: serde::de::DeserializeOwned>(
        &self,
        list: &str,
        filter: &str,
        ids: &[u64],
        extra: &[(&str, String)],
    ) -> Result<Vec<T>, ProviderError> {
        // The chunks are independent: they go at once, as the quota lets them.
        let reads = ids.chunks(MAX_IDS).map(|chunk| {
            let joined = chunk.iter().map(u64::to_string).collect::<Vec<_>>().join(",");
            let mut query = vec![(filter, joined)];
            query.extend_from_slice(extra);
            async move { self.all::<T>(list, &query).await }
        });
        let found: Vec<Vec<T>> = futures::future::try_join_all(reads).await?;
        Ok(found.into_iter().flatten().collect())
    }

    /// `all`, with a 403 (a scope not granted) read as nothing, and the fields it withholds.
    async fn readable<T: serde::de::DeserializeOwned>(
        &self,
        list: &'static str,
    ) -> Result<(Vec<T>, &'static [&'static str]), ProviderError> {
        match self.all(list, &[]).await {
            Ok(items) => Ok((items, &[])),
            Err(ProviderError::AccessDisabled(detail)) => {
                tracing::info!(list, %detail, "Greenhouse withholds a list from this credential");
                Ok((Vec::new(), fields_of(list)))
            }
            Err(other) => Err(other),
        }
    }

    /// The lists every hire looks things up in, read at once (each pages on its own).
    async fn lookups(&self) -> Result<Lookups, ProviderError> {
        let ((jobs, a), (departments, b), (offices, c), (managers, d), (users, e)): (
            (Vec<Job>, _),
            (Vec<Named>, _),
            (Vec<Named>, _),
            (Vec<HiringManager>, _),
            (Vec<User>, _),
        ) = futures::try_join!(
            self.readable("jobs"),
            self.readable("departments"),
            self.readable("offices"),
            self.readable("job_hiring_managers"),
            self.readable("users"),
        )?;
        let withheld: BTreeSet<String> = [a, b, c, d, e].concat().into_iter().map(str::to_string).collect();
        let emails: HashMap<u64, &str> =
            users.iter().filter_map(|u| u.primary_email_address.as_deref().map(|e| (u.id, e))).collect();
        let mut hiring_managers = HashMap::new();
        for manager in &managers {
            if let Some(email) = emails.get(&manager.user_id) {
                hiring_managers.entry(manager.job_id).or_insert_with(|| email.to_string());
            }
        }
        let named = |list: Vec<Named>| list.into_iter().filter_map(|n| n.name.map(|name| (n.id, name))).collect();
        Ok(Lookups {
            jobs: jobs.into_iter().map(|j| (j.id, j)).collect(),
            departments: named(departments),
            offices: named(offices),
            hiring_managers,
            users,
            withheld,
        })
    }

    /// The records of `applications` (hired ones): their candidates and offers looked up.
    async fn hires(
        &self,
        applications: &[Application],
        lookups: &Lookups,
        requested: &[String],
    ) -> Result<Vec<RemoteRecord>, ProviderError> {
        let hired: Vec<&Application> = applications.iter().filter(|a| a.status.eq_ignore_ascii_case("hired")).collect();
        let candidate_ids: Vec<u64> =
            hired.iter().map(|a| a.candidate_id).collect::<BTreeSet<_>>().into_iter().collect();
        let mut withheld = lookups.withheld.clone();
        let application_ids: Vec<u64> = hired.iter().map(|a| a.id).collect();
        let current = [("current_only", "true".to_string()), ("status", "accepted".to_string())];
        // The candidates and their offers are asked for at once.
        let (candidates, offers) = futures::join!(
            self.by_ids("candidates", "ids", &candidate_ids, &[]),
            self.by_ids("offers", "application_ids", &application_ids, &current),
        );
        let candidates: HashMap<u64, Candidate> = candidates?.into_iter().map(|c: Candidate| (c.id, c)).collect();
        let offers: HashMap<u64, Offer> = match offers {
            Ok(offers) => offers.into_iter().map(|o: Offer| (o.application_id, o)).collect(),
            Err(ProviderError::AccessDisabled(_)) => {
                withheld.extend(fields_of("offers").iter().map(|f| f.to_string()));
                HashMap::new()
            }
            Err(other) => return Err(other),
        };
        let today = Utc::now().date_naive();
        // A candidate hired twice (a rehire) is one person: the latest hire speaks for them.
        let mut seen = HashSet::new();
        let mut records = Vec::with_capacity(hired.len());
        for application in hired.iter().rev() {
            let Some(candidate) = candidates.get(&application.candidate_id) else { continue };
            if !seen.insert(candidate.id) {
                continue;
            }
            let job = application.job_id.and_then(|id| lookups.jobs.get(&id));
            let start_date = offers.get(&application.id).and_then(|o| o.start_date.as_deref()).and_then(date_part);
            let mut values: Vec<(&str, Option<String>)> = vec![
                ("first_name", candidate.first_name.clone()),
                ("last_name", candidate.last_name.clone()),
                ("job.name", job.and_then(|j| j.name.clone())),
                (
                    "job.department",
                    job.and_then(|j| j.department_id).and_then(|d| lookups.departments.get(&d).cloned()),
                ),
                ("job.office", job.and_then(|j| j.office_ids.first()).and_then(|o| lookups.offices.get(o).cloned())),
                ("job.hiring_manager", application.job_id.and_then(|id| lookups.hiring_managers.get(&id).cloned())),
                ("hire.status", Some(hire_status(start_date.as_deref(), today).to_string())),
                ("offer.start_date", start_date),
            ];
            for (kind, key) in EMAIL_KINDS {
                let email = candidate
                    .email_addresses
                    .iter()
                    .find(|e| e.kind.as_deref().is_some_and(|k| k.eq_ignore_ascii_case(kind)))
                    .and_then(|e| e.value.clone());
                values.push((key, email));
            }
            records.push(record(format!("candidate:{}", candidate.id), values, requested, &withheld, false));
        }
        records.reverse();
        Ok(records)
    }

    /// The hiring team as records, each yielding to a hire with the same email.
    fn team(lookups: &Lookups, requested: &[String]) -> Vec<RemoteRecord> {
        lookups
            .users
            .iter()
            .filter(|u| u.primary_email_address.is_some())
            .map(|user| {
                let status = if user.disabled { EMPLOYMENT_INACTIVE } else { EMPLOYMENT_ACTIVE };
                let email = user.primary_email_address.clone();
                let values = vec![
                    ("first_name", user.first_name.clone()),
                    ("last_name", user.last_name.clone()),
                    ("email_addresses.work", email.clone()),
                    ("email_addresses.personal", email.clone()),
                    ("email_addresses.other", email),
                    ("hire.status", Some(status.to_string())),
                ];
                // A user carries no job or offer: those fields are empty, not withheld.
                record(format!("user:{}", user.id), values, requested, &lookups.withheld, true)
            })
            .collect()
    }

    fn applications_query(page_size: usize) -> Vec<(&'static str, String)> {
        vec![("status", "hired".to_string()), ("per_page", page_size.clamp(1, MAX_PER_PAGE).to_string())]
    }
}

#[async_trait]
impl Connector for GreenhouseConnector {
    async fn discover_fields(&self) -> Result<Vec<ExternalField>, ProviderError> {
        // The fields are Harvest's objects', the same for every organization: one read proves
        // the credential still answers.
        self.page::<Value>("users", &[("per_page", "1".to_string())], None).await?;
        Ok(FIELDS.iter().map(|(key, label, ty, category)| ExternalField::listed(key, label, ty, category)).collect())
    }

    /// Asks each list the sync reads for one record, so a scope not granted is named now.
    async fn verify(&self) -> Result<AccountInfo, ProviderError> {
        for (list, _) in LISTS {
            match self.page::<Value>(list, &[("per_page", "1".to_string())], None).await {
                Ok(_) => {}
                Err(ProviderError::AccessDisabled(detail)) => {
                    return Err(ProviderError::AccessDisabled(format!(
                        "the credential may not read {list}: grant it the harvest:{list}:list scope ({detail})"
                    )))
                }
                Err(other) => return Err(other),
            }
        }
        Ok(AccountInfo::default())
    }

    async fn fetch(&self, request: FetchRequest) -> Result<PageStream<'_>, ProviderError> {
        let lookups = std::sync::Arc::new(self.lookups().await?);
        let fields = std::sync::Arc::new(request.fields);
        let team = if request.hiring_team { Self::team(&lookups, &fields) } else { Vec::new() };
        let query = Self::applications_query(request.page_size);
        Ok(hires_then_team(request.cursor, team, move |cursor| {
            let (lookups, fields, query) = (lookups.clone(), fields.clone(), query.clone());
            async move {
                let (applications, next): (Vec<Application>, _) =
                    self.page("applications", &query, cursor.as_deref()).await?;
                Ok((self.hires(&applications, &lookups, &fields).await?, next))
            }
        }))
    }

    /// Applications, candidates and offers updated since `since` name the candidates whose hire
    /// may have changed; their hired applications are read again. A candidate with none left
    /// (a rescinded offer, a deleted hire) is removed. The hiring team's changes wait for a full sync.
    async fn fetch_changes(
        &self,
        since: DateTime<Utc>,
        request: FetchRequest,
    ) -> Result<Option<Changes<'_>>, ProviderError> {
        let updated = vec![("updated_at", format!("gte|{}", since.to_rfc3339_opts(SecondsFormat::Secs, true)))];
        let mut touched: BTreeSet<u64> = BTreeSet::new();
        let applications: Vec<Application> = self.all("applications", &updated).await?;
        touched.extend(applications.iter().map(|a| a.candidate_id));
        let candidates: Vec<Candidate> = self.all("candidates", &updated).await?;
        touched.extend(candidates.iter().map(|c| c.id));
        let offers: Vec<Value> = match self.all("offers", &updated).await {
            Ok(offers) => offers,
            Err(ProviderError::AccessDisabled(_)) => Vec::new(),
            Err(other) => return Err(other),
        };
        touched.extend(offers.iter().filter_map(|o| o["candidate_id"].as_u64()));
        if touched.len() > MAX_CHANGES {
            tracing::info!("many changes at Greenhouse: reading everyone instead");
            return Ok(None);
        }
        let touched: Vec<u64> = touched.into_iter().collect();
        let hired: Vec<Application> =
            self.by_ids("applications", "candidate_ids", &touched, &[("status", "hired".to_string())]).await?;
        let lookups = self.lookups().await?;
        let records = self.hires(&hired, &lookups, &request.fields).await?;
        let still_hired: HashSet<u64> = hired.iter().map(|a| a.candidate_id).collect();
        let removed =
            touched.iter().filter(|id| !still_hired.contains(id)).map(|id| format!("candidate:{id}")).collect();
        Ok(Some(changes(records, removed)))
    }
}

/// A candidate's email types, and the field each fills.
const EMAIL_KINDS: [(&str, &str); 3] =
    [("work", "email_addresses.work"), ("personal", "email_addresses.personal"), ("other", "email_addresses.other")];

/// The fields a list carries (see [`LISTS`]).
fn fields_of(list: &str) -> &'static [&'static str] {
    LISTS.iter().find(|(name, _)| *name == list).map_or(&[], |(_, fields)| fields)
}

/// The `cursor` of the `rel="next"` link of a `Link` header, if there is a next page.
fn next_cursor(headers: &HeaderMap) -> Option<String> {
    let link = headers.get("Link")?.to_str().ok()?;
    let next = link.split(',').find(|part| part.contains("rel=\"next\"") || part.contains("rel=next"))?;
    let url = next.split(';').next()?.trim().trim_start_matches('<').trim_end_matches('>');
    let url = url::Url::parse(url).ok()?;
    let cursor = url.query_pairs().find(|(name, _)| name == "cursor").map(|(_, value)| value.into_owned());
    cursor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_is_the_link_headers_cursor() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "Link",
            "<https://harvest.greenhouse.io/v3/jobs?cursor=eyJhIjoxfQ%3D%3D>; rel=\"next\"".parse().unwrap(),
        );
        assert_eq!(next_cursor(&headers).as_deref(), Some("eyJhIjoxfQ=="));
        assert_eq!(next_cursor(&HeaderMap::new()), None, "the last page has none");
    }

    #[test]
    fn each_list_withholds_the_fields_it_carries() {
        assert_eq!(fields_of("jobs"), ["job.name", "job.department", "job.office"]);
        assert_eq!(fields_of("offers"), ["offer.start_date", "hire.status"]);
        assert!(fields_of("candidates").is_empty());
    }
}
