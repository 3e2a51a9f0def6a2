//! `check` and `load` against AUI app servers as teams run them: started from Alibaba's official
//! sample, with its conventions (no login route, HTTP 200 everywhere, `{code:500, msg}`...), its
//! route sets, its getRtcAuthToken channel_id, or a fixed header in front (`common::sample_aui`).
//! Each server calls the embedded Alibaba mock upstream with V3 signatures, as the sample calls ICE.

mod common;

use clap::Parser;
use common::describe;
use common::sample_aui::{self, Options, APP};
use harness::check::{execute, progress::Progress, Plan};
use reports::{Outcome, Run};
use std::collections::BTreeSet;
use std::process::Output;
use std::time::Duration;

/// The embedded Alibaba mock the stand-ins call, and its AccessKey.
async fn alibaba() -> (mocks::MockServer, (String, String)) {
    let config = mocks::alibaba::AlibabaConfig::default();
    let key = config.credentials[0].clone();
    let addr = "127.0.0.1:0".parse().unwrap();
    let server = mocks::alibaba::start(config, mocks::VirtualClock::new(), addr)
        .await
        .unwrap();
    (server, (key.access_key_id, key.access_key_secret))
}

/// A sample-shaped server with `options`, and the Alibaba mock behind it (kept alive).
async fn sample(options: Options) -> (String, mocks::MockServer) {
    let (alibaba, key) = alibaba().await;
    let url = sample_aui::start(&alibaba.url(), (&key.0, &key.1), options).await;
    (url, alibaba)
}

/// The plan of `agentproof check --target aui=URL --aui-app <the stand-in's app> ARGS`.
fn plan(url: &str, args: &[&str]) -> anyhow::Result<Plan> {
    let target = format!("aui={url}");
    let app = format!("{}:{}", APP.0, APP.1);
    let mut argv = vec!["agentproof", "check", "--seed", "9", "--target", &target];
    argv.extend(["--aui-app", &app]);
    argv.extend_from_slice(args);
    let harness::cli::Command::Check(args) =
        harness::cli::Cli::try_parse_from(argv).unwrap().command
    else {
        unreachable!()
    };
    Plan::from_args(&args)
}

/// `check` as a library call, quietly; an error is what exit 2 prints.
async fn check(url: &str, args: &[&str]) -> anyhow::Result<Run> {
    execute(&plan(url, args)?, &Progress::quiet()).await
}

/// `platform.suite: case` of every case with `outcome`.
fn cases(run: &Run, outcome: fn(&Outcome) -> bool) -> BTreeSet<String> {
    run.suites
        .iter()
        .flat_map(|s| s.cases.iter().map(move |c| (s, c)))
        .filter(|(_, c)| outcome(&c.outcome))
        .map(|(s, c)| format!("{}: {}", s.qualified_name(), c.name))
        .collect()
}

fn failed(run: &Run) -> BTreeSet<String> {
    cases(run, |o| matches!(o, Outcome::Failed { .. }))
}

/// Every failed case with what was expected and got, for an assertion's message.
fn why_failed(run: &Run) -> String {
    let mut text = String::new();
    for case in run.suites.iter().flat_map(|s| &s.cases) {
        if let Outcome::Failed { expected, got } = &case.outcome {
            let detail = case.detail.as_deref().unwrap_or_default();
            text.push_str(&format!(
                "\n{}\n  expected {expected}\n  got {got}\n  {detail}",
                case.name
            ));
        }
    }
    text
}

