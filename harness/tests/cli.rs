//! The binary's other subcommands and its exit codes, through the built `agentproof`.

use std::process::{Command, Output};

fn agentproof(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_agentproof"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// An empty folder for one test, removed with everything in it when the `TempDir` drops.
fn temp_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("agentproof-cli-{name}-"))
        .tempdir()
        .expect("a temporary folder")
}

#[test]
fn check_with_no_arguments_passes_and_writes_the_four_reports() {
    let tmp = temp_dir("check");
    let dir = tmp.path();
    let output = agentproof(&["check", "--report-dir", dir.to_str().unwrap()]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&output),
        stderr(&output)
    );
    for file in ["report.json", "junit.xml", "report.md", "report.html"] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let schema: serde_json::Value = serde_json::from_str(reports::schema::RUN_SCHEMA).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(stderr(&output).contains("seed"), "the seed is printed");
    for (name, text) in [("stdout", stdout(&output)), ("stderr", stderr(&output))] {
        assert!(
            !text.contains('\x1b'),
            "{name} off a terminal has no escape codes: {text:?}"
        );
    }
}

#[test]
fn an_unknown_suite_exits_2_with_a_suggestion() {
    let output = agentproof(&["check", "--suite", "bad-inputs"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(r#"did you mean "bad-input"?"#),
        "{}",
        stderr(&output)
    );
}

/// An AUI app server that echoes every request (body and credentials) back in an error with
/// `status`.
async fn echoing_aui(status: u16) -> wiremock::MockServer {
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(move |request: &wiremock::Request| {
            let echo = String::from_utf8_lossy(&request.body).into_owned();
            let header = |name: &str| {
                let value = request.headers.get(name).and_then(|v| v.to_str().ok());
                value.unwrap_or_default().to_string()
            };
            let credentials = format!("{} {}", header("authorization"), header("x-gw-key"));
            let message = format!("bad request: {echo} {credentials}");
            let body = serde_json::json!({"code": status, "message": message});
            wiremock::ResponseTemplate::new(status).set_body_json(body)
        })
        .mount(&server)
        .await;
    server
}

/// `agentproof check --target aui=URL ARGS --suite contract --suite errors`, off the runtime.
async fn check_aui(url: &str, dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<String> = ["check", "--target", &format!("aui={url}")]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend(["--suite", "contract", "--suite", "errors", "--report-dir"].map(String::from));
    args.push(dir.to_str().unwrap().to_string());
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        agentproof(&args)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_are_never_printed_or_reported_even_when_the_target_echoes_them() {
    // A login refused with the password echoed: the test cannot run (exit 2), and says so
    // without the password.
    let refusing = echoing_aui(401).await;
    let tmp = temp_dir("secrets-refused");
    let dir = tmp.path();
    let user = ["--aui-user", "alice:Pa55wordEchoedBack"];
    let output = check_aui(&refusing.uri(), dir, &user).await;
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("refused the login"),
        "{}",
        stderr(&output)
    );
    assert!(
        !stderr(&output).contains("Pa55wordEchoedBack"),
        "{}",
        stderr(&output)
    );

    // A target answering 400 to everything, credentials echoed: every case fails, and the
    // reports carry the echo without the secrets.
    let echoing = echoing_aui(400).await;
    let tmp = temp_dir("secrets");
    let dir = tmp.path();
    let credentials = [
        "--aui-auth",
        "bearer:BearerEchoedBack",
        "--aui-auth",
        "header:X-Gw-Key:GwKeyEchoedBack",
        "--aui-app",
        "app:AppKeyNeverShown",
    ];
    let output = check_aui(&echoing.uri(), dir, &credentials).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let mut texts = vec![stdout(&output), stderr(&output)];
    for file in ["report.json", "junit.xml", "report.md", "report.html"] {
        texts.push(std::fs::read_to_string(dir.join(file)).unwrap());
    }
    assert!(texts[2].contains("bad request"), "the echo is reported");
    assert!(texts[2].contains("Bearer ***"), "the echo is masked");
    for text in texts {
        for secret in ["BearerEchoedBack", "GwKeyEchoedBack", "AppKeyNeverShown"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

#[test]
fn check_also_writes_junit_where_asked() {
    let tmp = temp_dir("junit");
    let dir = tmp.path();
    let junit = dir.join("out.xml");
    let args = [
        "check",
        "--suite",
        "contract",
        "--report-dir",
        dir.to_str().unwrap(),
        "--junit",
        junit.to_str().unwrap(),
    ];
    let output = agentproof(&args);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(std::fs::read_to_string(junit)
        .unwrap()
        .contains("<testsuite"));
}

#[test]
fn bad_target_syntax_and_unreachable_targets_exit_2_naming_the_problem() {
    let output = agentproof(&["check", "--target", "aui"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("PLATFORM=URL"),
        "{}",
        stderr(&output)
    );
    let tmp = temp_dir("unreachable");
    let dir = tmp.path();
    let output = agentproof(&[
        "check",
        "--target",
        "aui=http://127.0.0.1:1",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("http://127.0.0.1:1"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn validate_exits_0_1_2_for_valid_invalid_and_unknown() {
    let tmp = temp_dir("validate");
    let dir = tmp.path();
    let good = dir.join("good.json");
    std::fs::write(&good, r#"{"user_id": "alice_01", "channel_id": "room-7"}"#).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"user_id": "a-b"}"#).unwrap();
    assert_eq!(
        agentproof(&[
            "validate",
            "aui/getRtcAuthToken.request",
            good.to_str().unwrap()
        ])
        .status
        .code(),
        Some(0)
    );
    let invalid = agentproof(&[
        "validate",
        "aui/getRtcAuthToken.request",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(invalid.status.code(), Some(1));
    assert!(
        stdout(&invalid).contains("/user_id"),
        "{}",
        stdout(&invalid)
    );
    let unknown = agentproof(&["validate", "aui/getRtcAuthToken", good.to_str().unwrap()]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        stderr(&unknown).contains("aui/getRtcAuthToken.request"),
        "{}",
        stderr(&unknown)
    );
    let missing = agentproof(&[
        "validate",
        "aui/getRtcAuthToken.request",
        "/nonexistent/file.json",
    ]);
    assert_eq!(missing.status.code(), Some(2));
}

#[test]
fn validate_reads_standard_input() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_agentproof"))
        .args(["validate", "duix/error", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"code": "1006", "success": false}"#)
        .unwrap();
    assert_eq!(child.wait_with_output().unwrap().status.code(), Some(0));
}

#[test]
fn schemas_lists_exports_and_prints_openapi() {
    let list = agentproof(&["schemas"]);
    assert_eq!(list.status.code(), Some(0));
    assert!(stdout(&list).contains("duix/checkSig.response"));
    let tmp = temp_dir("export");
    let dir = tmp.path();
    let export = agentproof(&["schemas", "--export", dir.to_str().unwrap()]);
    assert_eq!(export.status.code(), Some(0), "{}", stderr(&export));
    assert!(dir
        .join("aui/getRtcAuthToken.response.schema.json")
        .is_file());
    let openapi = agentproof(&["schemas", "--openapi", "aui"]);
    let document: serde_json::Value = serde_json::from_slice(&openapi.stdout).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
}
