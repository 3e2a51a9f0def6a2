//! Bad AUI app server requests: each must get the AUI error envelope (aui/error) with code 400
//! (or 413 for an oversize body), or 401/403 for bad credentials; never a 5xx.
//!
//! Only routes the target serves (or `--aui-routes` requires) are sent to, and the login route
//! only when the auth is agentproof's own login. Bad credentials follow the auth: forged and
//! malformed bearer tokens where one is sent, missing or changed headers where only headers are,
//! nothing under `--aui-auth none` (skipped, saying so).

use super::{drive, generate, Category, Generated};
use crate::check::case::SuiteRun;
use crate::check::client::{AuiRequest, Auth, Reply, AUI_LOGIN};
use crate::check::suites::aui::{
    self as routes, client, forged_jwt, refuses_auth, rejects, template,
};
use crate::check::Ctx;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use protocol::request::aui::auth::AuiAuth;
use serde_json::{json, Value};

type Input = Generated<AuiRequest>;

pub async fn run(ctx: &Ctx, run: &mut SuiteRun) {
    let aui = match client(ctx, run).await {
        Ok(aui) => aui,
        Err(failure) => {
            run.case(
                "login with the configured user succeeds (needed to send bad input)",
                async { Err(failure) },
            )
            .await;
            return;
        }
    };
    let auth = &ctx.creds.aui_auth;
    if !auth.sends_credentials() {
        run.skip(
            format!(
                "{}: generated requests with bad credentials",
                Category::BadSignature.name()
            ),
            format!(
                "--aui-auth {}: no credentials are sent, so none can be bad",
                auth.describe()
            ),
        );
    }
    let inputs = inputs(ctx, auth);
    let send = |g: Input| {
        let aui = aui.clone();
        async move {
            let reply = aui.send(&g.request).await;
            (g, reply)
        }
    };
    drive(ctx, run, inputs, send, judge).await;
}

/// At least `--bad-inputs` inputs for the routes the target serves: drawn from the seed, then
/// from the next seeds while too many went to routes it does not serve.
fn inputs(ctx: &Ctx, auth: &AuiAuth) -> Vec<Input> {
    let login_ours = auth.login().is_some_and(|login| login.is_ours());
    let keep = |g: &Input| {
        let path = g.request.path;
        let credentials = g.category != Category::BadSignature || auth.sends_credentials();
        let login = path != AUI_LOGIN || login_ours;
        credentials && login && (path == AUI_LOGIN || ctx.unserved(&[path]).is_none())
    };
    let mut inputs = Vec::new();
    for round in 0..8u64 {
        if inputs.len() >= ctx.bad_inputs {
            break;
        }
        let drawn = generate(ctx.seed.wrapping_add(round), ctx.bad_inputs, |c| {
            strategy_for(auth, c)
        });
        inputs.extend(drawn.into_iter().filter(keep));
    }
    inputs
}

fn judge(reply: &Reply, g: &Input) -> Result<(), String> {
    let codes: Vec<u16> = g.accept.iter().filter_map(|c| c.parse().ok()).collect();
    let verdict = match g.category {
        Category::BadSignature => refuses_auth(reply, &codes),
        _ => rejects(reply, &codes),
    };
    verdict.map_err(|f| match f {
        crate::check::case::Failure::Broken { got, .. } => got,
        crate::check::case::Failure::Skip(why) => why,
    })
}

/// The inputs of `category` under agentproof's own login.
pub fn strategy(category: Category) -> BoxedStrategy<Input> {
    strategy_for(&AuiAuth::default(), category)
}

/// The inputs of `category` for a target authenticated with `auth`.
pub fn strategy_for(auth: &AuiAuth, category: Category) -> BoxedStrategy<Input> {
    match category {
        Category::Missing => missing(),
        Category::WrongType => wrong_type(),
        Category::OutOfRange => out_of_range(),
        Category::Oversize => oversize(),
        Category::BrokenJson => broken_json(),
        Category::BadSignature if auth.sends_bearer() => bad_bearer(auth.clone()),
        Category::BadSignature => bad_headers(auth.clone()),
    }
}

