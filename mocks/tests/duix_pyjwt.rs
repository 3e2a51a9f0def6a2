//! Tokens made by PyJWT (the library DUIX customers' Python servers use) against the DUIX mock:
//! a real client's HS256, not our own signer. Needs the venv of `.ci/setup-python`; without it
//! the test fails (it never skips) and says how to make it.

mod duix_support;

use duix_support::*;
use mocks::duix::{DEMO_APP_ID, DEMO_APP_KEY};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;

/// `$AGENTPROOF_VENV`, else `<workspace>/.venv`.
fn venv_python() -> PathBuf {
    let venv = std::env::var_os("AGENTPROOF_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv"));
    let python = venv.join("bin/python");
    assert!(
        python.exists(),
        "no Python venv at {}: run .ci/setup-python (or set AGENTPROOF_VENV)",
        venv.display()
    );
    python
}

/// The tokens duix_pyjwt.py makes for the demo app at virtual time `now`.
fn pyjwt_tokens(now: i64) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/duix_pyjwt.py");
    let output = Command::new(venv_python())
        .arg(&script)
        .args([DEMO_APP_ID, DEMO_APP_KEY, &now.to_string()])
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "duix_pyjwt.py failed (run .ci/setup-python?): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("the script prints JSON")
}

fn token<'a>(tokens: &'a Value, name: &str) -> &'a str {
    tokens[name].as_str().expect("token is a string")
}

#[tokio::test]
async fn check_sig_accepts_pyjwt_tokens_and_refuses_the_bad_ones_with_their_codes() {
    let platform = platform(config()).await;
    let tokens = pyjwt_tokens(platform.clock.now_secs());
    for name in ["valid", "extra_claims"] {
        let (status, body) = platform
            .get(
                &format!("/duix-openapi-v2/sdk/checkSig?sig={}", token(&tokens, name)),
                None,
            )
            .await;
        assert_eq!(
            (status, &body["data"]["appId"]),
            (200, &json!(DEMO_APP_ID)),
            "{name}: {body}"
        );
    }
    for (name, code) in [("expired", "1006"), ("other_key", "40001")] {
        let (status, body) = platform
            .get(
                &format!("/duix-openapi-v2/sdk/checkSig?sig={}", token(&tokens, name)),
                None,
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some(code)),
            "{name}: {body}"
        );
    }
}

#[tokio::test]
async fn management_apis_take_a_pyjwt_token_in_the_token_header() {
    let platform = platform(config()).await;
    let tokens = pyjwt_tokens(platform.clock.now_secs());
    let path = format!("/duix-openapi-v2/sdk/v2/getconcurrentNumber?appId={DEMO_APP_ID}");
    let (status, body) = platform.get(&path, Some(token(&tokens, "valid"))).await;
    assert_eq!(
        (status, body["success"].as_bool()),
        (200, Some(true)),
        "{body}"
    );
    let (status, body) = platform.get(&path, Some(token(&tokens, "expired"))).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("1006")));
}

#[tokio::test]
async fn a_pyjwt_token_expires_when_the_virtual_clock_passes_its_exp() {
    let platform = platform(config()).await;
    let tokens = pyjwt_tokens(platform.clock.now_secs());
    let sig = token(&tokens, "valid");
    platform.clock.advance_ms(1800 * 1000);
    let (status, body) = platform
        .get(&format!("/duix-openapi-v2/sdk/checkSig?sig={sig}"), None)
        .await;
    assert_eq!((status, body["code"].as_str()), (401, Some("1006")));
}

#[tokio::test]
async fn a_pyjwt_sig_opens_a_session() {
    let platform = platform(config()).await;
    let tokens = pyjwt_tokens(platform.clock.now_secs());
    let url = platform.ws_service(token(&tokens, "valid")).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket opens");
    send(&mut ws, json!({"type": "start"})).await;
    assert_eq!(next_json(&mut ws).await["type"], "start-complete");
}
