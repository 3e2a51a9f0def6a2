//! The AUI Kits app server (v2.2.0 routes): contract, error codes, lifecycles, authenticated as
//! `--aui-auth` says.
//!
//! The official sample's conventions (MediaBox-AUIKits/AUIAICall, Server/Java; PROTOCOLS.md §4.4)
//! are accepted where seed 001 allows them, each decided in docs/src/check-aui.md:
//! - HTTP 200 with the outcome in `code` (agentproof's server sends the code as the status too);
//! - `{code:500, msg}` (ValidatorUtils → BizException) and `{code:401, message:"参数错误"}`
//!   (Result.invalidParam) as a refusal of invalid input;
//! - `{code:500, message}` (Result.error(), the sample's answer when an upstream call fails other
//!   than with an Alibaba error) where an upstream failure is expected.
//!
//! Where the sample breaks the seed the case fails saying so (getRtcAuthToken's channel_id).
//! Cases about bearer tokens run only when requests carry one (`login`, `bearer:`); a route the
//! target does not serve has its cases skipped with the reason (`check::aui_target`).

mod answers;

pub use answers::{
    ok, refuses_auth, rejects, response_schema, upstream_failure, INVALID_PARAM, SERVER_ERROR,
};

use super::unique;
use crate::check::case::{broken, ensure, expect, CaseResult, Failure, SuiteRun};
use crate::check::client::{Aui, AuiRequest, Auth, Reply};
use crate::check::faults::{fault, Faults};
use crate::check::target::Pair;
use crate::check::Ctx;
use protocol::request::aui::auth::AuiAuth;
use reports::Case;
use serde_json::{json, Value};
use std::future::Future;
use std::sync::Arc;

pub const GET_RTC_AUTH_TOKEN: &str = "/api/v2/aiagent/getRtcAuthToken";
pub const GENERATE_MESSAGE_CHAT_TOKEN: &str = "/api/v2/aiagent/generateMessageChatToken";
pub const DESCRIBE: &str = "/api/v2/aiagent/describeAIAgentInstance";
pub const START: &str = "/api/v2/aiagent/startAIAgentInstance";
pub const START_WITH_CHANNEL: &str = "/api/v2/aiagent/startAIAgentInstanceWithChannel";
pub const STOP: &str = "/api/v2/aiagent/stopAIAgentInstance";
pub const UPDATE: &str = "/api/v2/aiagent/updateAIAgentInstance";
pub const GENERATE_CALL: &str = "/api/v2/aiagent/generateAIAgentCall";

/// A client authenticating as configured, logged in when the auth is a login; a failed login is
/// a failure of whichever case needs it.
pub async fn client(ctx: &Ctx, run: &SuiteRun) -> Result<Aui, Failure> {
    let mut aui = Aui::new(run.http(), ctx.url(), &Arc::new(ctx.creds.aui_auth.clone()));
    if let Some(reply) = aui.login(&ctx.creds.aui_user).await {
        logged_in(&ctx.creds.aui_auth, &reply)?;
    }
    Ok(aui)
}

/// Our own login route's answer must be valid against `aui/login.response`; another login's must
/// be HTTP 200 with a token at its pointer.
pub fn logged_in(auth: &AuiAuth, reply: &Reply) -> CaseResult {
    let Some(login) = auth.login() else {
        return Ok(());
    };
    if login.is_ours() {
        let ours = expect().status(200).schema("aui/login.response");
        return ours.verify(reply).map(drop);
    }
    let token = reply.json.as_ref().and_then(|json| login.token(json));
    ensure(
        reply.status == 200 && token.is_some(),
        format!("HTTP 200 with a token at {}", login.token_pointer),
        reply.describe(),
    )
}

/// The login case's sentence under the configured auth.
fn login_sentence(auth: &AuiAuth) -> String {
    match auth.login() {
        Some(login) if login.is_ours() => {
            "login with the configured user answers a bearer token valid against aui/login.response"
                .into()
        }
        Some(login) => format!(
            "login at {} with the configured user answers a token at {}",
            login.path, login.token_pointer
        ),
        None => "login with the configured user".into(),
    }
}

/// Runs the case unless a route it needs is not served (then skips it, saying which).
pub async fn case_on(
    ctx: &Ctx,
    run: &mut SuiteRun,
    paths: &[&str],
    name: impl Into<String>,
    body: impl Future<Output = CaseResult>,
) {
    match ctx.unserved(paths) {
        Some(why) => run.skip(name, why),
        None => run.case(name, body).await,
    }
}

