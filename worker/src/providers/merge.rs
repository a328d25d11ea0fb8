//! Merge (a unified HRIS bridge to 200+ systems), from Merge's API reference:
//! - base `https://api.merge.dev` (`MERGE_API_BASE`); every call carries the operator's
//!   production key (`MERGE_API_KEY`) as `Authorization: Bearer`, calls about one linked account
//!   also its account token as `X-Account-Token`. Without the key Merge is listed but cannot be
//!   connected;
//! - "Open Window" is Merge Link: `POST /api/integrations/create-link-token` (our connection id
//!   as `end_user_origin_id`, category `hris`) gives the widget's link token and a magic link
//!   URL; the widget hands the frontend a public token, which
//!   `GET /api/integrations/account-token/{public_token}` swaps for the account token. An existing
//!   account token can be pasted instead (the API-key method);
//! - `GET /api/hris/v1/account-details` names the linked system; `/sync-status` tells whether
//!   Merge has finished its first import (`is_initial_sync`), before which a sync would read
//!   nothing true; `/linked-account-scopes` lists fields disabled by scopes, which answers carry as
//!   null, so they are reported as withheld rather than read as empty;
//! - `GET /api/hris/v1/employees` pages by opaque `cursor` (`next`), at most 100 a page, with
//!   `expand=employments,team,work_location` for the job title, team and location by name; the
//!   manager is a Merge id, so records are keyed by Merge's `id`; `employment_status` is ACTIVE,
//!   PENDING (not started yet) or INACTIVE. `modified_after` with `include_deleted_data` is the
//!   change feed; `remote_was_deleted` marks records deleted in the HRIS;
//! - errors are `{"detail"}`: 401 a bad key or account token, 403 no permission, 429 (100
//!   requests a minute per linked account on Merge's smallest plan) with `Retry-After`.

use std::collections::BTreeSet;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use futures::stream;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::{json, Value};

use super::catalogue::{
    CredentialField, CredentialKey, Provider, ProviderCategory, ProviderContext, ProviderInfo, SignIn, SignInProof,
    SignInRequest, SignInStart, Widget,
};
use super::http::{forbidden_is_access_disabled, AccountHttp};
use super::pace::Quota;
use super::{
    employment, scalar_text, AccountInfo, Changes, Connector, ExternalField, FetchRequest, PageStream, ProviderError,
    RemotePage, RemoteRecord, EMPLOYMENT_PRE_START,
};
use crate::credentials::Credentials;

const DEFAULT_API_BASE: &str = "https://api.merge.dev";
/// Merge Link for plain pages: this script defines `MergeLink.initialize({linkToken, onSuccess,
/// onReady, onExit})` and `MergeLink.openLink()`, which shows the widget in a frame from Link's
/// own host (`MERGE_WIDGET_BASE` serves both from elsewhere).
const LINK_SCRIPT: &str = "https://cdn.merge.dev/initialize.js";
const LINK_FRAMES: &str = "https://link.merge.dev";
pub(super) const MAX_PAGE: usize = 100;
/// Per linked account on Merge's Launch plan; larger plans allow more.
const QUOTA: &[Quota] = &[Quota::per_minute(100)];
/// Beyond this many changes, reading everyone costs no more than holding the changes.
pub(super) const MAX_CHANGES: usize = 5_000;
const EXPAND: &str = "employments,team,work_location";

