//! AUI Kits app server scenarios: `aui-token-storm` and `aui-call-lifecycle`.
//!
//! Requests authenticate as the plan's [`AuiAuth`] says: under `login` each user logs in once
//! (`set_on_start`) and keeps its bearer token in its session; a given bearer, fixed headers or
//! nothing need no login. Every answer must be HTTP 200 with the envelope's `code` 200 and match
//! its schema.

use crate::exchange::{send, Expect, Failure, ANY_JSON};
use crate::{step, unique_id, user_rng, Plan};
use goose::goose::{GooseUser, Scenario, TransactionError, TransactionResult};
use protocol::request::aui;
use protocol::request::aui::auth::AuiAuth;
use rand::rngs::StdRng;
use serde_json::{json, Value};
use std::sync::Arc;

/// What a user keeps between transactions.
#[derive(Clone)]
struct Session {
    /// The bearer token of its login (under `login`).
    token: Option<String>,
    user_id: String,
    rng: StdRng,
}

/// A login on start, when the auth is one.
fn with_login(scenario: Scenario, plan: &Arc<Plan>) -> Scenario {
    match plan.credentials.aui_auth.login() {
        Some(_) => scenario.register_transaction(step!(plan, "login", login).set_on_start()),
        None => scenario,
    }
}

/// Log in once (under `login`), then a 3:1 mix of getRtcAuthToken and generateMessageChatToken.
pub fn token_storm(plan: &Arc<Plan>) -> Scenario {
    let rtc = step!(plan, "getRtcAuthToken", rtc_auth_token)
        .set_weight(3)
        .expect("a positive weight");
    let chat = step!(plan, "generateMessageChatToken", message_chat_token);
    with_login(Scenario::new("aui-token-storm"), plan)
        .register_transaction(rtc)
        .register_transaction(chat)
}

/// Log in once (under `login`), then start an AI-agent instance, describe it three times, stop it.
pub fn call_lifecycle(plan: &Arc<Plan>) -> Scenario {
    let call = step!(plan, "call", call);
    with_login(Scenario::new("aui-call-lifecycle"), plan).register_transaction(call)
}

/// `code` 200 in the envelope: the AUI server's success.
fn code_200(body: &Value) -> Result<(), String> {
    match body.get("code") {
        Some(code) if code == 200 => Ok(()),
        other => Err(format!("envelope code {other:?}, expected 200")),
    }
}

fn ok(schema: &'static str) -> Expect<'static> {
    Expect {
        status: 200,
        schema,
        success: &code_200,
        sse_event: None,
    }
}

/// How long a user waits after a failed login before it tries again: a refused login costs
/// one request a second per user, not a busy loop.
const LOGIN_RETRY: std::time::Duration = std::time::Duration::from_secs(1);

async fn login(user: &mut GooseUser, plan: &Plan) -> TransactionResult {
    let auth = &plan.credentials.aui_auth;
    let token = match auth.login() {
        Some(login) => Some(log_in(user, plan, auth, login).await?),
        None => None,
    };
    let mut rng = user_rng(plan, user);
    let user_id = unique_id(&mut rng, "user");
    user.set_session_data(Session {
        token,
        user_id,
        rng,
    });
    Ok(())
}

/// POSTs the login; the token of its answer. Our own route's answer must match
/// `aui/login.response`, another's hold a token at its pointer.
async fn log_in(
    user: &mut GooseUser,
    plan: &Plan,
    auth: &AuiAuth,
    login: &aui::auth::Login,
) -> Result<String, Failure> {
    let base = plan.target("aui").map_err(custom)?;
    let creds = &plan.credentials.aui_user;
    let request = login.request(auth, &creds.id, &creds.secret);
    let has_token = |body: &Value| match login.token(body) {
        Some(_) => Ok(()),
        None => Err(format!("no token at {}", login.token_pointer)),
    };
    let theirs = Expect {
        status: 200,
        schema: ANY_JSON,
        success: &has_token,
        sse_event: None,
    };
    let expect = match login.is_ours() {
        true => ok("aui/login.response"),
        false => theirs,
    };
    match send(user, plan, base, request, &expect).await {
        Ok(answer) => Ok(login.token(&answer).unwrap_or_default().to_string()),
        Err(failure) => {
            tokio::time::sleep(LOGIN_RETRY).await;
            Err(failure)
        }
    }
}

/// The user's session; a user without one (its login at start failed, or there is no login)
/// makes it first.
async fn session<'u>(user: &'u mut GooseUser, plan: &Plan) -> Result<&'u mut Session, Failure> {
    if user.get_session_data::<Session>().is_none() {
        login(user, plan).await?;
    }
    user.get_session_data_mut::<Session>()
        .ok_or_else(|| custom("not logged in"))
}