/// POSTs and expects success; answers the body.
pub async fn post_ok(aui: &Aui, path: &'static str, body: Value) -> Result<Value, Failure> {
    ok(path).verify(&aui.post(path, &body).await).cloned()
}

/// The fields every route needs, valid.
pub fn user() -> String {
    unique("user")
}

pub async fn contract(ctx: &Ctx, run: &mut SuiteRun) {
    served(ctx, run);
    let login = client(ctx, run).await;
    let aui = login.clone().ok();
    let sentence = login_sentence(&ctx.creds.aui_auth);
    match ctx.creds.aui_auth.login() {
        Some(_) => run.case(sentence, async { login.map(drop) }).await,
        None => {
            let why = format!("--aui-auth {}: no login", ctx.creds.aui_auth.describe());
            run.skip(sentence, why);
        }
    }
    let Some(aui) = aui else { return };
    let user = user();
    let app = &ctx.creds.aui_app;
    case_on(ctx, run, &[GET_RTC_AUTH_TOKEN],
        "getRtcAuthToken answers a token of the app for the user and channel asked, valid against its schema",
        async {
            let channel = unique("ch");
            let body = json!({"user_id": user, "channel_id": channel});
            let answer = post_ok(&aui, GET_RTC_AUTH_TOKEN, body).await?;
            signed_for(&answer, app, &user, Some(&channel))
        },
    )
    .await;
    case_on(ctx, run, &[GET_RTC_AUTH_TOKEN],
        "getRtcAuthToken without channel_id generates one of 32 lowercase hex digits and signs the token for it",
        generated_channel(&aui, app, &user),
    )
    .await;
    case_on(
        ctx,
        run,
        &[GENERATE_MESSAGE_CHAT_TOKEN],
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
    case_on(
        ctx,
        run,
        &[START],
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
            json!({"ai_agent_instance_id": instance, "template_config": template(json!({"VoiceChat": {"Greeting": "hi"}}))}),
        ),
        (STOP, json!({"ai_agent_instance_id": instance})),
    ];
    for (path, body) in routes {
        let sentence = format!(
            "{} answers a body valid against {}",
            path.rsplit('/').next().unwrap_or(path),
            response_schema(path)
        );
        // Each needs the instance startAIAgentInstance made.
        case_on(ctx, run, &[START, path], sentence, async {
            post_ok(&aui, path, body).await.map(drop)
        })
        .await;
    }
    case_on(ctx, run, &[START_WITH_CHANNEL, STOP], "startAIAgentInstanceWithChannel answers an instance, valid against its schema", async {
        let body = json!({"user_id": user, "ai_agent_id": "agent_x", "channel_id": unique("ch"), "workflow_type": "VoiceChat", "region": "cn-shanghai"});
        let started = post_ok(&aui, START_WITH_CHANNEL, body).await?;
        stop(&aui, &started).await
    })
    .await;
    case_on(ctx, run, &[GENERATE_CALL, STOP], "generateAIAgentCall answers a call, valid against its schema", async {
        let body = json!({"ai_agent_id": "agent_x", "user_id": user, "expire": 600, "template_config": template(json!({"VoiceChat": {}})), "workflow_type": "VoiceChat"});
        let call = post_ok(&aui, GENERATE_CALL, body).await?;
        stop(&aui, &call).await
    })
    .await;
}

/// `template_config` as clients send it and the sample's DTO takes it: the JSON text of the
/// object (a `String` field; an object there fails Jackson, and the sample answers Result.error()).
pub fn template(config: Value) -> String {
    config.to_string()
}

/// One case per route the probe asked about: served passes, a bare 404 is skipped with the
/// answer, or fails when `--aui-routes` requires the route. Nothing when there was no probe.
fn served(ctx: &Ctx, run: &mut SuiteRun) {
    let Some(served) = &ctx.target.served else {
        return;
    };
    for path in crate::check::aui_target::ROUTES {
        let name = crate::check::aui_target::name(path);
        let sentence = format!("serves {name} (POST {path})");
        match served.missing.get(path) {
            None => run.push(Case::passed(sentence, 0)),
            Some(answer) if served.required.requires(path) => {
                let expected = format!(
                    "{name} served (required by --aui-routes {})",
                    served.required.describe()
                );
                run.push(Case::failed(sentence, expected, answer.clone(), 0));
            }
            Some(answer) => run.skip(sentence, format!("not served: {answer}")),
        }
    }
}

/// What seed 001 says of getRtcAuthToken's `channel_id`, quoted where the sample breaks it.
pub const SEED_CHANNEL_ID: &str = "channel_id, the channel the token is for (seed 001, getRtcAuthToken: \
     返回数据 channel_id \"使用的频道id\", the channel id used; 请求参数 channel_id \"如果端侧不传,则由服务器端生成\", \
     made by the server when the client sends none)";

