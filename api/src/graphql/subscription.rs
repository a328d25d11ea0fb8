//! Live updates over graphql-transport-ws. Each stream starts with the current state read from
//! the database, then follows bus events, and re-reads every second so a lost event only delays
//! an update.

use std::time::Duration;

use async_graphql::{Context, Subscription, ID};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use worker::events::{Event, RunSnapshot};

use crate::access::{ConnectionId, RunId};
use crate::graphql::context::ContextExt;
use crate::graphql::types::connection::Connection;
use crate::graphql::types::sync_run::{SyncProgress, SyncRun};

/// A subscriber re-reads the database after this long without an event.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

pub struct Subscription;

/// Whether `next` moves the run forward from `prev` (events may arrive out of order).
fn advances(prev: &RunSnapshot, next: &RunSnapshot) -> bool {
    next != prev && !prev.is_terminal() && (next.is_terminal() || next.processed >= prev.processed)
}

// Subscription fields answer `async_graphql::Result` (the macro needs its `impl Stream` inside
// that alias); errors are still `ApiError`s, converted by `?`.
#[Subscription]
impl Subscription {
    /// First event: the run's current state. Then one event per change (at most ~10/s). The
    /// stream ends after the run reaches SUCCEEDED, FAILED or CANCELLED.
    async fn sync_progress(
        &self,
        ctx: &Context<'_>,
        run_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = SyncProgress>> {
        let integrations = ctx.integrations()?;
        let run_id = RunId::parse(&run_id, "runId")?;
        let mut events = integrations.events();
        let run = integrations.run(run_id).await?;
        Ok(async_stream::stream! {
            let mut last = RunSnapshot::from(&run);
            yield SyncProgress { run: SyncRun(last.clone()) };
            let mut poll = tokio::time::interval(POLL_INTERVAL);
            while !last.is_terminal() {
                let next = tokio::select! {
                    event = events.recv() => match event {
                        Ok(Event::RunProgress(snapshot)) if snapshot.id == run.id => {
                            poll.reset();
                            Some(snapshot)
                        }
                        Ok(_) => None,
                        Err(RecvError::Lagged(_)) => None,
                        Err(RecvError::Closed) => break,
                    },
                    _ = poll.tick() => match integrations.run(run_id).await {
                        Ok(run) => Some(RunSnapshot::from(&run)),
                        Err(err) => {
                            tracing::warn!(error = %err.message, "progress poll failed");
                            None
                        }
                    },
                };
                if let Some(next) = next.filter(|n| advances(&last, n)) {
                    last = next;
                    yield SyncProgress { run: SyncRun(last.clone()) };
                }
            }
        })
    }

    /// The connection's current state, then again whenever its status changes (e.g. after the
    /// "Open Window" sign-in).
    async fn connection_status(
        &self,
        ctx: &Context<'_>,
        connection_id: ID,
    ) -> async_graphql::Result<impl Stream<Item = Connection>> {
        let integrations = ctx.integrations()?;
        let connection_id = ConnectionId::parse(&connection_id, "connectionId")?;
        let mut events = integrations.events();
        let current = integrations.connection(connection_id).await?;
        Ok(async_stream::stream! {
            let current_id = current.id;
            let mut last = (current.status, current.status_message.clone());
            yield Connection(current);
            let mut poll = tokio::time::interval(POLL_INTERVAL * 2);
            loop {
                let changed = tokio::select! {
                    event = events.recv() => match event {
                        Ok(Event::ConnectionChanged { connection_id: id }) if id == current_id => {
                            poll.reset();
                            true
                        }
                        Ok(_) => false,
                        Err(RecvError::Lagged(_)) => true,
                        Err(RecvError::Closed) => break,
                    },
                    _ = poll.tick() => true,
                };
                if !changed {
                    continue;
                }
                let Ok(model) = integrations.connection(connection_id).await else { break };
                let state = (model.status, model.status_message.clone());
                if state != last {
                    last = state;
                    yield Connection(model);
                }
            }
        })
    }
}
