//! The catalogue of operations a journey's steps name (`op = "aui.getRtcAuthToken"`), and the
//! one call that runs any of them.
//!
//! An operation knows its platform's ways: it signs (Alibaba V3 or V1, a fresh nonce and date
//! each call), logs in (the AUI bearer, once per user, again when needed), mints DUIX JWTs,
//! checks the answer (status, schema, the platform's success rule) and remembers what later
//! steps need (the task it started, the instance id, the session WebSocket) as captures, so a
//! journey names only what it changes. Its fields are the request's own (listed from the
//! request's schema) plus a few options; each has a default, a template
//! ([`crate::journey::template`]). `agentproof load --ops` prints this catalogue.
//!
//! The platform modules ([`crate::alibaba`] and its [`llm`](crate::alibaba::llm), [`crate::aui`],
//! [`crate::duix`], [`crate::webhook`], [`crate::http`]) run them; this module holds the table
//! and the context.

use crate::exchange::Failure;
use crate::journey::user::UserState;
use crate::Plan;
use goose::goose::GooseUser;
use serde_json::{Map, Value};

/// One operation of the catalogue.
#[derive(Debug)]
pub struct OpInfo {
    /// `<platform>.<operation>`, as a step's `op` names it.
    pub name: &'static str,
    /// The target it sends to: `alibaba`, `aui`, `duix`, `webhook`, `llm` or `http`.
    pub platform: &'static str,
    /// What it does, in a line.
    pub summary: &'static str,
    /// The schema whose properties are its fields (`None`: only `options`).
    pub request_schema: Option<&'static str>,
    /// Fields beyond the request's own: `(name, what it means)`.
    pub options: &'static [(&'static str, &'static str)],
    /// Defaults, as templates: `(field, template)`. A field without one is sent only when the
    /// step gives it.
    pub defaults: &'static [(&'static str, &'static str)],
    /// What it captures by itself for later steps, `(capture, from where)`.
    pub captures: &'static [(&'static str, &'static str)],
    /// How it runs.
    pub(crate) kind: Kind,
}

/// How an operation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An Alibaba OpenAPI action.
    Alibaba(&'static str),
    /// The AUI login.
    AuiLogin,
    /// An AUI route, by path.
    Aui(&'static str),
    /// DUIX checkSig.
    DuixCheckSig,
    /// A DUIX v1 GET, by path.
    DuixGet(&'static str),
    /// One exchange on the session WebSocket.
    DuixWs(WsStep),
    /// A whole session: connect, start, questions, stop, close.
    DuixSession,
    /// A dh-question to the vendor webhook.
    WebhookQuestion,
    /// A streamed chat completion to a vendor's LLM, as an Alibaba agent calls it.
    LlmChat,
    /// Any HTTP request.
    HttpRequest,
}

/// The steps of the DUIX session WebSocket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WsStep {
    Connect,
    Start,
    Question,
    Stop,
    Close,
}

/// Why an operation is not in the catalogue, with the nearest names.
pub fn suggest(name: &str) -> Vec<&'static str> {
    let mut scored: Vec<(usize, &'static str)> = CATALOGUE
        .iter()
        .map(|op| {
            (
                distance(&name.to_lowercase(), &op.name.to_lowercase()),
                op.name,
            )
        })
        .collect();
    scored.sort();
    let best = scored.first().map_or(0, |s| s.0);
    scored
        .into_iter()
        .filter(|(d, _)| *d <= best.max(2) + 1 && *d <= name.len() / 2 + 2)
        .take(3)
        .map(|(_, n)| n)
        .collect()
}

/// Levenshtein distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(here + 1);
            previous = here;
        }
    }
    row[b.len()]
}

/// The operation named `name`.
pub fn find(name: &str) -> Option<&'static OpInfo> {
    CATALOGUE.iter().find(|op| op.name == name)
}

