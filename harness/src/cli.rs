//! The command line: clap derive, one subcommand per job. First doc paragraph is `-h`, the whole
//! comment is `--help`.

use clap::{Args, Parser, Subcommand};
use std::net::IpAddr;
use std::path::PathBuf;

/// agentproof: mocks, contracts and load for AI-agent real-time platforms (Alibaba Cloud RTC/ICE AI
/// agents, the AUI Kits app server, DUIX digital humans).
///
/// Exit codes: 0 success, 1 a target broke a contract or SLO, 2 could not run (usage, configuration,
/// a port in use).
#[derive(Debug, Parser)]
#[command(name = "agentproof", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Mock(MockArgs),
    ServeWebhook(WebhookArgs),
    ServeLlm(LlmServeArgs),
    Check(CheckArgs),
    Load(Box<LoadArgs>),
    Webhook(WebhookCheckArgs),
    Llm(LlmCheckArgs),
    Report(ReportArgs),
    Validate(ValidateArgs),
    Schemas(SchemasArgs),
    Proxy(crate::proxy_cmd::ProxyArgs),
    Replay(crate::proxy_cmd::ReplayArgs),
}

/// Run the Alibaba, AUI and DUIX mocks on this machine until Ctrl-C.
///
/// Each platform gets its own port on 127.0.0.1 (use --bind to change). At start the base URLs and
/// the demo credentials are printed, and --info-file writes them as JSON for scripts:
/// {"alibaba":{"url","access_key_id","access_key_secret"},"aui":{"url","app_id","app_key",
/// "login_user","login_password"},"duix":{"url","app_id","app_key"},"webhook":{"url"},
/// "llm":{"url","api_key"}}.
///
/// The AUI app server calls the embedded Alibaba mock upstream; DUIX calls the embedded reference
/// webhook (agentproof serve-webhook) for every question, unless the config names others. Beside
/// Alibaba runs the reference LLM endpoint (agentproof serve-llm): point an agent's third-party
/// LLMConfig (or an ICE template, [alibaba.templates.<AIAgentId>.llm]) at it, and make the agent
/// converse with POST <alibaba url>/__admin/agents/<TaskId or InstanceId>/say {"text": "..."}.
///
/// Credentials come from, in rising priority: the demo defaults, the TOML file given with --config
/// (sections [alibaba], [aui], [duix], [webhook], [llm]), then environment variables
/// AGENTPROOF_ALIBABA_ACCESS_KEY_ID, AGENTPROOF_ALIBABA_ACCESS_KEY_SECRET, AGENTPROOF_AUI_APP_ID,
/// AGENTPROOF_AUI_APP_KEY, AGENTPROOF_AUI_LOGIN_USER, AGENTPROOF_AUI_LOGIN_PASSWORD,
/// AGENTPROOF_DUIX_APP_ID, AGENTPROOF_DUIX_APP_KEY.
///
/// Examples:
///   agentproof mock
///   agentproof mock --alibaba-port 0 --aui-port 0 --duix-port 0 --info-file mocks.json
///   agentproof mock --config agentproof.toml --only aui
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct MockArgs {
    /// Address every mock binds. Mocks bind loopback unless told otherwise.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port of the Alibaba OpenAPI mock (0 picks a free one).
    #[arg(long, default_value_t = 18601)]
    pub alibaba_port: u16,
    /// Port of the AUI app server (0 picks a free one).
    #[arg(long, default_value_t = 18602)]
    pub aui_port: u16,
    /// Port of the DUIX platform mock (0 picks a free one).
    #[arg(long, default_value_t = 18603)]
    pub duix_port: u16,
    /// Port of the embedded reference vendor webhook DUIX calls (0 picks a free one).
    #[arg(long, default_value_t = 18604)]
    pub webhook_port: u16,
    /// Port of the embedded reference LLM endpoint agents can call (0 picks a free one).
    #[arg(long, default_value_t = 18605)]
    pub llm_port: u16,
    /// TOML configuration file (credentials, quotas, webhooks, limits). Its keys:
    /// docs/src/configuration.md.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Write the URLs and credentials as JSON to this file once every mock listens.
    #[arg(long, value_name = "PATH")]
    pub info_file: Option<PathBuf>,
    /// Start only these platforms (comma separated: alibaba,aui,duix). AUI needs alibaba unless
    /// its upstream is configured.
    #[arg(long, value_delimiter = ',', value_parser = ["alibaba", "aui", "duix"])]
    pub only: Vec<String>,
    /// Serve no /__admin/* and no /metrics: for the AUI reference server deployed in front of
    /// the real cloud, where nobody may move its clock or inject faults.
    #[arg(long)]
    pub no_admin: bool,
}