/// Without `channel_id` the server makes one and must say which: a client cannot join a channel
/// it cannot name. The official sample answers the request's `channel_id`, i.e. none.
async fn generated_channel(aui: &Aui, app: &Pair, user: &str) -> CaseResult {
    let reply = aui
        .post(GET_RTC_AUTH_TOKEN, &json!({"user_id": user}))
        .await;
    expect().status(200).code("200").verify(&reply)?;
    let Some(channel) = reply.str("channel_id").map(str::to_string) else {
        // The answer's field names, not the body: it holds an RTC token.
        let fields = reply
            .json
            .as_ref()
            .and_then(Value::as_object)
            .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
            .unwrap_or_default();
        return Err(broken(
            SEED_CHANNEL_ID,
            format!("no channel_id: an answer with {fields}"),
        )
        .with_detail(
            "the official sample (AIAgentController.getRtcAuthToken, v2.2.0 and head) answers \
             rtcAuthTokenRequestDto.getChannelId(), the channel_id the client sent; answer the \
             one the token was made for",
        ));
    };
    let answer = ok(GET_RTC_AUTH_TOKEN).verify(&reply)?;
    let hex32 = channel.len() == 32
        && channel
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    ensure(
        hex32,
        "a channel_id of 32 lowercase hex digits",
        format!("channel_id {channel:?}"),
    )?;
    signed_for(answer, app, user, None)
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
    auth_errors(ctx, run, &aui).await;
    let send = |path: &'static str, body: Value| AuiRequest {
        path,
        body: body.to_string().into_bytes(),
        auth: Auth::Configured,
    };
    let user = user();
    let cases: Vec<(&str, AuiRequest)> = vec![
        (
            "getRtcAuthToken without user_id is refused as invalid input",
            send(GET_RTC_AUTH_TOKEN, json!({})),
        ),
        (
            "startAIAgentInstance with workflow_type Telepathy is refused as invalid input",
            send(
                START,
                json!({"user_id": user, "workflow_type": "Telepathy"}),
            ),
        ),
        (
            "updateAIAgentInstance without template_config is refused as invalid input",
            send(UPDATE, json!({"ai_agent_instance_id": "x"})),
        ),
    ];
    for (sentence, request) in cases {
        case_on(ctx, run, &[request.path], sentence, async {
            rejects(&aui.send(&request).await, &[400])
        })
        .await;
    }
    case_on(ctx, run, &[DESCRIBE], "describeAIAgentInstance of an unknown instance passes on the upstream 404 NotFound with its request_id", async {
        let reply = aui.post(DESCRIBE, &json!({"user_id": user, "ai_agent_instance_id": "00000000000000000000000000000000"})).await;
        rejects(&reply, &[404])?;
        ensure(reply.str("error_code") == Some("NotFound") && reply.str("request_id").is_some(), "error_code NotFound and a request_id", reply.describe())
    })
    .await;
    case_on(ctx, run, &[GENERATE_MESSAGE_CHAT_TOKEN], "generateMessageChatToken with expire past 7 days passes on the upstream 400 InvalidParameter", async {
        let reply = aui.post(GENERATE_MESSAGE_CHAT_TOKEN, &json!({"ai_agent_id": "agent_x", "user_id": user, "expire": 604_801})).await;
        rejects(&reply, &[400])?;
        ensure(reply.str("error_code") == Some("InvalidParameter"), "error_code InvalidParameter", reply.describe())
    })
    .await;
    server_failures(ctx, run, &aui, &user).await;
}

