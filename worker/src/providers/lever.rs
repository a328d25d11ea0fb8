//! Lever (applicant tracking), the Lever Data API, from Lever's public documentation
//! (hire.lever.co/developer/documentation; the sections it could not be read here for were
//! taken from clients that copy its text, and are said so in the README):
//! - base `https://api.lever.co/v1` (`LEVER_API_BASE`); an API key, created under Settings →
//!   Integrations and API → API Credentials with read permissions per endpoint, signs every call
//!   with HTTP Basic, the key as user name and a blank password; answers are `{"data": …}`;
//! - or OAuth 2.0, for a deployment registered as a Lever partner (`LEVER_CLIENT_ID`,
//!   `LEVER_CLIENT_SECRET`): the admin signs in at `https://auth.lever.co/authorize` (with the
//!   API as `audience`, `prompt=consent`, and `<resource>:read:admin` scopes plus
//!   `offline_access` for a refresh token); `POST /oauth/token` trades the code, and later the
//!   refresh token, for a bearer token good for an hour (`LEVER_OAUTH_BASE` replaces the host);
//! - lists page by `limit` (1 to 100) and an opaque `offset` token: `{data, hasNext, next}`;
//! - a hire is an opportunity archived with an archive reason whose `type` is `hired`
//!   (`GET /archive_reasons`); `GET /opportunities?archived=true&archive_reason_id=…` lists them
//!   (`expand=applications` for the posting and its hiring manager). The person is the
//!   opportunity's `contact`, so a rehire (a new opportunity) is the same person; `name` is one
//!   text and `emails` untyped strings. Offers are read per opportunity
//!   (`GET /opportunities/{id}/offers`, the signed one, else the latest), the start date from
//!   the offer field `anticipated_start_date` (a date, or milliseconds since the epoch);
//! - postings carry the job title (`text`) and `categories.department` / `.location`; their
//!   `hiringManager` (or the application's `postingHiringManager`) is a user, named by email;
//! - users (`includeDeactivated=true`) are the hiring team, a deactivated one has left;
//! - the change feed is `updated_at_start` (milliseconds), with
//!   `GET /opportunities/deleted?deleted_at_start=…`;
//! - errors are `{code, message}`: 401 a bad key, 403 a permission the key lacks; throttling is
//!   10 requests a second per key (bursts to 20), 429.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::{stream, StreamExt, TryStreamExt};
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

use super::ats::{changes, date_part, hire_status, hires_then_team, record};
use super::catalogue::{
    CredentialField, CredentialKey, OAuthApp, Provider, ProviderCategory, ProviderContext, ProviderInfo, SignIn,
    SignInProof, SignInRequest, SignInStart,
};
use super::http::{forbidden_is_access_disabled, sign_in_meaning, AccountHttp};
use super::oauth::{self, CallAuth};
use super::pace::Quota;
use super::{
    AccountInfo, Changes, Connector, ExternalField, FetchRequest, PageStream, ProviderError, RemoteRecord,
    EMPLOYMENT_ACTIVE, EMPLOYMENT_INACTIVE,
};
use crate::credentials::Credentials;

const DEFAULT_API_BASE: &str = "https://api.lever.co/v1";
const DEFAULT_OAUTH_BASE: &str = "https://auth.lever.co";
/// Read access to what a full read asks for; `offline_access` for a refresh token.
const OAUTH_SCOPES: &str = "offline_access opportunities:read:admin applications:read:admin offers:read:admin \
    postings:read:admin users:read:admin archive_reasons:read:admin";
const MAX_LIMIT: usize = 100;
const QUOTA: &[Quota] = &[Quota::per_second(10)];
/// The offer field carrying the start date, as Lever's standard offer form names it.
const START_DATE_FIELD: &str = "anticipated_start_date";
/// Offers requests in flight at once: 10 a second at up to 400 ms a round trip.
const OFFER_READS_AT_ONCE: usize = 4;
/// Beyond this many changes, reading everyone costs no more than holding the changes.
const MAX_CHANGES: usize = 5_000;