/// Run the reference DUIX vendor webhook: the compliant example vendors copy.
///
/// It answers POST / (and any path) with the seed's answer envelope, echoing dh-conversation-id as
/// conversationId; 400 for a malformed body; with --secret, 401 without `Authorization: Bearer
/// <secret>` and 403 with a wrong one. With `Accept: text/event-stream` it streams the answer as
/// Server-Sent Events.
///
/// Examples:
///   agentproof serve-webhook
///   agentproof serve-webhook --port 9000 --secret s3cret
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct WebhookArgs {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 18604)]
    pub port: u16,
    /// Shared secret callers must send as `Authorization: Bearer <secret>` (also
    /// AGENTPROOF_WEBHOOK_SECRET).
    #[arg(long, env = "AGENTPROOF_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Added delay before each answer, milliseconds (to rehearse slow vendors).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub delay_ms: u64,
}

/// Run the reference LLM endpoint: what a vendor's LLM answers an Alibaba agent.
///
/// It answers POST <any prefix>/chat/completions as the OpenAI streaming API does (the platform
/// appends /chat/completions to the base URL it is given): a deterministic answer that repeats
/// the last user record, streamed as chat.completion.chunk events, a finish_reason, then
/// data: [DONE]. With --api-key, 401 without `Authorization: Bearer <key>` or with a wrong one;
/// 400 with an OpenAI error body for a malformed request. --first-token-delay-ms and
/// --token-delay-ms rehearse a slow model.
///
/// Examples:
///   agentproof serve-llm
///   agentproof serve-llm --port 9000 --api-key s3cret --first-token-delay-ms 800
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct LlmServeArgs {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Port (0 picks a free one).
    #[arg(long, default_value_t = 18605)]
    pub port: u16,
    /// Key callers must send as `Authorization: Bearer <key>` (also AGENTPROOF_LLM_API_KEY).
    #[arg(long, env = "AGENTPROOF_LLM_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Waited before the first content token, milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub first_token_delay_ms: u64,
    /// Waited between content tokens, milliseconds.
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub token_delay_ms: u64,
}

/// Check platforms against their contracts: the CI conformance gate.
///
/// Without --target, starts every mock in this process on free ports and checks them (a fresh
/// clone passes). With targets, checks only the named platforms at those URLs.
///
/// Suites per platform (select with --suite):
///   contract   every route answers a valid request with its schema
///   errors     every error code of the seeds and PROTOCOLS.md, with its HTTP status
///   lifecycle  agent task, AI-agent instance, DUIX session over WebSocket
///   bad-input  at least 500 generated bad requests: each gets the platform's error envelope with
///              a fitting code and never a 5xx, and the target stays healthy
///   expiry     RTC token (issue + 24 h), message chat token (now + expire), DUIX JWT exp, AUI
///              bearer; through /__admin/clock where the target has it, short expiries otherwise,
///              skipped with the reason when neither works
/// Every request is timed per route; a suite fails when a route's p95 reaches 2000 ms or a request
/// reaches the 20000 ms client timeout.
///
/// Reports: report.json, junit.xml, report.md and report.html in --report-dir.
/// Exit codes: 0 all passed, 1 a case failed or the SLO broke, 2 bad usage or an unreachable target.
///
/// Credentials for targets (defaults: the mocks' demo credentials): --alibaba-key ID:SECRET
/// (AGENTPROOF_CHECK_ALIBABA_KEY), --aui-user USER:PASS (AGENTPROOF_CHECK_AUI_USER), --aui-app
/// ID:KEY (AGENTPROOF_CHECK_AUI_APP, the ARTC app that signs RTC tokens), --duix-app ID:KEY
/// (AGENTPROOF_CHECK_DUIX_APP). Against the embedded mocks the mocks' own credentials are used.
///
/// Your own AUI app server: say how it authenticates with --aui-auth (login, bearer:TOKEN,
/// header:NAME:VALUE, none; AGENTPROOF_CHECK_AUI_AUTH or [target.aui] auth in --config). Before
/// any case, each AUI route is sent an empty JSON object with that auth: a 404 marks the route not
/// served (its cases are skipped, unless --aui-routes requires it), a 401 or 403 means the auth is
/// wrong and the check stops with exit 2.
///
/// Examples:
///   agentproof check
///   agentproof check --target aui=https://appserver.example --aui-user alice:s3cret --junit out.xml
///   agentproof check --target aui=http://10.0.0.5:8080 --aui-auth none --aui-routes all
///   agentproof check --target aui=https://gw.example/app --aui-auth header:X-Api-Key:$KEY
///   agentproof check --suite bad-input --seed 42
///   agentproof check --target duix=http://127.0.0.1:18603 --suite duix.lifecycle
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CheckArgs {
    /// A platform to check at a URL, PLATFORM=URL (platform: alibaba, aui, duix); repeatable.
    /// Without any, the embedded mocks are started and checked.
    #[arg(long, value_name = "PLATFORM=URL")]
    pub target: Vec<String>,
    /// Run only these suites: a name (contract, errors, expiry, lifecycle, bad-input) or
    /// platform.name (aui.expiry); repeatable.
    #[arg(long, value_name = "NAME")]
    pub suite: Vec<String>,
    /// Directory for report.json, junit.xml, report.md, report.html (created if missing).
    #[arg(long, value_name = "DIR", default_value = "agentproof-report")]
    pub report_dir: PathBuf,
    /// Also write the JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Seed of the generated bad input; printed at start so a failing run replays exactly.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Generated bad requests per platform (at least 500).
    #[arg(long, value_name = "N", default_value_t = 500, value_parser = clap::value_parser!(u64).range(500..=100_000))]
    pub bad_inputs: u64,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// Never draw a progress bar, print plain lines (the default when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// Per-request timeout in milliseconds (at most the SLO's 20000, e.g. 5000 to fail a hung
    /// target sooner). After 3 timeouts in a row nothing more is sent to that target.
    #[arg(long, value_name = "MS", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(100..=20_000))]
    pub timeout_ms: u64,
    /// AUI routes the target must serve: served (the default: a route answering 404 is reported
    /// as not served and its cases are skipped), all (the eight v2.2.0 routes), or a comma list
    /// of route names (getRtcAuthToken,describeAIAgentInstance); a required route that is
    /// missing fails.
    #[arg(long, value_name = "ROUTES", env = "AGENTPROOF_CHECK_AUI_ROUTES")]
    pub aui_routes: Option<String>,
}

