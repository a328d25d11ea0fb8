//! Change events for live subscriptions: sync progress and connection status.
//!
//! In embedded mode events go through an in-process broadcast channel. With Redis, every process
//! publishes to one Redis channel and forwards what it hears into its local broadcast, so an API
//! replica can serve a subscription for a run executed by any worker process. Events are hints
//! with the full state attached; subscribers also re-read the database periodically, so a lost
//! message delays an update but never loses it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use entity::sync_run::{self, SyncMode, SyncPhase, SyncStatus};

/// A run's state at one moment; enough to render it without a database read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSnapshot {
    pub id: Uuid,
    pub workspace_id: String,
    pub connection_id: Uuid,
    pub mode: SyncMode,
    pub status: SyncStatus,
    pub phase: SyncPhase,
    pub processed: i32,
    pub total: Option<i32>,
    /// What the connection's last successful run read (a process of an older version sends none).
    #[serde(default)]
    pub expected_total: Option<i32>,
    pub created: i32,
    pub updated: i32,
    pub unchanged: i32,
    pub deactivated: i32,
    /// Deactivations the guard held back (a process of an older version sends none).
    #[serde(default)]
    pub held_deactivations: i32,
    pub skipped: i32,
    pub error: Option<String>,
    pub triggered_by: String,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

impl RunSnapshot {
    pub fn is_terminal(&self) -> bool {
        self.status.is_terminal()
    }

    /// 0..100, reaching 100 only on success; never goes back while a run moves forward.
    ///
    /// While the provider's answer downloads, the total is unknown; the run then measures
    /// against what its connection's last successful run read, or against what the share of the
    /// answer's `Content-Length` parsed so far suggests, whichever is smaller, so the bar moves
    /// from the first page. Once the total is known it measures against the smallest: `processed`
    /// only grows and the measure only shrinks, so the percentage never goes back (a company
    /// that grew since the last sync reads 99% a little early).
    pub fn percent(&self) -> f64 {
        if self.status == SyncStatus::Succeeded {
            return 100.0;
        }
        let measure = match (self.total, self.expected_total) {
            (Some(total), Some(expected)) => total.min(expected),
            (Some(known), None) | (None, Some(known)) => known,
            (None, None) => return 0.0,
        };
        if measure <= 0 {
            return 0.0;
        }
        (f64::from(self.processed) * 100.0 / f64::from(measure)).min(99.0)
    }
}

impl From<&sync_run::Model> for RunSnapshot {
    fn from(run: &sync_run::Model) -> Self {
        Self {
            id: run.id,
            workspace_id: run.workspace_id.clone(),
            connection_id: run.connection_id,
            mode: run.mode,
            status: run.status,
            phase: run.phase,
            processed: run.processed,
            total: run.total,
            expected_total: run.expected_total,
            created: run.created,
            updated: run.updated,
            unchanged: run.unchanged,
            deactivated: run.deactivated,
            held_deactivations: run.held_deactivations,
            skipped: run.skipped,
            error: run.error.clone(),
            triggered_by: run.triggered_by.clone(),
            started_at: run.started_at,
            finished_at: run.finished_at,
        }
    }
}

/// How long the event forwarder waits between attempts to subscribe again, at most.
const RESUBSCRIBE_AT_MOST_EVERY: Duration = Duration::from_secs(10);

/// Forwards what the Redis channel carries to this process's subscribers; when the
/// subscription breaks (Redis restarted, the connection dropped) it subscribes again, backing
/// off, while subscribers carry on by re-reading the database.
async fn forward_events(
    client: redis::Client,
    channel: String,
    mut pubsub: redis::aio::PubSub,
    forward: broadcast::Sender<Event>,
) {
    loop {
        let mut messages = pubsub.into_on_message();
        while let Some(message) = messages.next().await {
            match serde_json::from_slice::<Event>(message.get_payload_bytes()) {
                Ok(event) => {
                    let _ = forward.send(event);
                }
                Err(err) => tracing::warn!(error = %err, "ignoring malformed event"),
            }
        }
        drop(messages);
        tracing::warn!("the Redis event subscription ended; live updates poll until it is back");
        let mut wait = Duration::from_millis(250);
        pubsub = loop {
            tokio::time::sleep(wait).await;
            let subscribed = async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&channel).await?;
                Ok::<_, redis::RedisError>(pubsub)
            };
            match subscribed.await {
                Ok(pubsub) => break pubsub,
                Err(err) => tracing::debug!(error = %err, "could not subscribe to events yet"),
            }
            wait = (wait * 2).min(RESUBSCRIBE_AT_MOST_EVERY);
        };
        tracing::info!("subscribed to events again");
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    RunProgress(RunSnapshot),
    ConnectionChanged { connection_id: Uuid },
}

