//! Merge's unified ATS API (one connection to any applicant tracking system Merge supports),
//! from Merge's API reference and help centre:
//! - the same API as Merge's HRIS (see [`super::merge`]): the operator's production key as
//!   `Authorization: Bearer`, the linked account's `X-Account-Token`, Merge Link with the
//!   category `ats`, cursor pages of at most 100 (`next`), errors as `{"detail"}`, 100 requests a
//!   minute per linked account; its settings are Merge's (`MERGE_API_BASE`, `MERGE_API_KEY`);
//! - `GET /api/ats/v1/applications?expand=candidate,job,offers,current_stage,reject_reason`
//!   carries a candidate's journey for one job with everything a hire needs: the candidate's
//!   names and typed `email_addresses` (WORK, PERSONAL, OTHER), the job's name, departments,
//!   offices and hiring managers (Merge ids, looked up in `/departments`, `/offices` and
//!   `/users`), and its offers (`status`, `start_date`);
//! - Merge defines no "hired" flag: its help centre says a hire is an application in the stage
//!   its ATS calls "Hired" (Greenhouse and most others) or rejected for the reason "Hired"
//!   (Lever). Those are the hires here; rejected, in-pipeline, prospect and withdrawn
//!   applications never become people. The start date is the signed offer's (else the latest
//!   offer's); the person is the candidate, so a rehire is the same person;
//! - users (the ATS's `RemoteUser`s) are the hiring team, a `disabled` one has left;
//! - `/sync-status` (`ats.Application` while Merge's first import runs) and
//!   `/linked-account-scopes` (fields disabled by scopes, answered as null) as for the HRIS;
//! - the change feed is `modified_after` on applications, candidates and offers; each candidate
//!   they name is read again (`candidate_id`), one with no hire left removed.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use super::ats::{changes, date_part, hire_status, hires_then_team, record};
use super::catalogue::{
    CredentialField, CredentialKey, Provider, ProviderCategory, ProviderContext, ProviderInfo, SignIn, SignInProof,
    SignInRequest, SignInStart, Widget,
};
use super::merge::{self, named, text, Account, Paginated, MAX_CHANGES, MAX_PAGE};
use super::{
    AccountInfo, Changes, Connector, ExternalField, FetchRequest, PageStream, ProviderError, RemoteRecord,
    EMPLOYMENT_ACTIVE, EMPLOYMENT_INACTIVE,
};
use crate::credentials::Credentials;

const EXPAND: &str = "candidate,job,offers,current_stage,reject_reason";

static INFO: ProviderInfo = ProviderInfo {
    id: "mergeats",
    name: "Merge (applicant tracking systems)",
    category: ProviderCategory::Ats,
    logo_url: "https://merge.dev/favicon.ico",
    sign_in: Some(SignIn::EmbeddedLink),
    credential_fields: &[CredentialField {
        key: CredentialKey::ApiKey,
        label: "Merge account token",
        secret: true,
        help: Some("The linked ATS account's token, from Merge's dashboard (Linked Accounts)."),
    }],
    api_key_instructions: "Choose \"Open Window\" to pick your applicant tracking system in Merge Link and sign in \
        there; when Merge asks, let it read candidates, applications, offers, jobs, departments, offices and users, \
        and nothing else. If your ATS is already linked to this workspace's Merge organization, paste the linked \
        account's account token from Merge's dashboard (Linked Accounts → the account) instead. A hire is an \
        application in the stage your ATS calls \"Hired\" (Lever: archived as hired), so keep such a stage.",
    read_permissions: &[
        "Applications in the Hired stage, and the names and emails of the candidates hired",
        "Offers (start dates)",
        "Jobs with their departments, offices and hiring managers",
        "Users (your hiring team: recruiters, hiring managers, interviewers)",
    ],
    terms_url: "https://www.merge.dev/legal/end-user-terms",
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

/// (key, label, type, category, the Merge model and field it comes from) of every field.
const FIELDS: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("first_name", "First name", "string", "Candidates", "Candidate", "first_name"),
    ("last_name", "Last name", "string", "Candidates", "Candidate", "last_name"),
    ("email_addresses.work", "Email (work)", "email", "Candidates", "Candidate", "email_addresses"),
    ("email_addresses.personal", "Email (personal)", "email", "Candidates", "Candidate", "email_addresses"),
    ("email_addresses.other", "Email (other)", "email", "Candidates", "Candidate", "email_addresses"),
    ("job.name", "Job name", "string", "Jobs", "Job", "name"),
    ("job.department", "Job department", "string", "Jobs", "Department", "name"),
    ("job.office", "Job office", "string", "Jobs", "Office", "name"),
    ("job.hiring_manager", "Hiring manager (by email)", "reference", "Jobs", "Job", "hiring_managers"),
    ("offer.start_date", "Offer start date", "date", "Offers", "Offer", "start_date"),
    // Whether a hire has started is told by the start date.
    (
        "hire.status",
        "Hired (pre-start until the start date), or a disabled user",
        "status",
        "Applications",
        "Offer",
        "start_date",
    ),
];