/// Credentials of the targets; each defaults to the mocks' demo credentials.
#[derive(Debug, Args, Default)]
pub struct CredentialArgs {
    /// Alibaba AccessKey of the target, ID:SECRET.
    #[arg(
        long,
        value_name = "ID:SECRET",
        env = "AGENTPROOF_CHECK_ALIBABA_KEY",
        hide_env_values = true
    )]
    pub alibaba_key: Option<String>,
    /// AUI login of the target, USER:PASS.
    #[arg(
        long,
        value_name = "USER:PASS",
        env = "AGENTPROOF_CHECK_AUI_USER",
        hide_env_values = true
    )]
    pub aui_user: Option<String>,
    /// ARTC app of the AUI target, ID:KEY: verifies the RTC tokens it signs.
    #[arg(
        long,
        value_name = "ID:KEY",
        env = "AGENTPROOF_CHECK_AUI_APP",
        hide_env_values = true
    )]
    pub aui_app: Option<String>,
    /// DUIX app of the target, ID:KEY: signs the JWTs the checks send.
    #[arg(
        long,
        value_name = "ID:KEY",
        env = "AGENTPROOF_CHECK_DUIX_APP",
        hide_env_values = true
    )]
    pub duix_app: Option<String>,
    /// How requests to the AUI target authenticate; repeatable. login (the default): POST the
    /// login route with --aui-user, then send Authorization: Bearer <token>. bearer:TOKEN: a
    /// token you already have. header:NAME:VALUE: a header sent with every request (a session
    /// cookie, a gateway key; combines with login or bearer). none: no credentials, as the
    /// official sample's TokenAuthenticationFilter. In AGENTPROOF_CHECK_AUI_AUTH, one per line.
    #[arg(
        long,
        value_name = "AUTH",
        env = "AGENTPROOF_CHECK_AUI_AUTH",
        hide_env_values = true,
        value_delimiter = '\n'
    )]
    pub aui_auth: Vec<String>,
    /// The login route of --aui-auth login [default: /api/v2/aiagent/login].
    #[arg(long, value_name = "PATH", env = "AGENTPROOF_CHECK_AUI_LOGIN_PATH")]
    pub aui_login_path: Option<String>,
    /// The login's JSON body, {user} and {password} filled in from --aui-user [default:
    /// {"username":"{user}","password":"{password}"}].
    #[arg(long, value_name = "JSON", env = "AGENTPROOF_CHECK_AUI_LOGIN_BODY")]
    pub aui_login_body: Option<String>,
    /// JSON pointer of the bearer token in the login's answer [default: /token].
    #[arg(long, value_name = "POINTER", env = "AGENTPROOF_CHECK_AUI_LOGIN_TOKEN")]
    pub aui_login_token: Option<String>,
    /// TOML file whose [target.aui] section holds the --aui-* options above (auth, login_path,
    /// login_body, login_token, and for check routes); flags and environment win over it. For
    /// `load` with no target, its mock sections configure the embedded mocks as `agentproof mock
    /// --config` takes them (e.g. [aui] users_file: the many logins of a feeder).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Load a platform with a goose scenario and judge the SLO exactly.