#[derive(Debug, thiserror::Error)]
#[error("event bus: {0}")]
pub struct EventBusError(#[from] redis::RedisError);

/// Publishes and fans out [`Event`]s.
#[derive(Clone)]
pub struct EventBus {
    local: broadcast::Sender<Event>,
    redis: Option<RedisPublisher>,
}

#[derive(Clone)]
struct RedisPublisher {
    /// Reconnects by itself after an outage.
    connection: redis::aio::ConnectionManager,
    channel: String,
}

/// How many events a slow subscriber may fall behind before it skips ahead.
const LOCAL_CAPACITY: usize = 4096;

/// How long one PUBLISH may take; events are best effort.
const PUBLISH_PATIENCE: Duration = Duration::from_secs(1);

impl EventBus {
    pub fn in_process() -> Self {
        Self { local: broadcast::channel(LOCAL_CAPACITY).0, redis: None }
    }

    /// Joins the Redis channel `{prefix}:events`; spawns the task that forwards what it hears,
    /// and subscribes again after an outage.
    pub async fn redis(url: &str, prefix: &str) -> Result<Self, EventBusError> {
        let client = redis::Client::open(url)?;
        let channel = format!("{prefix}:events");
        let patience = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(crate::REDIS_PATIENCE))
            .set_response_timeout(Some(crate::REDIS_PATIENCE));
        let connection = client.get_connection_manager_with_config(patience).await?;
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(&channel).await?;
        let local = broadcast::channel(LOCAL_CAPACITY).0;
        tokio::spawn(forward_events(client, channel.clone(), pubsub, local.clone()));
        Ok(Self { local, redis: Some(RedisPublisher { connection, channel }) })
    }

    /// Whether the bus can carry events now: always in process; a PING to Redis otherwise.
    pub async fn reachable(&self) -> Result<(), String> {
        let Some(publisher) = &self.redis else { return Ok(()) };
        let mut connection = publisher.connection.clone();
        redis::cmd("PING").query_async::<String>(&mut connection).await.map(drop).map_err(|e| e.to_string())
    }

    /// Best effort: a lost event is made up for by subscribers' periodic re-reads.
    pub async fn publish(&self, event: Event) {
        match &self.redis {
            None => {
                let _ = self.local.send(event);
            }
            Some(publisher) => {
                let payload = serde_json::to_vec(&event).expect("events serialise");
                let mut connection = publisher.connection.clone();
                let publish = redis::cmd("PUBLISH").arg(&publisher.channel).arg(payload).to_owned();
                // Progress is published from inside sync attempts: a Redis that keeps the socket
                // open but stops answering must not hold every page up for the full patience.
                let sent = tokio::time::timeout(PUBLISH_PATIENCE, publish.query_async::<i64>(&mut connection)).await;
                match sent {
                    Ok(Ok(_)) => {}
                    Ok(Err(err)) => tracing::warn!(error = %err, "could not publish an event"),
                    Err(_) => {
                        tracing::warn!("could not publish an event: Redis did not answer within {PUBLISH_PATIENCE:?}")
                    }
                }
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.local.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot(processed: i32, total: Option<i32>, expected_total: Option<i32>) -> RunSnapshot {
        RunSnapshot {
            id: Uuid::nil(),
            workspace_id: "ws".into(),
            connection_id: Uuid::nil(),
            mode: SyncMode::Full,
            status: SyncStatus::Running,
            phase: SyncPhase::Merging,
            processed,
            total,
            expected_total,
            created: 0,
            updated: 0,
            unchanged: 0,
            deactivated: 0,
            held_deactivations: 0,
            skipped: 0,
            error: None,
            triggered_by: "test".into(),
            started_at: None,
            finished_at: None,
        }
    }

    #[test]
    fn progress_moves_before_the_total_is_known() {
        assert_eq!(snapshot(250, None, None).percent(), 0.0, "a first sync knows nothing yet");
        assert_eq!(snapshot(250, None, Some(1000)).percent(), 25.0);
        assert_eq!(snapshot(250, Some(500), None).percent(), 50.0);
        assert_eq!(snapshot(2000, None, Some(1000)).percent(), 99.0, "100 only on success");
    }

    #[test]
    fn progress_never_goes_back_when_the_total_arrives() {
        // The company grew from 1000 to 1200: the measure stays the smaller one.
        let before = snapshot(600, None, Some(1000)).percent();
        let after = snapshot(620, Some(1200), Some(1000)).percent();
        assert!(after >= before, "{before} -> {after}");
        // It shrank to 800: the measure shrinks, the percentage rises.
        assert!(snapshot(620, Some(800), Some(1000)).percent() > before);
    }
}