static INFO: ProviderInfo = ProviderInfo {
    id: "lever",
    name: "Lever",
    category: ProviderCategory::Ats,
    logo_url: "https://www.lever.co/favicon.ico",
    sign_in: Some(SignIn::OAuthRedirect),
    credential_fields: &[CredentialField {
        key: CredentialKey::ApiKey,
        label: "API key",
        secret: true,
        help: Some("Settings → Integrations and API → API Credentials → Generate new key."),
    }],
    api_key_instructions: "In Lever, open Settings → Integrations and API → API Credentials and click \"Generate \
        new key\". Name it \"directory-sync\" and give it read access to Opportunities, Offers, Postings, Users and \
        Archive reasons, and nothing else (add Confidential if your hires are on confidential postings). Paste the \
        key here; Lever shows it only once.",
    read_permissions: &[
        "Opportunities archived as hired, with their contacts' names and emails",
        "Offers (the anticipated start date)",
        "Postings (title, department, location, hiring manager)",
        "Users (your hiring team) and archive reasons",
    ],
    terms_url: "https://www.lever.co/terms-of-service/",
    suggested_mapping: &[
        ("email", "emails.first"),
        ("displayName", "name"),
        ("jobTitle", "posting.text"),
        ("department", "posting.department"),
        ("location", "posting.location"),
        ("employmentStatus", "hire.status"),
        ("startDate", "offer.anticipated_start_date"),
        ("managerId", "posting.hiring_manager"),
    ],
    named_by_admin: false,
    uploaded: false,
    pushed: false,
};

/// (key, label, type, category) of every field a record can carry.
const FIELDS: &[(&str, &str, &str, &str)] = &[
    ("name", "Name", "string", "Opportunities"),
    ("emails.first", "Email (first listed)", "email", "Opportunities"),
    ("emails.second", "Email (second listed)", "email", "Opportunities"),
    ("posting.text", "Posting title", "string", "Postings"),
    ("posting.department", "Posting department", "string", "Postings"),
    ("posting.team", "Posting team", "string", "Postings"),
    ("posting.location", "Posting location", "string", "Postings"),
    ("posting.hiring_manager", "Hiring manager (by email)", "reference", "Postings"),
    ("offer.anticipated_start_date", "Offer: anticipated start date", "date", "Offers"),
    ("hire.status", "Hired (pre-start until the start date), or a deactivated user", "status", "Opportunities"),
];

/// Each list read, with the fields it carries; in the order connecting checks them.
const LISTS: &[(&str, &[&str])] = &[
    ("archive_reasons", &[]),
    ("opportunities", &[]),
    ("postings", &["posting.text", "posting.department", "posting.team", "posting.location"]),
    ("users", &["posting.hiring_manager"]),
];
const OFFER_FIELDS: &[&str] = &["offer.anticipated_start_date", "hire.status"];

pub struct Lever;

#[async_trait]
impl Provider for Lever {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn connector(
        &self,
        ctx: &ProviderContext,
        _subdomain: Option<&str>,
        credentials: &Credentials,
    ) -> Result<Box<dyn Connector>, ProviderError> {
        let auth = CallAuth::of(credentials, "")?;
        // A 403 is a permission the key (or the sign-in's scopes) lacks.
        let http =
            ctx.http.account(&format!("lever:{}", auth.account()), forbidden_is_access_disabled, &ctx.quotas(QUOTA));
        Ok(Box::new(LeverConnector { http, base: ctx.api_base(DEFAULT_API_BASE), auth }))
    }

    async fn begin_sign_in(
        &self,
        ctx: &ProviderContext,
        request: SignInRequest<'_>,
    ) -> Result<SignInStart, ProviderError> {
        let page = format!("{}/authorize", oauth_base(ctx));
        // Without the API as audience, Lever's token opens nothing.
        let audience = format!("{}/", ctx.api_base(DEFAULT_API_BASE));
        let extra = [("prompt", "consent"), ("audience", audience.as_str())];
        oauth::sign_in_page(&page, "LEVER_OAUTH_BASE", oauth_app(ctx)?, &request, OAUTH_SCOPES, &extra)
    }