///
/// Without --target, starts every mock in this process on free ports and loads them (the
/// embedded default; nothing to configure). The verdict is agentproof's own: every answer is
/// timed whole (status, headers and body), per route, into an HdrHistogram, and the share under
/// the limit is counted exactly at record time. A request that times out counts as a breach at
/// the timeout, never dropped. With --rate a schedule fixes when each request is due, and the
/// latency from that due time (corrected for coordinated omission, as wrk2 does) is judged; the
/// as-sent latency is kept beside it.
///
/// Scenarios (agentproof load --list says what each does): aui-token-storm, aui-call-lifecycle,
/// alibaba-openapi, alibaba-llm (a vendor's LLM: time to first token and to the end as their own
/// rows), duix-session-churn, duix-webhook, http-get (any server: the generator's own ceiling).
/// Each is a journey file built in; --print-scenario NAME prints it as a start for your own, run
/// with --scenario-file (steps from the catalogue --ops lists: operations that sign, log in and
/// check their answers; captures, feeders, think time, stages).
///
/// The load shape: --users, --increase-rate and --run-time, or --stages; a journey file may set
/// them in its [load] table, and a flag given here wins over it.
///
/// Reports in --report-dir: report.html (verdict, latency over time, percentile curve, per-route
/// table, errors by reason), report.json, report.md, junit.xml, and goose's own
/// goose-report.html and goose-report.json. Ctrl-C ends the run early and still writes every
/// report, marked as cut short.
///
/// Exit codes: 0 the SLO held, 1 the SLO broke (the target is too slow or answers wrongly), 2
/// bad usage, a scenario that cannot run, or an unreachable target (the test broke).
///
/// Examples:
///   agentproof load --list
///   agentproof load --scenario aui-token-storm --run-time 20s
///   agentproof load --scenario aui-token-storm --target aui=https://appserver.example \
///       --aui-user alice:s3cret --users 200 --increase-rate 20 --run-time 5m
///   agentproof load --scenario aui-token-storm --target aui=http://10.0.0.5:8080 --aui-auth none
///   agentproof load --scenario alibaba-openapi --rate 500 --users 64 --slo 'p99<500ms'
///   agentproof load --scenario duix-webhook --target webhook=https://vendor.example/hook --rate 50
///   agentproof load --scenario alibaba-llm --target llm=https://llm.example/v1 --llm-api-key KEY \
///       --rate 20 --slo 'ttft p95<800ms'
///   agentproof load --scenario aui-call-lifecycle --baseline last-week/ --junit load.xml
///   agentproof load --ops
///   agentproof load --print-scenario aui-call-lifecycle > my-journey.toml
///   agentproof load --scenario-file my-journey.toml --stages '20,30s;20,2m;0,10s'
///   agentproof load --scenario-file my-journey.toml --dry-run
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct LoadArgs {
    /// The built-in scenario to run (see --list), or a journey file's path (a name ending in
    /// .toml or holding a /), as --scenario-file takes it.
    #[arg(
        long,
        value_name = "NAME",
        required_unless_present_any = ["list", "ops", "print_scenario", "scenario_file"],
        conflicts_with = "scenario_file"
    )]
    pub scenario: Option<String>,
    /// A journey file to run (TOML: journeys of steps from --ops; see --print-scenario).
    #[arg(long, value_name = "FILE")]
    pub scenario_file: Option<PathBuf>,
    /// Name each scenario, the platforms it needs and what it does, then exit.
    #[arg(long)]
    pub list: bool,
    /// List the operations a journey file's steps may name, with their fields and defaults.
    #[arg(long)]
    pub ops: bool,
    /// Print a built-in scenario's journey file (a start for your own), then exit.
    #[arg(long, value_name = "NAME")]
    pub print_scenario: Option<String>,
    /// A platform to load at a URL, PLATFORM=URL (alibaba, aui, duix, webhook, llm: an LLM's
    /// base URL); repeatable. Without any, the embedded mocks are started and loaded.
    #[arg(long, value_name = "PLATFORM=URL")]
    pub target: Vec<String>,
    /// Concurrent users (goose users; connections under --rate) [default: 10, or the journey
    /// file's].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub users: Option<u64>,
    /// Users started per second until --users run (default: all within the first second).
    #[arg(long, value_name = "R")]
    pub increase_rate: Option<f64>,
    /// How long to load once started, e.g. 30s, 5m, 1h, 1m30s (plain numbers are seconds)
    /// [default: 30s, or the journey file's].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_secs)]
    pub run_time: Option<u64>,
    /// Stages instead of --users/--increase-rate/--run-time: USERS,DURATION;... each ramps to
    /// USERS over DURATION (holding when it keeps the number), e.g. '20,30s;20,2m;0,10s'.
    #[arg(long, value_name = "PLAN", value_parser = parse_stages, conflicts_with_all = ["users", "increase_rate", "run_time"])]
    pub stages: Option<Stages>,
    /// A schedule of this many requests per second over all users; latency is then measured
    /// from when each request was due (corrected for coordinated omission).
    #[arg(long, value_name = "RPS")]
    pub rate: Option<f64>,
    /// An SLO rule, repeatable: p95<2000ms (a quantile under a limit, the default), p99.9<1.5s,
    /// errors<1% (the default error budget); a quantile for some rows only: 'ttft p95<800ms'
    /// (rows whose name contains ttft). The timeout is --timeout-ms.
    #[arg(long, value_name = "RULE")]
    pub slo: Vec<String>,
    /// Per-request timeout in milliseconds; an answer still missing then is a breach recorded
    /// at this time.
    #[arg(long, value_name = "MS", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(100..=120_000))]
    pub timeout_ms: u64,
    /// Seed of every random choice the users make (ids, questions); printed so a run replays.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Directory for the reports (created if missing).
    #[arg(long, value_name = "DIR", default_value = "agentproof-load-report")]
    pub report_dir: PathBuf,
    /// Also write the JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Compare with an earlier report folder (or its report.json): per-route deltas of
    /// p50/p95/p99 and error rate, regressions first.
    #[arg(long, value_name = "DIR")]
    pub baseline: Option<PathBuf>,
    /// Serve goose's live dashboard on 127.0.0.1 (the URL is printed) while the run lasts.
    #[arg(long)]
    pub dashboard: bool,
    /// Print plain progress lines even on a terminal (the default when stderr is not one).
    #[arg(long)]
    pub no_progress: bool,
    /// Run as worker I of N (I from 0) of a distributed run: this process takes its share of
    /// --users and --rate (shares add up exactly) and writes report.json and latency.hlog (an
    /// HdrHistogram interval log) for `agentproof report merge`.
    #[arg(long, value_name = "I/N", value_parser = parse_worker, conflicts_with = "workers")]
    pub worker: Option<(u32, u32)>,
    /// Hold until this instant (RFC 3339, e.g. 2026-12-02T12:00:00Z) before loading, so every
    /// worker starts together.
    #[arg(long, value_name = "TIME", value_parser = parse_start_at)]
    pub start_at: Option<time::OffsetDateTime>,
    /// Run N worker processes of this binary on this machine, wait, merge their reports into
    /// --report-dir (each worker's folder is --report-dir/worker-I).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=256))]
    pub workers: Option<u32>,
    /// Check the arguments, print the plan and exit 0 without sending anything.
    #[arg(long)]
    pub dry_run: bool,

    /// `Authorization: Bearer` token the duix-webhook scenario sends to the vendor webhook
    /// (also AGENTPROOF_LOAD_WEBHOOK_BEARER).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "AGENTPROOF_LOAD_WEBHOOK_BEARER",
        hide_env_values = true
    )]
    pub webhook_bearer: Option<String>,
    /// The DUIX digital human's code: the session's conversationId in duix-session-churn, the
    /// dh-code of duix-webhook questions (the embedded DUIX routes any code).
    #[arg(long, value_name = "CODE", default_value = "187265485019156480")]
    pub dh_code: String,
    /// The DUIX customer id the duix-webhook questions carry as sid.
    #[arg(long, value_name = "ID", default_value = "100003")]
    pub sid: String,
    /// `Authorization: Bearer` key the alibaba-llm scenario sends to the LLM (also
    /// AGENTPROOF_LOAD_LLM_API_KEY).
    #[arg(
        long,
        value_name = "KEY",
        env = "AGENTPROOF_LOAD_LLM_API_KEY",
        hide_env_values = true
    )]
    pub llm_api_key: Option<String>,
    /// The `model` the alibaba-llm scenario's calls name.
    #[arg(long, value_name = "MODEL", default_value = "agentproof")]
    pub llm_model: String,
    #[command(flatten)]
    pub credentials: CredentialArgs,
}

