//! What one caller may ask of the API: how many operations a minute (per token, and per
//! workspace for all its tokens together, so one tenant cannot starve another), how long a
//! request body may take to arrive, and what one WebSocket may hold.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use sha2::{Digest, Sha256};

/// The API's limits; every one is configurable (`API_…`, see the README).
#[derive(Debug, Clone)]
pub struct ApiLimits {
    /// Operations a minute for one token; callers without a valid token count per address.
    pub requests_per_minute: NonZeroU32,
    /// Operations a minute for one workspace, all its tokens together.
    pub workspace_requests_per_minute: NonZeroU32,
    /// How long a request body may take to arrive once its headers have.
    pub body_timeout: Duration,
    /// How long an upload (a multipart request's body) may take to arrive.
    pub upload_timeout: Duration,
    /// How long a new WebSocket may take to send `connection_init`.
    pub connection_init_timeout: Duration,
    /// Subscriptions one WebSocket may run at once.
    pub max_subscriptions_per_socket: usize,
    /// SCIM requests a minute for one connection's token (Entra ID's gallery asks for 25 a
    /// second).
    pub scim_requests_per_minute: NonZeroU32,
}

impl Default for ApiLimits {
    fn default() -> Self {
        Self {
            requests_per_minute: NonZeroU32::new(600).expect("non-zero"),
            workspace_requests_per_minute: NonZeroU32::new(3000).expect("non-zero"),
            body_timeout: Duration::from_secs(10),
            upload_timeout: Duration::from_secs(300),
            connection_init_timeout: Duration::from_secs(10),
            max_subscriptions_per_socket: 50,
            scim_requests_per_minute: NonZeroU32::new(3000).expect("non-zero"),
        }
    }
}

/// Who is asking, for the per-caller allowance: a valid token's `Authorization` header (by
/// digest, never kept whole), or the address of a caller without one.
pub fn caller_key(valid_header: Option<&str>, peer: Option<std::net::IpAddr>) -> String {
    match valid_header {
        Some(header) => format!("token:{:x}", Sha256::digest(header.trim().as_bytes())),
        None => format!("addr:{}", peer.map(|ip| ip.to_string()).unwrap_or_default()),
    }
}

/// The allowances, spent as operations arrive.
pub struct RateLimits {
    per_caller: DefaultKeyedRateLimiter<String>,
    per_workspace: DefaultKeyedRateLimiter<String>,
    per_scim_connection: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
    checks: AtomicU64,
}

/// A sixth of a minute's allowance may arrive at once (and at least a full batch).
fn quota(per_minute: NonZeroU32) -> Quota {
    let burst = (per_minute.get() / 6).max(super::graphql::MAX_BATCH as u32).min(per_minute.get());
    Quota::per_minute(per_minute).allow_burst(NonZeroU32::new(burst).expect("non-zero"))
}

impl RateLimits {
    pub fn new(limits: &ApiLimits) -> Self {
        Self {
            per_caller: RateLimiter::keyed(quota(limits.requests_per_minute)),
            per_workspace: RateLimiter::keyed(quota(limits.workspace_requests_per_minute)),
            per_scim_connection: RateLimiter::keyed(quota(limits.scim_requests_per_minute)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
        }
    }

    /// Spends `operations` of the caller's allowance and of its workspace's; answers how long
    /// to wait when either is spent.
    pub fn spend(&self, caller: &str, workspace: Option<&str>, operations: u32) -> Result<(), Duration> {
        // Forget callers idle long enough to be back at a full allowance, now and then.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.per_caller.retain_recent();
            self.per_workspace.retain_recent();
            self.per_scim_connection.retain_recent();
        }
        let operations = NonZeroU32::new(operations.max(1)).expect("non-zero");
        let spend = |limiter: &DefaultKeyedRateLimiter<String>, key: &str| match limiter
            .check_key_n(&key.to_string(), operations)
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(self.clock.now())),
            // More at once than the allowance ever holds: wait a minute, then ask for less.
            Err(_) => Err(Duration::from_secs(60)),
        };
        spend(&self.per_caller, caller)?;
        if let Some(workspace) = workspace {
            spend(&self.per_workspace, workspace)?;
        }
        Ok(())
    }
}

impl RateLimits {
    /// Spends one request of SCIM connection `connection`'s allowance; answers how long to
    /// wait when it is spent.
    pub fn spend_scim(&self, connection: &str) -> Result<(), Duration> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.per_scim_connection.retain_recent();
        }
        match self.per_scim_connection.check_key(&connection.to_string()) {
            Ok(()) => Ok(()),
            Err(not_until) => Err(not_until.wait_time_from(self.clock.now())),
        }
    }
}

/// Whole seconds to put in `Retry-After`: never 0, so a client does not retry at once.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_minute: u32, workspace: u32) -> ApiLimits {
        ApiLimits {
            requests_per_minute: NonZeroU32::new(per_minute).unwrap(),
            workspace_requests_per_minute: NonZeroU32::new(workspace).unwrap(),
            ..ApiLimits::default()
        }
    }

    #[test]
    fn a_caller_is_limited_without_limiting_another() {
        let rates = RateLimits::new(&limits(6, 1000));
        for _ in 0..6 {
            rates.spend("a", Some("ws1"), 1).unwrap();
        }
        let wait = rates.spend("a", Some("ws1"), 1).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(10), "{wait:?}");
        rates.spend("b", Some("ws1"), 1).expect("another token of the same workspace");
    }

    #[test]
    fn a_workspace_is_limited_across_its_tokens() {
        // 12 a minute, of which a burst of 10 (a full batch) at once.
        let rates = RateLimits::new(&limits(1000, 12));
        for caller in 0..10 {
            rates.spend(&format!("t{caller}"), Some("ws1"), 1).unwrap();
        }
        assert!(rates.spend("fresh", Some("ws1"), 1).is_err());
        rates.spend("fresh", Some("ws2"), 1).expect("another workspace is untouched");
    }

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(retry_after_seconds(Duration::from_secs(3)), 3);
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
    }
}
