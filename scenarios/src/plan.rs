//! What a scenario needs from the command that runs it: where each platform is, the credentials
//! to sign with, where samples go, the schedule (`--rate`), the timeout and the seed.
//!
//! Built once before the attack, shared by every user behind an `Arc`.

use crate::schedule::Schedule;
use crate::sink::Sink;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An id and its secret: an AccessKey, a login, an app and its key.
#[derive(Clone, PartialEq, Eq)]
pub struct Pair {
    /// The public half: AccessKey id, user name, app id.
    pub id: String,
    /// The secret half: AccessKey secret, password, app key.
    pub secret: String,
}

impl Pair {
    /// A pair from its two halves.
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Pair {
        Pair {
            id: id.into(),
            secret: secret.into(),
        }
    }
}

/// The secret never reaches a log.
impl fmt::Debug for Pair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pair({}:***)", self.id)
    }
}

/// Base URLs (no trailing slash) of the platforms a scenario drives.
#[derive(Clone, Debug, Default)]
pub struct Targets {
    /// The Alibaba OpenAPI (RTC and ICE).
    pub alibaba: Option<String>,
    /// The AUI Kits app server.
    pub aui: Option<String>,
    /// DUIX openapi-v2.
    pub duix: Option<String>,
    /// A DUIX vendor webhook (the `duix-webhook` scenario).
    pub webhook: Option<String>,
    /// A vendor's LLM base URL, as an Alibaba agent is configured with it (`llm.chat`, the
    /// `alibaba-llm` scenario; `/chat/completions` is appended).
    pub llm: Option<String>,
    /// Any HTTP server (the `http-get` scenario: the load generator's own ceiling).
    pub http: Option<String>,
}

/// The credentials scenarios sign with.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// Alibaba AccessKey, V3-signs every OpenAPI call.
    pub alibaba: Pair,
    /// AUI login, once per user (under `aui_auth` login).
    pub aui_user: Pair,
    /// How AUI requests authenticate (`--aui-auth`): a login per user, a given bearer, fixed
    /// headers, or nothing.
    pub aui_auth: protocol::request::aui::auth::AuiAuth,
    /// DUIX app: its key signs the JWTs.
    pub duix_app: Pair,
    /// `Authorization: Bearer` the vendor webhook expects, if any.
    pub webhook_bearer: Option<String>,
    /// The DUIX customer id (`sid`) and digital human (`dh-code`) the DUIX scenarios use.
    pub duix_dialogue: Dialogue,
    /// `Authorization: Bearer` the vendor's LLM expects, if any (`llm.chat`).
    pub llm_api_key: Option<String>,
    /// The `model` the `llm.chat` calls name.
    pub llm_model: String,
}

impl Credentials {
    /// The embedded mocks' documented demo credentials (`agentproof mock` prints them): for a
    /// run against mocks started with their defaults.
    pub fn demo() -> Credentials {
        Credentials {
            alibaba: Pair::new("LTAI5tAgentproofDemoKey", "AgentproofDemoSecret0123456789"),
            aui_user: Pair::new("demo", "demo"),
            aui_auth: Default::default(),
            duix_app: Pair::new("1234567890", "agentproof-duix-demo-key"),
            webhook_bearer: None,
            duix_dialogue: Dialogue::default(),
            llm_api_key: Some("agentproof-llm-demo-key".into()),
            llm_model: "agentproof".into(),
        }
    }
}

/// Which DUIX dialogue a session or webhook question belongs to.
#[derive(Clone, Debug)]
pub struct Dialogue {
    /// The customer id the platform sends as `sid`.
    pub sid: String,
    /// The digital human's code: a session's `conversationId`, the webhook's `dh-code`.
    pub dh_code: String,
}

impl Default for Dialogue {
    /// The seed's example customer and digital human (the embedded DUIX routes any code).
    fn default() -> Self {
        Dialogue {
            sid: "100003".into(),
            dh_code: "187265485019156480".into(),
        }
    }
}

/// Everything a scenario's users share.
pub struct Plan {
    /// Where the platforms are.
    pub targets: Targets,
    /// What to sign with.
    pub credentials: Credentials,
    /// Where every timed answer goes.
    pub sink: Arc<dyn Sink>,
    /// `--rate`: when each request is due; `None` sends as fast as the users go.
    pub schedule: Option<Schedule>,
    /// Per-request timeout: a request still unanswered then is recorded at this time.
    pub timeout: Duration,
    /// Seeds every random choice (user ids, questions), so a run replays.
    pub seed: u64,
    /// No request is sent after this (the planned end of the run): a journey cut by the end
    /// stops between its steps instead of running on against a slow target.
    pub deadline: Option<Instant>,
    /// The index of this process's first user among all users of the run (a worker's share
    /// starts after the earlier workers'): `{{ user }}` and the random sources count from it.
    pub first_user: u64,
}

impl Plan {
    /// Whether the run is ending: Ctrl-C (goose's killswitch) or the deadline passed. Requests
    /// not yet sent then are not sent, and count nowhere.
    pub fn stopping(&self) -> bool {
        goose::is_killswitch_triggered() || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    /// Waits for the user's slot under a schedule; `Ok(None)` without one. `Err` when the run
    /// is stopping: the request is not to be sent.
    pub async fn slot(&self, user: usize) -> Result<Option<Instant>, crate::exchange::Failure> {
        if self.stopping() {
            return Err(crate::exchange::stopped());
        }
        match &self.schedule {
            None => Ok(None),
            Some(schedule) => match schedule.wait_turn(user, || self.stopping()).await {
                Some(due) => Ok(Some(due)),
                None => Err(crate::exchange::stopped()),
            },
        }
    }

    /// The base URL of `platform`, or why the scenario cannot run.
    pub fn target(&self, platform: &'static str) -> Result<&str, crate::ScenarioError> {
        let url = match platform {
            "alibaba" => &self.targets.alibaba,
            "aui" => &self.targets.aui,
            "duix" => &self.targets.duix,
            "http" => &self.targets.http,
            "llm" => &self.targets.llm,
            _ => &self.targets.webhook,
        };
        url.as_deref()
            .ok_or(crate::ScenarioError::MissingTarget(platform))
    }
}
