//! The fan-out case: many admins follow one run's `syncProgress` while a frontend lists users.
//! Measures how long subscribing takes, how many events each subscriber gets, how late the last
//! subscriber learns that the run ended, and the `users` query latency while all of that runs,
//! next to its latency on an idle service.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use serde_json::json;

use sandbox::Fault;

use super::{BenchService, Servers, Store};
use crate::admin_flow;
use crate::client::GraphqlClient;
use crate::operations as ops;

pub struct FanoutOptions {
    pub subscribers: usize,
    pub employees: u32,
}

/// What one subscriber saw.
struct Followed {
    subscribed_in: Duration,
    events: usize,
    /// When the terminal event arrived.
    ended_at: Instant,
}

pub async fn run(options: &FanoutOptions, store: Store, servers: &Servers) -> anyhow::Result<()> {
    let bench = BenchService::start("bamboohr", store, options.employees, servers).await?;
    let idle_until = Instant::now() + Duration::from_secs(2);
    let idle = users_latencies(bench.client.clone(), move || Instant::now() < idle_until).await?;

    // The provider answers the run's fetch slowly, so every subscriber is in before merging starts.
    bench.sandbox.with_tenant(BenchService::TENANT, |t| t.inject([Fault::Slow(Duration::from_secs(5))]));
    let run_id = admin_flow::start_sync(&bench.client, &bench.connection_id).await?;
    let started = Instant::now();
    let followers: Vec<_> =
        (0..options.subscribers).map(|_| tokio::spawn(follow(bench.client.clone(), run_id.clone()))).collect();
    let running = Arc::new(AtomicBool::new(true));
    let still_running = running.clone();
    let lister = tokio::spawn(users_latencies(bench.client.clone(), move || still_running.load(Ordering::Relaxed)));
    let mut followed = Vec::with_capacity(followers.len());
    for follower in followers {
        followed.push(follower.await.context("subscriber task")??);
    }
    let run_time = started.elapsed();
    running.store(false, Ordering::Relaxed);
    let busy = lister.await.context("users lister")??;

    print_report(options, store, &followed, &idle, &busy, run_time);
    bench.stop().await
}

/// Subscribes and follows the run to its end.
async fn follow(client: GraphqlClient, run_id: String) -> anyhow::Result<Followed> {
    let started = Instant::now();
    let mut subscription = client.subscribe(&ops::sync_progress(), json!({ "id": run_id })).await?;
    let mut events = 0;
    let mut subscribed_in = None;
    let mut ended_at = None;
    while let Some(event) = subscription.next().await {
        let run = event?.ok()?["syncProgress"]["run"].clone();
        subscribed_in.get_or_insert_with(|| started.elapsed());
        events += 1;
        if matches!(run["status"].as_str(), Some("SUCCEEDED" | "FAILED" | "CANCELLED")) {
            anyhow::ensure!(run["status"] == "SUCCEEDED", "the run ended {run}");
            ended_at = Some(Instant::now());
        }
    }
    Ok(Followed {
        subscribed_in: subscribed_in.context("no first event")?,
        events,
        ended_at: ended_at.context("the subscription ended without a terminal state")?,
    })
}

/// Latencies of `users(first: 50)`, one request after another, while `keep_going` says so.
async fn users_latencies(client: GraphqlClient, keep_going: impl Fn() -> bool) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::new();
    while latencies.is_empty() || keep_going() {
        let sent = Instant::now();
        client.execute(ops::USERS, json!({ "first": 50 })).await?.ok()?;
        latencies.push(sent.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(latencies)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn print_report(
    options: &FanoutOptions,
    store: Store,
    followed: &[Followed],
    idle: &[Duration],
    busy: &[Duration],
    run_time: Duration,
) {
    fn sorted(durations: impl IntoIterator<Item = Duration>) -> Vec<Duration> {
        let mut durations: Vec<Duration> = durations.into_iter().collect();
        durations.sort();
        durations
    }
    let subscribe = sorted(followed.iter().map(|f| f.subscribed_in));
    let first_end = followed.iter().map(|f| f.ended_at).min().expect("subscribers");
    let lag = sorted(followed.iter().map(|f| f.ended_at - first_end));
    let events: Vec<usize> = followed.iter().map(|f| f.events).collect();
    let (idle, busy) = (sorted(idle.iter().copied()), sorted(busy.iter().copied()));
    println!(
        "fan-out  {:<8} {} subscribers, {} employees | run {:.2?} (its fetch held 5 s) | subscribed p50 {:.1?} p99 {:.1?} | events per subscriber min {} max {} | end seen by all within {:.1?} of the first (p99 {:.1?}) | users(first: 50) during the run p50 {:.1?} p99 {:.1?} max {:.1?} ({} queries), idle p50 {:.1?} p99 {:.1?}",
        format!("{store:?}"),
        options.subscribers,
        options.employees,
        run_time,
        percentile(&subscribe, 0.5),
        percentile(&subscribe, 0.99),
        events.iter().min().unwrap_or(&0),
        events.iter().max().unwrap_or(&0),
        lag.last().copied().unwrap_or_default(),
        percentile(&lag, 0.99),
        percentile(&busy, 0.5),
        percentile(&busy, 0.99),
        busy.last().copied().unwrap_or_default(),
        busy.len(),
        percentile(&idle, 0.5),
        percentile(&idle, 0.99),
    );
}
