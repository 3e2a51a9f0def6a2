//! agentproof's goose load scenarios, one module per platform: [`alibaba`], [`aui`], [`duix`].
//!
//! Each scenario is a realistic journey with weights that signs every request as the platform
//! wants it (a fresh V3 nonce and date per Alibaba call, one bearer login per AUI user, fresh
//! DUIX JWTs) and checks every answer against its schema from the `schemas` crate: a wrong
//! status, code or shape is a failed request with the reason, for goose
//! (`GooseUser::set_failure`) and for agentproof's own verdict alike.
//!
//! - [`SCENARIOS`] lists them (name, platforms, what each does); [`build`] turns a name and a
//!   [`Plan`] into the goose [`Scenario`](goose::goose::Scenario) to register.
//! - Every request goes through one path ([`exchange::send`]): it waits for its slot when a
//!   [`Schedule`] is set (`--rate`), times the whole response (status, headers and body) and
//!   hands a [`Sample`] to the plan's [`Sink`].
//! - The DUIX session WebSocket is not HTTP: the scenario drives tokio-tungstenite itself and
//!   records each answer's time as a goose custom request with its own row (`duix WS ...`).
//!
//! ```
//! let names: Vec<&str> = scenarios::SCENARIOS.iter().map(|s| s.name).collect();
//! assert!(names.contains(&"aui-token-storm"));
//! assert!(scenarios::find("no-such-scenario").is_none());
//! ```

pub mod alibaba;
pub mod aui;
pub mod duix;
pub mod exchange;
pub mod http;
mod plan;
mod schedule;
mod sink;

pub use plan::{Credentials, Dialogue, Pair, Plan, Targets};
pub use schedule::Schedule;
pub use sink::{Outcome, Sample, Sink};

use goose::goose::Scenario;
use std::sync::Arc;

/// One scenario of the catalog.
#[derive(Clone, Copy, Debug)]
pub struct ScenarioInfo {
    /// The name `--scenario` takes, e.g. `aui-token-storm`.
    pub name: &'static str,
    /// The platforms it needs a target for (`alibaba`, `aui`, `duix`, `webhook`, `llm`, `http`).
    pub platforms: &'static [&'static str],
    /// What it does, in a line.
    pub description: &'static str,
    build: fn(&Arc<Plan>) -> Scenario,
}

/// Every scenario, in the order `agentproof load --list` shows them.
pub const SCENARIOS: &[ScenarioInfo] = &[
    ScenarioInfo {
        name: "aui-token-storm",
        platforms: &["aui"],
        description:
            "AUI: log in once per user, then getRtcAuthToken and generateMessageChatToken \
                      (an ICE call upstream) in a 3:1 mix",
        build: aui::token_storm,
    },
    ScenarioInfo {
        name: "aui-call-lifecycle",
        platforms: &["aui"],
        description: "AUI: log in, then startAIAgentInstance, describeAIAgentInstance three times \
                      (Executing), stopAIAgentInstance",
        build: aui::call_lifecycle,
    },
    ScenarioInfo {
        name: "alibaba-openapi",
        platforms: &["alibaba"],
        description: "Alibaba OpenAPI, V3-signed: RTC StartAgent/GetAgent/UpdateAgent/StopAgent, \
                      ICE Start/Describe/Update/StopAIAgentInstance, GenerateAIAgentCall, \
                      GenerateMessageChatToken",
        build: alibaba::openapi,
    },
    ScenarioInfo {
        name: "duix-session-churn",
        platforms: &["duix"],
        description: "DUIX: checkSig, session WebSocket start, three questions answered through \
                      the webhook, stop; getconcurrentNumber beside it",
        build: duix::session_churn,
    },
    ScenarioInfo {
        name: "duix-webhook",
        platforms: &["webhook"],
        description:
            "DUIX webhook: dh-question requests to a vendor webhook as the platform sends \
                      them, multi-turn conversations with their dh-context (use --rate)",
        build: duix::webhook,
    },
    ScenarioInfo {
        name: "alibaba-llm",
        platforms: &["llm"],
        description: "Alibaba agent's LLM: streamed chat completions to a vendor's LLM as the \
                      platform sends them, multi-turn with the history growing to the 20-record \
                      cap; time to first token and time to the end as their own rows",
        build: alibaba::llm::chat,
    },
    ScenarioInfo {
        name: "http-get",
        platforms: &["http"],
        description: "Any HTTP server: GET the target URL, any 2xx passes (the load generator's \
                      own ceiling, e.g. against a bare server in scripts/bench)",
        build: http::get,
    },
];

/// The scenario named `name`.
pub fn find(name: &str) -> Option<&'static ScenarioInfo> {
    SCENARIOS.iter().find(|s| s.name == name)
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
}

/// The goose scenario `name`, driving the plan's targets.
pub fn build(name: &str, plan: &Arc<Plan>) -> Result<Scenario, ScenarioError> {
    let info = find(name).ok_or_else(|| ScenarioError::Unknown(name.to_string()))?;
    for platform in info.platforms {
        plan.target(platform)?;
    }
    Ok((info.build)(plan))
}

/// A goose transaction running `$step(user, &plan)`, an
/// `async fn(&mut GooseUser, &Plan) -> TransactionResult`, named `$name`.
macro_rules! step {
    ($plan:expr, $name:expr, $step:path) => {{
        let plan = std::sync::Arc::clone($plan);
        goose::goose::Transaction::new(std::sync::Arc::new(move |user| {
            let plan = std::sync::Arc::clone(&plan);
            Box::pin(async move {
                let result = $step(user, &plan).await;
                if result.is_err() {
                    // A step can fail without awaiting anything (a user with no session); goose
                    // starts the next one at once, so yield or the user pins a worker thread.
                    tokio::task::yield_now().await;
                }
                result
            })
        }))
        .set_name($name)
    }};
}
pub(crate) use step;

/// A per-user random source, seeded from the run's seed and the user's index so a run replays.
pub(crate) fn user_rng(plan: &Plan, user: &goose::goose::GooseUser) -> rand::rngs::StdRng {
    use rand::SeedableRng;
    let index = user.weighted_users_index as u64;
    rand::rngs::StdRng::seed_from_u64(plan.seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// An id made of `prefix`, `_` and 12 hex digits from `rng`: valid for every platform's id rules.
pub(crate) fn unique_id(rng: &mut impl rand::Rng, prefix: &str) -> String {
    format!("{prefix}_{:012x}", rng.gen::<u64>() & 0xFFFF_FFFF_FFFF)
}
