//! Alibaba OpenAPI (RTC 2018-01-11, ICE 2020-11-09): contract, error codes, lifecycles.

use super::unique;
use crate::check::case::{broken, ensure, expect, CaseResult, Expect, Failure, SuiteRun};
use crate::check::client::{AliRequest, Alibaba, Tamper};
use crate::check::faults::{fault, Faults};
use crate::check::Ctx;
use protocol::alibaba::ApiError;
use serde_json::{json, Value};

/// The client for this suite.
pub fn client(ctx: &Ctx, run: &SuiteRun) -> Alibaba {
    Alibaba {
        http: run.http(),
        url: ctx.url().to_string(),
        key: ctx.creds.alibaba_key.clone(),
        clock: ctx.clock.clone(),
    }
}

/// Success: HTTP 200 and the action's response schema.
pub fn ok(action: &str) -> Expect {
    expect()
        .status(200)
        .schema(format!("alibaba/{action}.response"))
}

/// An error: status, code, and the gateway's envelope.
pub fn error(status: u16, code: &str) -> Expect {
    expect().status(status).code(code).schema("alibaba/error")
}

/// One agent task's ids and valid parameters (seed 002).
pub struct Task {
    pub app: String,
    pub channel: String,
    pub task: String,
}

pub const RTC_CONFIG: &str =
    r#"{"UserId":"agent_1","TargetUserIds":["user_1"],"UserInactivityTimeout":30}"#;
pub const VOICE_CHAT_CONFIG: &str = r#"{"ChatMode":1,"InterruptMode":1,"Greeting":"hello","ASRConfig":{"MaxSentenceSilence":800},"TTSConfig":{"Vendor":"aliyun","Model":"cosyvoice-v1","Voice":"longxiaoxia","Volume":50}}"#;
pub const RUNTIME_CONFIG: &str =
    r#"{"AgentUserId":"agent_1","ChannelId":"channel_1","AuthToken":"token"}"#;

impl Task {
    pub fn new() -> Task {
        Task {
            app: unique("app"),
            channel: unique("ch"),
            task: unique("task"),
        }
    }

    pub fn key(&self) -> Vec<(&str, &str)> {
        vec![
            ("AppId", &self.app),
            ("ChannelId", &self.channel),
            ("TaskId", &self.task),
        ]
    }

    pub fn start(&self) -> Vec<(&str, &str)> {
        let mut params = self.key();
        params.extend([
            ("TemplateId", "tpl_1"),
            ("RtcConfig", RTC_CONFIG),
            ("VoiceChatConfig", VOICE_CHAT_CONFIG),
        ]);
        params
    }
}

impl Default for Task {
    fn default() -> Self {
        Task::new()
    }
}

/// Calls `action` and expects success; answers the body.
pub async fn call_ok(
    ab: &Alibaba,
    action: &str,
    params: &[(&str, &str)],
) -> Result<Value, Failure> {
    let reply = ab.call(action, params).await;
    ok(action).verify(&reply).cloned()
}

