//! A goose load test of your own, built on agentproof: one journey of agentproof operations (an
//! AUI login, then RTC and message-chat tokens), plus a goose transaction of this crate's own
//! (a health check, sent through agentproof's request path so it is timed, judged and recorded
//! like the rest), run against the embedded mocks with agentproof's recorder, exact SLO verdict
//! and reports.
//!
//! ```sh
//! cargo run -p custom-goose -- 5            # seconds of load (default 3)
//! ```

use goose::goose::{GooseUser, Transaction, TransactionResult};
use scenarios::exchange::{send, Expect, ANY_JSON};
use scenarios::library::{run, Options};
use scenarios::{Credentials, HttpRequest, Journeys, Plan, Targets};
use std::sync::Arc;

/// The journey, in the same TOML as `agentproof load --scenario-file` takes.
const JOURNEY: &str = r#"
[[journeys]]
name = "tokens"

[[journeys.on_start]]
op = "aui.login"

[[journeys.steps]]
op = "aui.getRtcAuthToken"
repeat = 2

[[journeys.steps]]
op = "alibaba.GenerateMessageChatToken"
fields = { sign = "v1" }
think = "20ms"
"#;

#[tokio::main]
async fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let mocks = harness::mock_cmd::Embedded::start(
        &harness::mock_cmd::EmbeddedOptions::ephemeral(),
        harness::config::MockConfig::default(),
    )
    .await
    .expect("the embedded mocks start");
    let targets = Targets {
        alibaba: mocks.url("alibaba").map(str::to_string),
        aui: mocks.url("aui").map(str::to_string),
        ..Targets::default()
    };
    let journeys =
        Arc::new(Journeys::from_toml(JOURNEY, "custom-goose").expect("the journey compiles"));
    let mut options = Options::new("custom-goose", targets, Credentials::demo());
    options.description = "agentproof operations plus a transaction of our own".into();
    options.users = 4;
    options.increase_rate = 4.0;
    options.run_time_secs = seconds;
    options.report_dir = "target/custom-goose-report".into();
    let outcome = run(options, |plan| {
        let mut scenarios = scenarios::journey::scenarios(&journeys, plan)?;
        // A transaction of our own, beside the journey's.
        let tokens = scenarios.remove(0);
        scenarios.insert(0, tokens.register_transaction(health_check(plan)));
        Ok(scenarios)
    })
    .await;
    mocks.shutdown().await;
    let report = outcome.unwrap_or_else(|why| {
        eprintln!("custom-goose: {why}");
        std::process::exit(2);
    });
    println!("{}", report.verdict_line());
    for line in report.route_lines() {
        println!("  {line}");
    }
    println!("reports in target/custom-goose-report");
    std::process::exit(report.exit_code());
}

/// GET the AUI server's health, through agentproof's request path: timed whole, judged (status
/// 200, any JSON), recorded as its own row.
fn health_check(plan: &Arc<Plan>) -> Transaction {
    let plan = Arc::clone(plan);
    Transaction::new(Arc::new(move |user: &mut GooseUser| {
        let plan = Arc::clone(&plan);
        Box::pin(async move { health(user, &plan).await })
    }))
    .set_name("health check")
}

async fn health(user: &mut GooseUser, plan: &Plan) -> TransactionResult {
    let base = plan.targets.aui.clone().unwrap_or_default();
    let request = HttpRequest {
        method: "GET",
        path_and_query: "/__admin/health".into(),
        headers: Vec::new(),
        body: Vec::new(),
        route: "my health check".into(),
    };
    let expect = Expect {
        status: 200,
        schema: ANY_JSON,
        success: &|body: &serde_json::Value| match body["status"].as_str() {
            Some("ok") => Ok(()),
            other => Err(format!("status {other:?}, expected ok")),
        },
        sse_event: None,
    };
    send(user, plan, &base, request, &expect).await?;
    Ok(())
}