    async fn complete_sign_in(
        &self,
        ctx: &ProviderContext,
        _subdomain: Option<&str>,
        proof: SignInProof<'_>,
    ) -> Result<Credentials, ProviderError> {
        let SignInProof::AuthorizationCode { code, redirect_uri } = proof else {
            return Err(self.no_sign_in());
        };
        request_tokens(ctx, oauth::code_grant(code, redirect_uri), None).await
    }

    async fn refresh_tokens(
        &self,
        ctx: &ProviderContext,
        _subdomain: Option<&str>,
        refresh_token: &SecretString,
    ) -> Result<Credentials, ProviderError> {
        request_tokens(ctx, oauth::refresh_grant(refresh_token), Some(refresh_token)).await
    }
}

fn oauth_app(ctx: &ProviderContext) -> Result<&OAuthApp, ProviderError> {
    oauth::registered_app(ctx, "Lever", "LEVER")
}

fn oauth_base(ctx: &ProviderContext) -> String {
    ctx.endpoints.oauth_base.as_deref().unwrap_or(DEFAULT_OAUTH_BASE).trim_end_matches('/').to_string()
}

/// `POST /oauth/token`. It refuses a bad code, a revoked refresh token or an unknown app with
/// 400, 401 or 403 (`invalid_grant`, `access_denied`).
async fn request_tokens(
    ctx: &ProviderContext,
    grant: serde_json::Value,
    previous_refresh: Option<&SecretString>,
) -> Result<Credentials, ProviderError> {
    let app = oauth_app(ctx)?;
    let http = ctx.http.account(&format!("lever-oauth:{}", app.client_id), sign_in_meaning, &[]);
    let url = format!("{}/oauth/token", oauth_base(ctx));
    oauth::request_tokens(&http, &url, app, grant, previous_refresh).await
}

struct LeverConnector {
    http: AccountHttp,
    base: String,
    auth: CallAuth,
}

#[derive(Deserialize)]
struct Page<T> {
    #[serde(default = "Vec::new")]
    data: Vec<T>,
    #[serde(default, rename = "hasNext")]
    has_next: bool,
    next: Option<String>,
}

#[derive(Deserialize)]
struct Listed<T> {
    data: Vec<T>,
}

#[derive(Deserialize)]
struct ArchiveReason {
    id: String,
    #[serde(rename = "type")]
    kind: Option<String>,
}

#[derive(Deserialize)]
struct User {
    id: String,
    name: Option<String>,
    email: Option<String>,
    #[serde(rename = "deactivatedAt")]
    deactivated_at: Option<Value>,
}

#[derive(Deserialize)]
struct Posting {
    id: String,
    text: Option<String>,
    #[serde(default)]
    categories: Categories,
    #[serde(rename = "hiringManager")]
    hiring_manager: Option<String>,
}

#[derive(Deserialize, Default)]
struct Categories {
    department: Option<String>,
    team: Option<String>,
    location: Option<String>,
}

#[derive(Deserialize)]
struct Opportunity {
    id: String,
    contact: Option<String>,
    name: Option<String>,
    #[serde(default)]
    emails: Vec<String>,
    archived: Option<Archived>,
    #[serde(default)]
    applications: Vec<Value>,
}

#[derive(Deserialize)]
struct Archived {
    reason: Option<String>,
}

#[derive(Deserialize)]
struct Offer {
    status: Option<String>,
    #[serde(rename = "createdAt")]
    created_at: Option<i64>,
    #[serde(default)]
    fields: Vec<OfferField>,
}

#[derive(Deserialize)]
struct OfferField {
    identifier: Option<String>,
    value: Option<Value>,
}

/// What every hire's record looks up, with the fields lists the key may not read withhold.
struct Lookups {
    hired_reasons: HashSet<String>,
    postings: HashMap<String, Posting>,
    users: Vec<User>,
    emails: HashMap<String, String>,
    withheld: BTreeSet<String>,
}

impl LeverConnector {
    async fn get<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ProviderError> {
        let url = format!("{}/{path}", self.base);
        self.http.json(what, |c| self.auth.sign(c.get(&url)).header("Accept", "application/json").query(query)).await
    }