pub async fn contract(ctx: &Ctx, run: &mut SuiteRun) {
    let ab = client(ctx, run);
    let task = Task::new();
    for action in ["StartAgent", "GetAgent", "UpdateAgent", "StopAgent"] {
        let params = if action == "StartAgent" {
            task.start()
        } else {
            task.key()
        };
        let sentence = format!(
            "{action} answers HTTP 200 with a body valid against alibaba/{action}.response"
        );
        run.case(sentence, async {
            call_ok(&ab, action, &params).await.map(drop)
        })
        .await;
    }
    let mut instance = String::new();
    run.case(
        "StartAIAgentInstance answers an InstanceId, valid against its schema",
        async {
            let body = call_ok(
                &ab,
                "StartAIAgentInstance",
                &[("AIAgentId", "agent_x"), ("RuntimeConfig", RUNTIME_CONFIG)],
            )
            .await?;
            instance = body["InstanceId"].as_str().unwrap_or_default().to_string();
            Ok(())
        },
    )
    .await;
    for action in [
        "DescribeAIAgentInstance",
        "UpdateAIAgentInstance",
        "StopAIAgentInstance",
    ] {
        let mut params = vec![("InstanceId", instance.as_str())];
        if action == "UpdateAIAgentInstance" {
            params.push(("TemplateConfig", r#"{"VoiceChat":{"Greeting":"hi again"}}"#));
        }
        let sentence = format!(
            "{action} answers HTTP 200 with a body valid against alibaba/{action}.response"
        );
        run.case(sentence, async {
            call_ok(&ab, action, &params).await.map(drop)
        })
        .await;
    }
    run.case(
        "GenerateAIAgentCall answers a call token, valid against its schema",
        async {
            call_ok(
                &ab,
                "GenerateAIAgentCall",
                &[
                    ("AIAgentId", "agent_x"),
                    ("Expire", "600"),
                    ("UserId", "user_1"),
                ],
            )
            .await
            .map(drop)
        },
    )
    .await;
    run.case(
        "GenerateMessageChatToken answers a chat token, valid against its schema",
        async {
            call_ok(
                &ab,
                "GenerateMessageChatToken",
                &[
                    ("AIAgentId", "agent_x"),
                    ("UserId", "user_1"),
                    ("Role", "admin"),
                ],
            )
            .await
            .map(drop)
        },
    )
    .await;
}

/// The gateway's and the actions' error codes (PROTOCOLS.md §2, seed 002), each with its status.
pub async fn errors(ctx: &Ctx, run: &mut SuiteRun) {
    let ab = client(ctx, run);
    let task = Task::new();
    let get = AliRequest::new("GetAgent", &task.key());
    let cases: Vec<(&str, AliRequest, Expect)> = vec![
        ("an unknown AccessKey id gets InvalidAccessKeyId.NotFound", get.clone().tampered(Tamper::UnknownKey("LTAI5tNobodyKnowsThisKey".into())), error(404, "InvalidAccessKeyId.NotFound")),
        ("a signature made with the wrong secret gets SignatureDoesNotMatch", get.clone().tampered(Tamper::WrongSecret("not-the-secret".into())), expect().status(400).status(403).code("SignatureDoesNotMatch").schema("alibaba/error")),
        ("a signature with one digit changed gets SignatureDoesNotMatch", get.clone().tampered(Tamper::FlipSignature), expect().status(400).status(403).code("SignatureDoesNotMatch").schema("alibaba/error")),
        ("an x-acs-date 16 minutes old gets InvalidTimeStamp.Expired", get.clone().tampered(Tamper::SkewSecs(-16 * 60)), error(400, "InvalidTimeStamp.Expired")),
        ("an x-acs-date 16 minutes ahead gets InvalidTimeStamp.Expired", get.clone().tampered(Tamper::SkewSecs(16 * 60)), error(400, "InvalidTimeStamp.Expired")),
        ("an x-acs-date that is not yyyy-MM-ddTHH:mm:ssZ gets InvalidTimeStamp.Format", get.clone().tampered(Tamper::Date("yesterday".into())), error(400, "InvalidTimeStamp.Format")),
        ("an Authorization of another algorithm gets InvalidSignatureMethod", get.clone().tampered(Tamper::Authorization(format!("ACS3-HMAC-SHA1 Credential={},SignedHeaders=host,Signature=00", ctx.creds.alibaba_key.id))), error(400, "InvalidSignatureMethod")),
        ("an Authorization without a Signature gets IncompleteSignature", get.clone().tampered(Tamper::Authorization(format!("ACS3-HMAC-SHA256 Credential={}", ctx.creds.alibaba_key.id))), error(400, "IncompleteSignature")),
        ("an unknown API version gets InvalidVersion", get.clone().tampered(Tamper::Version("2099-01-01".into())), error(400, "InvalidVersion")),
        ("an unknown action gets InvalidAction.NotFound", AliRequest::new("DescribeNothing", &[]), expect().status(404).schema("alibaba/error")),
        ("Format=YAML gets InvalidParameter.Format", AliRequest::new("GetAgent", &[task.key(), vec![("Format", "YAML")]].concat()), error(400, "InvalidParameter.Format")),
        ("StopAgent without TaskId gets MissingTaskId", AliRequest::new("StopAgent", &task.key()[..2]), error(400, "MissingTaskId")),
        ("StopAIAgentInstance without InstanceId gets MissingInstanceId", AliRequest::new("StopAIAgentInstance", &[]), error(400, "MissingInstanceId")),
        ("StartAgent with RtcConfig.UserInactivityTimeout 2 (range [5,180]) gets InvalidParameter", AliRequest::new("StartAgent", &[task.key(), vec![("TemplateId", "t"), ("RtcConfig", r#"{"UserId":"a","UserInactivityTimeout":2}"#)]].concat()), error(400, "InvalidParameter")),
        ("GetAgent of a task never started gets NotFound", get.clone(), error(404, "NotFound")),
        ("DescribeAIAgentInstance of an unknown InstanceId gets NotFound", AliRequest::new("DescribeAIAgentInstance", &[("InstanceId", "00000000000000000000000000000000")]), error(404, "NotFound")),
        ("a PUT gets UnsupportedHTTPMethod", get.clone().tampered(Tamper::Method("PUT")), expect().status(400).status(403).status(405).code("UnsupportedHTTPMethod").schema("alibaba/error")),
    ];
    for (sentence, request, expectation) in cases {
        run.case(sentence, async {
            expectation.verify(&ab.send(&request).await).map(drop)
        })
        .await;
    }
    run.case(
        "a SignatureNonce used twice gets SignatureNonceUsed",
        nonce_replay(&ab),
    )
    .await;
    server_failures(ctx, run, &ab, &get).await;
    for (code, why) in [
        (
            "InvalidAccessKeyId.Inactive",
            "needs a disabled AccessKey, which a client cannot create",
        ),
        (
            "Throttling / Throttling.User / Throttling.Api",
            "needs the target's rate limit configured (the mock's `[alibaba] rate_limit_per_sec`); agentproof load covers it",
        ),
        (
            "Forbidden.RAM / Forbidden.RiskControl",
            "needs a RAM user without rights, which a client cannot create",
        ),
    ] {
        run.skip(format!("{code} with its status"), why);
    }
}

/// InternalError (500) and ServiceUnavailable (503): a valid GetAgent while the target fails it on
/// purpose gets the gateway's envelope. `GetAgent` is used by no suite running meanwhile (see
/// `check::faults`).
async fn server_failures(ctx: &Ctx, run: &mut SuiteRun, ab: &Alibaba, get: &AliRequest) {
    let faults = Faults::of(ctx, run.http());
    for (sentence, failure) in [
        (
            "GetAgent during a server failure gets InternalError with HTTP 500 in the gateway's envelope",
            ApiError::internal_error(),
        ),
        (
            "GetAgent while the service is unavailable gets ServiceUnavailable with HTTP 503 in the gateway's envelope",
            ApiError::service_unavailable(),
        ),
    ] {
        let rule = fault(&get.action)
            .answering(failure.status, &failure.code)
            .saying(&failure.message);
        run.case(
            sentence,
            faults.during(rule, async {
                error(failure.status, &failure.code)
                    .verify(&ab.send(get).await)
                    .map(drop)
            }),
        )
        .await;
    }
}

async fn nonce_replay(ab: &Alibaba) -> CaseResult {
    let nonce = uuid::Uuid::new_v4().simple().to_string();
    let request = AliRequest::new("DescribeAIAgentInstance", &[("InstanceId", "nonce-check")])
        .tampered(Tamper::Nonce(nonce));
    let first = ab.send(&request).await;
    ensure(
        first.status != 0 && first.str("Code") != Some("SignatureNonceUsed"),
        "the first use of a nonce to be accepted",
        first.describe(),
    )?;
    error(400, "SignatureNonceUsed")
        .verify(&ab.send(&request).await)
        .map(drop)
}

pub async fn lifecycle(ctx: &Ctx, run: &mut SuiteRun) {
    let ab = client(ctx, run);
    let task = Task::new();
    let mut running_status = String::new();
    run.case(
        "agent task: after StartAgent, GetAgent reports it with a start time",
        async {
            call_ok(&ab, "StartAgent", &task.start()).await?;
            let got = call_ok(&ab, "GetAgent", &task.key()).await?;
            running_status = got["Status"].as_str().unwrap_or_default().to_string();
            let start: i64 = got["StartTime"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            ensure(start > 0, "StartTime > 0", got.to_string())
        },
    )
    .await;
    run.case(
        "agent task: UpdateAgent on the running task is accepted and it keeps running",
        async {
            call_ok(
                &ab,
                "UpdateAgent",
                &[
                    task.key(),
                    vec![("VoiceChatConfig", r#"{"InterruptMode":2}"#)],
                ]
                .concat(),
            )
            .await?;
            let got = call_ok(&ab, "GetAgent", &task.key()).await?;
            ensure(
                got["Status"] == running_status.as_str(),
                format!("Status {running_status:?}"),
                got.to_string(),
            )
        },
    )
    .await;
    run.case(
        "agent task: after StopAgent, GetAgent reports a stop time and a status other than running",
        async {
            call_ok(&ab, "StopAgent", &task.key()).await?;
            let got = call_ok(&ab, "GetAgent", &task.key()).await?;
            let stop: i64 = got["StopTime"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            ensure(
                stop > 0 && got["Status"] != running_status.as_str(),
                format!("StopTime > 0 and Status other than {running_status:?}"),
                got.to_string(),
            )
        },
    )
    .await;
    run.case("AI-agent instance: Executing after StartAIAgentInstance, TemplateConfig merged by Update, Finished after Stop", instance_lifecycle(&ab)).await;
    run.case("AI-agent call: GenerateAIAgentCall starts an Executing instance that StopAIAgentInstance finishes", call_lifecycle(&ab)).await;
}

/// DescribeAIAgentInstance's `Instance`.
async fn describe(ab: &Alibaba, id: &str) -> Result<Value, Failure> {
    Ok(call_ok(ab, "DescribeAIAgentInstance", &[("InstanceId", id)]).await?["Instance"].clone())
}

fn status_is(instance: &Value, status: &str) -> CaseResult {
    ensure(
        instance["Status"] == status,
        format!("Instance.Status {status}"),
        format!("Instance.Status {}", instance["Status"]),
    )
}

async fn instance_lifecycle(ab: &Alibaba) -> CaseResult {
    let started = call_ok(
        ab,
        "StartAIAgentInstance",
        &[("AIAgentId", "agent_x"), ("RuntimeConfig", RUNTIME_CONFIG)],
    )
    .await?;
    let id = started["InstanceId"]
        .as_str()
        .ok_or_else(|| broken("an InstanceId", started.to_string()))?;
    status_is(&describe(ab, id).await?, "Executing")?;
    let patch = json!({"VoiceChat": {"Greeting": "updated"}}).to_string();
    call_ok(
        ab,
        "UpdateAIAgentInstance",
        &[("InstanceId", id), ("TemplateConfig", &patch)],
    )
    .await?;
    let instance = describe(ab, id).await?;
    status_is(&instance, "Executing")?;
    let greeting = &instance["TemplateConfig"]["VoiceChat"]["Greeting"];
    ensure(
        greeting == "updated",
        "TemplateConfig.VoiceChat.Greeting \"updated\"",
        format!("TemplateConfig {}", instance["TemplateConfig"]),
    )?;
    call_ok(ab, "StopAIAgentInstance", &[("InstanceId", id)]).await?;
    status_is(&describe(ab, id).await?, "Finished")
}

async fn call_lifecycle(ab: &Alibaba) -> CaseResult {
    let call = call_ok(
        ab,
        "GenerateAIAgentCall",
        &[("AIAgentId", "agent_x"), ("UserId", "user_1")],
    )
    .await?;
    let id = call["InstanceId"]
        .as_str()
        .ok_or_else(|| broken("an InstanceId", call.to_string()))?;
    status_is(&describe(ab, id).await?, "Executing")?;
    call_ok(ab, "StopAIAgentInstance", &[("InstanceId", id)]).await?;
    status_is(&describe(ab, id).await?, "Finished")
}

/// A cheap signed request that must get some answer of the platform (not a 5xx): the health
/// probe of targets without `/__admin/health`.
pub async fn health(ab: &Alibaba) -> CaseResult {
    let reply = ab
        .call("DescribeAIAgentInstance", &[("InstanceId", "health-probe")])
        .await;
    ensure(
        reply.failure.is_none() && reply.status < 500,
        "an answer below HTTP 500",
        reply.describe(),
    )
}
