//! AUI Kits app server operations (`aui.<route>`): JSON POSTs under `/api/v2/aiagent/`,
//! authenticated as `--aui-auth` says: under `login` (the default) with the bearer token of the
//! user's login (a step that needs it logs in first by itself when the user has none; a refused
//! login is waited on for a second, not retried in a busy loop), or with a given bearer, fixed
//! headers, or nothing.
//! Every answer must be HTTP 200 with the envelope's `code` 200 and match its schema. An
//! instance a step starts is stopped when the iteration (or, started on start, the user) ends,
//! unless a later step stopped it.

use crate::exchange::{send_paced, Failure};
use crate::journey::user::Started;
use crate::ops::{self, Call};
use protocol::request::aui;
use serde_json::{Map, Value};

/// How long a user waits after a failed login before it tries again: a refused login costs
/// one request a second per user, not a busy loop.
const LOGIN_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

/// `code` 200 in the envelope: the AUI server's success.
pub fn code_200(body: &Value) -> Result<(), String> {
    match body.get("code") {
        Some(code) if code == 200 => Ok(()),
        other => Err(format!("envelope code {other:?}, expected 200")),
    }
}

/// `aui.login`: logs in as the run's `--aui-auth` login says (its route, body and token
/// pointer), with the fields given (default: the user's credentials), and keeps the bearer token
/// for the AUI steps after it. Under another auth (a bearer, headers, none) it sends nothing.
pub(crate) async fn login(c: &mut Call<'_>, fields: Map<String, Value>) -> Result<Value, Failure> {
    let auth = &c.plan.credentials.aui_auth;
    let Some(login) = auth.login() else {
        return Ok(Value::Null);
    };
    let base = c.plan.target("aui").map_err(ops::custom)?.to_string();
    let creds = &c.state.credentials.aui_user;
    let user = fields.get("username").map_or(creds.id.clone(), ops::text);
    let password = fields
        .get("password")
        .map_or(creds.secret.clone(), ops::text);
    let mut request = login.request(auth, &user, &password);
    if let Some(route) = c.route {
        request.route = route.to_string();
    }
    let extra = c.extra;
    // Our own route's answer is held to its contract; another's must hold a token at its pointer.
    let ours = login.is_ours();
    let has_token = |body: &Value| match login.token(body) {
        Some(_) => Ok(()),
        None => Err(format!("no token at {}", login.token_pointer)),
    };
    let rule = |body: &Value| match ours {
        true => extra.judge(body, 200, code_200),
        false => extra.judge(body, 200, has_token),
    };
    let schema = if ours {
        "aui/login.response"
    } else {
        crate::exchange::ANY_JSON
    };
    let expect = extra.expect(200, schema, &rule);
    match send_paced(c.user, c.plan, &base, request, &expect, c.pace).await {
        Ok(answer) => {
            let token = login.token(&answer).unwrap_or_default().to_string();
            c.state
                .captures
                .insert("aui_token".into(), Value::String(token.clone()));
            c.state.aui_token = Some(token);
            Ok(answer)
        }
        Err(failure) => {
            if c.pace == crate::exchange::Pace::Scheduled {
                tokio::time::sleep(LOGIN_RETRY).await;
            }
            Err(failure)
        }
    }
}

/// An AUI route: `fields` as the JSON body, authenticated as `--aui-auth` says (under `login`
/// with the user's token, logging in first when it has none).
pub(crate) async fn run(
    path: &'static str,
    c: &mut Call<'_>,
    fields: Map<String, Value>,
) -> Result<Value, Failure> {
    let base = c.plan.target("aui").map_err(ops::custom)?.to_string();
    let auth = &c.plan.credentials.aui_auth;
    if auth.login().is_some() && c.state.aui_token.is_none() {
        let extra = crate::journey::Extra::default();
        let mut first = Call {
            user: &mut *c.user,
            plan: c.plan,
            state: &mut *c.state,
            route: None,
            extra: &extra,
            pace: c.pace,
        };
        login(&mut first, Map::new()).await?;
    }
    let body = Value::Object(
        fields
            .into_iter()
            .map(|(k, v)| {
                let v = body_value(&k, v);
                (k, v)
            })
            .collect(),
    );
    let mut request = auth.post(
        path,
        body.to_string().into_bytes(),
        c.state.aui_token.as_deref(),
    );
    if let Some(route) = c.route {
        request.route = route.to_string();
    }
    let schema = schema_of(path);
    let extra = c.extra;
    let rule = |body: &Value| extra.judge(body, 200, code_200);
    let expect = extra.expect(200, schema, &rule);
    let answer = send_paced(c.user, c.plan, &base, request, &expect, c.pace).await?;
    remember(path, c, &body, &answer);
    Ok(answer)
}

/// A field as the AUI server takes it: `expire` a number, the JSON-text fields
/// (`template_config`, `user_data`, `chat_sync_config`) as text when given as a table.
fn body_value(name: &str, value: Value) -> Value {
    match value {
        Value::String(text) if name == "expire" => {
            text.parse::<i64>().map_or(Value::String(text), Value::from)
        }
        Value::Object(_) | Value::Array(_) => Value::String(value.to_string()),
        other => other,
    }
}

/// The instance a route started (to stop it later) or stopped.
fn remember(path: &str, c: &mut Call<'_>, body: &Value, answer: &Value) {
    let started = [
        aui::START_AI_AGENT_INSTANCE,
        "/api/v2/aiagent/startAIAgentInstanceWithChannel",
        "/api/v2/aiagent/generateAIAgentCall",
    ];
    if started.contains(&path) {
        let id = answer["ai_agent_instance_id"].clone();
        c.state
            .captures
            .insert("ai_agent_instance_id".into(), id.clone());
        let fields = Map::from_iter([("ai_agent_instance_id".to_string(), id.clone())]);
        c.state.remember(Started {
            op: ops::find("aui.stopAIAgentInstance").expect("in the catalogue"),
            id: ops::text(&id),
            fields,
            for_life: false,
        });
    } else if path == aui::STOP_AI_AGENT_INSTANCE {
        c.state.forget(&ops::text(&body["ai_agent_instance_id"]));
    }
}

/// `aui/<route>.response` of a path.
fn schema_of(path: &str) -> &'static str {
    match path.rsplit('/').next().unwrap_or_default() {
        "getRtcAuthToken" => "aui/getRtcAuthToken.response",
        "generateMessageChatToken" => "aui/generateMessageChatToken.response",
        "startAIAgentInstance" => "aui/startAIAgentInstance.response",
        "startAIAgentInstanceWithChannel" => "aui/startAIAgentInstanceWithChannel.response",
        "describeAIAgentInstance" => "aui/describeAIAgentInstance.response",
        "updateAIAgentInstance" => "aui/updateAIAgentInstance.response",
        "stopAIAgentInstance" => "aui/stopAIAgentInstance.response",
        _ => "aui/generateAIAgentCall.response",
    }
}
