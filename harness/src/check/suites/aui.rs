//! The AUI Kits app server (v2.2.0 routes, bearer login): contract, error codes, lifecycles.
//!
//! Errors follow PROTOCOLS.md §4.4: the envelope's `code` is the outcome; the Java server sends
//! it with HTTP 200, agentproof's with the same number as HTTP status, and both are accepted. Its
//! validation failures say `code 500` with `msg`; that form is accepted for bad input too.

use super::unique;
use crate::check::case::{broken, ensure, expect, CaseResult, Expect, Failure, SuiteRun};
use crate::check::client::{Aui, AuiRequest, Auth, Reply};
use crate::check::faults::{fault, Faults};
use crate::check::target::Pair;
use crate::check::Ctx;
use serde_json::{json, Value};

pub const GET_RTC_AUTH_TOKEN: &str = "/api/v2/aiagent/getRtcAuthToken";
pub const GENERATE_MESSAGE_CHAT_TOKEN: &str = "/api/v2/aiagent/generateMessageChatToken";
pub const DESCRIBE: &str = "/api/v2/aiagent/describeAIAgentInstance";
pub const START: &str = "/api/v2/aiagent/startAIAgentInstance";
pub const START_WITH_CHANNEL: &str = "/api/v2/aiagent/startAIAgentInstanceWithChannel";
pub const STOP: &str = "/api/v2/aiagent/stopAIAgentInstance";
pub const UPDATE: &str = "/api/v2/aiagent/updateAIAgentInstance";
pub const GENERATE_CALL: &str = "/api/v2/aiagent/generateAIAgentCall";

/// The schema name of a route's success body, e.g. `aui/getRtcAuthToken.response`.
pub fn response_schema(path: &str) -> String {
    format!("aui/{}.response", path.rsplit('/').next().unwrap_or(path))
}

/// Success: HTTP 200 and the route's response schema.
pub fn ok(path: &str) -> Expect {
    expect().status(200).schema(response_schema(path))
}

/// A logged-in client; a failed login is a failure of whichever case needs it.
pub async fn client(ctx: &Ctx, run: &SuiteRun) -> Result<Aui, Failure> {
    let mut aui = Aui {
        http: run.http(),
        url: ctx.url().to_string(),
        bearer: None,
    };
    let reply = aui.login(&ctx.creds.aui_user).await;
    expect()
        .status(200)
        .schema("aui/login.response")
        .verify(&reply)?;
    Ok(aui)
}

/// POSTs and expects success; answers the body.
pub async fn post_ok(aui: &Aui, path: &'static str, body: Value) -> Result<Value, Failure> {
    ok(path).verify(&aui.post(path, &body).await).cloned()
}

/// The target refused with the AUI error envelope and one of `codes`: HTTP status equal to the
/// code, or 200 as the Java server sends; never a 5xx. The Java validation form `{code:500, msg}`
/// counts as 400.
pub fn rejects(reply: &Reply, codes: &[u16]) -> CaseResult {
    let wanted = codes
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join("/");
    let expected =
        format!("the AUI error envelope with code {wanted}, HTTP status the same or 200");
    if reply.failure.is_some() || reply.status >= 500 {
        return Err(broken(expected, reply.describe()));
    }
    crate::check::case::check_schema("aui/error", reply)?;
    let code = reply.field("code").and_then(Value::as_u64).unwrap_or(0);
    let java_validation = code == 500 && reply.field("msg").is_some() && codes.contains(&400);
    let code_ok = java_validation || codes.iter().any(|c| u64::from(*c) == code);
    let status_ok = reply.status == 200 || u64::from(reply.status) == code;
    ensure(code_ok && status_ok, expected, reply.describe())
}

/// The fields every route needs, valid.
pub fn user() -> String {
    unique("user")
}