/// `--stages`: (users at the end, seconds) per stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stages(pub Vec<(u64, u64)>);

/// `--stages`: `USERS,DURATION;...` as (users, seconds) steps.
pub fn parse_stages(text: &str) -> Result<Stages, String> {
    let mut stages = Vec::new();
    for step in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let bad = || format!("{step:?}: a stage is USERS,DURATION, e.g. 20,30s");
        let (users, duration) = step.split_once(',').ok_or_else(bad)?;
        let users: u64 = users.trim().parse().map_err(|_| bad())?;
        if users > 100_000 {
            return Err(format!("{step:?}: at most 100000 users"));
        }
        stages.push((users, parse_duration_secs(duration.trim())?));
    }
    if stages.iter().all(|(users, _)| *users == 0) {
        return Err(format!(
            "{text:?}: no stage has users; e.g. '20,30s;20,2m;0,10s'"
        ));
    }
    Ok(Stages(stages))
}

/// `I/N` of `--worker`: worker I (from 0) of N.
pub fn parse_worker(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{text:?}: expected I/N with 0 <= I < N, e.g. 0/4");
    let (i, n) = text.split_once('/').ok_or_else(bad)?;
    let (i, n): (u32, u32) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    (i < n && n <= 256).then_some((i, n)).ok_or_else(bad)
}