    /// One page of `path` at `offset`.
    async fn page<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        offset: Option<&str>,
        limit: usize,
    ) -> Result<Page<T>, ProviderError> {
        let mut query = query.to_vec();
        query.push(("limit", limit.clamp(1, MAX_LIMIT).to_string()));
        if let Some(offset) = offset {
            query.push(("offset", offset.to_string()));
        }
        self.get(path, path, &query).await
    }

    async fn all<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<Vec<T>, ProviderError> {
        let mut all = Vec::new();
        let mut offset: Option<String> = None;
        loop {
            let page: Page<T> = self.page(path, query, offset.as_deref(), MAX_LIMIT).await?;
            all.extend(page.data);
            match page.next.filter(|_| page.has_next) {
                Some(next) => offset = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// `all`, with a 403 (a permission not granted) read as nothing, and the fields it withholds.
    async fn readable<T: DeserializeOwned>(
        &self,
        path: &'static str,
        query: &[(&str, String)],
    ) -> Result<(Vec<T>, &'static [&'static str]), ProviderError> {
        match self.all(path, query).await {
            Ok(items) => Ok((items, &[])),
            Err(ProviderError::AccessDisabled(detail)) => {
                tracing::info!(path, %detail, "Lever withholds a list from this key");
                Ok((Vec::new(), LISTS.iter().find(|(name, _)| *name == path).map_or(&[][..], |(_, f)| f)))
            }
            Err(other) => Err(other),
        }
    }

    /// The lists every hire looks things up in, read at once.
    async fn lookups(&self) -> Result<Lookups, ProviderError> {
        let deactivated = [("includeDeactivated", "true".to_string())];
        let (reasons, (postings, a), (users, b)): (Vec<ArchiveReason>, (Vec<Posting>, _), (Vec<User>, _)) = futures::try_join!(
            self.all("archive_reasons", &[]),
            self.readable("postings", &[]),
            self.readable("users", &deactivated),
        )?;
        let hired_reasons = reasons.into_iter().filter(|r| r.kind.as_deref() == Some("hired")).map(|r| r.id).collect();
        let withheld = [a, b].concat().into_iter().map(str::to_string).collect();
        let emails = users.iter().filter_map(|u| u.email.clone().map(|e| (u.id.clone(), e))).collect();
        Ok(Lookups {
            hired_reasons,
            postings: postings.into_iter().map(|p| (p.id.clone(), p)).collect(),
            users,
            emails,
            withheld,
        })
    }

    /// The first request of the hires' pages: opportunities archived for a hired reason.
    fn hires_query(lookups: &Lookups) -> Vec<(&'static str, String)> {
        let mut query = vec![
            ("archived", "true".to_string()),
            ("expand", "applications".to_string()),
            ("confidentiality", "all".to_string()),
        ];
        let mut reasons: Vec<&String> = lookups.hired_reasons.iter().collect();
        reasons.sort();
        query.extend(reasons.into_iter().map(|r| ("archive_reason_id", r.clone())));
        query
    }

    fn is_hire(lookups: &Lookups, opportunity: &Opportunity) -> bool {
        opportunity.archived.as_ref().and_then(|a| a.reason.as_ref()).is_some_and(|r| lookups.hired_reasons.contains(r))
    }

    /// The record of a hired `opportunity`, its offer read.
    async fn hire(
        &self,
        opportunity: &Opportunity,
        lookups: &Lookups,
        requested: &[String],
    ) -> Result<Option<RemoteRecord>, ProviderError> {
        let Some(contact) = opportunity.contact.clone() else { return Ok(None) };
        let mut withheld = lookups.withheld.clone();
        let path = format!("opportunities/{}/offers", opportunity.id);
        let start_date = match self.get::<Listed<Offer>>("offers", &path, &[]).await {
            Ok(offers) => chosen_offer(offers.data).and_then(|offer| start_date_of(&offer)),
            Err(ProviderError::AccessDisabled(_)) => {
                withheld.extend(OFFER_FIELDS.iter().map(|f| f.to_string()));
                None
            }
            Err(other) => return Err(other),
        };
        let application = opportunity.applications.iter().find(|a| a.is_object());
        let posting = application.and_then(|a| a["posting"].as_str()).and_then(|id| lookups.postings.get(id));
        let manager = application
            .and_then(|a| a["postingHiringManager"].as_str())
            .or(posting.and_then(|p| p.hiring_manager.as_deref()))
            .and_then(|user| lookups.emails.get(user).cloned());
        let today = Utc::now().date_naive();
        let values = vec![
            ("name", opportunity.name.clone()),
            ("emails.first", opportunity.emails.first().cloned()),
            ("emails.second", opportunity.emails.get(1).cloned()),
            ("posting.text", posting.and_then(|p| p.text.clone())),
            ("posting.department", posting.and_then(|p| p.categories.department.clone())),
            ("posting.team", posting.and_then(|p| p.categories.team.clone())),
            ("posting.location", posting.and_then(|p| p.categories.location.clone())),
            ("posting.hiring_manager", manager),
            ("hire.status", Some(hire_status(start_date.as_deref(), today).to_string())),
            ("offer.anticipated_start_date", start_date),
        ];
        Ok(Some(record(format!("contact:{contact}"), values, requested, &withheld, false)))
    }

    /// The records of a page of opportunities: the hires among them, one per contact.
    async fn hires(
        &self,
        opportunities: &[Opportunity],
        lookups: &Lookups,
        requested: &[String],
    ) -> Result<Vec<RemoteRecord>, ProviderError> {
        let mut seen = HashSet::new();
        let hires = opportunities
            .iter()
            .filter(|o| Self::is_hire(lookups, o))
            .filter(|o| o.contact.as_ref().is_none_or(|c| seen.insert(c.clone())));
        // Each hire's offers are a request of their own: a few go at once, enough to keep to the
        // quota's pace across the round trips, few enough that a key sharing its quota with
        // another client meets its 429s one by one rather than all together.
        let reads: Vec<_> = hires.map(|o| Box::pin(self.hire(o, lookups, requested))).collect();
        let records: Vec<Option<RemoteRecord>> =
            stream::iter(reads).buffered(OFFER_READS_AT_ONCE).try_collect().await?;
        Ok(records.into_iter().flatten().collect())
    }

    /// The hiring team as records, each yielding to a hire with the same email.
    fn team(lookups: &Lookups, requested: &[String]) -> Vec<RemoteRecord> {
        lookups
            .users
            .iter()
            .filter(|u| u.email.is_some())
            .map(|user| {
                let left = user.deactivated_at.as_ref().is_some_and(|d| !d.is_null());
                let status = if left { EMPLOYMENT_INACTIVE } else { EMPLOYMENT_ACTIVE };
                let values = vec![
                    ("name", user.name.clone()),
                    ("emails.first", user.email.clone()),
                    ("emails.second", user.email.clone()),
                    ("hire.status", Some(status.to_string())),
                ];
                record(format!("user:{}", user.id), values, requested, &lookups.withheld, true)
            })
            .collect()
    }
}

/// The signed offer, else the latest.
fn chosen_offer(offers: Vec<Offer>) -> Option<Offer> {
    let signed = offers.iter().position(|o| o.status.as_deref() == Some("signed"));
    let mut offers = offers;
    match signed {
        Some(index) => Some(offers.swap_remove(index)),
        None => offers.into_iter().max_by_key(|o| o.created_at.unwrap_or(0)),
    }
}

/// The offer's anticipated start date: an ISO date, or milliseconds since the epoch.
fn start_date_of(offer: &Offer) -> Option<String> {
    let field = offer.fields.iter().find(|f| f.identifier.as_deref() == Some(START_DATE_FIELD))?;
    match field.value.as_ref()? {
        Value::String(text) => date_part(text),
        Value::Number(ms) => DateTime::from_timestamp_millis(ms.as_i64()?).map(|t| t.date_naive().to_string()),
        _ => None,
    }
}

#[async_trait]
impl Connector for LeverConnector {
    async fn discover_fields(&self) -> Result<Vec<ExternalField>, ProviderError> {
        // The fields are Lever's objects', the same for every account: one read proves the key.
        self.page::<Value>("archive_reasons", &[], None, 1).await?;
        Ok(FIELDS.iter().map(|(key, label, ty, category)| ExternalField::listed(key, label, ty, category)).collect())
    }

    /// Asks each list the sync reads for one record, so a permission not granted is named now.
    async fn verify(&self) -> Result<AccountInfo, ProviderError> {
        for (list, _) in LISTS {
            if let Err(err) = self.page::<Value>(list, &[], None, 1).await {
                return Err(match err {
                    ProviderError::AccessDisabled(detail) => ProviderError::AccessDisabled(format!(
                        "the key may not read {list}: give it read access to {list} ({detail})"
                    )),
                    other => other,
                });
            }
        }
        Ok(AccountInfo::default())
    }

    async fn fetch(&self, request: FetchRequest) -> Result<PageStream<'_>, ProviderError> {
        let lookups = Arc::new(self.lookups().await?);
        let fields = Arc::new(request.fields);
        let team = if request.hiring_team { Self::team(&lookups, &fields) } else { Vec::new() };
        let page_size = request.page_size;
        Ok(hires_then_team(request.cursor, team, move |offset| {
            let (lookups, fields) = (lookups.clone(), fields.clone());
            async move {
                let query = Self::hires_query(&lookups);
                let page: Page<Opportunity> = self.page("opportunities", &query, offset.as_deref(), page_size).await?;
                let records = self.hires(&page.data, &lookups, &fields).await?;
                Ok((records, page.next.filter(|_| page.has_next)))
            }
        }))
    }

    /// Opportunities updated, or deleted, since `since` name the contacts whose hire may have
    /// changed; each is read again, and a contact with no hire left (an offer rescinded, an
    /// opportunity unarchived or deleted) is removed. The hiring team's changes wait for a full sync.
    async fn fetch_changes(
        &self,
        since: DateTime<Utc>,
        request: FetchRequest,
    ) -> Result<Option<Changes<'_>>, ProviderError> {
        let since = since.timestamp_millis().to_string();
        let lookups = self.lookups().await?;
        let mut query = vec![("updated_at_start", since.clone()), ("expand", "applications".to_string())];
        query.push(("confidentiality", "all".to_string()));
        let updated: Vec<Opportunity> = self.all("opportunities", &query).await?;
        let deleted: Vec<Opportunity> = self.all("opportunities/deleted", &[("deleted_at_start", since)]).await?;
        let contacts: BTreeSet<String> = updated.iter().chain(&deleted).filter_map(|o| o.contact.clone()).collect();
        if contacts.len() > MAX_CHANGES {
            tracing::info!("many changes at Lever: reading everyone instead");
            return Ok(None);
        }
        let (mut records, mut removed) = (Vec::new(), Vec::new());
        for contact in contacts {
            let mut query = Self::hires_query(&lookups);
            query.push(("contact_id", contact.clone()));
            let hires: Vec<Opportunity> = self.all("opportunities", &query).await?;
            match self.hires(&hires, &lookups, &request.fields).await?.pop() {
                Some(record) => records.push(record),
                None => removed.push(format!("contact:{contact}")),
            }
        }
        Ok(Some(changes(records, removed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_signed_offer_gives_the_start_date_as_a_date_or_milliseconds() {
        let offer = |status: &str, created: i64, value: Value| Offer {
            status: Some(status.into()),
            created_at: Some(created),
            fields: vec![OfferField { identifier: Some(START_DATE_FIELD.into()), value: Some(value) }],
        };
        let chosen = chosen_offer(vec![offer("signed", 1, json!("2027-01-04")), offer("sent", 2, json!("2027-02-01"))]);
        assert_eq!(chosen.as_ref().and_then(start_date_of).as_deref(), Some("2027-01-04"), "signed wins");
        let latest = chosen_offer(vec![offer("draft", 1, json!(0)), offer("sent", 2, json!(1_798_761_600_000i64))]);
        assert_eq!(latest.as_ref().and_then(start_date_of).as_deref(), Some("2027-01-01"), "else the latest");
        assert!(chosen_offer(Vec::new()).is_none());
    }
}
