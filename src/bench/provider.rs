//! The provider case: a full sync of a company at one provider's fake, answering each request
//! after a realistic latency and enforcing the provider's documented quotas, next to the floor
//! those rules set: the time the fewest requests a complete read needs take under the quotas,
//! or its longest chain of requests that wait for one another, whichever is longer. Also counts the
//! 429s the sync met, which pacing should make none.

use std::time::Duration;

use anyhow::Context as _;

use sandbox::{FullRead, Quota};

use super::{timed_sync, BenchService, Servers, Store};

pub struct ProviderOptions {
    pub providers: Vec<String>,
    pub employees: Vec<u32>,
    pub latency: Duration,
}

/// The least time `read` takes at a provider with `quotas`, each request answered after
/// `latency`: a window's worth of requests goes at once, each further window's worth waits for
/// the window to pass; requests that wait for one another (`round_trips`) cannot overlap.
pub fn floor(read: FullRead, quotas: &[Quota], latency: Duration) -> Duration {
    let by_quota = quotas
        .iter()
        .map(|q| q.per * (read.requests.div_ceil(q.requests.max(1) as usize).saturating_sub(1)) as u32)
        .max()
        .unwrap_or_default();
    (by_quota + latency).max(latency * read.round_trips.max(1) as u32)
}

pub async fn run(options: &ProviderOptions, store: Store, servers: &Servers) -> anyhow::Result<()> {
    for provider in &options.providers {
        let fake = sandbox::fake(provider).with_context(|| format!("no sandbox fake of {provider}"))?;
        for &employees in &options.employees {
            let bench = BenchService::start(fake.id(), store, employees, servers).await?;
            // A scheduled sync runs long after the admin's clicks: where the requests those made
            // would still count against the sync, let their quota window pass first, so the sync
            // starts with the provider's full allowance, as the floor assumes.
            let (quotas, read) = (fake.quotas(), fake.full_read(employees as usize));
            let setup = bench.sandbox.with_tenant(BenchService::TENANT, |t| t.requests.values().sum::<u32>()) as usize;
            let crowded = quotas.iter().filter(|q| setup + read.requests > q.requests as usize);
            tokio::time::sleep(crowded.map(|q| q.per).max().unwrap_or_default()).await;
            let (throttled_before, requests_before) = bench.sandbox.with_tenant(BenchService::TENANT, |t| {
                t.latency = Some(options.latency);
                (t.throttled, t.requests.values().sum::<u32>())
            });
            let (sync, _) = timed_sync(&bench.client, &bench.connection_id).await?;
            let (throttled, requests) = bench.sandbox.with_tenant(BenchService::TENANT, |t| {
                (t.throttled - throttled_before, t.requests.values().sum::<u32>() - requests_before)
            });
            let floor = floor(read, &quotas, options.latency);
            println!(
                "provider {:<11}{:<9}{:>7} employees | latency {:?} | sync {:>8.2?} | floor {:>8.2?} ({} requests, {} round trips) | ratio {:.2} | requests made {requests} | 429s {throttled}",
                fake.id(),
                format!("{store:?}"),
                employees,
                options.latency,
                sync,
                floor,
                read.requests,
                read.round_trips,
                sync.as_secs_f64() / floor.as_secs_f64(),
            );
            bench.stop().await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_is_the_stricter_of_the_quota_and_the_latency() {
        let latency = Duration::from_millis(150);
        let personio = [
            Quota { requests: 300, per: Duration::from_secs(60) },
            Quota { requests: 15, per: Duration::from_secs(1) },
        ];
        // 101 requests at 15 a second: six more seconds after the first burst.
        assert_eq!(floor(FullRead { requests: 101, round_trips: 1 }, &personio, latency), Duration::from_millis(6150));
        // 102 cursor pages at 100 a minute: a minute's wait beats 15.3 s of round trips.
        let merge = [Quota { requests: 100, per: Duration::from_secs(60) }];
        assert_eq!(floor(FullRead { requests: 102, round_trips: 102 }, &merge, latency), Duration::from_millis(60_150));
        assert_eq!(floor(FullRead { requests: 50, round_trips: 50 }, &merge, latency), Duration::from_millis(7500));
        assert_eq!(floor(FullRead { requests: 1, round_trips: 1 }, &[], latency), latency);
    }
}