/// A JSON POST with the configured auth (the session's token under `login`).
async fn post(
    user: &mut GooseUser,
    plan: &Plan,
    path: &str,
    body: Value,
    expect: &Expect<'_>,
) -> Result<Value, Failure> {
    let base = plan.target("aui").map_err(custom)?;
    let token = session(user, plan).await?.token.clone();
    let body = body.to_string().into_bytes();
    let request = plan.credentials.aui_auth.post(path, body, token.as_deref());
    send(user, plan, base, request, expect).await
}

async fn rtc_auth_token(user: &mut GooseUser, plan: &Plan) -> TransactionResult {
    let s = session(user, plan).await?;
    let body = json!({"user_id": s.user_id, "channel_id": unique_id(&mut s.rng, "ch")});
    let expect = ok("aui/getRtcAuthToken.response");
    post(user, plan, aui::GET_RTC_AUTH_TOKEN, body, &expect).await?;
    Ok(())
}

async fn message_chat_token(user: &mut GooseUser, plan: &Plan) -> TransactionResult {
    let s = session(user, plan).await?;
    let body = json!({
        "ai_agent_id": "agent_load",
        "user_id": s.user_id,
        "role": "admin",
        "expire": 1800,
    });
    let expect = ok("aui/generateMessageChatToken.response");
    post(user, plan, aui::GENERATE_MESSAGE_CHAT_TOKEN, body, &expect).await?;
    Ok(())
}

/// The instance `status` the journey expects at a step.
fn status_is(body: &Value, want: &str) -> Result<(), String> {
    code_200(body)?;
    match body.get("status").and_then(Value::as_str) {
        Some(status) if status == want => Ok(()),
        other => Err(format!("instance status {other:?}, expected {want}")),
    }
}

async fn call(user: &mut GooseUser, plan: &Plan) -> TransactionResult {
    let user_id = session(user, plan).await?.user_id.clone();
    let start = json!({"user_id": user_id, "workflow_type": "VoiceChat"});
    let expect = ok("aui/startAIAgentInstance.response");
    let started = post(user, plan, aui::START_AI_AGENT_INSTANCE, start, &expect).await?;
    let id = started["ai_agent_instance_id"].clone();
    let described = describe_three_times(user, plan, &user_id, &id).await;
    // Stop what was started even when a describe failed: a real cloud bills running agents.
    let stop = json!({"ai_agent_instance_id": id});
    let expect = ok("aui/stopAIAgentInstance.response");
    let stopped = post(user, plan, aui::STOP_AI_AGENT_INSTANCE, stop, &expect).await;
    described?;
    stopped?;
    Ok(())
}

async fn describe_three_times(
    user: &mut GooseUser,
    plan: &Plan,
    user_id: &str,
    id: &Value,
) -> TransactionResult {
    let executing = |body: &Value| status_is(body, "Executing");
    let describe = Expect {
        status: 200,
        schema: "aui/describeAIAgentInstance.response",
        success: &executing,
        sse_event: None,
    };
    for _ in 0..3 {
        let body = json!({"user_id": user_id, "ai_agent_instance_id": id});
        post(user, plan, aui::DESCRIBE_AI_AGENT_INSTANCE, body, &describe).await?;
    }
    Ok(())
}

/// A transaction error with a reason, for failures that are not an answer.
pub(crate) fn custom(why: impl std::fmt::Display) -> Failure {
    Box::new(TransactionError::Custom(why.to_string()))
}
