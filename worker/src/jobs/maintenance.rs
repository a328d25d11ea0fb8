//! Periodic housekeeping in every worker process: hand on runs whose worker died (or whose job
//! the queue lost, e.g. a Redis restart, or never delivered), start scheduled syncs, make
//! people whose start date came active, and delete uploaded files no run read in time. Safe to
//! run in several processes at once: a run executes only under its lease.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use uuid::Uuid;

use super::{execute_in_slot, RunSlots, SyncJob, SyncQueue};
use crate::environment::Environment;
use crate::error::Result;
use crate::integrations::{runs, schedule};
use crate::{starters, uploads};

/// A queued run older than this with nobody working on it is handed on again. apalis 1.0 now and
/// then leaves a job queued but never delivered to a live, idle worker (seen under load on both
/// backends: a run still QUEUED a minute after `startSync`, and its job queued again after 15 s
/// not delivered either), so a process with a free run slot executes such a run itself rather
/// than trusting the queue with it again; one without a free slot enqueues it again. Either way
/// the run's lease lets one of them execute it, and the others are dropped.
const STALE_QUEUED: Duration = Duration::from_secs(15);

/// The longest wait between two hand-ons of one run.
const LONGEST_REQUEUE_WAIT: Duration = Duration::from_secs(16 * 15);

/// Which runs this process handed on (executed, or enqueued again), when, and how often, so a
/// run that stays QUEUED (waiting its turn behind busy workers) is handed on again after
/// [`STALE_QUEUED`], then after twice that, four times, … at most [`LONGEST_REQUEUE_WAIT`],
/// rather than at every sweep.
#[derive(Default)]
struct HandedOn(HashMap<Uuid, (Instant, u32)>);

impl HandedOn {
    /// Whether `run` may be handed on at `now`; if so, it is counted as handed on then.
    /// Runs not asked about for a longest wait (they left the queue) are forgotten.
    fn take_turn(&mut self, run: Uuid, now: Instant) -> bool {
        self.0.retain(|_, (at, _)| now.duration_since(*at) <= LONGEST_REQUEUE_WAIT * 2);
        let turns = match self.0.get(&run) {
            Some((at, turns)) if now.duration_since(*at) < wait_after(*turns) => return false,
            Some((_, turns)) => turns + 1,
            None => 1,
        };
        self.0.insert(run, (now, turns));
        true
    }
}

/// How long a run handed on `turns` times waits before the next time.
fn wait_after(turns: u32) -> Duration {
    (STALE_QUEUED * 2u32.saturating_pow(turns.saturating_sub(1))).min(LONGEST_REQUEUE_WAIT)
}

/// Hands on abandoned runs: each executes here, on a task of its own, when this process has a
/// free run slot, and is enqueued again otherwise. `queued_before` bounds which QUEUED runs
/// count as lost.
async fn recover_orphaned_runs(
    env: &Environment,
    queue: &Arc<dyn SyncQueue>,
    slots: &RunSlots,
    queued_before: chrono::DateTime<Utc>,
    handed_on: &mut HandedOn,
) -> Result<()> {
    let orphans = runs::orphaned(&env.db, queued_before).await?;
    let now = Instant::now();
    for run in orphans.iter().filter(|run| handed_on.take_turn(run.id, now)) {
        let job = SyncJob { run_id: run.id };
        match slots.free() {
            Some(slot) => {
                tracing::info!(run_id = %run.id, status = ?run.status, "executing an abandoned sync run here");
                let (env, queue) = (env.clone(), queue.clone());
                tokio::spawn(async move {
                    if let Err(err) = execute_in_slot(env, queue.as_ref(), job, slot).await {
                        tracing::warn!(error = %err, "an abandoned sync run failed here; the sweep will hand it on again");
                    }
                });
            }
            None => {
                tracing::info!(run_id = %run.id, status = ?run.status, "re-enqueueing an abandoned sync run");
                queue.enqueue(job).await?;
            }
        }
    }
    Ok(())
}

/// Recovers at once (everything queued before start-up is suspect), then every `every`.
pub async fn run_maintenance(env: Environment, queue: Arc<dyn SyncQueue>, slots: RunSlots, every: Duration) {
    let mut handed_on = HandedOn::default();
    if let Err(err) = recover_orphaned_runs(&env, &queue, &slots, Utc::now(), &mut handed_on).await {
        tracing::warn!(error = %err, "start-up recovery failed");
    }
    let mut tick = tokio::time::interval(every);
    tick.tick().await;
    loop {
        tick.tick().await;
        let stale = Utc::now() - STALE_QUEUED;
        if let Err(err) = recover_orphaned_runs(&env, &queue, &slots, stale, &mut handed_on).await {
            tracing::warn!(error = %err, "recovery sweep failed");
        }
        if let Err(err) = schedule::start_due(&env, queue.as_ref()).await {
            tracing::warn!(error = %err, "starting scheduled syncs failed");
        }
        if let Err(err) = starters::activate_starters(&env.db, Utc::now().date_naive()).await {
            tracing::warn!(error = %err, "activating people whose start date came failed");
        }
        match uploads::sweep(&env.db, env.upload_limits.unused_for).await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "deleted uploaded files no sync read in time"),
            Err(err) => tracing::warn!(error = %err, "deleting unused uploaded files failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_that_stays_queued_is_handed_on_less_and_less_often() {
        let (mut handed_on, start) = (HandedOn::default(), Instant::now());
        let (waiting, other) = (Uuid::now_v7(), Uuid::now_v7());
        let at = |seconds: u64| start + Duration::from_secs(seconds);
        assert!(handed_on.take_turn(waiting, at(0)));
        // Sweeps within the wait leave it be; another run has a turn of its own.
        assert!(!handed_on.take_turn(waiting, at(1)));
        assert!(handed_on.take_turn(other, at(1)));
        assert!(!handed_on.take_turn(waiting, at(14)));
        assert!(handed_on.take_turn(waiting, at(15)));
        // Then after 30 s, 60 s, …
        assert!(!handed_on.take_turn(waiting, at(44)));
        assert!(handed_on.take_turn(waiting, at(45)));
        assert!(!handed_on.take_turn(waiting, at(104)));
        assert!(handed_on.take_turn(waiting, at(105)));
        assert_eq!((1..8).map(wait_after).map(|d| d.as_secs()).collect::<Vec<_>>(), [15, 30, 60, 120, 240, 240, 240]);
        // A run not asked about for long (it left the queue) is forgotten.
        assert!(handed_on.take_turn(waiting, at(2000)));
        assert_eq!(handed_on.0.keys().collect::<Vec<_>>(), [&waiting]);
    }
}
