//! The sink the scenarios record into: one `reports::load::LoadRecorder` behind a mutex, with
//! the run's start instant to place each sample in its second.
//!
//! A sample holds the lock for one histogram update (no allocation once a route is known), so
//! the users of a 2-core machine barely contend; the progress line takes the same lock once a
//! second.
//!
//! Users: goose tells nobody how many users run, but it runs a user's `on_start` transactions
//! when it launches the user and its `on_stop` ones when it stops it (a ramp down, the run's
//! end, Ctrl-C; goose waits for every user to finish). [`count_users`] adds one of each to any
//! scenario, built in or from a journey file, and they count the user in and out of the
//! recorder: exact, and one lock a user, not a sample.

use goose::goose::{Scenario, Transaction, TransactionFunction};
use reports::load::{LoadRecorder, Progress, SampleOutcome};
use scenarios::{Outcome, Sample, Sink};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The run's recorder, shared by every user.
pub struct SharedRecorder {
    started: Instant,
    inner: Mutex<Option<LoadRecorder>>,
}

impl SharedRecorder {
    /// A recorder whose seconds count from now.
    pub fn new(recorder: LoadRecorder) -> SharedRecorder {
        SharedRecorder {
            started: Instant::now(),
            inner: Mutex::new(Some(recorder)),
        }
    }

    /// The numbers of the progress line.
    pub fn progress(&self) -> Progress {
        self.lock()
            .as_ref()
            .map(LoadRecorder::progress)
            .unwrap_or(Progress {
                requests: 0,
                errors: 0,
                p95_ms: 0.0,
                users: 0,
            })
    }

    /// A user started now.
    pub fn user_started(&self) {
        let at = self.started.elapsed();
        if let Some(recorder) = self.lock().as_mut() {
            recorder.user_started(at);
        }
    }

    /// A user stopped now.
    pub fn user_stopped(&self) {
        let at = self.started.elapsed();
        if let Some(recorder) = self.lock().as_mut() {
            recorder.user_stopped(at);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<LoadRecorder>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the recorder out once the run is over; samples arriving later are dropped.
    pub fn take(&self) -> Option<LoadRecorder> {
        self.lock().take()
    }

    /// When the run started.
    pub fn started(&self) -> Instant {
        self.started
    }
}

impl Sink for SharedRecorder {
    fn record(&self, sample: &Sample<'_>) {
        let at = sample.finished.saturating_duration_since(self.started);
        let sent = sample.finished.saturating_duration_since(sample.sent);
        let due = sample
            .due
            .map(|due| sample.finished.saturating_duration_since(due));
        let outcome = match sample.outcome {
            Outcome::Ok => SampleOutcome::Ok,
            Outcome::Failed(why) => SampleOutcome::Failed(why),
            Outcome::TimedOut => SampleOutcome::TimedOut,
        };
        if let Some(recorder) = self.lock().as_mut() {
            recorder.record(sample.route, at, sent, due, outcome);
        }
    }
}

/// `scenario` with two more transactions that count its users into `recorder`: an `on_start`
/// one that runs first (sequence 1, before any other `on_start` such as a login) and an
/// `on_stop` one that runs last. Their weight is the greatest common divisor of the others',
/// so goose's weighting (which divides every weight by that divisor) runs each exactly once
/// and every other transaction as often as before.
pub fn count_users(scenario: Scenario, recorder: &Arc<SharedRecorder>) -> Scenario {
    let weight = scenario
        .transactions
        .iter()
        .map(|t| t.weight)
        .fold(0, gcd)
        .max(1);
    let hook = |name: &str, count: fn(&SharedRecorder)| {
        let recorder = Arc::clone(recorder);
        let function: TransactionFunction = Arc::new(move |_user| {
            count(&recorder);
            Box::pin(async { Ok(()) })
        });
        let mut transaction = Transaction::new(function).set_name(name);
        transaction.weight = weight;
        transaction
    };
    let start = hook("agentproof: user starts", SharedRecorder::user_started)
        .set_on_start()
        .set_sequence(1);
    let stop = hook("agentproof: user stops", SharedRecorder::user_stopped).set_on_stop();
    scenario
        .register_transaction(start)
        .register_transaction(stop)
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reports::load::LoadSlo;

    #[test]
    fn user_hooks_take_the_divisor_of_the_weights_and_start_first() {
        let noop: TransactionFunction = Arc::new(|_| Box::pin(async { Ok(()) }));
        let weighted = |w: usize| {
            Transaction::new(Arc::clone(&noop))
                .set_weight(w)
                .expect("a weight above 0")
        };
        let scenario = Scenario::new("s")
            .register_transaction(weighted(4).set_on_start())
            .register_transaction(weighted(6))
            .register_transaction(weighted(10));
        let recorder = Arc::new(SharedRecorder::new(LoadRecorder::new(
            LoadSlo::default(),
            false,
        )));
        let scenario = count_users(scenario, &recorder);
        let hooks: Vec<&Transaction> = scenario.transactions[3..].iter().collect();
        assert_eq!(
            hooks.iter().map(|t| t.weight).collect::<Vec<_>>(),
            [2, 2],
            "gcd of 4, 6, 10"
        );
        assert!(hooks[0].on_start && hooks[0].sequence == 1);
        assert!(hooks[1].on_stop && hooks[1].sequence == 0);
        assert_eq!(gcd(0, 7), 7);
    }

    #[test]
    fn users_are_counted_in_and_out() {
        let recorder = SharedRecorder::new(LoadRecorder::new(LoadSlo::default(), false));
        recorder.user_started();
        recorder.user_started();
        recorder.user_stopped();
        assert_eq!(recorder.progress().users, 1);
        let taken = recorder.take().expect("a recorder");
        recorder.user_started();
        assert_eq!(taken.progress().users, 1, "a late user counts nowhere");
    }
}