pub async fn contract(ctx: &Ctx, run: &mut SuiteRun) {
    let login = client(ctx, run).await;
    let aui = login.clone().ok();
    run.case(
        "login with the configured user answers a bearer token valid against aui/login.response",
        async { login.map(drop) },
    )
    .await;
    let Some(aui) = aui else { return };
    let user = user();
    let app = &ctx.creds.aui_app;
    run.case(
        "getRtcAuthToken answers a token of the app for the user and channel asked, valid against its schema",
        async {
            let channel = unique("ch");
            let body = json!({"user_id": user, "channel_id": channel});
            let answer = post_ok(&aui, GET_RTC_AUTH_TOKEN, body).await?;
            signed_for(&answer, app, &user, Some(&channel))
        },
    )
    .await;
    run.case(
        "getRtcAuthToken without channel_id generates one of 32 lowercase hex digits and signs the token for it",
        async {
            let answer = post_ok(&aui, GET_RTC_AUTH_TOKEN, json!({"user_id": user})).await?;
            let channel = answer["channel_id"].as_str().unwrap_or_default();
            let hex32 = channel.len() == 32
                && channel.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            ensure(hex32, "a channel_id of 32 lowercase hex digits", format!("channel_id {channel:?}"))?;
            signed_for(&answer, app, &user, None)
        },
    )
    .await;
    run.case(
        "generateMessageChatToken answers a token valid against its schema",
        async {
            post_ok(
                &aui,
                GENERATE_MESSAGE_CHAT_TOKEN,
                json!({"ai_agent_id": "agent_x", "user_id": user, "role": "admin", "expire": 1800}),
            )
            .await
            .map(drop)
        },
    )
    .await;
    let mut instance = String::new();
    run.case(
        "startAIAgentInstance answers an instance, valid against its schema",
        async {
            let body = post_ok(
                &aui,
                START,
                json!({"user_id": user, "workflow_type": "VoiceChat"}),
            )
            .await?;
            instance = body["ai_agent_instance_id"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            Ok(())
        },
    )
    .await;
    let routes: [(&'static str, Value); 3] = [
        (
            DESCRIBE,
            json!({"user_id": user, "ai_agent_instance_id": instance}),
        ),
        (
            UPDATE,
            json!({"ai_agent_instance_id": instance, "template_config": {"VoiceChat": {"Greeting": "hi"}}}),
        ),
        (STOP, json!({"ai_agent_instance_id": instance})),
    ];
    for (path, body) in routes {
        let sentence = format!(
            "{} answers a body valid against {}",
            path.rsplit('/').next().unwrap_or(path),
            response_schema(path)
        );
        run.case(sentence, async {
            post_ok(&aui, path, body).await.map(drop)
        })
        .await;
    }
    run.case("startAIAgentInstanceWithChannel answers an instance, valid against its schema", async {
        let body = json!({"user_id": user, "ai_agent_id": "agent_x", "channel_id": unique("ch"), "workflow_type": "VoiceChat", "region": "cn-shanghai"});
        let started = post_ok(&aui, START_WITH_CHANNEL, body).await?;
        stop(&aui, &started).await
    })
    .await;
    run.case("generateAIAgentCall answers a call, valid against its schema", async {
        let body = json!({"ai_agent_id": "agent_x", "user_id": user, "expire": 600, "template_config": {"VoiceChat": {}}, "workflow_type": "VoiceChat"});
        let call = post_ok(&aui, GENERATE_CALL, body).await?;
        stop(&aui, &call).await
    })
    .await;
}

/// The answer's `rtc_auth_token` is signed with `app`'s key, for `user` and for the `channel_id`
/// answered (which must be `channel` when one was asked for).
fn signed_for(answer: &Value, app: &Pair, user: &str, channel: Option<&str>) -> CaseResult {
    let answered = answer["channel_id"].as_str().unwrap_or_default();
    if let Some(channel) = channel {
        ensure(
            answered == channel,
            format!("channel_id {channel:?}"),
            format!("channel_id {answered:?}"),
        )?;
    }
    let token = answer["rtc_auth_token"].as_str().unwrap_or_default();
    let expected = format!(
        "a token signed with the key of app {}, for user {user:?} in channel {answered:?}",
        app.id
    );
    let claims = protocol::aui::verify_rtc_token(token, Some(&app.id), &app.secret, i64::MIN)
        .map_err(|e| broken(&expected, e.to_string()))?;
    ensure(
        claims.user_id == user && claims.channel_id == answered,
        expected,
        format!(
            "a token for user {:?} in channel {:?}",
            claims.user_id, claims.channel_id
        ),
    )
}

async fn stop(aui: &Aui, started: &Value) -> CaseResult {
    let id = started["ai_agent_instance_id"]
        .as_str()
        .ok_or_else(|| broken("an ai_agent_instance_id", started.to_string()))?;
    post_ok(aui, STOP, json!({"ai_agent_instance_id": id}))
        .await
        .map(drop)
}

pub async fn errors(ctx: &Ctx, run: &mut SuiteRun) {
    let aui = match client(ctx, run).await {
        Ok(aui) => aui,
        Err(failure) => {
            run.case(
                "login with the configured user succeeds (needed by every error case)",
                async { Err(failure) },
            )
            .await;
            return;
        }
    };
    let wrong = json!({"username": ctx.creds.aui_user.id, "password": format!("{}-wrong", ctx.creds.aui_user.secret)});
    let send = |path: &'static str, body: Value, auth: Auth| AuiRequest {
        path,
        body: body.to_string().into_bytes(),
        auth,
    };
    let user = user();
    let cases: Vec<(&str, AuiRequest, &[u16])> = vec![
        (
            "login with a wrong password is refused (401 or 403)",
            send(crate::check::client::AUI_LOGIN, wrong, Auth::None),
            &[401, 403],
        ),
        (
            "a route without Authorization gets 403",
            send(GET_RTC_AUTH_TOKEN, json!({"user_id": user}), Auth::None),
            &[403],
        ),
        (
            "a route with a forged bearer token gets 403",
            send(
                GET_RTC_AUTH_TOKEN,
                json!({"user_id": user}),
                Auth::Header(format!("Bearer {}", forged_jwt())),
            ),
            &[403],
        ),
        (
            "getRtcAuthToken without user_id is refused as invalid input",
            send(GET_RTC_AUTH_TOKEN, json!({}), Auth::Session),
            &[400],
        ),
        (
            "startAIAgentInstance with workflow_type Telepathy is refused as invalid input",
            send(
                START,
                json!({"user_id": user, "workflow_type": "Telepathy"}),
                Auth::Session,
            ),
            &[400],
        ),
        (
            "updateAIAgentInstance without template_config is refused as invalid input",
            send(UPDATE, json!({"ai_agent_instance_id": "x"}), Auth::Session),
            &[400],
        ),
    ];
    for (sentence, request, codes) in cases {
        run.case(sentence, async {
            rejects(&aui.send(&request).await, codes)
        })
        .await;
    }
    run.case("describeAIAgentInstance of an unknown instance passes on the upstream 404 NotFound with its request_id", async {
        let reply = aui.post(DESCRIBE, &json!({"user_id": user, "ai_agent_instance_id": "00000000000000000000000000000000"})).await;
        rejects(&reply, &[404])?;
        ensure(reply.str("error_code") == Some("NotFound") && reply.str("request_id").is_some(), "error_code NotFound and a request_id", reply.describe())
    })
    .await;
    run.case("generateMessageChatToken with expire past 7 days passes on the upstream 400 InvalidParameter", async {
        let reply = aui.post(GENERATE_MESSAGE_CHAT_TOKEN, &json!({"ai_agent_id": "agent_x", "user_id": user, "expire": 604_801})).await;
        rejects(&reply, &[400])?;
        ensure(reply.str("error_code") == Some("InvalidParameter"), "error_code InvalidParameter", reply.describe())
    })
    .await;
    server_failures(ctx, run, &aui, &user).await;
    run.skip(
        "code 401 参数错误 (Result.invalidParam)",
        "no v2.2.0 route answers it; invalid input is checked as 400 above",
    );
}

/// Code 500 (服务器异常), 502 and 504 (the upstream unreachable or silent): a valid
/// describeAIAgentInstance while the target fails it on purpose gets the AUI error envelope with
/// the code as HTTP status. Only the AUI suites, which run one after the other, send to that route
/// (see `check::faults`).
async fn server_failures(ctx: &Ctx, run: &mut SuiteRun, aui: &Aui, user: &str) {
    let faults = Faults::of(ctx, run.http());
    let body = json!({"user_id": user, "ai_agent_instance_id": "00000000000000000000000000000000"});
    for (sentence, status, error_code, message) in [
        (
            "describeAIAgentInstance during a server failure gets code 500 (服务器异常) in the AUI error envelope",
            500,
            "InternalError",
            "服务器异常，请稍后重试",
        ),
        (
            "describeAIAgentInstance when the upstream cannot be reached gets code 502 in the AUI error envelope",
            502,
            "UpstreamUnavailable",
            "the Alibaba OpenAPI could not be reached",
        ),
        (
            "describeAIAgentInstance when the upstream does not answer in time gets code 504 in the AUI error envelope",
            504,
            "UpstreamTimeout",
            "the Alibaba OpenAPI did not answer in time",
        ),
    ] {
        let rule = fault(DESCRIBE).answering(status, error_code).saying(message);
        let expectation = expect()
            .status(status)
            .code(status.to_string())
            .error_code(error_code)
            .schema("aui/error");
        run.case(
            sentence,
            faults.during(rule, async {
                expectation.verify(&aui.post(DESCRIBE, &body).await).map(drop)
            }),
        )
        .await;
    }
}

/// A well-formed HS256 JWT signed with a key no server has.
pub fn forged_jwt() -> String {
    protocol::duix::sign_token(
        "agentproof-forged",
        "not-the-servers-key",
        1_700_000_000,
        4_102_444_800,
    )
}

pub async fn lifecycle(ctx: &Ctx, run: &mut SuiteRun) {
    let aui = match client(ctx, run).await {
        Ok(aui) => aui,
        Err(failure) => {
            run.case(
                "login with the configured user succeeds (needed by every lifecycle)",
                async { Err(failure) },
            )
            .await;
            return;
        }
    };
    run.case("AI-agent instance via the app server: start, describe Executing, update, stop, describe Finished", instance_lifecycle(&aui)).await;
    run.case("AI-agent call via the app server: generateAIAgentCall, describe Executing, stop, describe Finished", call_lifecycle(&aui)).await;
}

async fn status_is(aui: &Aui, user: &str, id: &str, status: &str) -> CaseResult {
    let got = post_ok(
        aui,
        DESCRIBE,
        json!({"user_id": user, "ai_agent_instance_id": id}),
    )
    .await?;
    ensure(
        got["status"] == status,
        format!("status {status}"),
        format!("status {}", got["status"]),
    )
}

async fn instance_lifecycle(aui: &Aui) -> CaseResult {
    let user = user();
    let started = post_ok(
        aui,
        START,
        json!({"user_id": user, "workflow_type": "VoiceChat"}),
    )
    .await?;
    let id = started["ai_agent_instance_id"]
        .as_str()
        .ok_or_else(|| broken("an ai_agent_instance_id", started.to_string()))?;
    status_is(aui, &user, id, "Executing").await?;
    post_ok(aui, UPDATE, json!({"ai_agent_instance_id": id, "template_config": {"VoiceChat": {"Greeting": "updated"}}})).await?;
    status_is(aui, &user, id, "Executing").await?;
    post_ok(aui, STOP, json!({"ai_agent_instance_id": id})).await?;
    status_is(aui, &user, id, "Finished").await
}

async fn call_lifecycle(aui: &Aui) -> CaseResult {
    let user = user();
    let body = json!({"ai_agent_id": "agent_x", "user_id": user, "template_config": {"VoiceChat": {}}, "workflow_type": "VoiceChat"});
    let call = post_ok(aui, GENERATE_CALL, body).await?;
    let id = call["ai_agent_instance_id"]
        .as_str()
        .ok_or_else(|| broken("an ai_agent_instance_id", call.to_string()))?;
    status_is(aui, &user, id, "Executing").await?;
    post_ok(aui, STOP, json!({"ai_agent_instance_id": id})).await?;
    status_is(aui, &user, id, "Finished").await
}