static INFO: ProviderInfo = ProviderInfo {
    id: "merge",
    name: "Merge (200+ HR systems)",
    category: ProviderCategory::Hris,
    logo_url: "https://merge.dev/favicon.ico",
    sign_in: Some(SignIn::EmbeddedLink),
    credential_fields: &[CredentialField {
        key: CredentialKey::ApiKey,
        label: "Merge account token",
        secret: true,
        help: Some("The linked account's token, from Merge's dashboard (Linked Accounts)."),
    }],
    api_key_instructions: "Choose \"Open Window\" to pick your HR system in Merge Link and sign in \
        there. If your HR system is already linked to this workspace's Merge organization, paste \
        the linked account's account token from Merge's dashboard (Linked Accounts → the account) \
        instead.",
    read_permissions: &[
        "Employee names, work and personal email",
        "Employments (job title), teams and work locations",
        "Managers",
        "Employment status (active, pending, inactive) and hire and start dates",
    ],
    terms_url: "https://www.merge.dev/legal/end-user-terms",
    suggested_mapping: &[
        ("email", "work_email"),
        ("firstName", "first_name"),
        ("lastName", "last_name"),
        ("displayName", "display_full_name"),
        ("jobTitle", "job_title"),
        ("department", "team"),
        ("location", "work_location"),
        ("employmentStatus", "employment_status"),
        ("startDate", "start_date"),
        ("managerId", "manager"),
    ],
    named_by_admin: false,
    uploaded: false,
    pushed: false,
};

/// (key, label, type, category, the Merge model and field it comes from) of every field.
const FIELDS: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("work_email", "Work email", "email", "Employees", "Employee", "work_email"),
    ("personal_email", "Personal email", "email", "Employees", "Employee", "personal_email"),
    ("first_name", "First name", "string", "Employees", "Employee", "first_name"),
    ("last_name", "Last name", "string", "Employees", "Employee", "last_name"),
    ("preferred_name", "Preferred name", "string", "Employees", "Employee", "preferred_name"),
    ("display_full_name", "Full name", "string", "Employees", "Employee", "display_full_name"),
    ("username", "Username", "string", "Employees", "Employee", "username"),
    ("employee_number", "Employee number", "string", "Employees", "Employee", "employee_number"),
    ("job_title", "Job title (current employment)", "string", "Employment", "Employment", "job_title"),
    ("team", "Team", "string", "Employment", "Team", "name"),
    ("work_location", "Work location", "string", "Employment", "Location", "name"),
    ("manager", "Manager", "reference", "Employment", "Employee", "manager"),
    ("employment_status", "Employment status", "status", "Employment", "Employee", "employment_status"),
    ("hire_date", "Hire date", "date", "Employment", "Employee", "hire_date"),
    ("start_date", "Start date", "date", "Employment", "Employee", "start_date"),
    ("termination_date", "Termination date", "date", "Employment", "Employee", "termination_date"),
];

pub struct Merge;

/// The operator's production key, without which no Merge category can be connected.
fn operator_key(ctx: &ProviderContext) -> Result<&SecretString, ProviderError> {
    ctx.endpoints.operator_key.as_ref().ok_or_else(|| {
        ProviderError::NotConfigured(
            "Merge is not set up on this server (MERGE_API_KEY); ask your administrator to add the \
             organization's Merge production key"
                .into(),
        )
    })
}

/// A client for the operator's own calls (Link), paced like an account of its own.
fn operator_http(ctx: &ProviderContext, key: &SecretString) -> AccountHttp {
    ctx.http.account(&format!("merge-operator:{}", key.expose_secret()), CLASSIFY, &ctx.quotas(QUOTA))
}

/// A linked account of `category` (`hris`, `ats`), from its account token.
pub(super) fn account(
    ctx: &ProviderContext,
    credentials: &Credentials,
    category: &'static str,
) -> Result<Account, ProviderError> {
    let api_key = operator_key(ctx)?.clone();
    let Credentials::ApiKey { key: account_token, .. } = credentials else {
        return Err(ProviderError::InvalidCredentials("Merge needs a linked account's token".into()));
    };
    let http = ctx.http.account(&format!("merge:{}", account_token.expose_secret()), CLASSIFY, &ctx.quotas(QUOTA));
    Ok(Account { http, base: ctx.api_base(DEFAULT_API_BASE), api_key, account_token: account_token.clone(), category })
}

/// Merge Link, where this deployment can connect Merge.
pub(super) fn widget(ctx: &ProviderContext) -> Option<Widget> {
    operator_key(ctx).ok().map(|_| Widget::at(ctx, LINK_SCRIPT, LINK_FRAMES))
}

