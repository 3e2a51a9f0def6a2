//! One user's state for its whole life: its index and random source, its feeder rows and
//! credentials, what its steps captured, its AUI bearer token, its DUIX session WebSocket,
//! webhook conversation and LLM conversation, and what it started and has not stopped yet.
//!
//! goose keeps it as the user's session data; a transaction takes it out while it runs (the
//! steps need the goose user and the state at once) and puts it back.

use super::template::Scope;
use crate::plan::Pair;
use crate::Plan;
use goose::goose::GooseUser;
use rand::rngs::StdRng;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// The session WebSocket.
pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A user's credentials, per platform.
#[derive(Clone, Debug)]
pub struct UserCredentials {
    pub alibaba: Pair,
    pub aui_user: Pair,
    pub duix_app: Pair,
}

/// Something a step started that a later step (or the user's end) must stop.
#[derive(Debug, Clone)]
pub(crate) struct Started {
    /// The operation that stops it.
    pub op: &'static crate::ops::OpInfo,
    /// Its fields, rendered when it was started.
    pub fields: Map<String, Value>,
    /// What identifies it (a task or instance id): a stop of the same id removes it.
    pub id: String,
    /// Started by an on-start step: it lives until the user stops, not only the iteration.
    pub for_life: bool,
}

/// One user's conversation with a vendor webhook.
#[derive(Debug, Default)]
pub(crate) struct Conversation {
    pub id: String,
    pub turns: Vec<(String, String)>,
}

/// One user's conversation with a vendor's LLM, as an Alibaba agent holds it.
#[derive(Debug, Default)]
pub(crate) struct LlmTalk {
    /// The records sent as history, oldest first.
    pub history: Vec<protocol::alibaba::llm::Message>,
    /// Turns so far in this conversation.
    pub turns: usize,
    /// Its instance, channel and sentence.
    pub extend: protocol::alibaba::llm::ExtendData,
}

/// Everything one user keeps.
pub struct UserState {
    /// Its index among all users of the run (a worker's users continue after the others').
    pub index: u64,
    /// Its fixed id, `user_` and 12 hex digits.
    pub user_id: String,
    pub(crate) rng: StdRng,
    /// Captured values, by name.
    pub captures: HashMap<String, Value>,
    /// Its row of each feeder, by feeder name.
    pub(crate) rows: HashMap<String, HashMap<String, Value>>,
    pub credentials: UserCredentials,
    /// The AUI bearer token of its login.
    pub(crate) aui_token: Option<String>,
    pub(crate) socket: Option<Socket>,
    pub(crate) conversation: Conversation,
    pub(crate) llm: LlmTalk,
    /// Started and not stopped yet, oldest first.
    pub(crate) started: Vec<Started>,
    /// Whether on-start steps are running (what they start lives until the user stops).
    pub(crate) starting: bool,
    pub(crate) plan: Arc<Plan>,
}

impl UserState {
    /// Whether the user has started something that `id` names and not stopped it.
    pub(crate) fn forget(&mut self, id: &str) {
        self.started.retain(|s| s.id != id);
    }

    /// Remembers `started` until it is stopped.
    pub(crate) fn remember(&mut self, mut started: Started) {
        started.for_life = self.starting;
        self.forget(&started.id.clone());
        self.started.push(started);
    }
}

impl Scope for UserState {
    fn capture(&self, name: &str) -> Option<&Value> {
        self.captures.get(name)
    }

    fn feeder(&self, feeder: &str, column: &str) -> Option<&Value> {
        self.rows.get(feeder)?.get(column)
    }

    fn target(&self, platform: &str) -> Option<&str> {
        let targets = &self.plan.targets;
        match platform {
            "alibaba" => targets.alibaba.as_deref(),
            "aui" => targets.aui.as_deref(),
            "duix" => targets.duix.as_deref(),
            "webhook" => targets.webhook.as_deref(),
            "llm" => targets.llm.as_deref(),
            "http" => targets.http.as_deref(),
            _ => None,
        }
    }

    fn user(&self) -> u64 {
        self.index
    }

    fn user_id(&self) -> &str {
        &self.user_id
    }

    fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }
}

/// The goose session data holding the state; empty while a transaction has it out.
pub(crate) struct Slot(pub Option<Box<UserState>>);

/// goose wants session data `Sync`; the state is only ever used by the one task that has it
/// out of its slot, so the mutex is never contended.
pub(crate) struct SyncSlot(std::sync::Mutex<Slot>);

/// goose clones session data only when it copies a user; a copy starts with no state of its own
/// and makes one on its first step.
impl Clone for SyncSlot {
    fn clone(&self) -> Self {
        SyncSlot(std::sync::Mutex::new(Slot(None)))
    }
}

impl SyncSlot {
    pub(crate) fn new(state: Box<UserState>) -> SyncSlot {
        SyncSlot(std::sync::Mutex::new(Slot(Some(state))))
    }
}

/// Takes the user's state out of goose's session data, if it has one.
pub(crate) fn take(user: &mut GooseUser) -> Option<Box<UserState>> {
    let slot = user.get_session_data_mut::<SyncSlot>()?;
    slot.0.get_mut().unwrap_or_else(|e| e.into_inner()).0.take()
}

/// Puts the state back.
pub(crate) fn put(user: &mut GooseUser, state: Box<UserState>) {
    match user.get_session_data_mut::<SyncSlot>() {
        Some(slot) => slot.0.get_mut().unwrap_or_else(|e| e.into_inner()).0 = Some(state),
        None => user.set_session_data(SyncSlot::new(state)),
    }
}
