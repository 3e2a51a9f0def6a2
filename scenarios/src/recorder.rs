//! The sink the scenarios record into: one `reports::load::LoadRecorder` behind a mutex, with
//! the run's start instant to place each sample in its second.
//!
//! A sample holds the lock for one histogram update (no allocation once a route is known), so
//! the users of a 2-core machine barely contend; the progress line takes the same lock once a
//! second.

use crate::{Outcome, Sample, Sink};
use reports::load::{LoadRecorder, Progress, SampleOutcome};
use std::sync::Mutex;
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
        let guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        guard
            .as_ref()
            .map(LoadRecorder::progress)
            .unwrap_or(Progress {
                requests: 0,
                errors: 0,
                p95_ms: 0.0,
                users: 0,
            })
    }

    /// Takes the recorder out once the run is over; samples arriving later are dropped.
    pub fn take(&self) -> Option<LoadRecorder> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).take()
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
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(recorder) = guard.as_mut() {
            recorder.record(sample.route, at, sent, due, outcome);
        }
    }

    fn user_started(&self) {
        let at = self.started.elapsed();
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(recorder) = guard.as_mut() {
            recorder.user_started(at);
        }
    }

    fn user_stopped(&self) {
        let at = self.started.elapsed();
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(recorder) = guard.as_mut() {
            recorder.user_stopped(at);
        }
    }
}