/// Starts Merge Link for systems of `category`.
pub(super) async fn begin_link(
    ctx: &ProviderContext,
    request: SignInRequest<'_>,
    category: &str,
) -> Result<SignInStart, ProviderError> {
    let key = operator_key(ctx)?;
    let url = format!("{}/api/integrations/create-link-token", ctx.api_base(DEFAULT_API_BASE));
    // Merge asks who is linking, for its dashboard only; it sends them nothing.
    let email = if request.admin.contains('@') {
        request.admin.to_string()
    } else {
        format!("{}@{}.directory-sync.invalid", request.admin, request.workspace_id)
    };
    let body = json!({
        "end_user_email_address": truncated(&email),
        "end_user_organization_name": truncated(request.workspace_id),
        "end_user_origin_id": request.connection_id.to_string(),
        "categories": [category],
        "should_create_magic_link_url": true,
        "link_expiry_mins": 30,
    });
    let link: LinkToken = operator_http(ctx, key)
        .json("link token", |c| c.post(&url).bearer_auth(key.expose_secret()).json(&body))
        .await?;
    let authorization_url =
        link.magic_link_url.ok_or_else(|| ProviderError::BadResponse("Merge returned no magic link URL".into()))?;
    Ok(SignInStart { authorization_url, link_token: Some(link.link_token) })
}

/// Swaps the public token Merge Link handed the frontend for the account token.
pub(super) async fn complete_link(ctx: &ProviderContext, public_token: &str) -> Result<Credentials, ProviderError> {
    let key = operator_key(ctx)?;
    let token = url::form_urlencoded::byte_serialize(public_token.as_bytes()).collect::<String>();
    let url = format!("{}/api/integrations/account-token/{token}", ctx.api_base(DEFAULT_API_BASE));
    let swapped: AccountToken = operator_http(ctx, key)
        .json("account token", |c| c.get(&url).bearer_auth(key.expose_secret()))
        .await
        .map_err(|err| match err {
            // An unknown or used public token.
            ProviderError::BadResponse(detail) => ProviderError::InvalidCredentials(detail),
            other => other,
        })?;
    Ok(Credentials::ApiKey { key: SecretString::from(swapped.account_token), secret: None })
}

#[async_trait]
impl Provider for Merge {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn connector(
        &self,
        ctx: &ProviderContext,
        _subdomain: Option<&str>,
        credentials: &Credentials,
    ) -> Result<Box<dyn Connector>, ProviderError> {
        Ok(Box::new(MergeConnector { account: account(ctx, credentials, "hris")? }))
    }

    fn widget(&self, ctx: &ProviderContext) -> Option<Widget> {
        widget(ctx)
    }

    async fn begin_sign_in(
        &self,
        ctx: &ProviderContext,
        request: SignInRequest<'_>,
    ) -> Result<SignInStart, ProviderError> {
        begin_link(ctx, request, "hris").await
    }

    async fn complete_sign_in(
        &self,
        ctx: &ProviderContext,
        _subdomain: Option<&str>,
        proof: SignInProof<'_>,
    ) -> Result<Credentials, ProviderError> {
        let SignInProof::PublicToken(public_token) = proof else {
            return Err(self.no_sign_in());
        };
        complete_link(ctx, public_token).await
    }
}

/// Merge's fields are at most 100 characters.
fn truncated(value: &str) -> String {
    value.chars().take(100).collect()
}

/// What Merge's failure answers mean: a 403 is a permission the account lacks.
const CLASSIFY: super::http::Classify = forbidden_is_access_disabled;

#[derive(Deserialize)]
struct LinkToken {
    link_token: String,
    magic_link_url: Option<String>,
}

#[derive(Deserialize)]
struct AccountToken {
    account_token: String,
}

