//! What the Alibaba mock remembers between requests: RTC agent tasks and ICE AI-agent instances.
//!
//! Both live in a [`Bounded`] map behind the one lock of [`super::Alibaba`]; the virtual clock
//! gives every time stored here. Memory is bounded: at `[alibaba] max_agent_tasks` /
//! `max_ai_agent_instances` entries (by default [`MAX_AGENT_TASKS`] /
//! [`MAX_AI_AGENT_INSTANCES`]), a new one pushes out the oldest *finished* entry, or, when every
//! entry is still running, the oldest one (a long soak should not turn into refusals; a
//! warning is logged because a client may still hold that id, and it will get `NotFound`).
//!
//! Each task and instance keeps its [`Conversation`] with its LLM (history and call log, bounded
//! on its own), so a conversation goes when its agent is evicted or reset.
//!
//! Status words: a task is `Status "1"` while running and `"2"` once stopped (GetAgent; the SDK
//! model only says "string", and these are the values the console shows); an instance is
//! `Executing` until StopAIAgentInstance, then `Finished`.

use super::llm::conversation::Conversation;
use protocol::alibaba::ApiError;
use serde_json::{Map, Value};
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

/// Most agent tasks kept, unless configured.
pub const MAX_AGENT_TASKS: usize = 10_000;
/// Most AI-agent instances kept, unless configured.
pub const MAX_AI_AGENT_INSTANCES: usize = 10_000;

/// What can be pushed out first.
pub trait Finished {
    fn is_finished(&self) -> bool;
}

/// A map with a size cap that evicts finished entries first, oldest first.
#[derive(Debug)]
pub struct Bounded<K, V> {
    capacity: usize,
    map: HashMap<K, V>,
    /// Keys in insertion order.
    order: VecDeque<K>,
}

impl<K: Hash + Eq + Clone + std::fmt::Debug, V: Finished> Bounded<K, V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            map: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Inserts or replaces; a new key at capacity evicts one entry first.
    pub fn insert(&mut self, key: K, value: V) {
        if let Some(slot) = self.map.get_mut(&key) {
            *slot = value;
            return;
        }
        if self.map.len() >= self.capacity {
            self.evict_one();
        }
        self.order.push_back(key.clone());
        self.map.insert(key, value);
    }

    fn evict_one(&mut self) {
        // O(n) only when full; n is the cap (10 000), fine for a mock.
        let finished = self
            .order
            .iter()
            .position(|k| self.map.get(k).is_some_and(Finished::is_finished));
        let index = finished.unwrap_or(0);
        if let Some(key) = self.order.remove(index) {
            if finished.is_none() {
                tracing::warn!("state full: evicting running entry {key:?}");
            }
            self.map.remove(&key);
        }
    }

    pub fn clear(&mut self) {
        self.map.clear();
        self.order.clear();
    }

    /// Every entry, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.map.iter()
    }
}

/// (AppId, ChannelId, TaskId).
pub type TaskKey = (String, String, String);

/// One RTC agent task.
#[derive(Debug, Clone)]
pub struct AgentTask {
    pub template_id: String,
    pub rtc_config: Value,
    pub voice_chat_config: Map<String, Value>,
    pub start_ms: i64,
    /// `None` while running.
    pub stop_ms: Option<i64>,
    /// What it said with its third-party LLM (`/__admin/agents/{TaskId}/say`).
    pub conversation: Conversation,
}

impl Finished for AgentTask {
    fn is_finished(&self) -> bool {
        self.stop_ms.is_some()
    }
}

/// `Executing` or `Finished`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstanceStatus {
    Executing,
    Finished,
}

impl InstanceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InstanceStatus::Executing => "Executing",
            InstanceStatus::Finished => "Finished",
        }
    }
}

/// One ICE AI-agent instance.
#[derive(Debug, Clone)]
pub struct Instance {
    pub ai_agent_id: String,
    pub status: InstanceStatus,
    pub runtime_config: Map<String, Value>,
    pub template_config: Map<String, Value>,
    pub agent_config: Map<String, Value>,
    pub user_data: String,
    pub session_id: String,
    pub created_ms: i64,
    pub modified_ms: i64,
    /// What it said with its template's LLM (`/__admin/agents/{InstanceId}/say`).
    pub conversation: Conversation,
}

impl Finished for Instance {
    fn is_finished(&self) -> bool {
        self.status == InstanceStatus::Finished
    }
}

/// Everything the mock remembers.
#[derive(Debug)]
pub struct State {
    pub tasks: Bounded<TaskKey, AgentTask>,
    pub instances: Bounded<String, Instance>,
}

impl Default for State {
    fn default() -> Self {
        Self::with_capacity(MAX_AGENT_TASKS, MAX_AI_AGENT_INSTANCES)
    }
}

impl State {
    /// Empty, keeping at most `tasks` agent tasks and `instances` AI-agent instances (at least
    /// one of each).
    pub fn with_capacity(tasks: usize, instances: usize) -> Self {
        Self {
            tasks: Bounded::new(tasks),
            instances: Bounded::new(instances),
        }
    }

    pub fn clear(&mut self) {
        self.tasks.clear();
        self.instances.clear();
    }
}

/// Largest config an entry keeps, as JSON text. Without it each UpdateAgent or
/// UpdateAIAgentInstance could add new keys to the same entry, which would grow without end.
pub const MAX_CONFIG_BYTES: usize = 64 * 1024;

/// `base` with `patch` merged in, refused (naming `param`) when the result is over
/// [`MAX_CONFIG_BYTES`]; `base` itself is untouched, so a refused update changes nothing.
pub fn merged(
    base: &Map<String, Value>,
    patch: Map<String, Value>,
    param: &str,
) -> Result<Map<String, Value>, ApiError> {
    let mut result = base.clone();
    merge(&mut result, patch);
    let size = serde_json::to_vec(&result).map_or(usize::MAX, |v| v.len());
    if size > MAX_CONFIG_BYTES {
        let detail = format!("merged config would be {size} bytes, over {MAX_CONFIG_BYTES}");
        return Err(ApiError::invalid_parameter(param, &detail));
    }
    Ok(result)
}

/// Merges `patch` into `base`: objects field by field, anything else replaced.
pub fn merge(base: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (key, value) in patch {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(inner)), Value::Object(patch_inner)) => merge(inner, patch_inner),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug)]
    struct Item(bool);
    impl Finished for Item {
        fn is_finished(&self) -> bool {
            self.0
        }
    }

    #[test]
    fn a_full_map_evicts_the_oldest_finished_entry_first() {
        let mut map = Bounded::new(3);
        map.insert(1, Item(false));
        map.insert(2, Item(true));
        map.insert(3, Item(true));
        map.insert(4, Item(false));
        assert!(map.get(&2).is_none());
        assert!(map.get(&1).is_some() && map.get(&3).is_some());
        map.insert(5, Item(false));
        map.insert(6, Item(false));
        assert_eq!(map.len(), 3);
        assert!(map.get(&1).is_none(), "all running: the oldest goes");
    }

    #[test]
    fn merge_is_deep_for_objects() {
        let mut base = json!({"A": {"x": 1, "y": 2}, "B": 1})
            .as_object()
            .cloned()
            .unwrap();
        let patch = json!({"A": {"y": 3}, "C": true})
            .as_object()
            .cloned()
            .unwrap();
        merge(&mut base, patch);
        assert_eq!(
            Value::Object(base),
            json!({"A": {"x": 1, "y": 3}, "B": 1, "C": true})
        );
    }
}