/// A candidate's email types, and the field each fills.
const EMAIL_KINDS: [(&str, &str); 3] =
    [("WORK", "email_addresses.work"), ("PERSONAL", "email_addresses.personal"), ("OTHER", "email_addresses.other")];

pub struct MergeAts;

#[async_trait]
impl Provider for MergeAts {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    /// One Merge organization, one production key, every category.
    fn settings_id(&self) -> &'static str {
        "merge"
    }

    fn connector(
        &self,
        ctx: &ProviderContext,
        _subdomain: Option<&str>,
        credentials: &Credentials,
    ) -> Result<Box<dyn Connector>, ProviderError> {
        Ok(Box::new(MergeAtsConnector { account: merge::account(ctx, credentials, "ats")? }))
    }

    fn widget(&self, ctx: &ProviderContext) -> Option<Widget> {
        merge::widget(ctx)
    }

    async fn begin_sign_in(
        &self,
        ctx: &ProviderContext,
        request: SignInRequest<'_>,
    ) -> Result<SignInStart, ProviderError> {
        merge::begin_link(ctx, request, "ats").await
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
        merge::complete_link(ctx, public_token).await
    }
}

struct MergeAtsConnector {
    account: Account,
}

/// What every hire's record looks up, and the fields the account's scopes withhold.
struct Lookups {
    departments: HashMap<String, String>,
    offices: HashMap<String, String>,
    users: Vec<Value>,
    emails: HashMap<String, String>,
    withheld: BTreeSet<String>,
}

impl MergeAtsConnector {
    async fn lookups(&self, requested: &[String]) -> Result<Lookups, ProviderError> {
        let names = |items: Vec<Value>| -> HashMap<String, String> {
            items.iter().filter_map(|i| Some((text(&i["id"])?, text(&i["name"])?))).collect()
        };
        let fields = FIELDS.iter().map(|(key, .., model, field)| (*key, *model, *field));
        // Independent lists, read at once (each pages on its own).
        let (withheld, users, departments, offices): (_, Vec<Value>, _, _) = futures::try_join!(
            self.account.disabled_fields(requested, fields),
            self.account.all("users", &[]),
            self.account.all("departments", &[]),
            self.account.all("offices", &[]),
        )?;
        let emails = users.iter().filter_map(|u| Some((text(&u["id"])?, text(&u["email"])?))).collect();
        Ok(Lookups { departments: names(departments), offices: names(offices), users, emails, withheld })
    }

    /// One page of applications, expanded, from `cursor`.
    async fn applications(
        &self,
        query: &[(&str, String)],
        cursor: Option<&str>,
        page_size: usize,
    ) -> Result<Paginated<Value>, ProviderError> {
        let mut query = query.to_vec();
        query.extend([("expand", EXPAND.to_string()), ("page_size", page_size.clamp(1, MAX_PAGE).to_string())]);
        query.extend(cursor.map(|c| ("cursor", c.to_string())));
        self.account.get("applications", "applications", &query).await
    }

    /// The hires among `applications`, one record per candidate.
    fn hires(applications: &[Value], lookups: &Lookups, requested: &[String]) -> Vec<RemoteRecord> {
        let today = Utc::now().date_naive();
        let mut seen = BTreeSet::new();
        applications
            .iter()
            .filter(|a| is_hire(a))
            .filter_map(|application| {
                let candidate = &application["candidate"];
                let candidate_id = text(candidate).or_else(|| text(&candidate["id"]))?;
                if !seen.insert(candidate_id.clone()) {
                    return None;
                }
                Some(hire(&candidate_id, application, lookups, requested, today))
            })
            .collect()
    }

    /// The hiring team as records, each yielding to a hire with the same email.
    fn team(lookups: &Lookups, requested: &[String]) -> Vec<RemoteRecord> {
        lookups
            .users
            .iter()
            .filter_map(|user| {
                let (id, email) = (text(&user["id"])?, text(&user["email"])?);
                let left =
                    user["disabled"].as_bool() == Some(true) || user["remote_was_deleted"].as_bool() == Some(true);
                let status = if left { EMPLOYMENT_INACTIVE } else { EMPLOYMENT_ACTIVE };
                let mut values = vec![
                    ("first_name", text(&user["first_name"])),
                    ("last_name", text(&user["last_name"])),
                    ("hire.status", Some(status.to_string())),
                ];
                values.extend(EMAIL_KINDS.iter().map(|(_, key)| (*key, Some(email.clone()))));
                // A user carries no job or offer: those fields are empty, not withheld.
                Some(record(format!("user:{id}"), values, requested, &lookups.withheld, true))
            })
            .collect()
    }
}