/// The refusals of requests without the credentials the auth sends, or with forged ones: our
/// login's rules say HTTP 403 (PROTOCOLS.md §4.2); a bearer or headers of the team's own say 401
/// or 403; with `--aui-auth none` nothing is sent, so nothing can be refused (skipped, saying so).
async fn auth_errors(ctx: &Ctx, run: &mut SuiteRun, aui: &Aui) {
    let auth = &ctx.creds.aui_auth;
    let ours = auth.login().is_some_and(|login| login.is_ours());
    let refusal: &[u16] = if ours { &[403] } else { &[401, 403] };
    let wanted = if ours {
        "gets 403"
    } else {
        "is refused (401 or 403)"
    };
    let why_not = |what: &str| format!("--aui-auth {}: {what}", auth.describe());
    let body = json!({"user_id": user()}).to_string().into_bytes();
    let request = |auth: Auth| AuiRequest {
        path: GET_RTC_AUTH_TOKEN,
        body: body.clone(),
        auth,
    };
    let wrong_password = "login with a wrong password is refused (401 or 403)";
    match auth.login() {
        Some(_) => {
            run.case(wrong_password, async {
                let mut other = Aui::new(aui.http.clone(), &aui.url, &aui.auth);
                let user = &ctx.creds.aui_user;
                let wrong = Pair::new(user.id.clone(), format!("{}-wrong", user.secret));
                match other.login(&wrong).await {
                    Some(reply) => refuses_auth(&reply, &[401, 403]),
                    None => Ok(()),
                }
            })
            .await
        }
        None => run.skip(wrong_password, why_not("no login")),
    }
    let without = format!("a route without Authorization {wanted}");
    let forged = format!("a route with a forged bearer token {wanted}");
    if auth.sends_bearer() {
        case_on(ctx, run, &[GET_RTC_AUTH_TOKEN], without, async {
            let reply = aui.send(&request(Auth::authorization(auth, None))).await;
            refuses_auth(&reply, refusal)
        })
        .await;
        case_on(ctx, run, &[GET_RTC_AUTH_TOKEN], forged, async {
            let forged = Some(format!("Bearer {}", forged_jwt()));
            let reply = aui.send(&request(Auth::authorization(auth, forged))).await;
            refuses_auth(&reply, refusal)
        })
        .await;
    } else {
        run.skip(without, why_not("no bearer token is sent"));
        run.skip(forged, why_not("no bearer token is sent"));
    }
    let names: Vec<&str> = auth.headers.iter().map(|(n, _)| n.as_str()).collect();
    if !names.is_empty() {
        let sentence = format!(
            "a route without the configured headers ({}) is refused (401 or 403)",
            names.join(", ")
        );
        case_on(ctx, run, &[GET_RTC_AUTH_TOKEN], sentence, async {
            refuses_auth(&aui.send(&request(Auth::none())).await, &[401, 403])
        })
        .await;
    }
}

/// Code 500 (服务器异常), 502 and 504 (the upstream unreachable or silent): a valid
/// describeAIAgentInstance while the target fails it on purpose gets the AUI error envelope with
/// the code as HTTP status, or the sample's Result.error() (see [`upstream_failure`]). Only the
/// AUI suites, which run one after the other, send to that route (see `check::faults`).
async fn server_failures(ctx: &Ctx, run: &mut SuiteRun, aui: &Aui, user: &str) {
    let faults = Faults::of(ctx, run.http());
    let body = json!({"user_id": user, "ai_agent_instance_id": "00000000000000000000000000000000"});
    for (sentence, status, error_code, message) in [
        (
            "describeAIAgentInstance during a server failure gets code 500 (服务器异常) in the AUI error envelope",
            500,
            "InternalError",
            SERVER_ERROR,
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
        case_on(
            ctx,
            run,
            &[DESCRIBE],
            sentence,
            faults.during(rule, async {
                upstream_failure(&aui.post(DESCRIBE, &body).await, &expectation)
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
    case_on(ctx, run, &[START, DESCRIBE, UPDATE, STOP], "AI-agent instance via the app server: start, describe Executing, update, stop, describe Finished", instance_lifecycle(&aui)).await;
    case_on(ctx, run, &[GENERATE_CALL, DESCRIBE, STOP], "AI-agent call via the app server: generateAIAgentCall, describe Executing, stop, describe Finished", call_lifecycle(&aui)).await;
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
    let config = template(json!({"VoiceChat": {"Greeting": "updated"}}));
    post_ok(
        aui,
        UPDATE,
        json!({"ai_agent_instance_id": id, "template_config": config}),
    )
    .await?;
    status_is(aui, &user, id, "Executing").await?;
    post_ok(aui, STOP, json!({"ai_agent_instance_id": id})).await?;
    status_is(aui, &user, id, "Finished").await
}

async fn call_lifecycle(aui: &Aui) -> CaseResult {
    let user = user();
    let body = json!({"ai_agent_id": "agent_x", "user_id": user, "template_config": template(json!({"VoiceChat": {}})), "workflow_type": "VoiceChat"});
    let call = post_ok(aui, GENERATE_CALL, body).await?;
    let id = call["ai_agent_instance_id"]
        .as_str()
        .ok_or_else(|| broken("an ai_agent_instance_id", call.to_string()))?;
    status_is(aui, &user, id, "Executing").await?;
    post_ok(aui, STOP, json!({"ai_agent_instance_id": id})).await?;
    status_is(aui, &user, id, "Finished").await
}
