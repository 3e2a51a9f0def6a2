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
    Check(CheckArgs),
    Validate(ValidateArgs),
    Schemas(SchemasArgs),
}

/// Run the Alibaba, AUI and DUIX mocks on this machine until Ctrl-C.
///
/// Each platform gets its own port on 127.0.0.1 (use --bind to change). At start the base URLs and
/// the demo credentials are printed, and --info-file writes them as JSON for scripts:
/// {"alibaba":{"url","access_key_id","access_key_secret"},"aui":{"url","app_id","app_key",
/// "login_user","login_password"},"duix":{"url","app_id","app_key"},"webhook":{"url"}}.
///
/// The AUI app server calls the embedded Alibaba mock upstream; DUIX calls the embedded reference
/// webhook (agentproof serve-webhook) for every question, unless the config names others.
///
/// Credentials come from, in rising priority: the demo defaults, the TOML file given with --config
/// (sections [alibaba], [aui], [duix], [webhook]), then environment variables
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
    /// TOML configuration file (credentials, quotas, webhooks). See the README for its keys.
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
/// Examples:
///   agentproof check
///   agentproof check --target aui=https://appserver.example --aui-user alice:s3cret --junit out.xml
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
    /// Never draw a progress bar, print plain lines (the default when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,
    /// Per-request timeout in milliseconds (at most the SLO's 20000, e.g. 5000 to fail a hung
    /// target sooner). After 3 timeouts in a row nothing more is sent to that target.
    #[arg(long, value_name = "MS", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(100..=20_000))]
    pub timeout_ms: u64,
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
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SchemasArgs {
    /// Write every schema file into DIR (as <platform>/<message>.schema.json).
    #[arg(long, value_name = "DIR", conflicts_with = "openapi")]
    pub export: Option<PathBuf>,
    /// Print the OpenAPI 3.1 document of one API: aui, duix or duix-webhook.
    #[arg(long, value_name = "API", value_parser = ["aui", "duix", "duix-webhook"])]
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