impl OpInfo {
    /// Every field a step may give: the request's properties, then the options.
    pub fn fields(&self) -> Vec<(String, String)> {
        let mut fields: Vec<(String, String)> = self
            .request_schema
            .and_then(|name| schemas::registry().get(name))
            .and_then(|schema| schema.document().get("properties")?.as_object().cloned())
            .map(|properties| {
                properties
                    .into_iter()
                    .map(|(name, p)| {
                        let about = p["description"].as_str().unwrap_or_default();
                        (name, about.split_whitespace().collect::<Vec<_>>().join(" "))
                    })
                    .collect()
            })
            .unwrap_or_default();
        fields.extend(
            self.options
                .iter()
                .map(|(n, a)| (n.to_string(), a.to_string())),
        );
        fields
    }

    /// The default template of `field`.
    pub fn default_of(&self, field: &str) -> Option<&'static str> {
        self.defaults
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, d)| *d)
    }

    /// Whether a step may give `field`.
    pub fn has_field(&self, field: &str) -> bool {
        self.fields().iter().any(|(f, _)| f == field)
    }
}

/// The context a step runs in: the goose user, the run's plan, this user's state, and what
/// the step adds to the operation's own checks.
pub struct Call<'a> {
    pub user: &'a mut GooseUser,
    pub plan: &'a Plan,
    pub state: &'a mut UserState,
    /// The step's row in the reports, when it names one.
    pub route: Option<&'a str>,
    /// The step's own expectations.
    pub extra: &'a crate::journey::Extra,
    /// Cleanup and on-stop steps run even as the run ends, outside the schedule.
    pub pace: crate::exchange::Pace,
}

/// Runs `op` with its rendered `fields`; the answer's JSON (the final frame for WebSocket
/// steps, the joined text for a streamed webhook answer).
///
/// Each operation's future is boxed: inline, this one would be as large as the largest of them
/// (the DUIX WebSocket session, the LLM stream), and every request of every step would copy
/// that much memory as the futures holding it are made and moved (a tenth of the time of
/// `http-get` against a bare server went to memmove).
pub(crate) async fn run(
    op: &'static OpInfo,
    call: &mut Call<'_>,
    fields: Map<String, Value>,
) -> Result<Value, Failure> {
    match op.kind {
        Kind::Alibaba(action) => Box::pin(crate::alibaba::run(action, call, fields)).await,
        Kind::AuiLogin => Box::pin(crate::aui::login(call, fields)).await,
        Kind::Aui(path) => Box::pin(crate::aui::run(path, call, fields)).await,
        Kind::DuixCheckSig => Box::pin(crate::duix::check_sig(call, fields)).await,
        Kind::DuixGet(path) => Box::pin(crate::duix::get(path, call, fields)).await,
        Kind::DuixWs(step) => Box::pin(crate::duix::ws(step, call, fields)).await,
        Kind::DuixSession => Box::pin(crate::duix::session(call, fields)).await,
        Kind::WebhookQuestion => Box::pin(crate::webhook::question(call, fields)).await,
        Kind::LlmChat => Box::pin(crate::alibaba::llm::chat(call, fields)).await,
        Kind::HttpRequest => Box::pin(crate::http::request(call, fields)).await,
    }
}

/// A transaction error with a reason, for failures that are not an answer.
pub fn custom(why: impl std::fmt::Display) -> Failure {
    Box::new(goose::goose::TransactionError::Custom(why.to_string()))
}

/// A text field: a JSON string as it is, any other value as JSON.
pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The text of `field` in `fields`, or empty.
pub(crate) fn field(fields: &Map<String, Value>, name: &str) -> String {
    fields.get(name).map(text).unwrap_or_default()
}

/// The Alibaba actions as operations: `alibaba.<Action>`.
macro_rules! alibaba {
    ($action:literal, $summary:literal, $defaults:expr, $captures:expr) => {
        OpInfo {
            name: concat!("alibaba.", $action),
            platform: "alibaba",
            summary: $summary,
            request_schema: Some(concat!("alibaba/", $action, ".request")),
            options: ALIBABA_OPTIONS,
            defaults: $defaults,
            captures: $captures,
            kind: Kind::Alibaba($action),
        }
    };
}

const ALIBABA_OPTIONS: &[(&str, &str)] = &[(
    "sign",
    "v3 (ACS3-HMAC-SHA256, the default, as the current SDKs sign) or v1 (HMAC-SHA1, the older SDKs)",
)];

