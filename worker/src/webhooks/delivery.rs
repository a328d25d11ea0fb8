//! The worker's side of the webhook outbox: publish marked history as events, then take due
//! deliveries, sign and send them, and record what each endpoint answered. Runs in every
//! worker process; a taken delivery is claimed, so two workers never send it at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use futures::StreamExt;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio::sync::Notify;

use entity::sync_run::{self, SyncStatus};
use entity::{webhook_delivery, webhook_endpoint, webhook_event};

use super::address::{self, PublicOnly};
use super::outbox::{self, Outcome};
use super::{endpoints, next_attempt, WebhookSettings};
use crate::environment::Environment;
use crate::error::Result;
use crate::text::excerpt;

/// Deliveries taken per look at the outbox.
const BATCH: u64 = 256;

/// When several endpoints have deliveries due, each takes at most an equal share of a batch,
/// and never fewer than this, so a slow endpoint leaves room for the others.
const FAIR_SHARE_AT_LEAST: usize = 8;

/// Characters of an endpoint's answer kept with a failed attempt.
const ANSWER_EXCERPT: usize = 200;

/// What delivering needs: the settings and the HTTP client, which follows no redirect and, unless
/// private addresses are allowed, connects only to public ones.
#[derive(Clone)]
pub struct Delivery {
    pub settings: WebhookSettings,
    client: reqwest::Client,
}

impl Delivery {
    pub fn new(settings: WebhookSettings) -> Self {
        let builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            // A proxy would resolve the host itself, past the address check.
            .no_proxy()
            .user_agent(concat!("directory-sync-webhooks/", env!("CARGO_PKG_VERSION")));
        let builder = if settings.allow_private { builder } else { builder.dns_resolver(PublicOnly::resolver()) };
        Self { client: builder.build().expect("the webhook HTTP client builds"), settings }
    }
}

/// While a sync runs, publishing and delivering take one part in this many of the time, so the
/// sync keeps the machine and the database: events wait a little, the directory does not.
const SHARE_WHILE_SYNCING: u32 = 6;

/// How long to rest after `worked` on the outbox, while a sync is or is not running.
fn rest_after(worked: Duration, syncing: bool) -> Duration {
    if syncing {
        worked * (SHARE_WHILE_SYNCING - 1)
    } else {
        Duration::ZERO
    }
}

/// Whether any worker is executing a sync now.
async fn syncing(env: &Environment) -> Result<bool> {
    let running = sync_run::Entity::find().filter(sync_run::Column::Status.eq(SyncStatus::Running)).one(&env.db);
    Ok(running.await?.is_some())
}

/// Publishes and delivers until the task is dropped: whenever `bell` rings (something was
/// queued in this process) and every `settings.poll`; while there is more to do, at once, or
/// after a rest while a sync runs ([`rest_after`]).
pub async fn run(env: Environment, delivery: Delivery, bell: Arc<Notify>) {
    loop {
        let started = Instant::now();
        let busy = async {
            let published = outbox::publish_history(&env.db).await?;
            let delivered = deliver_due(&env, &delivery).await?;
            Ok::<_, crate::Error>(published > 0 || delivered == BATCH as usize)
        };
        match busy.await {
            Ok(true) => {
                let rest = rest_after(started.elapsed(), syncing(&env).await.unwrap_or(false));
                tokio::time::sleep(rest).await;
                continue;
            }
            Ok(false) => {}
            Err(err) => tracing::warn!(error = %err, "could not read the webhook outbox"),
        }
        tokio::select! {
            () = bell.notified() => {}
            () = tokio::time::sleep(delivery.settings.poll) => {}
        }
    }
}

/// Of `due`, in order, each endpoint's fair share of a batch (all of them when one endpoint
/// has every due delivery).
fn spread(due: Vec<webhook_delivery::Model>) -> Vec<webhook_delivery::Model> {
    let endpoints: std::collections::HashSet<uuid::Uuid> = due.iter().map(|d| d.endpoint_id).collect();
    let share = (BATCH as usize / endpoints.len().max(1)).max(FAIR_SHARE_AT_LEAST);
    let mut per_endpoint: HashMap<uuid::Uuid, usize> = HashMap::new();
    due.into_iter()
        .filter(|d| {
            let n = per_endpoint.entry(d.endpoint_id).or_default();
            *n += 1;
            *n <= share
        })
        .collect()
}

