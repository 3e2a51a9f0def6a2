//! `agentproof webhook` against vendors that each break one rule: every misbehaving vendor must
//! fail exactly its own rule and no other, the reference webhook must pass every rule, and an
//! unreachable URL is exit 2 with the connect error in words.
//!
//! The vendors are small axum servers on loopback, each a copy of a compliant webhook with one
//! thing wrong; the checker is the real binary.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::process::Command;

/// What a test vendor gets wrong; the default is nothing.
#[derive(Clone, Default)]
struct Flaw {
    /// Waits this long before every valid answer.
    delay: Duration,
    /// Never answers every n-th valid JSON question.
    hang_every: Option<usize>,
    /// Echoes another conversationId.
    wrong_id: bool,
    /// Leaves data.answer out.
    no_answer: bool,
    /// Answers a malformed body with 500.
    fails_on_malformed: bool,
    /// Reads only what it uses: any dh-context, an empty question answered as any other.
    lenient: bool,
    /// Crashes (500) on a dh-context that is not JSON text, and accepts the rest as `lenient`.
    crashes_on_bad_context: bool,
    /// Requires `Authorization: Bearer` this secret (401 without it).
    secret: Option<String>,
    /// Streams events without a final isEnd.
    stream_without_end: bool,
    /// Streams an event whose data is not JSON.
    stream_bad_json: bool,
    /// Echoes the right conversationId in the first turn only.
    wrong_id_later: bool,
    /// Answers a request for the stream alone with 500.
    stream_fails: bool,
    /// Keeps the stream open after its isEnd event.
    stream_stays_open: bool,
}

struct Vendor {
    flaw: Flaw,
    questions: AtomicUsize,
}

/// The vendor's answer to one request, as a compliant webhook gives it except for its flaw.
async fn answer(vendor: &Vendor, headers: &HeaderMap, body: &[u8]) -> Response {
    let flaw = &vendor.flaw;
    if let Some(secret) = &flaw.secret {
        let expected = format!("Bearer {secret}");
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
            return (StatusCode::UNAUTHORIZED, "{}").into_response();
        }
    }
    let lenient = flaw.lenient || flaw.crashes_on_bad_context;
    let Some(request) = valid(body, lenient) else {
        let status = match flaw.fails_on_malformed {
            true => StatusCode::INTERNAL_SERVER_ERROR,
            false => StatusCode::BAD_REQUEST,
        };
        let refusal =
            json!({"code": status.as_u16().to_string(), "msg": "bad request", "success": false});
        return (status, axum::Json(refusal)).into_response();
    };
    let context_is_json = request.get("dh-context").is_none_or(|c| {
        c.as_str()
            .is_some_and(|c| serde_json::from_str::<Value>(c).is_ok())
    });
    if flaw.crashes_on_bad_context && !context_is_json {
        return (StatusCode::INTERNAL_SERVER_ERROR, "NullPointerException").into_response();
    }
    let stream = headers
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    tokio::time::sleep(flaw.delay).await;
    if stream && flaw.stream_fails {
        return (StatusCode::INTERNAL_SERVER_ERROR, "{}").into_response();
    }
    if stream {
        return event_stream(flaw);
    }
    let n = vendor.questions.fetch_add(1, Ordering::Relaxed) + 1;
    if flaw.hang_every.is_some_and(|every| n % every == 0) {
        std::future::pending::<()>().await;
    }
    let later_turn = request["dh-context"].as_str().is_some_and(|c| c != "{}");
    let id = match flaw.wrong_id || (flaw.wrong_id_later && later_turn) {
        true => "not-the-conversation-id".to_string(),
        false => request["dh-conversation-id"].as_str().unwrap().to_string(),
    };
    let mut data = json!({"conversationId": id, "answer": {"answer": "hello"}});
    if flaw.no_answer {
        data.as_object_mut().unwrap().remove("answer");
    }
    axum::Json(json!({"code": "200", "msg": "ok", "success": true, "data": data})).into_response()
}

/// The request body, when it is a valid dh-question: the required fields strings, and unless
/// `lenient`, a non-empty question and the context as text.
fn valid(body: &[u8], lenient: bool) -> Option<Value> {
    let request: Value = serde_json::from_slice(body).ok()?;
    let fields = ["sid", "dh-code", "dh-question", "dh-conversation-id"];
    let strings = fields.iter().all(|f| {
        request[f]
            .as_str()
            .is_some_and(|s| lenient || !s.is_empty())
    });
    let context = lenient || request.get("dh-context").is_none_or(Value::is_string);
    (strings && context).then_some(request)
}

