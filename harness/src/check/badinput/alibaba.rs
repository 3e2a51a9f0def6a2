//! Bad Alibaba OpenAPI requests: each must get the gateway's error envelope (alibaba/error) with a
//! 4xx status and a code of the right family.

use super::{drive, envelope, generate, Category, Generated};
use crate::check::case::SuiteRun;
use crate::check::client::{AliRequest, Reply, Tamper};
use crate::check::suites::alibaba::{client, RTC_CONFIG, RUNTIME_CONFIG, VOICE_CHAT_CONFIG};
use crate::check::Ctx;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use serde_json::Value;

type Input = Generated<AliRequest>;

pub async fn run(ctx: &Ctx, run: &mut SuiteRun) {
    let ab = client(ctx, run);
    let inputs = generate(ctx.seed, ctx.bad_inputs, strategy);
    let send = |g: Input| {
        let ab = ab.clone();
        async move {
            let reply = ab.send(&g.request).await;
            (g, reply)
        }
    };
    drive(ctx, run, inputs, send, judge).await;
}

fn judge(reply: &Reply, g: &Input) -> Result<(), String> {
    let code = envelope(reply, "alibaba/error")?;
    if !(400..500).contains(&reply.status) {
        return Err(format!(
            "HTTP {} (a 4xx expected), code {code}",
            reply.status
        ));
    }
    if g.fits(&code) {
        Ok(())
    } else {
        Err(format!("HTTP {}, code {code}", reply.status))
    }
}

pub fn strategy(category: Category) -> BoxedStrategy<Input> {
    match category {
        Category::Missing => missing(),
        Category::WrongType => wrong_type(),
        Category::OutOfRange => out_of_range(),
        Category::Oversize => oversize(),
        Category::BrokenJson => broken_json(),
        Category::BadSignature => bad_signature(),
    }
}

fn id() -> impl Strategy<Value = String> {
    "[a-z0-9]{4,16}"
}

