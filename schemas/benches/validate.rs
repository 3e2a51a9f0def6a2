//! Cost of checking one document against a compiled schema, valid and invalid.
//!
//! `agentproof check` validates every answer a target gives against its contract (the `contract`
//! suite, and each bad-input case's error envelope), and the mocks' tests validate what they
//! serve, so [`schemas::Registry::validate`] runs once per request on the gate's hot path. A valid
//! document takes the fast `is_valid` path; an invalid one also collects every violation with its
//! JSON path, which is the slower path a broken target puts the gate on.
//!
//! The first [`schemas::registry()`] call parses and compiles every embedded schema; that happens
//! once per process, before any traffic, so it is not benched: the registry is built before the
//! first measurement and every iteration reuses it.
//!
//! ```sh
//! cargo bench -p schemas --bench validate -- --warm-up-time 1 --measurement-time 2
//! ```

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};

/// The schema's first own example: a document that satisfies it.
fn first_example(name: &str) -> Value {
    schemas::registry()
        .examples(name)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{name} has examples"))
}

/// Benches `name` against `valid` and `invalid`, after checking each gets the expected verdict.
fn bench_pair(c: &mut Criterion, name: &str, valid: Value, invalid: Value) {
    let registry = schemas::registry();
    assert!(registry.validate(name, &valid).is_ok(), "{name}: example");
    let violations = registry
        .validate(name, &invalid)
        .expect_err("the broken document is refused")
        .violations()
        .len();
    assert!(violations >= 2, "{name}: {violations} violations");

    c.bench_function(&format!("{name} valid"), |b| {
        b.iter(|| registry.validate(black_box(name), black_box(&valid)))
    });
    // Named without the count so a baseline survives a schema that reports one more.
    c.bench_function(&format!("{name} invalid"), |b| {
        b.iter(|| registry.validate(black_box(name), black_box(&invalid)))
    });
}

/// The AUI app server's answer to `getRtcAuthToken`: small, flat, `$ref`s into `common`.
fn aui_get_rtc_auth_token(c: &mut Criterion) {
    let name = "aui/getRtcAuthToken.response";
    let valid = first_example(name);
    let mut invalid = valid.clone();
    invalid["code"] = json!(500);
    invalid["channel_id"] = json!("not a channel id!");
    invalid["timestamp"] = json!(-1);
    bench_pair(c, name, valid, invalid);
}

/// RTC StartAgent's parsed params: nested RtcConfig and VoiceChatConfig, every field checked.
fn alibaba_start_agent(c: &mut Criterion) {
    let name = "alibaba/StartAgent.request";
    let valid = first_example(name);
    let mut invalid = valid.clone();
    invalid
        .as_object_mut()
        .expect("the example is an object")
        .remove("TemplateId");
    invalid["RtcConfig"]["UserInactivityTimeout"] = json!(999);
    invalid["VoiceChatConfig"]["TTSConfig"]["Volume"] = json!("loud");
    bench_pair(c, name, valid, invalid);
}

criterion_group!(benches, aui_get_rtc_auth_token, alibaba_start_agent);
criterion_main!(benches);