#[derive(Deserialize)]
pub(super) struct AccountDetails {
    pub integration: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Paginated<T> {
    pub next: Option<String>,
    pub results: Vec<T>,
}

#[derive(Deserialize)]
struct SyncStatus {
    model_id: String,
    status: String,
    is_initial_sync: bool,
}

#[derive(Deserialize)]
struct Scopes {
    common_models: Vec<ModelScope>,
}

#[derive(Deserialize)]
struct ModelScope {
    model_name: String,
    #[serde(default)]
    field_permissions: Option<FieldPermissions>,
}

#[derive(Deserialize)]
struct FieldPermissions {
    #[serde(default)]
    disabled_fields: Vec<String>,
}

/// One linked account of one category, read with the operator's key and the account's token.
pub(super) struct Account {
    http: AccountHttp,
    base: String,
    api_key: SecretString,
    account_token: SecretString,
    category: &'static str,
}

impl Account {
    /// `GET /api/{category}/v1/{path}`.
    pub async fn get<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T, ProviderError> {
        let url = format!("{}/api/{}/v1/{path}", self.base, self.category);
        self.http
            .json(what, |c| {
                c.get(&url)
                    .bearer_auth(self.api_key.expose_secret())
                    .header("X-Account-Token", self.account_token.expose_secret())
                    .header("Accept", "application/json")
                    .query(query)
            })
            .await
    }

    /// Every page of `path`, followed by their `next` cursors.
    pub async fn all<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, ProviderError> {
        let (mut all, mut cursor) = (Vec::new(), None::<String>);
        loop {
            let mut query = query.to_vec();
            query.push(("page_size", MAX_PAGE.to_string()));
            query.extend(cursor.map(|c| ("cursor", c)));
            let page: Paginated<T> = self.get(path, path, &query).await?;
            all.extend(page.results);
            match page.next {
                Some(next) => cursor = Some(next),
                None => return Ok(all),
            }
        }
    }

    pub async fn account_details(&self) -> Result<AccountDetails, ProviderError> {
        self.get("account details", "account-details", &[]).await
    }

    /// Fails while Merge is still importing the account's `model` (`hris.Employee`) for the
    /// first time: until then it would answer with nobody, or with a part of the company.
    pub async fn ensure_imported(&self, model: &str) -> Result<(), ProviderError> {
        let statuses: Paginated<SyncStatus> = self.get("sync status", "sync-status", &[]).await?;
        let importing = statuses
            .results
            .iter()
            .any(|s| s.model_id == model && s.is_initial_sync && s.status.eq_ignore_ascii_case("SYNCING"));
        if importing {
            let system = self.account_details().await?.integration.unwrap_or_else(|| "your system".into());
            return Err(ProviderError::NotReady(format!(
                "Merge is still importing {system} for the first time; nothing was changed. Start the sync \
                 again once Merge's dashboard shows the first sync done (usually within a few hours)."
            )));
        }
        Ok(())
    }

    /// The `requested` fields that scopes disable for this account, of `fields`: each field's
    /// key with the Merge model and field it comes from.
    pub async fn disabled_fields<'f>(
        &self,
        requested: &[String],
        fields: impl Iterator<Item = (&'f str, &'f str, &'f str)>,
    ) -> Result<BTreeSet<String>, ProviderError> {
        let scopes: Scopes = self.get("linked account scopes", "linked-account-scopes", &[]).await?;
        let disabled: BTreeSet<(String, String)> = scopes
            .common_models
            .into_iter()
            .flat_map(|m| {
                let name = m.model_name;
                m.field_permissions.into_iter().flat_map(move |p| {
                    let name = name.clone();
                    p.disabled_fields.into_iter().map(move |f| (name.clone(), f))
                })
            })
            .collect();
        Ok(fields
            .filter(|(key, model, field)| {
                requested.iter().any(|r| r == key) && disabled.contains(&(model.to_string(), field.to_string()))
            })
            .map(|(key, ..)| key.to_string())
            .collect())
    }
}

struct MergeConnector {
    account: Account,
}

impl MergeConnector {
    async fn disabled_fields(&self, requested: &[String]) -> Result<BTreeSet<String>, ProviderError> {
        self.account
            .disabled_fields(requested, FIELDS.iter().map(|(key, .., model, field)| (*key, *model, *field)))
            .await
    }

