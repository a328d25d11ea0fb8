//! One simulated customer account at a provider, in no provider's terms: its company, the
//! credentials it accepts, what its API user may read, its faults and quotas, the tokens it has
//! issued, and a change log of its records. Fakes render it in their wire formats.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rand::Rng;

use crate::company::{Attribute, Company, Employee};
use crate::faults::Fault;

/// A provider's request quota: at most `requests` in any window of `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub requests: u32,
    pub per: Duration,
}

pub struct Tenant {
    /// The tenant's name: BambooHR's company domain, and how tests refer to it.
    pub name: String,
    /// The catalogue id of the provider it lives at.
    pub provider: &'static str,
    pub company: Company,
    /// The key the API user connects with: an API key, a client or service-user id, an account
    /// token, as the provider calls it.
    pub key: String,
    /// The second secret where the provider has one (client secret, service-user token).
    pub secret: String,
    /// When false, every API call is refused as when an admin disabled API access.
    pub api_access_enabled: bool,
    /// Requests allowed per second before 429; `None` for no limit.
    pub rate_limit_per_second: Option<u32>,
    /// The provider's documented quotas (its fake's, from the start), each enforced with 429.
    pub quotas: Vec<Quota>,
    /// Added to every answer, as a provider far away or under load.
    pub latency: Option<Duration>,
    /// What the API user may not read: fakes leave these fields out of their answers.
    pub withheld: HashSet<Attribute>,
    /// Every records answer for records past this index fails (503, or a break-off for one-piece
    /// answers), until cleared: a provider that goes down mid-fetch and stays down.
    pub outage_after_records: Option<usize>,
    /// When false, the sign-in page answers `error=access_denied` instead of a code.
    pub consent: bool,
    /// Whether the last sign-in asked for a refresh token (the `offline_access` scope), at
    /// providers whose sign-in issues one only then.
    pub(crate) offline_access: bool,
    /// Lifetime of issued access tokens; expired tokens are refused.
    pub token_lifetime: Duration,
    /// Merge only: the bridge has not finished its first import of this account.
    pub first_import_pending: bool,
    /// Requests received, by endpoint (`meta/fields`, `reports/custom`, ...).
    pub requests: HashMap<String, u32>,
    /// Answers of 429 sent.
    pub throttled: u32,
    faults: VecDeque<Fault>,
    pub(crate) codes: HashSet<String>,
    pub(crate) access_tokens: HashMap<String, Instant>,
    pub(crate) refresh_tokens: HashSet<String>,
    window: (Instant, u32),
    /// When each request of the longest quota window was admitted.
    sent: VecDeque<Instant>,
    /// Per employee id: a fingerprint of the record, and when it last changed or was deleted.
    changes: HashMap<u32, Change>,
}

/// What the change log knows of one employee record.
struct Change {
    /// `None` once deleted.
    fingerprint: Option<u64>,
    inserted: bool,
    at: DateTime<Utc>,
}

/// How a record changed, as change feeds report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Inserted,
    Updated,
    Deleted,
}

fn fingerprint(employee: &Employee) -> u64 {
    let mut hasher = DefaultHasher::new();
    employee.hash(&mut hasher);
    hasher.finish()
}

/// A random lowercase hex token.
pub(crate) fn random_token(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len).map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)])).collect()
}

/// Why a request was not admitted.
pub(crate) enum Refusal {
    Status(u16, &'static str),
    TooManyRequests { retry_after: Duration },
}

impl Tenant {
    pub(crate) fn new(name: &str, provider: &'static str, company: Company, quotas: Vec<Quota>) -> Self {
        let mut tenant = Self {
            name: name.to_string(),
            provider,
            company,
            key: random_token(40),
            secret: random_token(40),
            api_access_enabled: true,
            rate_limit_per_second: None,
            quotas,
            latency: None,
            withheld: HashSet::new(),
            outage_after_records: None,
            consent: true,
            offline_access: false,
            token_lifetime: Duration::from_secs(3600),
            first_import_pending: false,
            requests: HashMap::new(),
            throttled: 0,
            faults: VecDeque::new(),
            codes: HashSet::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashSet::new(),
            window: (Instant::now(), 0),
            sent: VecDeque::new(),
            changes: HashMap::new(),
        };
        // The generated company has existed for a while: its records changed long before any sync.
        tenant.record_changes_at(Utc::now() - chrono::Duration::days(1));
        tenant
    }

    /// Queues faults, answered one per request before the tenant answers normally again.
    pub fn inject(&mut self, faults: impl IntoIterator<Item = Fault>) {
        self.faults.extend(faults);
    }

    /// Revokes every token issued so far, as when an admin removes the app's access.
    pub fn revoke_tokens(&mut self) {
        self.access_tokens.clear();
        self.refresh_tokens.clear();
    }

    /// Stamps employees added, changed or removed since the last call as changed now.
    pub(crate) fn record_changes(&mut self) {
        self.record_changes_at(Utc::now());
    }

    fn record_changes_at(&mut self, now: DateTime<Utc>) {
        let mut present = HashSet::with_capacity(self.company.employees.len());
        for employee in &self.company.employees {
            present.insert(employee.id);
            let print = Some(fingerprint(employee));
            match self.changes.get_mut(&employee.id) {
                Some(change) if change.fingerprint == print => {}
                Some(change) => *change = Change { fingerprint: print, inserted: false, at: now },
                None => {
                    self.changes.insert(employee.id, Change { fingerprint: print, inserted: true, at: now });
                }
            }
        }
        for (id, change) in &mut self.changes {
            if change.fingerprint.is_some() && !present.contains(id) {
                *change = Change { fingerprint: None, inserted: false, at: now };
            }
        }
    }

