//! A constant-throughput schedule (`--rate`), for latency corrected for coordinated omission.
//!
//! A closed-loop user that waits for a slow answer sends its next request late, and so samples
//! exactly the slow period too little (Gil Tene's coordinated omission). As wrk2 does, the
//! schedule fixes when the k-th request of the run is due (`start + k / rate`), every user
//! takes the next slot before it sends, and latency is also measured from the due time: when
//! the users fall behind, the wait they could not help shows in the as-due distribution.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Request slots at a fixed rate, shared by every user of a run.
#[derive(Debug)]
pub struct Schedule {
    nanos_per_request: f64,
    /// The first slot's time: set by the first request, so the ramp-up before it costs nothing.
    start: OnceLock<Instant>,
    next: AtomicU64,
}

impl Schedule {
    /// `per_second` requests a second over all users; at least one in 1000 s.
    pub fn new(per_second: f64) -> Schedule {
        Schedule {
            nanos_per_request: 1e9 / per_second.max(0.001),
            start: OnceLock::new(),
            next: AtomicU64::new(0),
        }
    }

    /// Takes the next slot and waits until it is due; returns the due time (in the past when
    /// the users are behind: then it returns at once).
    pub async fn wait_turn(&self) -> Instant {
        let due = self.take_slot(Instant::now());
        tokio::time::sleep_until(due.into()).await;
        due
    }

    /// The due time of the next slot, `now` being the time of asking.
    fn take_slot(&self, now: Instant) -> Instant {
        let start = *self.start.get_or_init(|| now);
        let k = self.next.fetch_add(1, Ordering::Relaxed);
        start + Duration::from_nanos((k as f64 * self.nanos_per_request) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_spaced_by_the_rate_from_the_first_request() {
        let schedule = Schedule::new(100.0);
        let t0 = Instant::now();
        let slots: Vec<Duration> = (0..4).map(|_| schedule.take_slot(t0) - t0).collect();
        assert_eq!(slots, [0, 10, 20, 30].map(Duration::from_millis));
    }

    #[test]
    fn a_late_asker_gets_a_slot_in_the_past() {
        let schedule = Schedule::new(10.0);
        let t0 = Instant::now();
        schedule.take_slot(t0);
        let late = t0 + Duration::from_secs(5);
        assert_eq!(schedule.take_slot(late), t0 + Duration::from_millis(100));
    }
}