    /// One page of employees at `cursor`.
    async fn page(
        &self,
        cursor: Option<&str>,
        page_size: usize,
        modified_after: Option<&str>,
    ) -> Result<Paginated<Value>, ProviderError> {
        let mut query = vec![("page_size", page_size.to_string()), ("expand", EXPAND.to_string())];
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor.to_string()));
        }
        if let Some(after) = modified_after {
            query.push(("modified_after", after.to_string()));
            query.push(("include_deleted_data", "true".to_string()));
        }
        self.account.get("employees", "employees", &query).await
    }
}

#[async_trait]
impl Connector for MergeConnector {
    async fn discover_fields(&self) -> Result<Vec<ExternalField>, ProviderError> {
        // The unified model's fields are Merge's, whatever the HR system behind it: one read
        // proves the account still answers.
        self.account.account_details().await?;
        Ok(FIELDS
            .iter()
            .map(|(key, label, ty, category, ..)| ExternalField::listed(key, label, ty, category))
            .collect())
    }

    async fn verify(&self) -> Result<AccountInfo, ProviderError> {
        Ok(AccountInfo { linked_system: self.account.account_details().await?.integration })
    }

    async fn fetch(&self, request: FetchRequest) -> Result<PageStream<'_>, ProviderError> {
        self.account.ensure_imported("hris.Employee").await?;
        let withheld = self.disabled_fields(&request.fields).await?;
        let page_size = request.page_size.clamp(1, MAX_PAGE);
        // Pages follow one another: each names the next.
        let state = (request.cursor, false);
        let pages = stream::try_unfold(state, move |(cursor, done)| {
            let (fields, withheld) = (request.fields.clone(), withheld.clone());
            async move {
                if done {
                    return Ok(None);
                }
                let page = self.page(cursor.as_deref(), page_size, None).await?;
                let records = page.results.iter().filter_map(|e| record(e, &fields, &withheld)).collect();
                let last = page.next.is_none();
                let remote =
                    RemotePage { records, next_cursor: page.next.clone(), last, total: None, estimated_total: None };
                Ok(Some((remote, (page.next, last))))
            }
        });
        Ok(Box::pin(pages))
    }

    async fn fetch_changes(
        &self,
        since: DateTime<Utc>,
        request: FetchRequest,
    ) -> Result<Option<Changes<'_>>, ProviderError> {
        self.account.ensure_imported("hris.Employee").await?;
        let withheld = self.disabled_fields(&request.fields).await?;
        let since = since.to_rfc3339_opts(SecondsFormat::Secs, true);
        // Deleted records come interleaved with changed ones, and finalize needs the deleted ids
        // before the first page: read the (usually few) changes first.
        let (mut changed, mut removed, mut cursor) = (Vec::new(), Vec::new(), None);
        loop {
            let page = self.page(cursor.as_deref(), MAX_PAGE, Some(&since)).await?;
            for employee in &page.results {
                if employee["remote_was_deleted"].as_bool() == Some(true) {
                    removed.extend(text(&employee["id"]));
                } else {
                    changed.extend(record(employee, &request.fields, &withheld));
                }
            }
            if changed.len() + removed.len() > MAX_CHANGES {
                tracing::info!("many changes at Merge: reading everyone instead");
                return Ok(None);
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let total = changed.len();
        let page_size = request.page_size.max(1);
        let chunks: Vec<Vec<RemoteRecord>> = changed.chunks(page_size).map(<[_]>::to_vec).collect();
        let count = chunks.len();
        let pages = chunks.into_iter().enumerate().map(move |(index, records)| {
            Ok(RemotePage {
                records,
                next_cursor: None,
                last: index + 1 == count,
                total: Some(total),
                estimated_total: None,
            })
        });
        Ok(Some(Changes { pages: Box::pin(stream::iter(pages)), removed }))
    }
}