/// Whether `application` is a hire, as Merge's help centre tells them apart: in the stage named
/// "Hired" and not rejected since, or rejected for the reason "Hired" (Lever's way).
fn is_hire(application: &Value) -> bool {
    let hired = |named: &Value| named["name"].as_str().is_some_and(|n| n.trim().eq_ignore_ascii_case("hired"));
    let deleted = application["remote_was_deleted"].as_bool() == Some(true);
    let in_hired_stage = hired(&application["current_stage"]) && application["rejected_at"].is_null();
    !deleted && (in_hired_stage || hired(&application["reject_reason"]))
}

/// The start date of the application's signed offer, else of its latest.
fn start_date(offers: &Value) -> Option<String> {
    let offers: Vec<&Value> = offers.as_array()?.iter().filter(|o| o.is_object()).collect();
    let signed = offers.iter().find(|o| o["status"].as_str() == Some("SIGNED"));
    let chosen = signed.or_else(|| offers.iter().max_by_key(|o| o["created_at"].as_str().unwrap_or("")))?;
    chosen["start_date"].as_str().and_then(date_part)
}

/// A hired candidate's record, keyed by the candidate.
fn hire(
    candidate_id: &str,
    application: &Value,
    lookups: &Lookups,
    requested: &[String],
    today: chrono::NaiveDate,
) -> RemoteRecord {
    let (candidate, job) = (&application["candidate"], &application["job"]);
    let first_of = |list: &Value, names: &HashMap<String, String>| {
        list.as_array()?.iter().find_map(|id| named(id).or_else(|| text(id).and_then(|id| names.get(&id).cloned())))
    };
    let manager = job["hiring_managers"]
        .as_array()
        .and_then(|ids| ids.iter().find_map(|id| text(id).and_then(|id| lookups.emails.get(&id).cloned())));
    let starts = start_date(&application["offers"]);
    let mut values = vec![
        ("first_name", text(&candidate["first_name"])),
        ("last_name", text(&candidate["last_name"])),
        ("job.name", text(&job["name"])),
        ("job.department", first_of(&job["departments"], &lookups.departments)),
        ("job.office", first_of(&job["offices"], &lookups.offices)),
        ("job.hiring_manager", manager),
        ("hire.status", Some(hire_status(starts.as_deref(), today).to_string())),
        ("offer.start_date", starts),
    ];
    let emails = candidate["email_addresses"].as_array().cloned().unwrap_or_default();
    for (kind, key) in EMAIL_KINDS {
        let email = emails
            .iter()
            .find(|e| e["email_address_type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case(kind)))
            .and_then(|e| text(&e["value"]));
        values.push((key, email));
    }
    record(format!("candidate:{candidate_id}"), values, requested, &lookups.withheld, false)
}

#[async_trait]
impl Connector for MergeAtsConnector {
    async fn discover_fields(&self) -> Result<Vec<ExternalField>, ProviderError> {
        // The unified model's fields are Merge's, whatever the ATS behind it: one read proves
        // the account still answers.
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
        let (_, lookups) =
            futures::try_join!(self.account.ensure_imported("ats.Application"), self.lookups(&request.fields))?;
        let lookups = Arc::new(lookups);
        let fields = Arc::new(request.fields);
        let team = if request.hiring_team { Self::team(&lookups, &fields) } else { Vec::new() };
        let page_size = request.page_size;
        Ok(hires_then_team(request.cursor, team, move |cursor| {
            let (lookups, fields) = (lookups.clone(), fields.clone());
            async move {
                let page = self.applications(&[], cursor.as_deref(), page_size).await?;
                Ok((Self::hires(&page.results, &lookups, &fields), page.next))
            }
        }))
    }

    /// Applications, candidates and offers modified since `since` name the candidates whose
    /// hire may have changed; each candidate's applications are read again. Users are read
    /// whole: they are few.
    async fn fetch_changes(
        &self,
        since: DateTime<Utc>,
        request: FetchRequest,
    ) -> Result<Option<Changes<'_>>, ProviderError> {
        self.account.ensure_imported("ats.Application").await?;
        let modified = vec![
            ("modified_after", since.to_rfc3339_opts(SecondsFormat::Secs, true)),
            ("include_deleted_data", "true".to_string()),
        ];
        let mut touched = BTreeSet::new();
        let applications: Vec<Value> = self.account.all("applications", &modified).await?;
        touched.extend(applications.iter().filter_map(|a| text(&a["candidate"])));
        let candidates: Vec<Value> = self.account.all("candidates", &modified).await?;
        touched.extend(candidates.iter().filter_map(|c| text(&c["id"])));
        let mut offered = modified.clone();
        offered.push(("expand", "application".to_string()));
        let offers: Vec<Value> = self.account.all("offers", &offered).await?;
        touched.extend(offers.iter().filter_map(|o| text(&o["application"]["candidate"])));
        if touched.len() > MAX_CHANGES {
            tracing::info!("many changes at Merge: reading everyone instead");
            return Ok(None);
        }
        let lookups = self.lookups(&request.fields).await?;
        let (mut records, mut removed) = (Vec::new(), Vec::new());
        for candidate in touched {
            let mut applications = Vec::new();
            let mut cursor = None;
            loop {
                let query = [("candidate_id", candidate.clone())];
                let page = self.applications(&query, cursor.as_deref(), MAX_PAGE).await?;
                applications.extend(page.results);
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            match Self::hires(&applications, &lookups, &request.fields).pop() {
                Some(hire) => records.push(hire),
                None => removed.push(format!("candidate:{candidate}")),
            }
        }
        Ok(Some(changes(records, removed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::EMPLOYMENT_PRE_START;
    use serde_json::json;

    #[test]
    fn a_hire_is_in_the_hired_stage_or_rejected_as_hired_and_never_an_applicant() {
        let stage = |name: &str| json!({ "id": "s", "name": name });
        assert!(is_hire(&json!({ "current_stage": stage("Hired"), "rejected_at": null })));
        assert!(
            is_hire(&json!({ "current_stage": stage("Offer"), "rejected_at": "2026-01-01T00:00:00Z",
            "reject_reason": { "name": "Hired" } })),
            "Lever's way, through Merge"
        );
        assert!(
            !is_hire(&json!({ "current_stage": stage("Hired"), "rejected_at": "2026-01-01T00:00:00Z",
            "reject_reason": { "name": "Offer rescinded" } })),
            "rescinded after the hire"
        );
        assert!(!is_hire(&json!({ "current_stage": stage("Phone Screen"), "rejected_at": null })));
        assert!(!is_hire(&json!({ "current_stage": stage("Hired"), "remote_was_deleted": true })));
        assert!(!is_hire(&json!({ "current_stage": null })), "a prospect");
    }

    #[test]
    fn a_hires_record_reads_the_expanded_application_and_the_lookups() {
        let lookups = Lookups {
            departments: HashMap::from([("d1".to_string(), "Engineering".to_string())]),
            offices: HashMap::from([("o1".to_string(), "Berlin".to_string())]),
            users: Vec::new(),
            emails: HashMap::from([("u1".to_string(), "boss@acme.example".to_string())]),
            withheld: BTreeSet::new(),
        };
        let application = json!({
            "candidate": { "id": "c1", "first_name": "Ada", "last_name": "Lovelace",
                "email_addresses": [{ "value": "ada@mail.example", "email_address_type": "PERSONAL" },
                                    { "value": "ada@acme.example", "email_address_type": "WORK" }] },
            "job": { "name": "Engineer", "departments": ["d1"], "offices": ["o1"], "hiring_managers": ["u1"] },
            "offers": [{ "status": "DEPRECATED", "start_date": "2026-01-01T00:00:00Z", "created_at": "2026-03-01T00:00:00Z" },
                       { "status": "SIGNED", "start_date": "2027-02-01T00:00:00Z", "created_at": "2026-02-01T00:00:00Z" }],
        });
        let requested: Vec<String> = FIELDS.iter().map(|f| f.0.to_string()).collect();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let record = hire("c1", &application, &lookups, &requested, today);
        assert_eq!(record.remote_id, "candidate:c1");
        assert_eq!(record.values["email_addresses.work"], "ada@acme.example");
        assert_eq!(record.values["email_addresses.personal"], "ada@mail.example");
        assert_eq!(record.values["job.department"], "Engineering");
        assert_eq!(record.values["job.office"], "Berlin");
        assert_eq!(record.values["job.hiring_manager"], "boss@acme.example");
        assert_eq!(record.values["offer.start_date"], "2027-02-01", "the signed offer");
        assert_eq!(record.values["hire.status"], EMPLOYMENT_PRE_START);
    }
}
