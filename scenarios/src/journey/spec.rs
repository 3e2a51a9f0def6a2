//! The journey file as written: the TOML model, read with serde, every key known
//! (`deny_unknown_fields`, so a misspelt key is an error with its line and column) and the
//! places later checks point at kept as spans ([`Spanned`]).
//!
//! Nothing here is checked beyond its TOML type; [`super::check`] turns a [`FileSpec`] into
//! the compiled [`super::Journeys`].

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// A whole journey file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// The run's name in reports (default: the file's stem).
    pub name: Option<String>,
    /// A line saying what the journeys do.
    pub description: Option<String>,
    /// The load shape; the command line overrides each key it sets.
    #[serde(default)]
    pub load: LoadSpec,
    /// Rules over the default SLO, as `--slo` takes them (`p95<2000ms`, `errors<1%`).
    #[serde(default)]
    pub slo: Vec<Spanned<String>>,
    /// Base URLs per platform (alibaba, aui, duix, webhook, http); `--target` overrides.
    #[serde(default)]
    pub targets: BTreeMap<String, Spanned<String>>,
    /// Data feeders by name: `[feeders.users] file = "users.csv"`.
    #[serde(default)]
    pub feeders: BTreeMap<String, Spanned<FeederSpec>>,
    /// Per-user credentials, as templates (usually feeder columns).
    #[serde(default)]
    pub credentials: CredentialsSpec,
    /// The journeys, mixed by weight.
    #[serde(default)]
    pub journeys: Vec<Spanned<JourneySpec>>,
}

/// `[load]`: users, ramp, duration, rate, or stages.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSpec {
    /// Concurrent users at full load.
    pub users: Option<Spanned<u64>>,
    /// Users started per second until `users` run.
    pub increase_rate: Option<Spanned<f64>>,
    /// Time to start every user (`10s`): `users / ramp` a second; not with `increase_rate`.
    pub ramp: Option<Spanned<String>>,
    /// How long to load once every user runs (`30s`, `5m`).
    pub duration: Option<Spanned<String>>,
    /// A schedule of this many requests a second over all users.
    pub rate: Option<Spanned<f64>>,
    /// Stages instead of users/ramp/duration: ramp to `users` over `over`, hold, ramp down.
    pub stages: Option<Spanned<Vec<StageSpec>>>,
}

/// One stage: reach `users` over `over`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    /// Users at the end of the stage.
    pub users: u64,
    /// How long the stage lasts (`30s`, `2m`).
    pub over: String,
}

/// A feeder: one row per user.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeederSpec {
    /// A CSV file with a header row, or JSON lines (`.jsonl`, `.ndjson`): one object a line.
    /// Relative to the journey file.
    pub file: String,
    /// `cycle` (the default: user i takes row i mod rows), `unique` (no two users share a
    /// row; the run refuses to start with fewer rows than users), `random` (seeded).
    #[serde(default)]
    pub mode: Option<String>,
}

/// `[credentials]`: each platform's credentials per user, as templates.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialsSpec {
    /// The AccessKey Alibaba calls are signed with: `{ id = "...", secret = "..." }`.
    pub alibaba: Option<Spanned<PairSpec>>,
    /// The AUI login: `{ id = "{{ users.name }}", secret = "{{ users.password }}" }`.
    pub aui_user: Option<Spanned<PairSpec>>,
    /// The DUIX app whose key signs the JWTs: `{ id = "...", secret = "..." }`.
    pub duix_app: Option<Spanned<PairSpec>>,
}

/// An id and its secret, as templates.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairSpec {
    pub id: Spanned<String>,
    pub secret: Spanned<String>,
}

/// One journey: steps in order, with steps on a user's start and stop.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JourneySpec {
    /// Its name in reports.
    pub name: String,
    /// Its share of the users, against the other journeys' weights (default 1).
    pub weight: Option<Spanned<u64>>,
    /// Think time after each step that sets none.
    pub think: Option<Spanned<ThinkSpec>>,
    /// After a failed step: `stop` (the default) ends the iteration, `continue` runs the next.
    pub on_error: Option<Spanned<String>>,
    /// Once when a user starts, before its first iteration (a login).
    #[serde(default)]
    pub on_start: Vec<Spanned<StepSpec>>,
    /// The iteration, repeated while the run lasts.
    #[serde(default)]
    pub steps: Vec<Spanned<StepSpec>>,
    /// Once when a user stops, also on Ctrl-C or at the end of the run.
    #[serde(default)]
    pub on_stop: Vec<Spanned<StepSpec>>,
}

/// One step: an operation, or a loop of steps.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// The operation, `<platform>.<operation>` (`agentproof load --ops` lists them).
    pub op: Option<Spanned<String>>,
    /// Its row in the reports (default: the operation's route, e.g. `aui POST /api/v2/...`).
    pub name: Option<Spanned<String>>,
    /// The operation's fields, as templates (`{{ instance }}`, `{{ users.name }}`, `{{ uuid }}`).
    #[serde(default)]
    pub fields: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    /// Values taken from the answer by JSON pointer: `{ instance = "/ai_agent_instance_id" }`.
    #[serde(default)]
    pub capture: BTreeMap<Spanned<String>, Spanned<String>>,
    /// What the answer must also show, beyond the operation's own checks.
    pub expect: Option<Spanned<ExpectSpec>>,
    /// SLO rules of this step's row, over the run's (`p95<500ms`).
    #[serde(default)]
    pub slo: Vec<Spanned<String>>,
    /// Think time after the step.
    pub think: Option<Spanned<ThinkSpec>>,
    /// Runs the step this many times in a row.
    pub repeat: Option<Spanned<u64>>,
    /// A loop: `steps` this many times (with no `op`).
    #[serde(rename = "loop")]
    pub loop_times: Option<Spanned<u64>>,
    /// The loop's steps.
    #[serde(default)]
    pub steps: Vec<Spanned<StepSpec>>,
    /// Values for later steps, with no op: `set = { order = "{{ id(order) }}" }`.
    #[serde(default)]
    pub set: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// `expect = { status = 200, code = "0", json = { "/status" = "Executing" } }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectSpec {
    /// The HTTP status (instead of the operation's).
    pub status: Option<u16>,
    /// The envelope's business code (`code` or `Code`), compared as text.
    pub code: Option<toml::Value>,
    /// JSON pointers into the answer and the value each must equal.
    #[serde(default)]
    pub json: BTreeMap<String, toml::Value>,
}

/// Think time: `"1s"`, `{ uniform = ["500ms", "2s"] }` or
/// `{ lognormal = { median = "1s", sigma = 0.5 } }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum ThinkSpec {
    /// Always this long.
    Fixed(String),
    /// One of the shapes.
    Shaped(ThinkShape),
}

/// The random think times.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThinkShape {
    /// Evenly between the two.
    pub uniform: Option<[String; 2]>,
    /// Log-normal around a median.
    pub lognormal: Option<LognormalSpec>,
}

/// A log-normal think time.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LognormalSpec {
    pub median: String,
    pub sigma: f64,
}