/// A valid request of `action` with random ids, as owned pairs.
fn base(action: &'static str, ids: (String, String, String)) -> Vec<(String, String)> {
    let (a, b, c) = ids;
    let pairs: Vec<(&str, String)> = match action {
        "StartAgent" => vec![
            ("AppId", a),
            ("ChannelId", b),
            ("TaskId", c),
            ("TemplateId", "tpl".into()),
            ("RtcConfig", RTC_CONFIG.into()),
            ("VoiceChatConfig", VOICE_CHAT_CONFIG.into()),
        ],
        "StopAgent" | "UpdateAgent" | "GetAgent" => {
            vec![("AppId", a), ("ChannelId", b), ("TaskId", c)]
        }
        "StartAIAgentInstance" => vec![("AIAgentId", a), ("RuntimeConfig", RUNTIME_CONFIG.into())],
        "GenerateAIAgentCall" => vec![
            ("AIAgentId", a),
            ("UserId", format!("u{b}")),
            ("Expire", "600".into()),
        ],
        "GenerateMessageChatToken" => vec![
            ("AIAgentId", a),
            ("UserId", format!("u{b}")),
            ("Expire", "600".into()),
        ],
        _ => vec![("InstanceId", a)],
    };
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn ids() -> impl Strategy<Value = (String, String, String)> {
    (id(), id(), id())
}

fn request(action: &str, params: Vec<(String, String)>) -> AliRequest {
    AliRequest {
        action: action.to_string(),
        params,
        tamper: Tamper::None,
    }
}

const REQUIRED: [(&str, &[&str]); 9] = [
    (
        "StartAgent",
        &["AppId", "ChannelId", "TaskId", "TemplateId", "RtcConfig"],
    ),
    ("StopAgent", &["AppId", "ChannelId", "TaskId"]),
    ("UpdateAgent", &["AppId", "ChannelId", "TaskId"]),
    ("GetAgent", &["AppId", "ChannelId", "TaskId"]),
    ("StartAIAgentInstance", &["AIAgentId", "RuntimeConfig"]),
    ("StopAIAgentInstance", &["InstanceId"]),
    ("DescribeAIAgentInstance", &["InstanceId"]),
    ("GenerateAIAgentCall", &["AIAgentId"]),
    ("GenerateMessageChatToken", &["AIAgentId", "UserId"]),
];

/// A required parameter left out or sent empty; or RtcConfig without UserId.
fn missing() -> BoxedStrategy<Input> {
    let drop_one = (
        0..REQUIRED.len(),
        any::<prop::sample::Index>(),
        any::<bool>(),
        ids(),
    )
        .prop_map(|(i, pick, empty, ids)| {
            let (action, required) = REQUIRED[i];
            let name = required[pick.index(required.len())];
            let mut params = base(action, ids);
            if empty {
                params
                    .iter_mut()
                    .filter(|(k, _)| k == name)
                    .for_each(|(_, v)| v.clear());
            } else {
                params.retain(|(k, _)| k != name);
            }
            let how = if empty { "empty" } else { "absent" };
            Generated::new(
                Category::Missing,
                format!("{action} with {name} {how}"),
                request(action, params),
                &["Missing*", "InvalidParameter*"],
            )
        });
    let nested = ids().prop_map(|ids| {
        let mut params = base("StartAgent", ids);
        set(
            &mut params,
            "RtcConfig",
            r#"{"TargetUserIds":["u1"]}"#.into(),
        );
        Generated::new(
            Category::Missing,
            "StartAgent with RtcConfig.UserId absent",
            request("StartAgent", params),
            &["Missing*", "InvalidParameter*"],
        )
    });
    prop_oneof![4 => drop_one, 1 => nested].boxed()
}

fn set(params: &mut [(String, String)], name: &str, value: String) {
    if let Some(p) = params.iter_mut().find(|(k, _)| k == name) {
        p.1 = value;
    }
}

/// StartAgent with `config` (RtcConfig or VoiceChatConfig) changed at dotted `path`.
fn start_agent_with(
    ids: (String, String, String),
    config: &str,
    path: &str,
    value: Value,
) -> AliRequest {
    let mut params = base("StartAgent", ids);
    let text = if config == "RtcConfig" {
        RTC_CONFIG
    } else {
        VOICE_CHAT_CONFIG
    };
    let mut object: Value = serde_json::from_str(text).unwrap_or(Value::Null);
    let parts: Vec<&str> = path.split('.').collect();
    set_path(&mut object, &parts, value);
    set(&mut params, config, object.to_string());
    request("StartAgent", params)
}

/// Sets `parts` (a dotted path, split) in `value`, making the objects on the way.
fn set_path(value: &mut Value, parts: &[&str], new: Value) {
    let Some(object) = value.as_object_mut() else {
        return;
    };
    match parts {
        [] => {}
        [last] => {
            object.insert((*last).to_string(), new);
        }
        [first, rest @ ..] => {
            let child = object
                .entry((*first).to_string())
                .or_insert_with(|| Value::Object(Default::default()));
            set_path(child, rest, new);
        }
    }
}

/// Fields of seed 002 and what type each must be.
const TYPED: [(&str, &str, &str); 10] = [
    ("RtcConfig", "UserId", "string"),
    ("RtcConfig", "UserInactivityTimeout", "int"),
    ("RtcConfig", "TargetUserIds", "array"),
    ("VoiceChatConfig", "ChatMode", "int"),
    ("VoiceChatConfig", "Greeting", "string"),
    ("VoiceChatConfig", "ASRConfig", "object"),
    (
        "VoiceChatConfig",
        "ASRConfig.SemanticPunctuationEnabled",
        "bool",
    ),
    ("VoiceChatConfig", "LLMConfig.Temperature", "number"),
    ("VoiceChatConfig", "TTSConfig.Volume", "int"),
    ("VoiceChatConfig", "AgentSilenceConfig.Enable", "bool"),
];

/// A JSON value that is not of `kind` (never null: null counts as absent).
fn not_of(kind: &'static str) -> BoxedStrategy<Value> {
    let string = "[a-z]{1,12}".prop_map(Value::from).boxed();
    let number = (1i64..100_000).prop_map(Value::from).boxed();
    let boolean = any::<bool>().prop_map(Value::from).boxed();
    let array = prop::collection::vec(0i64..10, 0..3)
        .prop_map(Value::from)
        .boxed();
    let object = Just(serde_json::json!({"unexpected": true})).boxed();
    match kind {
        "string" => prop_oneof![number, boolean, array, object].boxed(),
        "int" | "number" => prop_oneof![string, boolean, array, object].boxed(),
        "bool" => prop_oneof![string, number, array, object].boxed(),
        "object" => prop_oneof![string, number, boolean, array].boxed(),
        _ => prop_oneof![string, number, boolean, object].boxed(),
    }
}

fn wrong_type() -> BoxedStrategy<Input> {
    let nested = (0..TYPED.len())
        .prop_flat_map(|i| (Just(i), not_of(TYPED[i].2), ids()))
        .prop_map(|(i, value, ids)| {
            let (config, path, kind) = TYPED[i];
            let what = format!("StartAgent with {config}.{path} = {value} (must be {kind})");
            Generated::new(
                Category::WrongType,
                what,
                start_agent_with(ids, config, path, value),
                &["Invalid*"],
            )
        });
    let top = (
        prop_oneof![
            Just("GenerateAIAgentCall"),
            Just("GenerateMessageChatToken")
        ],
        "[a-z]{1,8}",
        ids(),
    )
        .prop_map(|(action, text, ids)| {
            let mut params = base(action, ids);
            set(&mut params, "Expire", text.clone());
            Generated::new(
                Category::WrongType,
                format!("{action} with Expire = {text:?}"),
                request(action, params),
                &["Invalid*"],
            )
        });
    let not_object = (
        prop_oneof![Just("[1,2]"), Just("42"), Just("\"text\""), Just("true")],
        ids(),
    )
        .prop_map(|(text, ids)| {
            let mut params = base("StartAgent", ids);
            set(&mut params, "RtcConfig", text.to_string());
            Generated::new(
                Category::WrongType,
                format!("StartAgent with RtcConfig = {text}"),
                request("StartAgent", params),
                &["Invalid*"],
            )
        });
    prop_oneof![6 => nested, 2 => top, 1 => not_object].boxed()
}

/// An integer outside `[lo, hi]`.
fn int_outside(lo: i64, hi: i64) -> BoxedStrategy<Value> {
    prop_oneof![(lo - 1_000_000)..lo, (hi + 1)..(hi + 1_000_000)]
        .prop_map(Value::from)
        .boxed()
}

fn out_of_range() -> BoxedStrategy<Input> {
    let ranges: Vec<(&'static str, &'static str, BoxedStrategy<Value>)> = vec![
        ("RtcConfig", "UserInactivityTimeout", int_outside(5, 180)),
        ("VoiceChatConfig", "ChatMode", int_outside(1, 2)),
        ("VoiceChatConfig", "InterruptMode", int_outside(1, 2)),
        (
            "VoiceChatConfig",
            "ASRConfig.MaxSentenceSilence",
            int_outside(200, 6000),
        ),
        (
            "VoiceChatConfig",
            "ASRConfig.VadConfig.InterruptSpeechDuration",
            int_outside(0, 3000),
        ),
        (
            "VoiceChatConfig",
            "LLMConfig.MaxToken",
            int_outside(1, 8192),
        ),
        ("VoiceChatConfig", "TTSConfig.Volume", int_outside(0, 100)),
        (
            "VoiceChatConfig",
            "AmbientSoundConfig.Volume",
            int_outside(0, 100),
        ),
        (
            "VoiceChatConfig",
            "LLMConfig.Temperature",
            prop_oneof![2.0f64..100.0, -100.0f64..-0.001]
                .prop_map(Value::from)
                .boxed(),
        ),
        (
            "VoiceChatConfig",
            "LLMConfig.TopP",
            prop_oneof![1.001f64..10.0, -10.0f64..=0.0]
                .prop_map(Value::from)
                .boxed(),
        ),
        (
            "VoiceChatConfig",
            "TTSConfig.Rate",
            prop_oneof![2.001f64..10.0, 0.0f64..0.499]
                .prop_map(Value::from)
                .boxed(),
        ),
        (
            "VoiceChatConfig",
            "TTSConfig.Voice",
            "zz[a-z]{2,10}".prop_map(Value::from).boxed(),
        ),
        (
            "VoiceChatConfig",
            "AgentSilenceConfig.AlertTimeout",
            prop_oneof![1i64..5, 601i64..100_000]
                .prop_map(Value::from)
                .boxed(),
        ),
        (
            "RtcConfig",
            "TargetUserIds",
            prop::collection::vec("[a-z]{3,8}", 2..5)
                .prop_map(Value::from)
                .boxed(),
        ),
    ];
    let nested = prop::strategy::Union::new(ranges.into_iter().map(|(config, path, values)| {
        (values, ids())
            .prop_map(move |(value, ids)| {
                let what = format!("StartAgent with {config}.{path} = {value}");
                Generated::new(
                    Category::OutOfRange,
                    what,
                    start_agent_with(ids, config, path, value),
                    &["Invalid*"],
                )
            })
            .boxed()
    }));
    let expire = (
        prop_oneof![
            Just(("GenerateAIAgentCall", 0i64)),
            Just(("GenerateMessageChatToken", 1i64))
        ],
        prop_oneof![-1_000_000i64..0, 604_801i64..100_000_000],
        ids(),
    )
        .prop_map(|((action, lo), n, ids)| {
            let n = if n < lo { n } else { n.max(604_801) };
            let mut params = base(action, ids);
            set(&mut params, "Expire", n.to_string());
            Generated::new(
                Category::OutOfRange,
                format!("{action} with Expire = {n}"),
                request(action, params),
                &["Invalid*"],
            )
        });
    prop_oneof![5 => nested, 1 => expire].boxed()
}

fn oversize() -> BoxedStrategy<Input> {
    let user_id = (
        prop_oneof![
            Just("GenerateAIAgentCall"),
            Just("GenerateMessageChatToken")
        ],
        "[A-Za-z0-9_]{65,300}",
        ids(),
    )
        .prop_map(|(action, long, ids)| {
            let mut params = base(action, ids);
            set(&mut params, "UserId", long.clone());
            Generated::new(
                Category::Oversize,
                format!(
                    "{action} with a UserId of {} bytes (at most 64)",
                    long.len()
                ),
                request(action, params),
                &["Invalid*"],
            )
        });
    let role = ("[a-z]{65,200}", ids()).prop_map(|(long, ids)| {
        let mut params = base("GenerateMessageChatToken", ids);
        params.push(("Role".into(), long.clone()));
        Generated::new(
            Category::Oversize,
            format!(
                "GenerateMessageChatToken with a Role of {} bytes",
                long.len()
            ),
            request("GenerateMessageChatToken", params),
            &["Invalid*"],
        )
    });
    let huge = (33_000usize..60_000, ids()).prop_map(|(n, ids)| {
        let mut params = base("StartAgent", ids);
        let greeting = serde_json::json!({"Greeting": "g".repeat(n)}).to_string();
        set(&mut params, "VoiceChatConfig", greeting);
        Generated::new(
            Category::Oversize,
            format!("StartAgent with a {n}-byte Greeting (query past 32 KiB)"),
            request("StartAgent", params),
            &["Invalid*", "RequestTooLarge", "RequestURITooLong"],
        )
    });
    prop_oneof![3 => user_id, 2 => role, 1 => huge].boxed()
}

fn broken_json() -> BoxedStrategy<Input> {
    let cases: [(&str, &str, &str); 4] = [
        ("StartAgent", "RtcConfig", RTC_CONFIG),
        ("StartAgent", "VoiceChatConfig", VOICE_CHAT_CONFIG),
        ("StartAIAgentInstance", "RuntimeConfig", RUNTIME_CONFIG),
        (
            "UpdateAIAgentInstance",
            "TemplateConfig",
            r#"{"VoiceChat":{"Greeting":"hi"}}"#,
        ),
    ];
    (
        0..cases.len(),
        any::<prop::sample::Index>(),
        prop_oneof![Just(0u8), Just(1u8), Just(2u8)],
        "[a-z:,\\[]{1,12}",
        ids(),
    )
        .prop_map(move |(i, cut, how, garbage, ids)| {
            let (action, param, valid) = cases[i];
            let text = match how {
                0 => valid[..1 + cut.index(valid.len() - 1)].to_string(),
                1 => format!("{valid}{garbage}}}"),
                _ => format!("{{{garbage}"),
            };
            let mut params = if action == "UpdateAIAgentInstance" {
                vec![("InstanceId".to_string(), ids.0.clone())]
            } else {
                base(action, ids)
            };
            params.retain(|(k, _)| k != param);
            params.push((param.to_string(), text.clone()));
            Generated::new(
                Category::BrokenJson,
                format!("{action} with {param} = {text:?}"),
                request(action, params),
                &["Invalid*"],
            )
        })
        .boxed()
}

fn bad_signature() -> BoxedStrategy<Input> {
    let signature = &["SignatureDoesNotMatch"][..];
    let incomplete = &["IncompleteSignature", "SignatureDoesNotMatch"][..];
    let family = &[
        "IncompleteSignature",
        "InvalidSignatureMethod",
        "SignatureDoesNotMatch",
        "InvalidAccessKeyId.NotFound",
    ][..];
    let tamper = prop_oneof![
        Just((Tamper::FlipSignature, signature)),
        "[A-Za-z0-9]{8,30}".prop_map(move |s| (Tamper::WrongSecret(s), signature)),
        "LTAI[A-Za-z0-9]{8,20}"
            .prop_map(|k| (Tamper::UnknownKey(k), &["InvalidAccessKeyId.NotFound"][..])),
        prop_oneof![-86_400i64..-901, 901i64..86_400]
            .prop_map(|s| (Tamper::SkewSecs(s), &["InvalidTimeStamp.Expired"][..])),
        "[a-z ]{1,20}".prop_map(|d| (Tamper::Date(d), &["InvalidTimeStamp.Format"][..])),
        "[A-Za-z0-9=,;]{1,60}".prop_map(move |a| (Tamper::Authorization(a), family)),
        prop_oneof![
            Just("x-acs-date"),
            Just("x-acs-signature-nonce"),
            Just("x-acs-content-sha256")
        ]
        .prop_map(move |h| (Tamper::DropHeader(h), incomplete)),
    ];
    (
        tamper,
        prop_oneof![
            Just("GetAgent"),
            Just("DescribeAIAgentInstance"),
            Just("GenerateMessageChatToken")
        ],
        ids(),
    )
        .prop_map(|((tamper, accept), action, ids)| {
            let what = format!("{action} with {tamper:?}");
            let request = request(action, base(action, ids)).tampered(tamper);
            Generated::new(Category::BadSignature, what, request, accept)
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_generates_inputs_with_fitting_codes() {
        let inputs = generate(7, 600, strategy);
        assert!(inputs.len() >= 600);
        for category in Category::ALL {
            assert!(
                inputs.iter().any(|g| g.category == category),
                "{category:?}"
            );
        }
        assert!(inputs.iter().all(|g| !g.accept.is_empty()));
    }

    #[test]
    fn a_nested_field_is_set_at_its_dotted_path() {
        let ids = ("a".to_string(), "b".to_string(), "c".to_string());
        let request = start_agent_with(
            ids,
            "VoiceChatConfig",
            "ASRConfig.VadConfig.InterruptSpeechDuration",
            Value::from(9999),
        );
        let config = &request
            .params
            .iter()
            .find(|(k, _)| k == "VoiceChatConfig")
            .unwrap()
            .1;
        let value: Value = serde_json::from_str(config).unwrap();
        assert_eq!(
            value["ASRConfig"]["VadConfig"]["InterruptSpeechDuration"],
            9999
        );
        assert_eq!(value["ASRConfig"]["MaxSentenceSilence"], 800);
    }
}