/// Each route with a valid body: (path, body, required fields).
fn routes() -> Vec<(&'static str, Value, &'static [&'static str])> {
    vec![
        (
            AUI_LOGIN,
            json!({"username": "someone", "password": "secret"}),
            &["username", "password"],
        ),
        (
            routes::GET_RTC_AUTH_TOKEN,
            json!({"user_id": "u_1", "channel_id": "ch_1"}),
            &["user_id"],
        ),
        (
            routes::GENERATE_MESSAGE_CHAT_TOKEN,
            json!({"ai_agent_id": "agent_x", "user_id": "u_1", "role": "admin", "expire": 600}),
            &["ai_agent_id", "user_id"],
        ),
        (
            routes::DESCRIBE,
            json!({"user_id": "u_1", "ai_agent_instance_id": "bad_input_instance"}),
            &["user_id", "ai_agent_instance_id"],
        ),
        (
            routes::START,
            json!({"user_id": "u_1", "workflow_type": "VoiceChat"}),
            &["user_id", "workflow_type"],
        ),
        (
            routes::START_WITH_CHANNEL,
            json!({"user_id": "u_1", "ai_agent_id": "agent_x", "channel_id": "ch_1", "workflow_type": "VoiceChat", "region": "cn-shanghai"}),
            &[
                "user_id",
                "ai_agent_id",
                "channel_id",
                "workflow_type",
                "region",
            ],
        ),
        (
            routes::STOP,
            json!({"ai_agent_instance_id": "bad_input_instance"}),
            &["ai_agent_instance_id"],
        ),
        (
            routes::UPDATE,
            json!({"ai_agent_instance_id": "bad_input_instance", "template_config": template(json!({"VoiceChat": {}}))}),
            &["ai_agent_instance_id", "template_config"],
        ),
        (
            routes::GENERATE_CALL,
            json!({"ai_agent_id": "agent_x", "user_id": "u_1", "template_config": template(json!({"VoiceChat": {}}))}),
            &["template_config"],
        ),
    ]
}

fn with(path: &'static str, body: &Value) -> AuiRequest {
    AuiRequest {
        path,
        body: body.to_string().into_bytes(),
        auth: Auth::Configured,
    }
}

fn missing() -> BoxedStrategy<Input> {
    let all = routes();
    (
        0..all.len(),
        any::<prop::sample::Index>(),
        prop_oneof![Just(0u8), Just(1u8), Just(2u8)],
    )
        .prop_map(move |(i, pick, how)| {
            let (path, mut body, required) = all[i].clone();
            let field = required[pick.index(required.len())];
            let how = match how {
                0 => {
                    body.as_object_mut().map(|o| o.remove(field));
                    "absent"
                }
                1 => {
                    body[field] = Value::Null;
                    "null"
                }
                _ => {
                    body[field] = Value::from("");
                    "empty"
                }
            };
            Generated::new(
                Category::Missing,
                format!("{path} with {field} {how}"),
                with(path, &body),
                &["400"],
            )
        })
        .boxed()
}

/// (route index, field, kind it must be).
const TYPED: [(usize, &str, &str); 12] = [
    (0, "username", "string"),
    (1, "user_id", "string"),
    (1, "channel_id", "string"),
    (2, "ai_agent_id", "string"),
    (2, "role", "string"),
    (2, "expire", "int"),
    (3, "ai_agent_instance_id", "string"),
    (4, "workflow_type", "string"),
    (5, "region", "string"),
    (7, "template_config", "object"),
    (8, "template_config", "object"),
    (4, "session_id", "string"),
];

fn not_of(kind: &'static str) -> BoxedStrategy<Value> {
    let string = "[a-z]{1,8}".prop_map(Value::from).boxed();
    let number = (1i64..100_000).prop_map(Value::from).boxed();
    let boolean = any::<bool>().prop_map(Value::from).boxed();
    let array = prop::collection::vec(0i64..10, 0..3)
        .prop_map(Value::from)
        .boxed();
    let object = Just(json!({"unexpected": true})).boxed();
    match kind {
        "string" => prop_oneof![number, boolean, array, object].boxed(),
        "int" => prop_oneof![string, boolean, array, object].boxed(),
        _ => prop_oneof![number, boolean, array].boxed(),
    }
}

fn wrong_type() -> BoxedStrategy<Input> {
    let all = routes();
    (0..TYPED.len())
        .prop_flat_map(|i| (Just(i), not_of(TYPED[i].2)))
        .prop_map(move |(i, value)| {
            let (route, field, kind) = TYPED[i];
            let (path, mut body, _) = all[route].clone();
            body[field] = value.clone();
            Generated::new(
                Category::WrongType,
                format!("{path} with {field} = {value} (must be {kind})"),
                with(path, &body),
                &["400"],
            )
        })
        .boxed()
}

fn out_of_range() -> BoxedStrategy<Input> {
    let all = routes();
    let expire = prop_oneof![
        -1_000_000_000i64..0,
        2_147_483_648i64..1_000_000_000_000_000
    ]
    .prop_map(|n| (2usize, "expire", Value::from(n)));
    let user_id =
        "[a-z]{1,10}[-. @#]{1,3}[a-z]{0,10}".prop_map(|s| (1usize, "user_id", Value::from(s)));
    let workflow = "[A-Za-z]{1,12}"
        .prop_filter("not a workflow type", |s| {
            !["voicechat", "avatarchat3d", "visionchat"].contains(&s.to_lowercase().as_str())
        })
        .prop_map(|s| (4usize, "workflow_type", Value::from(s)));
    let region = "[A-Z]{2,8}".prop_map(|s| (5usize, "region", Value::from(s)));
    let channel = "[a-z]{1,5}[ @#/+]{1,3}".prop_map(|s| (1usize, "channel_id", Value::from(s)));
    prop_oneof![expire, user_id, workflow, region, channel]
        .prop_map(move |(route, field, value)| {
            let (path, mut body, _) = all[route].clone();
            body[field] = value.clone();
            Generated::new(
                Category::OutOfRange,
                format!("{path} with {field} = {value}"),
                with(path, &body),
                &["400"],
            )
        })
        .boxed()
}

fn oversize() -> BoxedStrategy<Input> {
    let all = routes();
    let fields = prop_oneof![
        "[A-Za-z0-9_]{65,300}".prop_map(|s| (1usize, "user_id", Value::from(s))),
        "[A-Za-z0-9_]{65,200}".prop_map(|s| (1usize, "channel_id", Value::from(s))),
        "[a-z0-9]{257,2000}".prop_map(|s| (3usize, "ai_agent_instance_id", Value::from(s))),
        "[a-z]{257,1000}".prop_map(|s| (0usize, "username", Value::from(s))),
        (17_000usize..40_000).prop_map(|n| (
            7usize,
            "template_config",
            Value::from(template(json!({"VoiceChat": {"Greeting": "g".repeat(n)}})))
        )),
    ];
    let field_cases = fields.prop_map(move |(route, field, value)| {
        let (path, mut body, _) = all[route].clone();
        let size = value.to_string().len();
        body[field] = value;
        Generated::new(
            Category::Oversize,
            format!("{path} with a {size}-byte {field}"),
            with(path, &body),
            &["400", "413"],
        )
    });
    let body = (1_100_000usize..1_300_000).prop_map(|n| {
        let body = json!({"user_id": "u_1", "channel_id": "c".repeat(n)});
        Generated::new(
            Category::Oversize,
            format!("getRtcAuthToken with a {n}-byte body (past 1 MiB)"),
            with(routes::GET_RTC_AUTH_TOKEN, &body),
            &["400", "413"],
        )
    });
    prop_oneof![12 => field_cases, 1 => body].boxed()
}

fn broken_json() -> BoxedStrategy<Input> {
    let all = routes();
    (
        0..all.len(),
        any::<prop::sample::Index>(),
        0u8..4,
        "[a-z{}:,\\[\"]{1,30}",
    )
        .prop_map(move |(i, cut, how, garbage)| {
            let (path, body, _) = all[i].clone();
            let valid = body.to_string();
            let (text, what) = match how {
                0 => (
                    valid[..1 + cut.index(valid.len() - 1)].to_string(),
                    "truncated",
                ),
                1 => (format!("{valid}{garbage}"), "with trailing garbage"),
                2 => (
                    ["[1,2]", "42", "\"text\"", "true", "null"][cut.index(5)].to_string(),
                    "not an object",
                ),
                _ => (String::new(), "empty"),
            };
            let request = AuiRequest {
                path,
                body: text.clone().into_bytes(),
                auth: Auth::Configured,
            };
            Generated::new(
                Category::BrokenJson,
                format!("{path} with a body {what}: {text:?}"),
                request,
                &["400"],
            )
        })
        .prop_filter("not accidentally a JSON object", |g| {
            serde_json::from_slice::<serde_json::Map<String, Value>>(&g.request.body).is_err()
        })
        .boxed()
}

/// The routes bad credentials are sent to: every one is protected.
const PROTECTED: [&str; 4] = [
    routes::GET_RTC_AUTH_TOKEN,
    routes::GENERATE_MESSAGE_CHAT_TOKEN,
    routes::DESCRIBE,
    routes::STOP,
];

/// No, malformed, forged or unsigned bearer tokens, beside the configured headers.
fn bad_bearer(auth: AuiAuth) -> BoxedStrategy<Input> {
    let header = prop_oneof![
        Just(None),
        "[A-Za-z0-9._-]{1,80}".prop_map(|t| Some(format!("Bearer {t}"))),
        "[A-Za-z0-9+/=]{4,40}".prop_map(|t| Some(format!("Basic {t}"))),
        Just(Some(format!("Bearer {}", forged_jwt()))),
        "[a-z]{1,12}".prop_map(|sub| Some(format!("Bearer {}", alg_none(&sub)))),
        Just(Some("Bearer".to_string())),
    ];
    (0..PROTECTED.len(), header)
        .prop_map(move |(i, header)| {
            let path = PROTECTED[i];
            let what = match &header {
                None => "no Authorization".to_string(),
                Some(h) => format!("Authorization {:?}", crate::check::client::truncate(h, 60)),
            };
            refused(path, &what, Auth::authorization(&auth, header))
        })
        .boxed()
}

/// The configured headers missing, or one of them with another value (never shown: the
/// report names the header only).
fn bad_headers(auth: AuiAuth) -> BoxedStrategy<Input> {
    let count = auth.headers.len().max(1);
    (0..PROTECTED.len(), 0..=count, "[A-Za-z0-9]{8,40}")
        .prop_map(move |(i, which, value)| {
            let path = PROTECTED[i];
            let mut headers = auth.headers.clone();
            let what = match headers.get_mut(which) {
                Some((name, old)) if *old != value => {
                    *old = value;
                    format!("header {name} changed")
                }
                _ => {
                    headers.clear();
                    "none of the configured headers".to_string()
                }
            };
            refused(path, &what, Auth::Exactly(headers))
        })
        .boxed()
}

/// A valid request to `path` with bad credentials (`what` they are): it must be refused.
fn refused(path: &'static str, what: &str, auth: Auth) -> Input {
    let body = json!({"user_id": "u_1", "ai_agent_id": "agent_x", "ai_agent_instance_id": "bad_input_instance"});
    let body = body.to_string().into_bytes();
    let request = AuiRequest { path, body, auth };
    let what = format!("{path} with {what}");
    Generated::new(Category::BadSignature, what, request, &["401", "403"])
}

/// An unsigned JWT (`alg: none`) claiming `sub`, valid for a day.
fn alg_none(sub: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"none"}"#);
    let claims = URL_SAFE_NO_PAD
        .encode(json!({"sub": sub, "iat": 1_700_000_000, "exp": 4_102_444_800u64}).to_string());
    format!("{header}.{claims}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_generates_inputs() {
        let inputs = generate(11, 600, strategy);
        for category in Category::ALL {
            assert!(
                inputs.iter().filter(|g| g.category == category).count() >= 100,
                "{category:?}"
            );
        }
    }
}
