//! `agentproof llm` against LLM endpoints that each break one rule: every misbehaving vendor must
//! fail exactly its own rule and no other, the reference endpoint must pass every rule, and an
//! unreachable URL or bad usage is exit 2 saying why.
//!
//! The vendors are small axum servers on loopback, each a compliant OpenAI streaming endpoint
//! with one thing wrong; the checker is the real binary.

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::process::{Output, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Command;

/// The key every test vendor that checks one expects.
const KEY: &str = "sk-test-key";

/// What a test vendor gets wrong; the default is nothing.
#[derive(Clone, Default)]
struct Flaw {
    /// Waits this long before the first content chunk.
    first_token_delay: Duration,
    /// Ends the stream after the finish_reason chunk without `data: [DONE]`.
    no_done: bool,
    /// Sends chunks without `choices` (the text at the top level).
    no_choices: bool,
    /// Answers a malformed body with 500.
    fails_on_malformed: bool,
    /// Answers whatever key comes, or none.
    no_auth_check: bool,
}

/// The answer to one request: a compliant endpoint's, except for the flaw.
async fn answer(flaw: &Flaw, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Response {
    if uri.path() != "/v1/chat/completions" {
        return refuse(StatusCode::NOT_FOUND, "no such path");
    }
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok());
    if !flaw.no_auth_check && bearer != Some(&format!("Bearer {KEY}")) {
        return refuse(StatusCode::UNAUTHORIZED, "Incorrect API key provided.");
    }
    let Some(request) = valid(body) else {
        return match flaw.fails_on_malformed {
            true => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Traceback (most recent call last)",
            )
                .into_response(),
            false => refuse(StatusCode::BAD_REQUEST, "invalid request"),
        };
    };
    let last = request["messages"]
        .as_array()
        .and_then(|m| m.last())
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default()
        .to_string();
    stream(flaw.clone(), format!("You said {last}"))
}

fn refuse(status: StatusCode, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}});
    (status, axum::Json(body)).into_response()
}

/// A body with a non-empty `messages` array of `{role: string, content: string}` records.
fn valid(body: &[u8]) -> Option<Value> {
    let request: Value = serde_json::from_slice(body).ok()?;
    let messages = request.get("messages")?.as_array()?;
    let records_ok = messages
        .iter()
        .all(|m| m["role"].is_string() && m["content"].is_string());
    (!messages.is_empty() && records_ok).then_some(request)
}

/// The text in two chunks, a finish_reason chunk and `[DONE]`, as the flaw allows.
fn stream(flaw: Flaw, text: String) -> Response {
    let chunk = |delta: Value, finish: Option<&str>| {
        let mut chunk = json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
        if flaw.no_choices {
            let object = chunk.as_object_mut().unwrap();
            object.remove("choices");
            object.insert("content".into(), delta["content"].clone());
        }
        format!("data: {chunk}\n\n")
    };
    let (head, tail) = text.split_at(text.len() / 2);
    let mut events = vec![
        (
            Duration::ZERO,
            chunk(json!({"role": "assistant", "content": ""}), None),
        ),
        (
            flaw.first_token_delay,
            chunk(json!({"content": head}), None),
        ),
        (Duration::ZERO, chunk(json!({"content": tail}), None)),
        (Duration::ZERO, chunk(json!({}), Some("stop"))),
    ];
    if !flaw.no_done {
        events.push((Duration::ZERO, "data: [DONE]\n\n".to_string()));
    }
    let body = futures_util::stream::unfold(events.into_iter(), |mut events| async move {
        let (wait, event) = events.next()?;
        tokio::time::sleep(wait).await;
        Some((Ok::<_, std::io::Error>(Bytes::from(event)), events))
    });
    (
        [("content-type", "text/event-stream")],
        Body::from_stream(body),
    )
        .into_response()
}