fn event_stream(flaw: &Flaw) -> Response {
    let last = match (flaw.stream_without_end, flaw.stream_bad_json) {
        (_, true) => "data: {\"answer\": \"lo\", \n\n",
        (true, _) => "data: {\"answer\":\"lo\",\"isEnd\":false}\n\n",
        _ => "data: {\"answer\":\"lo\",\"isEnd\":true}\n\n",
    };
    let body = format!("data: {{\"answer\":\"hel\",\"isEnd\":false}}\n\n{last}");
    if flaw.stream_stays_open {
        // The events, then a body that never ends: the platform stops reading at isEnd.
        let events = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(body))]);
        let forever = futures_util::stream::pending();
        let stream = futures_util::StreamExt::chain(events, forever);
        let body = axum::body::Body::from_stream(stream);
        return ([("content-type", "text/event-stream")], body).into_response();
    }
    ([("content-type", "text/event-stream")], body).into_response()
}

/// Serves a vendor with `flaw` on a free loopback port; its URL.
async fn vendor(flaw: Flaw) -> String {
    let state = Arc::new(Vendor {
        flaw,
        questions: AtomicUsize::new(0),
    });
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move { answer(&state, &headers, &body).await }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn webhook(args: &[&str]) -> Output {
    // The report folder is made by the command, inside a folder removed when this returns.
    let tmp = tempfile::TempDir::with_prefix("agentproof-webhook-").expect("a temporary folder");
    let dir = tmp.path().join("report");
    let output = Command::new(env!("CARGO_BIN_EXE_agentproof"))
        .arg("webhook")
        .args(args)
        .arg("--report-dir")
        .arg(&dir)
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

/// Checks `flaw`'s vendor with `extra` arguments: exit 1, exactly `rule` broken.
async fn breaks_only(flaw: Flaw, rule: &str, extra: &[&str]) {
    let url = vendor(flaw).await;
    let mut args = vec!["--url", url.as_str()];
    args.extend(extra);
    let output = webhook(&args).await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        stdout.starts_with("FAIL: 1 of 9 rules broken\n"),
        "{}",
        describe(&output)
    );
    let failed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  FAIL  "))
        .collect();
    assert_eq!(failed.len(), 1, "{stdout}");
    assert!(
        failed[0].starts_with(&format!("{rule}: ")),
        "{rule} broke: {stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reference_webhook_passes_every_rule() {
    let output = webhook(&["--requests", "20"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("PASS\n"), "{stdout}");
    for rule in [
        "envelope",
        "answer",
        "conversation-id",
        "continuity",
        "sse",
        "malformed",
        "auth",
        "latency",
        "timeout",
    ] {
        assert!(
            stdout.contains(&format!("  ok    {rule}: ")),
            "{rule} passed, not skipped: {stdout}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_vendor_breaks_only_latency() {
    let flaw = Flaw {
        delay: Duration::from_millis(2100),
        ..Flaw::default()
    };
    breaks_only(flaw, "latency", &["--requests", "12", "--concurrency", "8"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_hanging_past_the_timeout_breaks_only_timeout() {
    let flaw = Flaw {
        hang_every: Some(25),
        ..Flaw::default()
    };
    let args = [
        "--requests",
        "50",
        "--timeout-ms",
        "500",
        "--concurrency",
        "8",
    ];
    breaks_only(flaw, "timeout", &args).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_echoing_another_conversation_id_breaks_only_conversation_id() {
    let flaw = Flaw {
        wrong_id: true,
        ..Flaw::default()
    };
    breaks_only(flaw, "conversation-id", &["--requests", "9"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_without_answer_breaks_only_answer() {
    let flaw = Flaw {
        no_answer: true,
        ..Flaw::default()
    };
    breaks_only(flaw, "answer", &["--requests", "9"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_failing_with_500_on_malformed_bodies_breaks_only_malformed() {
    let flaw = Flaw {
        fails_on_malformed: true,
        ..Flaw::default()
    };
    breaks_only(flaw, "malformed", &["--requests", "9"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lenient_vendor_passes_with_a_note_for_each_open_case_it_accepted() {
    let flaw = Flaw {
        lenient: true,
        ..Flaw::default()
    };
    let url = vendor(flaw).await;
    let output = webhook(&["--url", &url, "--requests", "9"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(stdout.starts_with("PASS"), "{stdout}");
    assert!(
        stdout.contains("  ok    malformed: 10 of 10 must-refuse requests got 4xx"),
        "{stdout}"
    );
    for case in [
        "dh-context an object, not its JSON text: HTTP 200, accepted",
        "dh-context text that is not JSON: HTTP 200, accepted",
        "dh-question empty: HTTP 200, accepted",
    ] {
        assert!(
            stdout.contains(&format!("          note: {case}")),
            "{case}: {stdout}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_crashing_on_a_context_that_is_not_json_breaks_only_malformed() {
    let flaw = Flaw {
        crashes_on_bad_context: true,
        ..Flaw::default()
    };
    breaks_only(flaw, "malformed", &["--requests", "9"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_accepting_requests_without_its_credentials_breaks_only_auth() {
    let args = [
        "--requests",
        "9",
        "--header",
        "Authorization:Bearer s3cret-token",
    ];
    breaks_only(Flaw::default(), "auth", &args).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_checking_its_credentials_passes_auth() {
    let flaw = Flaw {
        secret: Some("s3cret-token".into()),
        ..Flaw::default()
    };
    let url = vendor(flaw).await;
    let args = [
        "--url",
        &url,
        "--requests",
        "9",
        "--header",
        "Authorization:Bearer s3cret-token",
    ];
    let output = webhook(&args).await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
    assert!(
        !describe(&output).contains("s3cret-token"),
        "the credential is never printed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_event_stream_breaks_only_sse() {
    for flaw in [
        Flaw {
            stream_without_end: true,
            ..Flaw::default()
        },
        Flaw {
            stream_bad_json: true,
            ..Flaw::default()
        },
    ] {
        breaks_only(flaw, "sse", &["--requests", "9"]).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_request_answered_500_breaks_only_sse() {
    let flaw = Flaw {
        stream_fails: true,
        ..Flaw::default()
    };
    breaks_only(flaw, "sse", &["--requests", "9"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_kept_open_after_is_end_passes_as_the_platform_reads_it() {
    let flaw = Flaw {
        stream_stays_open: true,
        ..Flaw::default()
    };
    let url = vendor(flaw).await;
    let output = webhook(&["--url", &url, "--requests", "9", "--timeout-ms", "3000"]).await;
    assert_eq!(output.status.code(), Some(0), "{}", describe(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vendor_changing_the_id_in_later_turns_breaks_conversation_id_and_continuity() {
    let flaw = Flaw {
        wrong_id_later: true,
        ..Flaw::default()
    };
    let url = vendor(flaw).await;
    let output = webhook(&["--url", &url, "--requests", "9"]).await;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(1), "{}", describe(&output));
    assert!(
        stdout.starts_with("FAIL: 2 of 9 rules broken\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  FAIL  conversation-id: sent "),
        "{stdout}"
    );
    assert!(
        stdout.contains("  FAIL  continuity: turn 2 of "),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_typed_without_its_colon_is_refused_without_echoing_its_value() {
    for typo in [
        "Authorization Bearer s3cret-token",
        "Authorization=Bearer s3cret-token",
    ] {
        let output = webhook(&["--header", typo]).await;
        assert_eq!(output.status.code(), Some(2), "{}", describe(&output));
        assert!(
            !describe(&output).contains("s3cret"),
            "{}",
            describe(&output)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_url_and_bad_usage_exit_2_saying_why() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let url = format!("http://127.0.0.1:{port}/hook");
    let cases: [(&[&str], &str); 4] = [
        (&["--url", &url], "cannot reach the webhook"),
        (&["--url", "ftp://x/hook"], "http:// or https://"),
        (&["--header", "Authorization Bearer x"], "NAME:VALUE"),
        (&["--rate", "0"], "must be above 0"),
    ];
    for (args, needle) in cases {
        let output = webhook(args).await;
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            describe(&output)
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    let output = webhook(&["--url", &url]).await;
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("Connection refused"),
        "the connect error in words"
    );
}