/// One look at the outbox; answers how many deliveries were due.
pub async fn deliver_due(env: &Environment, delivery: &Delivery) -> Result<usize> {
    let now = Utc::now();
    let due = outbox::due(&env.db, now, BATCH).await?;
    let found = due.len();
    if found == 0 {
        return Ok(0);
    }
    let taken = outbox::take(&env.db, spread(due), now, now + delivery.settings.claim()).await?;
    let endpoint_ids: Vec<_> = taken.iter().map(|d| d.endpoint_id).collect();
    let event_ids: Vec<_> = taken.iter().map(|d| d.event_id).collect();
    let endpoints: HashMap<_, _> = webhook_endpoint::Entity::find()
        .filter(webhook_endpoint::Column::Id.is_in(endpoint_ids))
        .all(&env.db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let events: HashMap<_, _> = webhook_event::Entity::find()
        .filter(webhook_event::Column::Id.is_in(event_ids))
        .all(&env.db)
        .await?
        .into_iter()
        .map(|e| (e.id, e))
        .collect();
    let attempts = taken.into_iter().filter_map(|d| {
        // An endpoint deleted meanwhile took its deliveries with it.
        let endpoint = endpoints.get(&d.endpoint_id)?;
        let event = events.get(&d.event_id)?;
        Some(async move {
            let outcome = attempt(env, delivery, endpoint, event).await;
            let outcome = match outcome {
                Attempted::Accepted(status) => Outcome::Succeeded { status },
                Attempted::Refused { status, error } => match next_attempt(d.attempts, &delivery.settings) {
                    Some(wait) => Outcome::Retry { status, error, at: Utc::now() + wait },
                    None => Outcome::Failed { status, error: format!("gave up after {} attempts: {error}", d.attempts) },
                },
            };
            tracing::info!(delivery = %d.id, endpoint = %d.endpoint_id, event = %d.event_type, ?outcome, "webhook attempted");
            (d, outcome)
        })
    });
    let outcomes: Vec<_> =
        futures::stream::iter(attempts).buffer_unordered(delivery.settings.concurrency).collect().await;
    outbox::record(&env.db, outcomes, delivery.settings.failing_after).await?;
    Ok(found)
}

enum Attempted {
    /// 2xx, with its status.
    Accepted(i32),
    Refused {
        status: Option<i32>,
        error: String,
    },
}

/// Signs and sends `event` to `endpoint` once.
async fn attempt(
    env: &Environment,
    delivery: &Delivery,
    endpoint: &webhook_endpoint::Model,
    event: &webhook_event::Model,
) -> Attempted {
    let refused = |error: String| Attempted::Refused { status: None, error };
    // The rule again, now: the endpoint was saved under it, and the deployment may have changed.
    let url = match address::check_url(&endpoint.url, delivery.settings.allow_private) {
        Ok(url) => url,
        Err(why) => return refused(why),
    };
    let now = Utc::now();
    let secrets = match endpoints::signing_secrets(env, endpoint, now) {
        Ok(secrets) => secrets,
        Err(err) => return refused(format!("the endpoint's secret could not be read: {err}")),
    };
    let id = event.id.to_string();
    let timestamp = now.timestamp();
    let signatures: Vec<String> =
        secrets.iter().filter_map(|s| super::signature::sign(s, &id, timestamp, &event.payload)).collect();
    let sent = delivery
        .client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signatures.join(" "))
        .body(event.payload.clone())
        .send()
        .await;
    let response = match sent {
        Ok(response) => response,
        Err(err) => return refused(describe(&err, &delivery.settings)),
    };
    let status = response.status();
    if status.is_success() {
        return Attempted::Accepted(i32::from(status.as_u16()));
    }
    let answer = if status.is_redirection() {
        let to = response.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or("elsewhere");
        format!("redirects are not followed (to {})", excerpt(to, ANSWER_EXCERPT))
    } else {
        answer_excerpt(response).await
    };
    Attempted::Refused {
        status: Some(i32::from(status.as_u16())),
        error: format!("HTTP {}: {answer}", status.as_u16()),
    }
}

/// The start of an answer's body, read no further than needed.
async fn answer_excerpt(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < ANSWER_EXCERPT * 4 {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    excerpt(String::from_utf8_lossy(&body).trim(), ANSWER_EXCERPT)
}

fn describe(err: &reqwest::Error, settings: &WebhookSettings) -> String {
    if err.is_timeout() {
        return format!("no answer within {} s", settings.timeout.as_secs_f32());
    }
    // The resolver's refusal, or the network's words, are at the bottom of the chain.
    let mut source: &dyn std::error::Error = err;
    while let Some(next) = source.source() {
        source = next;
    }
    if err.is_connect() {
        format!("could not connect: {source}")
    } else {
        format!("the request failed: {source}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn while_a_sync_runs_the_outbox_takes_a_sixth_of_the_time() {
        let worked = Duration::from_millis(40);
        assert_eq!(rest_after(worked, true), Duration::from_millis(200));
        assert_eq!(rest_after(worked, false), Duration::ZERO);
    }

    #[test]
    fn a_batch_shares_itself_between_endpoints() {
        let delivery = |endpoint: u128| webhook_delivery::Model {
            id: uuid::Uuid::now_v7(),
            endpoint_id: uuid::Uuid::from_u128(endpoint),
            event_id: uuid::Uuid::nil(),
            event_type: "user.created".into(),
            ordering_key: None,
            status: webhook_delivery::DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Utc::now(),
            response_status: None,
            last_error: None,
            created_at: Utc::now(),
            delivered_at: None,
        };
        let count = |batch: &[webhook_delivery::Model], endpoint: u128| {
            batch.iter().filter(|d| d.endpoint_id.as_u128() == endpoint).count()
        };
        let alone: Vec<_> = (0..BATCH).map(|_| delivery(1)).collect();
        assert_eq!(spread(alone).len(), BATCH as usize, "one endpoint takes the whole batch");
        let shared: Vec<_> = (0..200).map(|_| delivery(1)).chain((0..56).map(|_| delivery(2))).collect();
        let shared = spread(shared);
        assert_eq!((count(&shared, 1), count(&shared, 2)), (128, 56), "half each, at most");
        let crowded: Vec<_> = (0..40u128).flat_map(|e| (0..10).map(move |_| delivery(e))).collect();
        let crowded = spread(crowded);
        assert!((0..40).all(|e| count(&crowded, e) == FAIR_SHARE_AT_LEAST), "never fewer than the floor");
    }
}