    /// Records changed at or after `since`: id, how, and when.
    pub(crate) fn changes_since(&self, since: DateTime<Utc>) -> Vec<(u32, ChangeKind, DateTime<Utc>)> {
        let mut changes: Vec<_> = self
            .changes
            .iter()
            .filter(|(_, change)| change.at >= since)
            .map(|(id, change)| {
                let kind = match (change.fingerprint, change.inserted) {
                    (None, _) => ChangeKind::Deleted,
                    (Some(_), true) => ChangeKind::Inserted,
                    (Some(_), false) => ChangeKind::Updated,
                };
                (*id, kind, change.at)
            })
            .collect();
        changes.sort_by_key(|(id, _, _)| *id);
        changes
    }

    /// Issues an access token valid for [`Tenant::token_lifetime`].
    pub(crate) fn issue_access_token(&mut self) -> String {
        let token = random_token(32);
        self.access_tokens.insert(token.clone(), Instant::now() + self.token_lifetime);
        token
    }

    /// An unexpired access token issued earlier, for providers that hand the same one out again.
    pub(crate) fn current_access_token(&self) -> Option<String> {
        let now = Instant::now();
        self.access_tokens.iter().find(|(_, expires)| now < **expires).map(|(token, _)| token.clone())
    }

    /// When record `id` last changed.
    pub(crate) fn changed_at(&self, id: u32) -> Option<DateTime<Utc>> {
        self.changes.get(&id).map(|c| c.at)
    }

    /// Whether `token` is an unexpired access token of this tenant.
    pub(crate) fn accepts_token(&self, token: &str) -> bool {
        self.access_tokens.get(token).is_some_and(|expires| Instant::now() < *expires)
    }

    /// Counts the request and applies, in order, the next queued fault, then (once `authorized`
    /// says the caller may call) API access, the per-second limit and the provider's quotas.
    /// Answers the delay to wait before answering and any break-off, or why to refuse.
    pub(crate) fn admit(&mut self, endpoint: &Endpoint, authorized: bool) -> Result<Admitted, Refusal> {
        *self.requests.entry(endpoint.name.to_string()).or_default() += 1;
        let mut admitted = Admitted { delay: self.latency, break_off: None, pace: None };
        let skips =
            matches!(self.faults.front(), Some(Fault::BreakOff { .. } | Fault::Trickle(_))) && !endpoint.lists_records;
        if !skips {
            match self.faults.pop_front() {
                Some(Fault::Status(code)) => return Err(Refusal::Status(code, "Injected fault")),
                Some(Fault::TimedOut) => return Err(Refusal::Status(504, "The request timed out")),
                Some(Fault::RateLimited { retry_after_secs }) => {
                    self.throttled += 1;
                    return Err(Refusal::TooManyRequests { retry_after: Duration::from_secs(retry_after_secs) });
                }
                Some(Fault::Slow(delay)) => admitted.delay = Some(admitted.delay.unwrap_or_default() + delay),
                Some(Fault::BreakOff { after_records }) => admitted.break_off = Some(after_records),
                Some(Fault::Trickle(pause)) => admitted.pace = Some(pause),
                None => {}
            }
        }
        if !authorized {
            return Err(Refusal::Status(401, "Invalid credentials"));
        }
        if !self.api_access_enabled && endpoint.needs_api_access {
            return Err(Refusal::Status(403, "API access is disabled for this company"));
        }
        if let Some(retry_after) = self.over_limit() {
            self.throttled += 1;
            return Err(Refusal::TooManyRequests { retry_after });
        }
        Ok(admitted)
    }

    /// The per-second limit and the quota (a sliding window): how long to wait when over.
    fn over_limit(&mut self) -> Option<Duration> {
        let now = Instant::now();
        if let Some(limit) = self.rate_limit_per_second {
            if self.window.0.elapsed() >= Duration::from_secs(1) {
                self.window = (now, 0);
            }
            self.window.1 += 1;
            if self.window.1 > limit {
                return Some(Duration::from_secs(1));
            }
        }
        let longest = self.quotas.iter().map(|q| q.per).max()?;
        while self.sent.front().is_some_and(|at| now.duration_since(*at) >= longest) {
            self.sent.pop_front();
        }
        for quota in &self.quotas {
            let in_window: Vec<&Instant> = self.sent.iter().filter(|at| now.duration_since(**at) < quota.per).collect();
            if in_window.len() >= quota.requests as usize {
                let oldest = in_window[0];
                return Some(quota.per.saturating_sub(now.duration_since(*oldest)));
            }
        }
        self.sent.push_back(now);
        None
    }
}

/// What a request asks of its tenant.
pub(crate) struct Endpoint {
    /// Counted in [`Tenant::requests`] under this name.
    pub name: &'static str,
    /// Answers with records, so a break-off applies to it.
    pub lists_records: bool,
    /// Refused while API access is disabled (sign-in endpoints still answer then).
    pub needs_api_access: bool,
}

impl Endpoint {
    /// An API call that reads no records.
    pub const fn call(name: &'static str) -> Self {
        Self { name, lists_records: false, needs_api_access: true }
    }

    /// An API call answering with records.
    pub const fn records(name: &'static str) -> Self {
        Self { name, lists_records: true, needs_api_access: true }
    }
}

/// How to answer an admitted request.
pub(crate) struct Admitted {
    pub delay: Option<Duration>,
    /// Break a records answer off after this many records.
    pub break_off: Option<usize>,
    /// Pause before each chunk of a records answer.
    pub pace: Option<Duration>,
}
