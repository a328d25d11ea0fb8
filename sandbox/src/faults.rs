//! Faults a tenant answers with instead of its data, in order, one per request.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this HTTP status (401, 403, 404, 500, 503...).
    Status(u16),
    /// 429 Too Many Requests with `Retry-After: secs`.
    RateLimited { retry_after_secs: u64 },
    /// Answer normally, after a delay.
    Slow(Duration),
    /// Start the custom report's answer, then break the connection off after this many
    /// employees, as a dropped connection or a proxy timeout does mid-download. Other endpoints
    /// answer normally.
    BreakOff { after_employees: usize },
}