/// Serves a vendor with `flaw` on a free loopback port; its base URL.
async fn vendor(flaw: Flaw) -> String {
    let flaw = Arc::new(flaw);
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let flaw = flaw.clone();
        async move { answer(&flaw, &uri, &headers, &body).await }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn llm(args: &[&str]) -> Output {
    // The report folder is made by the command, inside a folder removed when this returns.
    let tmp = tempfile::TempDir::with_prefix("agentproof-llm-").expect("a temporary folder");
    let dir = tmp.path().join("report");
    let output = Command::new(env!("CARGO_BIN_EXE_agentproof"))
        .arg("llm")
        .args(args)
        .arg("--report-dir")
        .arg(&dir)
        .env_remove("AGENTPROOF_LLM_API_KEY")
        .stdin(Stdio::null())
        .output();
    tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("the check ends within two minutes")
        .expect("the binary runs")
}

fn describe(output: &Output) -> String {
    format!(
        "exit {:?}\n{}\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// The rules `stdout` says failed.
fn failed_rules(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  FAIL  "))
        .map(|l| l.split(':').next().unwrap_or_default().to_string())
        .collect()
}

/// Checks `flaw`'s vendor with its key and `extra` arguments: exit 1, exactly `rule` broken.
async fn breaks_only(flaw: Flaw, rule: &str, extra: &[&str]) -> String {
    let url = vendor(flaw).await;
    let mut args = vec!["--url", url.as_str(), "--api-key", KEY, "--requests", "10"];
    args.extend(extra);
    let output = llm(&args).await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        stdout.starts_with("FAIL: 1 of 7 rules broken\n"),
        "{}",
        describe(&output)
    );
    assert_eq!(failed_rules(&stdout), [rule], "{stdout}");
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_endpoint_passes_every_rule() {
    let output = llm(&["--requests", "20"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("PASS\n"), "{stdout}");
    for rule in [
        "path",
        "stream",
        "answer",
        "auth",
        "malformed",
        "ttft",
        "timeout",
    ] {
        assert!(
            stdout.contains(&format!("  ok    {rule}: ")),
            "{rule} passed, not skipped: {stdout}"
        );
    }
    assert!(
        stdout.contains("20 records"),
        "the history reached the cap: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compliant_vendor_passes_and_its_key_is_never_printed() {
    let url = vendor(Flaw::default()).await;
    let output = llm(&["--url", &url, "--api-key", KEY, "--requests", "10"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(!describe(&output).contains(KEY), "the key is never printed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_first_token_breaks_only_ttft() {
    let flaw = Flaw {
        first_token_delay: Duration::from_millis(250),
        ..Flaw::default()
    };
    let stdout = breaks_only(flaw, "ttft", &["--ttft-ms", "200"]).await;
    assert!(
        stdout.contains("  FAIL  ttft: 0 of 10 under 200 ms"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_without_done_breaks_only_stream() {
    let flaw = Flaw {
        no_done: true,
        ..Flaw::default()
    };
    let stdout = breaks_only(flaw, "stream", &[]).await;
    assert!(
        stdout.contains("the stream ended without data: [DONE]"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunks_without_choices_break_only_stream() {
    let flaw = Flaw {
        no_choices: true,
        ..Flaw::default()
    };
    let stdout = breaks_only(flaw, "stream", &[]).await;
    assert!(
        stdout.contains("a chunk without a choices array"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_on_a_malformed_body_breaks_only_malformed() {
    let flaw = Flaw {
        fails_on_malformed: true,
        ..Flaw::default()
    };
    let stdout = breaks_only(flaw, "malformed", &[]).await;
    assert!(stdout.contains("messages missing: HTTP 500"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_auth_check_when_a_key_is_set_breaks_only_auth() {
    let flaw = Flaw {
        no_auth_check: true,
        ..Flaw::default()
    };
    let stdout = breaks_only(flaw, "auth", &[]).await;
    assert!(
        stdout.contains("HTTP 200 to a valid request without the key"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_given_with_the_path_breaks_only_path_and_says_so() {
    let url = vendor(Flaw::default()).await;
    let full = format!("{url}/chat/completions");
    let output = llm(&["--url", &full, "--api-key", KEY, "--requests", "10"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert_eq!(failed_rules(&stdout), ["path"], "{stdout}");
    assert!(
        stdout.contains("--url ends with /chat/completions"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_key_auth_is_skipped_with_the_reason() {
    let url = vendor(Flaw {
        no_auth_check: true,
        ..Flaw::default()
    })
    .await;
    let output = llm(&["--url", &url, "--requests", "10"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(stdout.starts_with("PASS (1 skipped: auth)\n"), "{stdout}");
    assert!(
        stdout.contains("  skip  auth: no --api-key given"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_url_and_bad_usage_exit_2_saying_why() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("http://127.0.0.1:{port}/v1");
    let cases: [(&[&str], &str); 4] = [
        (&["--url", &url], "cannot reach the LLM endpoint"),
        (&["--url", "ftp://x/v1"], "http:// or https://"),
        (&["--url", "https://user:pw@llm.example/v1"], "--api-key"),
        (&["--rate", "0"], "must be above 0"),
    ];
    for (args, needle) in cases {
        let output = llm(args).await;
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            describe(&output)
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("pw@"),
            "credentials in a URL are not echoed: {stderr}"
        );
    }
}
