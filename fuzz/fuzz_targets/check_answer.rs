//! How `agentproof check` reads a target's answer: status and raw body bytes into a `Reply`
//! (`Reply::answer`: lossy text, JSON only from valid bytes), its description for reports, the
//! business code (`business_code`), the suites' expectations (`Expect::verify` with each platform's
//! success and error schemas, `aui::rejects`, the bad-input suite's `envelope`), and the ARTC token
//! an AUI answer carries (`protocol::aui::verify_rtc_token`, `decode_claims`), as the suites and the
//! expiry checks read it, and the target's clock answer (`expiry::answered_now`).
//!
//! Input: one byte choosing the platform and the expectation, two bytes of status (mapped into
//! 100..=999, what hyper can carry), then the body.

#![no_main]

use harness::check::badinput::envelope;
use harness::check::case::{business_code, check_schema, expect};
use harness::check::client::Reply;
use harness::check::expiry;
use harness::check::suites::{alibaba, aui, duix};
use harness::check::target::Platform;
use libfuzzer_sys::fuzz_target;
use std::time::Duration;

const ALIBABA_ACTIONS: [&str; 10] = [
    "StartAgent",
    "StopAgent",
    "UpdateAgent",
    "GetAgent",
    "StartAIAgentInstance",
    "StopAIAgentInstance",
    "UpdateAIAgentInstance",
    "DescribeAIAgentInstance",
    "GenerateAIAgentCall",
    "GenerateMessageChatToken",
];
const AUI_ROUTES: [&str; 8] = [
    aui::GET_RTC_AUTH_TOKEN,
    aui::GENERATE_MESSAGE_CHAT_TOKEN,
    aui::DESCRIBE,
    aui::START,
    aui::START_WITH_CHANNEL,
    aui::STOP,
    aui::UPDATE,
    aui::GENERATE_CALL,
];
const DUIX_ENDPOINTS: [&str; 5] = [
    "checkSig",
    "getconcurrentNumber",
    "getconcurrentList",
    "distroyCallSessionsByAppId",
    "sessionStop",
];

fuzz_target!(|data: &[u8]| {
    let [choice, high, low, body @ ..] = data else {
        return;
    };
    let platform = Platform::ALL[usize::from(choice % 3)];
    let pick = usize::from(choice / 3);
    let status = 100 + u16::from_be_bytes([*high, *low]) % 900;
    let reply = Reply::answer(platform, "fuzz", status, body, Duration::from_millis(3));
    let _ = reply.describe();
    let _ = business_code(platform, reply.json.as_ref());

    let (success, error_schema) = match platform {
        Platform::Alibaba => (
            alibaba::ok(ALIBABA_ACTIONS[pick % ALIBABA_ACTIONS.len()]),
            "alibaba/error",
        ),
        Platform::Aui => (aui::ok(AUI_ROUTES[pick % AUI_ROUTES.len()]), "aui/error"),
        Platform::Duix => (
            duix::ok(DUIX_ENDPOINTS[pick % DUIX_ENDPOINTS.len()]),
            "duix/error",
        ),
    };
    let _ = success.summary();
    let _ = success.verify(&reply);
    let _ = expect().status(status).code("0").verify(&reply);
    let _ = check_schema(error_schema, &reply);
    let _ = envelope(&reply, error_schema);
    match platform {
        Platform::Alibaba => {
            let _ = alibaba::error(400, "InvalidParameter").verify(&reply);
        }
        Platform::Aui => {
            let _ = aui::rejects(&reply, &[400, 403]);
        }
        Platform::Duix => {
            let _ = duix::error(401, "1006").verify(&reply);
        }
    }

    // The target's clock, as the expiry suite reads `/__admin/clock`'s answer.
    if let Some(json) = &reply.json {
        let _ = expiry::answered_now(json);
    }

    // The ARTC tokens a target answers (AUI `rtc_auth_token`, ICE `Token`).
    for field in ["rtc_auth_token", "Token"] {
        if let Some(token) = reply.str(field) {
            let _ = protocol::aui::decode_claims(token);
            let _ = protocol::aui::verify_rtc_token(token, Some("app"), "key", i64::MIN);
        }
    }
});