/// The reason `case` (`suite: name`) was skipped.
fn skip_reason<'r>(run: &'r Run, case: &str) -> &'r str {
    let found = run.suites.iter().find_map(|s| {
        let c = s
            .cases
            .iter()
            .find(|c| format!("{}: {}", s.qualified_name(), c.name) == case)?;
        match &c.outcome {
            Outcome::Skipped { reason } => Some(reason.as_str()),
            _ => None,
        }
    });
    found.unwrap_or_else(|| panic!("{case} is not skipped: {:#?}", cases(run, |_| true)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_shaped_like_the_sample_passes_check_with_aui_auth_none() {
    let (url, _alibaba) = sample(Options::default()).await;
    let run = check(&url, &["--aui-auth", "none"]).await.unwrap();
    assert_eq!(failed(&run), BTreeSet::new(), "{}", why_failed(&run));
    assert_eq!(run.exit_code(), 0);
    let passed = cases(&run, |o| matches!(o, Outcome::Passed));
    for route in [
        "getRtcAuthToken",
        "startAIAgentInstance",
        "generateAIAgentCall",
    ] {
        let served = format!("aui.contract: serves {route} (POST /api/v2/aiagent/{route})");
        assert!(passed.contains(&served), "{served} in {passed:#?}");
    }
    for case in [
        "aui.contract: getRtcAuthToken without channel_id generates one of 32 lowercase hex digits and signs the token for it",
        "aui.errors: getRtcAuthToken without user_id is refused as invalid input",
        "aui.errors: describeAIAgentInstance of an unknown instance passes on the upstream 404 NotFound with its request_id",
        "aui.lifecycle: AI-agent instance via the app server: start, describe Executing, update, stop, describe Finished",
    ] {
        assert!(passed.contains(case), "{case} passes: {passed:#?}");
    }
    // Broken JSON gets Result.invalidParam, a missing field the validation's {code:500, msg}.
    for category in ["broken JSON", "missing fields", "wrong types"] {
        let prefix = format!("aui.bad-input: {category}: ");
        assert!(
            passed.iter().any(|c| c.starts_with(&prefix)),
            "{prefix}… passes"
        );
    }
    // Our own auth rules mean nothing where no credential is sent: skipped, saying why.
    for case in [
        "aui.contract: login with the configured user",
        "aui.errors: login with a wrong password is refused (401 or 403)",
        "aui.errors: a route without Authorization is refused (401 or 403)",
        "aui.expiry: the bearer token is accepted until its expire and refused (403) after it",
        "aui.bad-input: bad signatures and tokens: generated requests with bad credentials",
    ] {
        assert!(
            skip_reason(&run, case).starts_with("--aui-auth none: "),
            "{case}: {}",
            skip_reason(&run, case)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_samples_channel_id_echo_fails_exactly_the_generated_channel_case_naming_the_seed() {
    let echo = Options {
        echo_request_channel: true,
        ..Options::default()
    };
    let (url, _alibaba) = sample(echo).await;
    let run = check(&url, &["--aui-auth", "none"]).await.unwrap();
    let case = "getRtcAuthToken without channel_id generates one of 32 lowercase hex digits and signs the token for it";
    assert_eq!(
        failed(&run),
        BTreeSet::from([format!("aui.contract: {case}")]),
        "{}",
        why_failed(&run)
    );
    assert_eq!(run.exit_code(), 1);
    let outcome = run
        .suites
        .iter()
        .flat_map(|s| &s.cases)
        .find(|c| c.name == case)
        .map(|c| c.outcome.clone());
    let Some(Outcome::Failed { expected, got }) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(
        expected.contains("seed 001") && expected.contains("使用的频道id"),
        "{expected}"
    );
    assert!(got.starts_with("no channel_id"), "{got}");
    assert!(!got.contains("eyJ"), "the RTC token is not reported: {got}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routes_the_target_does_not_serve_are_skipped_unless_required() {
    let head = Options {
        head_routes: true,
        ..Options::default()
    };
    let (url, _alibaba) = sample(head).await;
    let run = check(&url, &["--aui-auth", "none"]).await.unwrap();
    assert_eq!(failed(&run), BTreeSet::new(), "{}", why_failed(&run));
    let not_served = skip_reason(
        &run,
        "aui.contract: serves startAIAgentInstance (POST /api/v2/aiagent/startAIAgentInstance)",
    );
    assert!(
        not_served.starts_with("not served: HTTP 404")
            && not_served.contains("\"error\":\"Not Found\""),
        "{not_served}"
    );
    let why = skip_reason(
        &run,
        "aui.lifecycle: AI-agent call via the app server: generateAIAgentCall, describe Executing, stop, describe Finished",
    );
    assert!(
        why.starts_with("needs generateAIAgentCall, which the target does not serve (HTTP 404"),
        "{why}"
    );
    // What head serves is still checked.
    let passed = cases(&run, |o| matches!(o, Outcome::Passed));
    assert!(passed.contains(
        "aui.errors: describeAIAgentInstance of an unknown instance passes on the upstream 404 NotFound with its request_id"
    ));

    let required = check(
        &url,
        &[
            "--aui-auth",
            "none",
            "--aui-routes",
            "all",
            "--suite",
            "contract",
        ],
    )
    .await
    .unwrap();
    let failures = failed(&required);
    assert!(
        failures.contains(
            "aui.contract: serves stopAIAgentInstance (POST /api/v2/aiagent/stopAIAgentInstance)"
        ),
        "{failures:#?}"
    );
    assert!(
        failures.contains(
            "aui.contract: startAIAgentInstance answers an instance, valid against its schema"
        ),
        "a required route's cases run and fail: {failures:#?}"
    );
    assert_eq!(required.exit_code(), 1);
    let some = check(
        &url,
        &[
            "--aui-auth",
            "none",
            "--aui-routes",
            "getRtcAuthToken,describeAIAgentInstance",
            "--suite",
            "contract",
        ],
    )
    .await
    .unwrap();
    assert_eq!(failed(&some), BTreeSet::new(), "head serves both");
}

/// `agentproof ARGS` as a user runs it, within two minutes.
async fn agentproof(args: &[&str]) -> Output {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_agentproof"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output();
    tokio::time::timeout(Duration::from_secs(120), output)
        .await
        .expect("ends within two minutes")
        .expect("the binary runs")
}

/// A report folder, not yet made (the command makes it), inside a temporary folder removed with
/// everything in it when the returned `TempDir` drops: keep it alive while the folder is used.
fn report_dir(name: &str) -> (tempfile::TempDir, String) {
    let tmp = tempfile::TempDir::with_prefix("agentproof-aui-sample-").expect("a temporary folder");
    let dir = tmp.path().join(name).display().to_string();
    (tmp, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_wanting_a_fixed_header_passes_with_it_and_is_a_refusal_without_it() {
    const KEY: &str = "gw-Sup3rSecret-key";
    let gated = Options {
        required_header: Some(("X-Gateway-Key".into(), KEY.into())),
        ..Options::default()
    };
    let (url, _alibaba) = sample(gated).await;
    let header = format!("header:X-Gateway-Key:{KEY}");
    let run = check(&url, &["--aui-auth", &header]).await.unwrap();
    assert_eq!(failed(&run), BTreeSet::new(), "{}", why_failed(&run));
    let passed = cases(&run, |o| matches!(o, Outcome::Passed));
    assert!(
        passed.contains("aui.errors: a route without the configured headers (X-Gateway-Key) is refused (401 or 403)"),
        "{passed:#?}"
    );

    for (auth, needle) in [
        (
            vec!["--aui-auth", "none"],
            "refused agentproof's requests with --aui-auth none",
        ),
        (vec![], "refused the login of user"),
        (
            vec!["--aui-auth", "header:X-Gateway-Key:wrong"],
            "refused agentproof's requests",
        ),
    ] {
        let target = format!("aui={url}");
        let (_tmp, dir) = report_dir("refused");
        let mut args = vec![
            "check",
            "--no-progress",
            "--target",
            &target,
            "--report-dir",
            &dir,
        ];
        args.extend(&auth);
        let output = agentproof(&args).await;
        assert_eq!(
            output.status.code(),
            Some(2),
            "{auth:?}: {}",
            describe(&output)
        );
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains(needle) && stderr.contains("--aui-auth"),
            "{auth:?}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_load_run_against_the_sample_passes_with_aui_auth_none() {
    let (url, _alibaba) = sample(Options::default()).await;
    let target = format!("aui={url}");
    for scenario in ["aui-token-storm", "aui-call-lifecycle"] {
        let (_tmp, dir) = report_dir(scenario);
        let args = [
            "load",
            "--no-progress",
            "--scenario",
            scenario,
            "--target",
            &target,
            "--aui-auth",
            "none",
            "--users",
            "2",
            "--run-time",
            "2s",
            "--report-dir",
            &dir,
        ];
        let output = agentproof(&args).await;
        assert_eq!(
            output.status.code(),
            Some(0),
            "{scenario}: {}",
            describe(&output)
        );
        let report = reports::load::read_load_report(std::path::Path::new(&dir)).unwrap();
        assert!(report.total_requests() > 0);
        assert_eq!(report.total_errors(), 0, "{scenario}: {:?}", report.errors);
        let routes: Vec<&str> = report.routes.iter().map(|r| r.route.as_str()).collect();
        assert!(
            !routes.iter().any(|r| r.ends_with("/login")),
            "no login: {routes:?}"
        );
    }
}
