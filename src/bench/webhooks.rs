//! The webhook cost: the same first sync with an endpoint subscribed to `user.created` on a
//! receiver on loopback, which accepts every delivery; deliveries run beside the sync.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::Context as _;
use serde_json::json;

use super::{timed_sync, BenchService, Servers, Store};
use crate::operations as ops;

/// The subscribed sync's figures.
pub(super) struct WebhookCost {
    pub sync: Duration,
    /// From the sync's start until the receiver had every person's event.
    pub all_delivered: Duration,
}

pub(super) async fn run(source: &str, store: Store, employees: u32, servers: &Servers) -> anyhow::Result<WebhookCost> {
    let received = Arc::new(AtomicU64::new(0));
    let counter = received.clone();
    let server = HttpServer::new(move || {
        let counter = counter.clone();
        App::new().default_service(web::to(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            async { HttpResponse::NoContent().finish() }
        }))
    })
    .workers(2)
    .disable_signals()
    .bind("127.0.0.1:0")?;
    let url = format!("http://{}/hooks", server.addrs()[0]);
    let server = server.run();
    let receiver = server.handle();
    tokio::spawn(server);

    let bench = BenchService::start(source, store, employees, servers).await?;
    let input = json!({ "url": url, "events": ["user.created"] });
    bench.client.execute(&ops::create_webhook_endpoint(), json!({ "input": input })).await?.ok()?;
    let started = Instant::now();
    let (sync, run) = timed_sync(&bench.client, &bench.connection_id).await?;
    let created = run["created"].as_u64().context("the run's created count")?;
    let deadline = Instant::now() + Duration::from_secs(600);
    while received.load(Ordering::Relaxed) < created {
        anyhow::ensure!(
            Instant::now() < deadline,
            "{} of {created} deliveries in 10 minutes",
            received.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let all_delivered = started.elapsed();
    bench.stop().await?;
    receiver.stop(false).await;
    Ok(WebhookCost { sync, all_delivered })
}
