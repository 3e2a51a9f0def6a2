//! A constant-throughput schedule (`--rate`), for latency corrected for coordinated omission.
//!
//! A closed-loop user that waits for a slow answer sends its next request late, and so samples
//! exactly the slow period too little (Gil Tene's coordinated omission). As wrk2 does per
//! connection, each user gets an equal share of the rate: its k-th request is due at
//! `its start + k × users / rate`, and latency is also measured from that due time, so when a
//! user falls behind the wait it could not help shows in the as-due distribution. A user's
//! schedule starts with its first request, so a gradual ramp-up (`--increase-rate`) ramps the
//! rate with it instead of piling up a backlog that would be an artefact of the test.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Request slots at a fixed rate, one sequence per user.
#[derive(Debug)]
pub struct Schedule {
    nanos_per_request: f64,
    users: Vec<UserSlots>,
}

/// One user's share: its first slot's time and the next slot's number.
#[derive(Debug, Default)]
struct UserSlots {
    start: OnceLock<Instant>,
    next: AtomicU64,
}

/// How long a wait sleeps before it looks again whether the run is stopping.
const STOP_POLL: Duration = Duration::from_millis(100);

impl Schedule {
    /// `per_second` requests a second over `users` users (each gets an equal share); at least
    /// one request in 1000 s.
    pub fn new(per_second: f64, users: usize) -> Schedule {
        let users = users.max(1);
        Schedule {
            nanos_per_request: 1e9 * users as f64 / per_second.max(0.001),
            users: (0..users).map(|_| UserSlots::default()).collect(),
        }
    }

    /// Takes user `user`'s next slot and waits until it is due; returns the due time (in the
    /// past when the user is behind: then at once). `None` when `stopping` says the run is
    /// ending before the slot comes: the request is not to be sent.
    pub async fn wait_turn(&self, user: usize, stopping: impl Fn() -> bool) -> Option<Instant> {
        let due = self.take_slot(user, Instant::now());
        loop {
            let now = Instant::now();
            if now >= due {
                return Some(due);
            }
            if stopping() {
                return None;
            }
            tokio::time::sleep((due - now).min(STOP_POLL)).await;
        }
    }

    /// The due time of `user`'s next slot, `now` being the time of asking.
    fn take_slot(&self, user: usize, now: Instant) -> Instant {
        let slots = &self.users[user % self.users.len()];
        let start = *slots.start.get_or_init(|| now);
        let k = slots.next.fetch_add(1, Ordering::Relaxed);
        start + Duration::from_nanos((k as f64 * self.nanos_per_request) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_gets_an_equal_share_of_the_rate_from_its_first_request() {
        let schedule = Schedule::new(100.0, 2);
        let t0 = Instant::now();
        let first: Vec<Duration> = (0..3).map(|_| schedule.take_slot(0, t0) - t0).collect();
        assert_eq!(first, [0, 20, 40].map(Duration::from_millis));
        let later = t0 + Duration::from_secs(1);
        assert_eq!(
            schedule.take_slot(1, later),
            later,
            "user 1 starts when it starts"
        );
        assert_eq!(
            schedule.take_slot(1, later),
            later + Duration::from_millis(20)
        );
    }

    #[test]
    fn a_late_user_gets_a_slot_in_the_past() {
        let schedule = Schedule::new(10.0, 1);
        let t0 = Instant::now();
        schedule.take_slot(0, t0);
        let late = t0 + Duration::from_secs(5);
        assert_eq!(schedule.take_slot(0, late), t0 + Duration::from_millis(100));
    }

    #[tokio::test]
    async fn a_wait_ends_without_a_slot_when_the_run_stops() {
        let schedule = Schedule::new(0.01, 1);
        assert!(
            schedule.wait_turn(0, || false).await.is_some(),
            "the first slot is now"
        );
        assert_eq!(schedule.wait_turn(0, || true).await, None);
    }
}