/// An RFC 3339 instant of `--start-at`.
pub fn parse_start_at(text: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("{text:?} is not an RFC 3339 time ({e}), e.g. 2026-12-02T12:00:00Z"))
}

/// Seconds of a duration such as `30s`, `5m`, `1h`, `1m30s` or `90`.
pub fn parse_duration_secs(text: &str) -> Result<u64, String> {
    let bad = || format!("{text:?} is not a duration: use e.g. 30s, 5m, 1h or 1m30s");
    let text = text.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return (secs > 0).then_some(secs).ok_or_else(bad);
    }
    let (mut total, mut number) = (0u64, String::new());
    for c in text.chars() {
        match c {
            '0'..='9' => number.push(c),
            'h' | 'm' | 's' if !number.is_empty() => {
                let unit = match c {
                    'h' => 3600,
                    'm' => 60,
                    _ => 1,
                };
                let n: u64 = number.parse().map_err(|_| bad())?;
                total = total.saturating_add(n.saturating_mul(unit));
                number.clear();
            }
            _ => return Err(bad()),
        }
    }
    if !number.is_empty() || total == 0 {
        return Err(bad());
    }
    Ok(total)
}

/// Check a DUIX vendor's dialogue webhook: PASS, or which rule it breaks and why.
///
/// Sends dh-question requests exactly as the DUIX platform does ({sid, dh-code, dh-question,
/// dh-conversation-id, dh-context}, dh-context the previous turns as JSON text) in multi-turn
/// conversations, with varied questions (Chinese and English, a word to a paragraph, emoji,
/// quotes, newlines) or those of --question-file, and judges each rule on its own:
///   envelope         HTTP 200 and the seed's envelope, success agreeing with code
///   answer           data.answer present: a JSON string or the object, with its answer text
///   conversation-id  data.conversationId is the request's dh-conversation-id, every turn
///   continuity       later turns keep the conversationId of the conversation's first turn
///   sse              asked for text/event-stream: well-formed events, a final isEnd
///   malformed        a required field missing or not a string, broken JSON: 4xx; what seed 003
///                    leaves open (dh-context malformed, empty question): 200 or 4xx; never 5xx
///   auth             with --header credentials, a request without them gets 401 or 403
///   latency          95% of answers under 2000 ms, counted exactly (p50/p95/p99/max)
///   timeout          no request reaches --timeout-ms
///
/// Without --url it starts the reference webhook (agentproof serve-webhook) in-process, with a
/// bearer secret, and checks it: it passes every rule.
///
/// The first line is the verdict (PASS, or FAIL: 2 of 9 rules broken), then a line per rule
/// with what was seen, then the reports (report.json, junit.xml, report.md, report.html).
/// Exit codes: 0 pass, 1 a rule broken, 2 bad usage or an unreachable URL.
///
/// Examples:
///   agentproof webhook
///   agentproof webhook --url https://vendor.example/duix-hook
///   agentproof webhook --url https://vendor.example/duix-hook --header 'Authorization:Bearer s3cret' \
///       --requests 200 --concurrency 16 --junit webhook.xml
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct WebhookCheckArgs {
    /// The webhook URL, used as given (path and query included). Without it, the reference
    /// webhook is started and checked.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Questions to ask (in conversations of three turns), besides the probes. For load, use
    /// agentproof load --scenario duix-webhook.
    #[arg(long, value_name = "N", default_value_t = 40, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub requests: u64,
    /// Conversations in flight at once.
    #[arg(long, value_name = "C", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,
    /// At most this many questions a second (a schedule over all conversations).
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
    /// A header sent with every request, NAME:VALUE (e.g. 'Authorization:Bearer s3cret');
    /// repeatable. The auth rule sends one request without the credential ones (Authorization,
    /// Cookie, names with key, token, secret or auth).
    #[arg(long, value_name = "NAME:VALUE")]
    pub header: Vec<String>,
    /// Questions to ask, one per line (\n in a line for a newline), instead of the built-in set.
    #[arg(long, value_name = "FILE")]
    pub question_file: Option<PathBuf>,
    /// The customer id the platform sends as sid.
    #[arg(long, value_name = "ID", default_value = "100003")]
    pub sid: String,
    /// The digital human's code the platform sends as dh-code.
    #[arg(long, value_name = "CODE", default_value = "187265485019156480")]
    pub dh_code: String,
    /// Per-request timeout in milliseconds (the platform's is 20000).
    #[arg(long, value_name = "MS", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(100..=120_000))]
    pub timeout_ms: u64,
    /// Directory for the reports (created if missing).
    #[arg(long, value_name = "DIR", default_value = "agentproof-webhook-report")]
    pub report_dir: PathBuf,
    /// Also write the JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Check a vendor's LLM as an Alibaba agent calls it: PASS, or which rule it breaks and why.
///
/// Sends streamed chat completions exactly as the platform does (POST <base URL>/chat/completions,
/// `Authorization: Bearer <key>`, the OpenAI body with stream true, a system prompt, the history
/// growing to the 20-record cap over ten turns, Chinese and English utterances, extendData with
/// instanceId, channelId, sentenceId and userData), and judges each rule on its own:
///   path       POST <--url>/chat/completions is answered there (no 404, 405 or redirect)
///   stream     text/event-stream; data: lines each a chat.completion.chunk with choices[0].delta,
///              a finish_reason at the end, data: [DONE] last
///   answer     the assembled answer is not empty
///   auth       with --api-key, the same request without it, or with a wrong key, gets 401 or 403
///   malformed  each malformed body gets 4xx (or, where the OpenAI contract leaves it open, 200),
///              never 5xx
///   ttft       95% of first content tokens under --ttft-ms, counted exactly (p50/p95/p99/max)
///   timeout    no request reaches --timeout-ms
///
/// Without --url it starts the reference endpoint (agentproof serve-llm) in-process, with a key,
/// and checks it: it passes every rule.
///
/// The first line is the verdict (PASS, or FAIL: 2 of 7 rules broken), then a line per rule with
/// what was seen, then the reports (report.json, junit.xml, report.md, report.html).
/// Exit codes: 0 pass, 1 a rule broken, 2 bad usage or an unreachable URL.
///
/// Examples:
///   agentproof llm
///   agentproof llm --url https://llm.example/v1 --api-key "$KEY" --model my-model
///   agentproof llm --url https://llm.example/v1 --api-key "$KEY" --requests 200 --concurrency 16 \
///       --ttft-ms 800 --junit llm.xml
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct LlmCheckArgs {
    /// The LLM's base URL, as the agent is configured with it: the platform appends
    /// /chat/completions. Without it, the reference endpoint is started and checked.
    #[arg(long, value_name = "BASE")]
    pub url: Option<String>,
    /// The key the platform sends as `Authorization: Bearer <key>` (also AGENTPROOF_LLM_API_KEY);
    /// the auth rule sends one request without it and one with a wrong key.
    #[arg(
        long,
        value_name = "KEY",
        env = "AGENTPROOF_LLM_API_KEY",
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    /// The model the requests name (ModelId / LLMConfig.Model).
    #[arg(long, value_name = "M", default_value = "agentproof")]
    pub model: String,
    /// Chat completions to request (in conversations of ten turns), besides the probes. For
    /// load, use agentproof load --scenario alibaba-llm.
    #[arg(long, value_name = "N", default_value_t = 40, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub requests: u64,
    /// Conversations in flight at once.
    #[arg(long, value_name = "C", default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub concurrency: u64,
    /// At most this many requests a second (a schedule over all conversations).
    #[arg(long, value_name = "R")]
    pub rate: Option<f64>,
    /// The time-to-first-token limit 95% of answers must stay under, milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=120_000))]
    pub ttft_ms: u64,
    /// Per-request timeout in milliseconds (the mock agent's is 20000).
    #[arg(long, value_name = "MS", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(100..=120_000))]
    pub timeout_ms: u64,
    /// Directory for the reports (created if missing).
    #[arg(long, value_name = "DIR", default_value = "agentproof-llm-report")]
    pub report_dir: PathBuf,
    /// Also write the JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Work with report folders: merge the reports of distributed load workers.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: ReportCommand,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    Merge(MergeArgs),
}

/// Merge the report folders of load workers into one exact report.
///
/// Counts add up, every route's histograms are added (so the merged p95 is the p95 of all the
/// samples together), the per-second series line up on wall-clock time, and the SLO verdict is
/// judged once on the merged result. Folders of different scenarios or SLOs are refused, and so
/// is a missing worker (3 of 4 workers) unless --allow-partial.
/// Exit codes: 0 the merged SLO held, 1 it broke, 2 the folders cannot be merged.
///
/// Examples:
///   agentproof report merge results/worker-0 results/worker-1 results/worker-2 --out results/merged
///   agentproof report merge results/worker-* --out merged --allow-partial
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct MergeArgs {
    /// Worker report folders (or their report.json files).
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Folder for the merged reports (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Merge what is there when workers are missing, and say so in the reports.
    #[arg(long)]
    pub allow_partial: bool,
    /// Also write the JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Check one JSON document against a named schema.
///
/// Prints each violation with its JSON path. SCHEMA is a name as `agentproof schemas` lists it
/// (aui/getRtcAuthToken.response); FILE is a path, or - for standard input.
/// Exit codes: 0 valid, 1 invalid, 2 unknown schema (with suggestions) or unreadable file.
///
/// Examples:
///   agentproof validate aui/getRtcAuthToken.response answer.json
///   curl -s $URL | agentproof validate duix/checkSig.response -
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ValidateArgs {
    /// Schema name, e.g. duix/checkSig.response.
    #[arg(value_name = "SCHEMA")]
    pub schema: String,
    /// The JSON document: a file path, or - for standard input.
    #[arg(value_name = "FILE|-")]
    pub file: String,
}

/// List the JSON Schemas, export them, or print an OpenAPI document.
///
/// Without options, prints every schema name with its title.
///
/// Examples:
///   agentproof schemas
///   agentproof schemas --export ./contracts
///   agentproof schemas --openapi aui > aui.openapi.json
///   agentproof schemas --openapi alibaba-llm > alibaba-llm.openapi.json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SchemasArgs {
    /// Write every schema file into DIR (as <platform>/<message>.schema.json).
    #[arg(long, value_name = "DIR", conflicts_with = "openapi")]
    pub export: Option<PathBuf>,
    /// Print the OpenAPI 3.1 document of one API: aui, duix, duix-webhook or alibaba-llm (what
    /// a vendor's LLM implements for an Alibaba agent).
    #[arg(long, value_name = "API", value_parser = ["aui", "duix", "duix-webhook", "alibaba-llm"])]
    pub openapi: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations_read_as_goose_writes_them() {
        assert_eq!(parse_duration_secs("20s"), Ok(20));
        assert_eq!(parse_duration_secs("1m30s"), Ok(90));
        assert_eq!(parse_duration_secs("1h"), Ok(3600));
        assert_eq!(parse_duration_secs("45"), Ok(45));
        for bad in ["", "0", "0s", "5x", "m", "10s5"] {
            let error = parse_duration_secs(bad).unwrap_err();
            assert!(error.contains("not a duration"), "{bad}: {error}");
        }
    }

    #[test]
    fn workers_and_start_times_are_read_strictly() {
        assert_eq!(parse_worker("2/4"), Ok((2, 4)));
        for bad in ["4/4", "1", "a/b", "0/0", "-1/3"] {
            assert!(parse_worker(bad).is_err(), "{bad}");
        }
        assert!(parse_start_at("2026-12-02T12:00:00Z").is_ok());
        assert!(parse_start_at("tomorrow").unwrap_err().contains("RFC 3339"));
    }

    #[test]
    fn every_flag_has_help() {
        for sub in Cli::command().get_subcommands() {
            for arg in sub.get_arguments() {
                assert!(
                    arg.get_help().is_some() || arg.get_id() == "help" || arg.get_id() == "version",
                    "{} --{} has no help",
                    sub.get_name(),
                    arg.get_id()
                );
            }
        }
    }
}
