//! Pacing requests to a provider's quota. Providers document quotas as "N requests per window"
//! (Personio: 300 a minute and 15 a second; HiBob: 50 a minute; Merge: 100 a minute), so the
//! pacer keeps a log of when recent requests went out and holds a request back only while the
//! window is full: a short admin session goes at full speed, a long sync settles at the quota's
//! rate, and no window of any length ever holds more than the quota allows. (A token bucket such
//! as `governor`'s spreads requests evenly and, to stay under a per-minute count, must either
//! give up most of the burst or overshoot the window.)

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// At most `requests` in any window of `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub requests: u32,
    pub per: Duration,
}

impl Quota {
    pub const fn per_minute(requests: u32) -> Self {
        Self { requests, per: Duration::from_secs(60) }
    }

    pub const fn per_second(requests: u32) -> Self {
        Self { requests, per: Duration::from_secs(1) }
    }

    /// The window widened by a little, for the provider's clock and the network's delays.
    fn guarded(self) -> Duration {
        self.per + (self.per / 50).max(Duration::from_millis(20))
    }
}

/// Paces the requests of one provider account to all of its quotas.
#[derive(Debug, Default)]
pub struct Pacer {
    quotas: Vec<Quota>,
    state: Mutex<Sent>,
}

#[derive(Debug, Default)]
struct Sent {
    /// When recent requests went out, oldest first.
    at: VecDeque<Instant>,
    /// No request goes out before this: the provider throttled the account all the same.
    held_until: Option<Instant>,
}

impl Pacer {
    pub fn new(quotas: Vec<Quota>) -> Self {
        Self { quotas, state: Mutex::default() }
    }

    /// Waits until one more request fits every quota, and counts it.
    pub async fn until_ready(&self) {
        while let Some(wait) = self.admit(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
    }

    /// Holds every request of the account back for `wait`: the provider answered 429 anyway
    /// (another client shares its quota, or it is under load). Answers whether this starts the
    /// hold, rather than being one more 429 of requests sent together before it.
    pub fn hold(&self, wait: Duration) -> bool {
        let mut state = self.state.lock().expect("pacer lock");
        let now = Instant::now();
        let starts = state.held_until.is_none_or(|held| held <= now);
        let until = now + wait;
        state.held_until = Some(state.held_until.map_or(until, |held| held.max(until)));
        starts
    }

    /// Counts a request sent at `now`, or answers how long until one fits.
    fn admit(&self, now: Instant) -> Option<Duration> {
        let mut state = self.state.lock().expect("pacer lock");
        if let Some(held) = state.held_until.filter(|held| *held > now) {
            return Some(held - now);
        }
        let sent = &mut state.at;
        let Some(longest) = self.quotas.iter().map(|q| q.guarded()).max() else { return None };
        while sent.front().is_some_and(|at| now.duration_since(*at) >= longest) {
            sent.pop_front();
        }
        let wait = self
            .quotas
            .iter()
            .filter_map(|quota| {
                let window = quota.guarded();
                let in_window = sent.iter().rev().take_while(|at| now.duration_since(**at) < window).count();
                let limit = quota.requests.max(1) as usize;
                // The oldest of the last `limit` requests must leave the window first.
                (in_window >= limit).then(|| window - now.duration_since(sent[sent.len() - limit]))
            })
            .max();
        if wait.is_none() {
            sent.push_back(now);
        }
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_window_holds_the_next_request_until_the_oldest_leaves() {
        let pacer = Pacer::new(vec![Quota { requests: 3, per: Duration::from_secs(10) }]);
        let start = Instant::now();
        for i in 0..3 {
            assert_eq!(pacer.admit(start + Duration::from_secs(i)), None, "the burst goes at once");
        }
        let wait = pacer.admit(start + Duration::from_secs(3)).unwrap();
        assert!(wait > Duration::from_secs(7) && wait <= Duration::from_millis(7200), "{wait:?}");
        assert_eq!(pacer.admit(start + Duration::from_millis(10_300)), None, "the first left the window");
    }

    #[test]
    fn a_hold_stops_every_request_for_its_while() {
        let pacer = Pacer::new(vec![Quota::per_minute(100)]);
        assert!(pacer.hold(Duration::from_secs(2)), "the first 429 starts the hold");
        assert!(!pacer.hold(Duration::from_secs(1)), "one sent with it is the same throttling");
        let now = Instant::now();
        assert!(pacer.admit(now).is_some_and(|wait| wait > Duration::from_secs(1)));
        assert_eq!(pacer.admit(now + Duration::from_secs(3)), None);
    }

    #[test]
    fn every_quota_holds_at_once() {
        let pacer = Pacer::new(vec![Quota::per_second(2), Quota::per_minute(3)]);
        let start = Instant::now();
        assert_eq!(pacer.admit(start), None);
        assert_eq!(pacer.admit(start), None);
        assert!(pacer.admit(start).unwrap() <= Duration::from_millis(1020), "two a second");
        assert_eq!(pacer.admit(start + Duration::from_secs(2)), None);
        let wait = pacer.admit(start + Duration::from_secs(3)).unwrap();
        assert!(wait > Duration::from_secs(50), "three a minute: {wait:?}");
    }
}
