//! Faults a tenant answers with instead of its data, in order, one per request. They mean the
//! same for every fake; each renders them in its own provider's wire format.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this HTTP status (401, 403, 404, 500, 503...).
    Status(u16),
    /// 429 Too Many Requests with `Retry-After: secs`.
    RateLimited { retry_after_secs: u64 },
    /// Answer normally, after a delay.
    Slow(Duration),
    /// The next answer that lists records starts normally, then the connection breaks off after
    /// this many records of it, as a dropped connection or a proxy timeout does mid-download.
    /// Requests that list no records (sign-in, field lists) pass it by.
    BreakOff { after_records: usize },
    /// The next answer that lists records arrives slowly: a pause before each chunk of 256
    /// records, as a large report over a slow link. Requests that list no records pass it by.
    Trickle(Duration),
    /// The provider gave up on the request at its own time limit (a report too large to run in
    /// it): 504, which a fake whose provider says it otherwise (Workday's 500 "Processing error
    /// occurred" with the reason) renders its way.
    TimedOut,
}