const RTC_CONFIG: &str =
    r#"{"UserId":"agent_1","TargetUserIds":["user_1"],"UserInactivityTimeout":30}"#;
const VOICE_CHAT_CONFIG: &str = r#"{"ChatMode":1,"InterruptMode":1,"Greeting":"hello","ASRConfig":{"MaxSentenceSilence":800},"TTSConfig":{"Vendor":"aliyun","Model":"cosyvoice-v1","Voice":"longxiaoxia","Volume":50}}"#;
const RUNTIME_CONFIG: &str =
    r#"{"AgentUserId":"agent_1","ChannelId":"channel_1","AuthToken":"token"}"#;

/// The task key the RTC agent operations default to: the one StartAgent started.
const TASK_KEY: &[(&str, &str)] = &[
    ("AppId", "{{ app_id }}"),
    ("ChannelId", "{{ channel_id }}"),
    ("TaskId", "{{ task_id }}"),
];

/// What StartAgent captures: its own key, for GetAgent, UpdateAgent and StopAgent.
const TASK_CAPTURES: &[(&str, &str)] = &[
    ("app_id", "the AppId sent"),
    ("channel_id", "the ChannelId sent"),
    ("task_id", "the TaskId sent"),
];

const INSTANCE_CAPTURE: &[(&str, &str)] = &[("instance_id", "the answer's InstanceId")];

