//! agentproof's goose load scenarios, one module per platform: [`alibaba`], [`aui`], [`duix`].
//!
//! Each scenario is a realistic journey with weights that signs every request as the platform
//! wants it (a fresh V3 nonce and date per Alibaba call, one bearer login per AUI user, fresh
//! DUIX JWTs) and checks every answer against its schema from the `schemas` crate: a wrong
//! status, code or shape is a failed request with the reason, for goose
//! (`GooseUser::set_failure`) and for agentproof's own verdict alike.
//!
//! - Every journey, built-in or a user's file, runs on one engine ([`journey`]): steps name
//!   operations of a catalogue ([`ops`]) that sign, log in and check their answers. The
//!   built-in scenarios ([`BUILTINS`], [`scenarios()`]) are journey files embedded here.
//! - Every request goes through one path ([`exchange::send`]): it waits for its slot when a
//!   [`Schedule`] is set (`--rate`), times the whole response (status, headers and body) and
//!   hands a [`Sample`] to the plan's [`Sink`].
//! - The DUIX session WebSocket is not HTTP: the scenario drives tokio-tungstenite itself and
//!   records each answer's time as a goose custom request with its own row (`duix WS ...`).
//!
//! ```
//! let names: Vec<&str> = scenarios::scenarios().iter().map(|s| s.name).collect();
//! assert!(names.contains(&"aui-token-storm"));
//! assert!(scenarios::find("no-such-scenario").is_none());
//! ```

pub mod alibaba;
pub mod attack;
pub mod aui;
pub mod duix;
pub mod exchange;
pub mod http;
pub mod journey;
pub mod library;
pub mod ops;
mod plan;
pub mod recorder;
mod schedule;
mod sink;
pub mod webhook;

pub use journey::{Journeys, BUILTINS};
pub use plan::{Credentials, Dialogue, Pair, Plan, Targets};
pub use protocol::request::HttpRequest;
pub use recorder::SharedRecorder;
pub use schedule::Schedule;
pub use sink::{Outcome, Sample, Sink};

/// The goose version agentproof embeds (reports name it; a test keeps it equal to Cargo.lock's).
pub const GOOSE_VERSION: &str = "0.19.0";

/// A built-in scenario of the catalog.
#[derive(Clone, Debug)]
pub struct ScenarioInfo {
    /// The name `--scenario` takes, e.g. `aui-token-storm`.
    pub name: &'static str,
    /// The platforms it needs a target for (`alibaba`, `aui`, `duix`, `webhook`, `http`).
    pub platforms: Vec<&'static str>,
    /// What it does, in a line.
    pub description: String,
}

/// Every built-in scenario, in the order `agentproof load --list` shows them.
pub fn scenarios() -> Vec<ScenarioInfo> {
    BUILTINS
        .iter()
        .map(|b| {
            let journeys = Journeys::builtin(b).expect("the built-in scenarios compile");
            ScenarioInfo {
                name: b.name,
                platforms: journeys.platforms,
                description: journeys.description,
            }
        })
        .collect()
}

/// The built-in scenario named `name`.
pub fn find(name: &str) -> Option<&'static journey::Builtin> {
    journey::builtin(name)
}

/// Why a scenario cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// No such scenario.
    #[error("no scenario named {0:?} (agentproof load --list names them)")]
    Unknown(String),
    /// The plan has no URL for a platform the scenario drives.
    #[error("the scenario needs a {0} target (--target {0}=URL)")]
    MissingTarget(&'static str),
    /// A journey goose refused.
    #[error("{0}")]
    Journey(String),
}

/// A per-user random source, seeded from the run's seed and the user's index so a run replays.
pub(crate) fn user_rng(plan: &Plan, user: &goose::goose::GooseUser) -> rand::rngs::StdRng {
    use rand::SeedableRng;
    let index = plan.first_user + user.weighted_users_index as u64;
    rand::rngs::StdRng::seed_from_u64(plan.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// An id made of `prefix`, `_` and 12 hex digits from `rng`: valid for every platform's id rules.
pub(crate) fn unique_id(rng: &mut impl rand::Rng, prefix: &str) -> String {
    format!("{prefix}_{:012x}", rng.gen::<u64>() & 0xFFFF_FFFF_FFFF)
}
