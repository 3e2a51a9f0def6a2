//! Where the scenarios put what they measured: one [`Sample`] per answer (or per timeout), the
//! whole-response time from when it was sent and, under a schedule, from when it was due.
//!
//! The command running the scenarios implements [`Sink`] (harness feeds a
//! `reports::load::LoadRecorder`); the scenarios do not know how samples are kept.

use std::time::Instant;

/// How one request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome<'a> {
    /// The right status, code and shape.
    Ok,
    /// An answer that breaks the contract, or no answer; the reason as a report shows it.
    Failed(&'a str),
    /// No whole answer within the timeout.
    TimedOut,
}

/// One timed request.
#[derive(Clone, Copy, Debug)]
pub struct Sample<'a> {
    /// Route template, e.g. `aui POST /api/v2/aiagent/getRtcAuthToken`.
    pub route: &'a str,
    /// When the schedule said the request was due (`--rate`), if there is one.
    pub due: Option<Instant>,
    /// When it was sent.
    pub sent: Instant,
    /// When the whole answer (status, headers, body) was read, or the request gave up.
    pub finished: Instant,
    /// How it ended.
    pub outcome: Outcome<'a>,
}

/// Takes every sample of a run, from every user at once.
pub trait Sink: Send + Sync {
    /// Records one sample. Called on the request path: keep it short.
    fn record(&self, sample: &Sample<'_>);

    /// A user started (before its first step).
    fn user_started(&self) {}

    /// A user stopped (after its last).
    fn user_stopped(&self) {}
}