/// Every operation, in the order `agentproof load --ops` lists them.
pub const CATALOGUE: &[OpInfo] = &[
    alibaba!(
        "StartAgent",
        "RTC: start an agent task in a channel",
        &[
            ("AppId", "{{ id(app) }}"),
            ("ChannelId", "{{ id(ch) }}"),
            ("TaskId", "{{ id(task) }}"),
            ("TemplateId", "tpl_1"),
            ("RtcConfig", RTC_CONFIG),
            ("VoiceChatConfig", VOICE_CHAT_CONFIG),
        ],
        TASK_CAPTURES
    ),
    alibaba!(
        "GetAgent",
        "RTC: read an agent task (Status \"1\" while it runs)",
        TASK_KEY,
        &[]
    ),
    alibaba!(
        "UpdateAgent",
        "RTC: change a running task's voice chat",
        &[
            ("AppId", "{{ app_id }}"),
            ("ChannelId", "{{ channel_id }}"),
            ("TaskId", "{{ task_id }}"),
            ("VoiceChatConfig", r#"{"InterruptMode":2}"#),
        ],
        &[]
    ),
    alibaba!("StopAgent", "RTC: stop an agent task", TASK_KEY, &[]),
    alibaba!(
        "StartAIAgentInstance",
        "ICE: start an AI-agent instance",
        &[("AIAgentId", "agent_load"), ("RuntimeConfig", RUNTIME_CONFIG)],
        INSTANCE_CAPTURE
    ),
    alibaba!(
        "DescribeAIAgentInstance",
        "ICE: read an instance (Instance.Status Executing while it runs)",
        &[("InstanceId", "{{ instance_id }}")],
        &[]
    ),
    alibaba!(
        "UpdateAIAgentInstance",
        "ICE: change a running instance's template",
        &[
            ("InstanceId", "{{ instance_id }}"),
            ("TemplateConfig", r#"{"VoiceChat":{"Greeting":"hi again"}}"#),
        ],
        &[]
    ),
    alibaba!(
        "StopAIAgentInstance",
        "ICE: stop an instance",
        &[("InstanceId", "{{ instance_id }}")],
        &[]
    ),
    alibaba!(
        "GenerateAIAgentCall",
        "ICE: an instance and the token a client joins its call with",
        &[
            ("AIAgentId", "agent_load"),
            ("Expire", "600"),
            ("UserId", "{{ user_id }}"),
        ],
        INSTANCE_CAPTURE
    ),
    alibaba!(
        "GenerateMessageChatToken",
        "ICE: a message-chat token",
        &[
            ("AIAgentId", "agent_load"),
            ("UserId", "{{ user_id }}"),
            ("Role", "admin"),
            ("Expire", "1800"),
        ],
        &[]
    ),
    OpInfo {
        name: "aui.login",
        platform: "aui",
        summary: "AUI: log in; later AUI steps carry its bearer token (a step needing one logs in first by itself)",
        request_schema: Some("aui/login.request"),
        options: &[],
        defaults: &[],
        captures: &[("aui_token", "the bearer token")],
        kind: Kind::AuiLogin,
    },
    OpInfo {
        name: "aui.getRtcAuthToken",
        platform: "aui",
        summary: "AUI: an ARTC token for a channel",
        request_schema: Some("aui/getRtcAuthToken.request"),
        options: &[],
        defaults: &[("user_id", "{{ user_id }}"), ("channel_id", "{{ id(ch) }}")],
        captures: &[],
        kind: Kind::Aui(protocol::request::aui::GET_RTC_AUTH_TOKEN),
    },
    OpInfo {
        name: "aui.generateMessageChatToken",
        platform: "aui",
        summary: "AUI: a message-chat token (an ICE call upstream)",
        request_schema: Some("aui/generateMessageChatToken.request"),
        options: &[],
        defaults: &[
            ("ai_agent_id", "agent_load"),
            ("user_id", "{{ user_id }}"),
            ("role", "admin"),
            ("expire", "1800"),
        ],
        captures: &[],
        kind: Kind::Aui(protocol::request::aui::GENERATE_MESSAGE_CHAT_TOKEN),
    },
    OpInfo {
        name: "aui.startAIAgentInstance",
        platform: "aui",
        summary: "AUI: start an AI-agent instance (upstream)",
        request_schema: Some("aui/startAIAgentInstance.request"),
        options: &[],
        defaults: &[("user_id", "{{ user_id }}"), ("workflow_type", "VoiceChat")],
        captures: &[("ai_agent_instance_id", "the answer's ai_agent_instance_id")],
        kind: Kind::Aui(protocol::request::aui::START_AI_AGENT_INSTANCE),
    },
    OpInfo {
        name: "aui.startAIAgentInstanceWithChannel",
        platform: "aui",
        summary: "AUI: start an AI-agent instance in a given channel (upstream)",
        request_schema: Some("aui/startAIAgentInstanceWithChannel.request"),
        options: &[],
        defaults: &[
            ("user_id", "{{ user_id }}"),
            ("ai_agent_id", "agent_load"),
            ("channel_id", "{{ id(ch) }}"),
            ("workflow_type", "VoiceChat"),
            ("region", "cn-shanghai"),
        ],
        captures: &[("ai_agent_instance_id", "the answer's ai_agent_instance_id")],
        kind: Kind::Aui(AUI_START_WITH_CHANNEL),
    },
    OpInfo {
        name: "aui.describeAIAgentInstance",
        platform: "aui",
        summary: "AUI: read an instance (status Executing while it runs)",
        request_schema: Some("aui/describeAIAgentInstance.request"),
        options: &[],
        defaults: &[
            ("user_id", "{{ user_id }}"),
            ("ai_agent_instance_id", "{{ ai_agent_instance_id }}"),
        ],
        captures: &[],
        kind: Kind::Aui(protocol::request::aui::DESCRIBE_AI_AGENT_INSTANCE),
    },
    OpInfo {
        name: "aui.updateAIAgentInstance",
        platform: "aui",
        summary: "AUI: change a running instance's template (upstream)",
        request_schema: Some("aui/updateAIAgentInstance.request"),
        options: &[],
        defaults: &[
            ("user_id", "{{ user_id }}"),
            ("ai_agent_instance_id", "{{ ai_agent_instance_id }}"),
            ("template_config", r#"{"VoiceChat":{"Greeting":"hi again"}}"#),
        ],
        captures: &[],
        kind: Kind::Aui(AUI_UPDATE),
    },
    OpInfo {
        name: "aui.stopAIAgentInstance",
        platform: "aui",
        summary: "AUI: stop an instance (upstream)",
        request_schema: Some("aui/stopAIAgentInstance.request"),
        options: &[],
        defaults: &[("ai_agent_instance_id", "{{ ai_agent_instance_id }}")],
        captures: &[],
        kind: Kind::Aui(protocol::request::aui::STOP_AI_AGENT_INSTANCE),
    },
    OpInfo {
        name: "aui.generateAIAgentCall",
        platform: "aui",
        summary: "AUI: an instance and the token a client joins its call with (upstream)",
        request_schema: Some("aui/generateAIAgentCall.request"),
        options: &[],
        defaults: &[
            ("user_id", "{{ user_id }}"),
            ("ai_agent_id", "agent_load"),
            ("template_config", "{}"),
            ("expire", "600"),
        ],
        captures: &[("ai_agent_instance_id", "the answer's ai_agent_instance_id")],
        kind: Kind::Aui(AUI_GENERATE_CALL),
    },
    OpInfo {
        name: "duix.checkSig",
        platform: "duix",
        summary: "DUIX: check the app's token; the answer names the session WebSocket",
        request_schema: Some("duix/checkSig.request"),
        options: &[],
        defaults: &[],
        captures: &[("ws_url", "the answer's data.wsService")],
        kind: Kind::DuixCheckSig,
    },
    OpInfo {
        name: "duix.getconcurrentNumber",
        platform: "duix",
        summary: "DUIX: the app's sessions in use and its quota",
        request_schema: Some("duix/getconcurrentNumber.request"),
        options: &[],
        defaults: &[],
        captures: &[],
        kind: Kind::DuixGet(protocol::request::duix::GET_CONCURRENT_NUMBER),
    },
    OpInfo {
        name: "duix.getconcurrentList",
        platform: "duix",
        summary: "DUIX: the app's sessions in a call",
        request_schema: Some("duix/getconcurrentList.request"),
        options: &[],
        defaults: &[],
        captures: &[],
        kind: Kind::DuixGet(DUIX_LIST),
    },
    OpInfo {
        name: "duix.distroyCallSessionsByAppId",
        platform: "duix",
        summary: "DUIX: close every session of the app (the platform's own spelling)",
        request_schema: Some("duix/distroyCallSessionsByAppId.request"),
        options: &[],
        defaults: &[],
        captures: &[],
        kind: Kind::DuixGet(DUIX_DESTROY_ALL),
    },
    OpInfo {
        name: "duix.sessionStop",
        platform: "duix",
        summary: "DUIX: stop a session by its id (start-complete's sessionId)",
        request_schema: Some("duix/sessionStop.request"),
        options: &[],
        defaults: &[("uuid", "{{ session_id }}")],
        captures: &[],
        kind: Kind::DuixGet(DUIX_SESSION_STOP),
    },
    OpInfo {
        name: "duix.ws.connect",
        platform: "duix",
        summary: "DUIX: open the session WebSocket (the last checkSig's wsService)",
        request_schema: None,
        options: &[("url", "the WebSocket URL")],
        defaults: &[("url", "{{ ws_url }}")],
        captures: &[],
        kind: Kind::DuixWs(WsStep::Connect),
    },
    OpInfo {
        name: "duix.ws.start",
        platform: "duix",
        summary: "DUIX: start the session, until start-complete",
        request_schema: None,
        options: &[
            ("conversationId", "the digital human's code (--dh-code)"),
            ("userId", "the user's id in the session"),
        ],
        defaults: &[("userId", "{{ id(conv) }}")],
        captures: &[("session_id", "start-complete's sessionId")],
        kind: Kind::DuixWs(WsStep::Start),
    },
    OpInfo {
        name: "duix.ws.question",
        platform: "duix",
        summary: "DUIX: ask a question, until the answer's isEnd (through the vendor webhook)",
        request_schema: None,
        options: &[("text", "the question (default: one of a varied built-in set)")],
        defaults: &[],
        captures: &[],
        kind: Kind::DuixWs(WsStep::Question),
    },
    OpInfo {
        name: "duix.ws.stop",
        platform: "duix",
        summary: "DUIX: stop the session, until bye client-stop",
        request_schema: None,
        options: &[],
        defaults: &[],
        captures: &[],
        kind: Kind::DuixWs(WsStep::Stop),
    },
    OpInfo {
        name: "duix.ws.close",
        platform: "duix",
        summary: "DUIX: close the WebSocket (not timed)",
        request_schema: None,
        options: &[],
        defaults: &[],
        captures: &[],
        kind: Kind::DuixWs(WsStep::Close),
    },
    OpInfo {
        name: "duix.session",
        platform: "duix",
        summary: "DUIX: a whole session on the last checkSig's WebSocket: connect, start, questions, stop, close",
        request_schema: None,
        options: &[
            ("questions", "how many questions (3)"),
            ("conversationId", "the digital human's code (--dh-code)"),
            ("userId", "the user's id in the session"),
        ],
        defaults: &[("questions", "3"), ("userId", "{{ id(conv) }}")],
        captures: &[],
        kind: Kind::DuixSession,
    },
    OpInfo {
        name: "webhook.question",
        platform: "webhook",
        summary: "DUIX webhook: a dh-question as the platform sends it, in multi-turn conversations with their dh-context",
        request_schema: None,
        options: &[
            ("question", "the question (default: one of a varied built-in set)"),
            ("turns", "turns of a conversation before a new one starts (5)"),
            ("sid", "the customer id (--sid)"),
            ("dh-code", "the digital human's code (--dh-code)"),
        ],
        defaults: &[("turns", "5")],
        captures: &[],
        kind: Kind::WebhookQuestion,
    },
    OpInfo {
        name: "llm.chat",
        platform: "llm",
        summary: "An Alibaba agent's LLM: a streamed chat completion as the platform sends it, in conversations whose history grows to the 20-record cap; rows `<row> ttft` (first content token) and `<row> end` (data: [DONE])",
        request_schema: None,
        options: &[
            ("utterance", "what the user says (default: one of a built-in set, Chinese and English)"),
            ("turns", "turns of a conversation before a new one starts (10)"),
            ("prompt", "the system prompt (the agent's Prompt / LlmSystemPrompt)"),
            ("history_depth", "rounds of history sent (HistoryDepth / LlmHistoryLimit, 10)"),
            ("model", "the model named (--llm-model)"),
        ],
        defaults: &[("turns", "10"), ("history_depth", "10")],
        captures: &[],
        kind: Kind::LlmChat,
    },
    OpInfo {
        name: "http.request",
        platform: "http",
        summary: "Any HTTP request; 2xx-status checks and JSON pointers by `expect`",
        request_schema: None,
        options: &[
            ("method", "GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS"),
            ("url", "an absolute URL, or a path after the http target"),
            ("headers", "a table of header names and values"),
            ("body", "text as it is, or a table sent as JSON"),
            ("schema", "a contract the answer must meet (agentproof schemas lists them), or \"json\" for any JSON"),
            ("status", "the status a good answer has (200)"),
        ],
        defaults: &[("method", "GET"), ("url", "{{ target.http }}"), ("status", "200")],
        captures: &[],
        kind: Kind::HttpRequest,
    },
];

const AUI_START_WITH_CHANNEL: &str = "/api/v2/aiagent/startAIAgentInstanceWithChannel";
const AUI_UPDATE: &str = "/api/v2/aiagent/updateAIAgentInstance";
const AUI_GENERATE_CALL: &str = "/api/v2/aiagent/generateAIAgentCall";
const DUIX_LIST: &str = "/duix-openapi-v2/v1/getconcurrentList";
const DUIX_SESSION_STOP: &str = "/duix-openapi-v2/v1/sessionStop";
const DUIX_DESTROY_ALL: &str = "/duix-openapi-v2/v1/distroyCallSessionsByAppId";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_is_named_for_its_platform_and_its_schema_exists() {
        for op in CATALOGUE {
            assert!(
                op.name.starts_with(&format!("{}.", op.platform)),
                "{}",
                op.name
            );
            if let Some(schema) = op.request_schema {
                assert!(schemas::registry().get(schema).is_some(), "{schema}");
            }
            for (field, _) in op.defaults {
                assert!(
                    op.has_field(field),
                    "{}: default of unknown field {field}",
                    op.name
                );
            }
            assert_eq!(find(op.name).map(|o| o.name), Some(op.name));
        }
    }

    #[test]
    fn a_misspelt_operation_gets_the_nearest_names() {
        assert_eq!(suggest("aui.getRtcAuthTokn")[0], "aui.getRtcAuthToken");
        assert_eq!(suggest("alibaba.startagent")[0], "alibaba.StartAgent");
        assert!(suggest("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz").is_empty());
    }
}