/// One Merge employee as a record, keyed by Merge's id (the manager's reference); fields the
/// account's scopes disable are withheld.
fn record(employee: &Value, requested: &[String], withheld: &BTreeSet<String>) -> Option<RemoteRecord> {
    let remote_id = text(&employee["id"])?;
    let mut record = RemoteRecord::new(remote_id, Default::default());
    record.withheld = withheld.clone();
    for field in requested.iter().filter(|f| !withheld.contains(*f)) {
        let value = match field.as_str() {
            "job_title" => current_job_title(&employee["employments"]),
            "team" | "work_location" => named(&employee[field.as_str()]),
            "manager" => named_or_id(&employee["manager"]),
            "employment_status" => {
                text(&employee["employment_status"]).map(|s| employment_of(&s, employee).to_string())
            }
            other => text(&employee[other]),
        };
        if let Some(value) = value {
            record.values.insert(field.clone(), value);
        }
    }
    Some(record)
}

/// The job title of the most recent employment (expanded `employments`).
fn current_job_title(employments: &Value) -> Option<String> {
    let employments = employments.as_array()?;
    employments
        .iter()
        .filter(|e| e.is_object())
        .max_by_key(|e| e["effective_date"].as_str().unwrap_or("").to_string())
        .and_then(|e| text(&e["job_title"]))
}

/// An expanded object by its name; a bare id names nothing readable.
pub(super) fn named(value: &Value) -> Option<String> {
    value.is_object().then(|| text(&value["name"])).flatten()
}

/// A reference: a bare Merge id, or an expanded object's id.
pub(super) fn named_or_id(value: &Value) -> Option<String> {
    if value.is_object() {
        text(&value["id"])
    } else {
        text(value)
    }
}

pub(super) fn text(value: &Value) -> Option<String> {
    scalar_text(value.clone())
}

/// Merge's `employment_status` in the directory's terms: PENDING is hired and not started yet;
/// INACTIVE, or a record deleted in the HR system, has left.
fn employment_of(status: &str, employee: &Value) -> &'static str {
    let left = status.eq_ignore_ascii_case("INACTIVE") || employee["remote_was_deleted"].as_bool() == Some(true);
    if !left && status.eq_ignore_ascii_case("PENDING") {
        return EMPLOYMENT_PRE_START;
    }
    employment(left)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::{EMPLOYMENT_ACTIVE, EMPLOYMENT_INACTIVE, EMPLOYMENT_PRE_START};

    #[test]
    fn expanded_relations_read_by_name_and_scoped_fields_are_withheld() {
        let employee = json!({
            "id": "0958cbc6", "work_email": "greg@merge.dev", "manager": "0048ea5b", "employment_status": "PENDING",
            "team": { "id": "t1", "name": "Support" }, "work_location": "loc-1",
            "employments": [
                { "job_title": "Intern", "effective_date": "2019-01-01T00:00:00Z" },
                { "job_title": "Engineer", "effective_date": "2021-01-01T00:00:00Z" }
            ],
            "start_date": "2020-10-11T00:00:00Z", "first_name": null
        });
        let requested: Vec<String> = [
            "work_email",
            "manager",
            "employment_status",
            "team",
            "work_location",
            "job_title",
            "first_name",
            "start_date",
        ]
        .map(String::from)
        .to_vec();
        let withheld = BTreeSet::from(["start_date".to_string()]);
        let record = record(&employee, &requested, &withheld).unwrap();
        assert_eq!(record.values["manager"], "0048ea5b");
        assert_eq!(record.values["employment_status"], EMPLOYMENT_PRE_START, "pending is about to start");
        assert_eq!(record.values["team"], "Support");
        assert_eq!(record.values["job_title"], "Engineer", "the latest employment");
        assert!(!record.values.contains_key("work_location"), "an id names nothing readable");
        assert!(!record.values.contains_key("first_name") && !record.values.contains_key("start_date"));
        assert_eq!(record.withheld, withheld);
    }

    #[test]
    fn inactive_and_deleted_records_are_leavers() {
        assert_eq!(employment_of("INACTIVE", &json!({})), EMPLOYMENT_INACTIVE);
        assert_eq!(employment_of("ACTIVE", &json!({ "remote_was_deleted": true })), EMPLOYMENT_INACTIVE);
        assert_eq!(employment_of("ACTIVE", &json!({})), EMPLOYMENT_ACTIVE);
    }
}
