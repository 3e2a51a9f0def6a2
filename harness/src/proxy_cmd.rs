//! `agentproof proxy` and `agentproof replay`: the command lines, on the `proxy` crate. This file
//! parses the flags, starts and stops, prints and writes; the proxy and replay themselves live in
//! the `proxy` crate.

use crate::check::target::{Credentials, Platform as CheckPlatform};
use crate::cli::{parse_duration_secs, CredentialArgs};
use crate::config::MockConfig;
use crate::mock_cmd::{Embedded, EmbeddedOptions};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use proxy::platform::{Platform, Upstream};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Stand in front of live platforms and judge every exchange against the contracts.
///
/// One listener per --upstream (the first at --listen, each next one on the next port), each
/// forwarding every request and answer unchanged (hop-by-hop headers aside; Host becomes the
/// upstream's) and judging each exchange, off the request path:
///   answered        the upstream answered
///   request-schema  --strict-requests: no request outside its schema (without it, one the
///                   upstream accepted is noted on the page and in the reports, not failed)
///   signature       Alibaba with --alibaba-key: wrong signatures refused, right ones accepted
///   answer-schema   every answer valid against its schema (success or the error envelope)
///   code            every business code in the platform's catalogue
///   status          every HTTP status fits its code
/// and timing each per route against the SLO (p95 under 2000 ms, none at 20000 ms).
///
/// PLATFORM is alibaba, aui, duix or webhook (a DUIX vendor's dialogue webhook). With
/// --alibaba-key the proxy re-verifies the signatures made with that key and signs V3 requests
/// again for the upstream's host, so an official SDK pointed at the proxy gets valid answers
/// from a real endpoint; without it, signed requests keep the client's Host header.
///
/// The live page is http://LISTENER/__proxy/ on every listener (its data: /__proxy/status.json).
/// Ctrl-C, SIGTERM or the end of --duration stops it and writes check's reports (report.json,
/// junit.xml, report.md, report.html) into --report-dir. --record DIR writes each exchange as a
/// fixture (DIR/exchanges.jsonl, secrets scrubbed; its schema DIR/fixture.schema.json) for
/// agentproof replay.
///
/// Exit codes: 0 every exchange kept every rule and the SLO held, 1 an exchange broke a contract
/// or the SLO broke, 2 bad usage or a port in use.
///
/// Examples:
///   agentproof proxy --upstream aui=https://appserver.staging.example
///   agentproof proxy --upstream alibaba=https://ice.cn-shanghai.aliyuncs.com \
///       --alibaba-key "$ALIBABA_KEY_ID:$ALIBABA_KEY_SECRET" --record staging-recording
///   agentproof proxy --upstream aui=http://127.0.0.1:18602 --upstream duix=http://127.0.0.1:18603 \
///       --listen 127.0.0.1:0 --info-file proxy.json --duration 10m
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ProxyArgs {
    /// An upstream to stand in front of, PLATFORM=URL (alibaba, aui, duix, webhook); repeat for
    /// more. The URL may carry a path prefix.
    #[arg(long, value_name = "PLATFORM=URL", required = true)]
    pub upstream: Vec<String>,
    /// The first listener's address; each next upstream gets the next port (port 0: any free
    /// ports). Loopback unless told otherwise.
    #[arg(long, value_name = "ADDR:PORT", default_value = proxy::DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Write every exchange as a fixture into this folder (exchanges.jsonl).
    #[arg(long, value_name = "DIR")]
    pub record: Option<PathBuf>,
    /// Where the reports go when the proxy stops.
    #[arg(long, value_name = "DIR", default_value = "agentproof-proxy-report")]
    pub report_dir: PathBuf,
    /// Stop after this long (e.g. 30s, 10m, 1h); without it, on Ctrl-C or SIGTERM.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_secs)]
    pub duration: Option<u64>,
    /// Alibaba AccessKey ID:SECRET: re-verify the signatures made with it and sign V3 requests
    /// again for the upstream's host.
    #[arg(
        long,
        value_name = "ID:SECRET",
        env = "AGENTPROOF_PROXY_ALIBABA_KEY",
        hide_env_values = true
    )]
    pub alibaba_key: Option<String>,
    /// Count every request outside its schema as broken, even when the upstream refused it (for
    /// an app whose own requests are what is checked).
    #[arg(long)]
    pub strict_requests: bool,
    /// Per exchange, from the request to the answer's last byte, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub timeout_ms: u64,
    /// Write the listeners as JSON once they listen: {"aui": {"url", "upstream"}, ...}.
    #[arg(long, value_name = "PATH")]
    pub info_file: Option<PathBuf>,
}

/// Send a recording's requests again and report each difference from what was recorded.
///
/// Reads DIR/exchanges.jsonl (from agentproof proxy --record) and sends each request again, in
/// the order they arrived, to the target of its platform: the embedded mocks, started in this
/// process, when no --target is given. Alibaba calls are signed again with a fresh nonce and
/// date (and --alibaba-key), AUI logins are made again with --aui-user, DUIX tokens with
/// --duix-app, and the ids the recording captured from answers (instance, channel, session ids)
/// are mapped to the ones the target gave. A request the recording shows refused for its
/// credentials is sent with credentials the target refuses too.
///
/// Compared per exchange: the status, the business code, the envelope's keys and the type of
/// each, and the schema verdict; values (ids, tokens, times) are not. The parity report
/// (parity.html, both answers side by side; parity.json) lists each difference once, with how
/// many exchanges show it.
///
/// Exit codes: 0 no difference, 1 a difference, 2 bad usage, an unreadable recording or an
/// unreachable target.
///
/// Examples:
///   agentproof replay staging-recording
///   agentproof replay staging-recording --target aui=http://127.0.0.1:18602 --aui-user demo:demo
///   agentproof replay staging-recording --report-dir parity
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ReplayArgs {
    /// The recording: a folder holding exchanges.jsonl, or the .jsonl file.
    #[arg(value_name = "DIR")]
    pub recording: PathBuf,
    /// Where a platform's requests go, PLATFORM=URL (alibaba, aui, duix, webhook); repeat for
    /// more. Without any: the embedded mocks.
    #[arg(long, value_name = "PLATFORM=URL")]
    pub target: Vec<String>,
    /// Where parity.html and parity.json go.
    #[arg(long, value_name = "DIR", default_value = "agentproof-replay-report")]
    pub report_dir: PathBuf,
    #[command(flatten)]
    pub credentials: CredentialArgs,
    /// The bearer secret a vendor webhook target wants (sent as Authorization: Bearer).
    #[arg(
        long,
        value_name = "SECRET",
        env = "AGENTPROOF_WEBHOOK_BEARER",
        hide_env_values = true
    )]
    pub webhook_bearer: Option<String>,
    /// Per request, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 20_000, value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub timeout_ms: u64,
}

/// `ID:SECRET` of `--alibaba-key`.
fn key_pair(text: &str) -> Result<(String, String)> {
    match text.split_once(':') {
        Some((id, secret)) if !id.is_empty() && !secret.is_empty() => {
            Ok((id.to_string(), secret.to_string()))
        }
        _ => bail!("--alibaba-key: expected ID:SECRET with both parts non-empty"),
    }
}

/// `agentproof proxy`.
pub async fn run_proxy(args: ProxyArgs) -> Result<u8> {
    let mut upstreams = Vec::new();
    for spec in &args.upstream {
        let upstream = Upstream::parse(spec).map_err(|e| anyhow!("--upstream {e}"))?;
        if upstreams
            .iter()
            .any(|u: &Upstream| u.platform == upstream.platform)
        {
            bail!(
                "--upstream: {} is given twice (one upstream per platform)",
                upstream.platform
            );
        }
        upstreams.push(upstream);
    }
    let mut config = proxy::Config::new(upstreams);
    config.listen = args.listen;
    config.record = args.record.clone();
    config.timeout = Duration::from_millis(args.timeout_ms);
    config.judge.strict_requests = args.strict_requests;
    if let Some(key) = &args.alibaba_key {
        let (id, secret) = key_pair(key)?;
        config.secrets.push(secret.clone());
        config.judge.alibaba_key = Some((id, secret));
    }
    let running = proxy::Proxy::start(config).await.map_err(|e| {
        anyhow!("{e}: pick another address with --listen (port 0 = any free ports)")
    })?;
    let mut info = serde_json::Map::new();
    eprintln!("agentproof proxy is running (Ctrl-C stops it and writes the reports):");
    for listener in running.listeners() {
        eprintln!(
            "  {:<8} {} → {}   live page {}/__proxy/",
            listener.platform.name(),
            listener.url(),
            listener.upstream.url,
            listener.url()
        );
        info.insert(
            listener.platform.name().to_string(),
            serde_json::json!({"url": listener.url(), "upstream": listener.upstream.url}),
        );
    }
    if let Some(path) = &args.info_file {
        std::fs::write(path, serde_json::Value::Object(info).to_string() + "\n")
            .with_context(|| format!("cannot write --info-file {}", path.display()))?;
    }
    match args.duration {
        Some(secs) => {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(secs)) => {},
                _ = crate::mock_cmd::wait_for_signal() => {},
            }
        }
        None => crate::mock_cmd::wait_for_signal().await,
    }
    eprintln!("stopping (letting exchanges in flight finish)...");
    let finished = running.stop().await.context("closing the recording")?;
    let written = reports::write_all(&finished.run, &args.report_dir).with_context(|| {
        format!(
            "cannot write the reports into --report-dir {}",
            args.report_dir.display()
        )
    })?;
    let snapshot = &finished.snapshot;
    let verdict = finished.run.verdict();
    println!(
        "{}: {} exchanges, {} broke a contract, {} SLO violations; reports in {} (open {})",
        if finished.run.exit_code() == 0 {
            "PASS"
        } else {
            "FAIL"
        },
        snapshot.exchanges(),
        snapshot.failed(),
        verdict.slo_violations,
        args.report_dir.display(),
        written.html.display()
    );
    if let Some(dir) = &args.record {
        println!(
            "recorded {} exchanges in {}",
            finished.recorded,
            dir.display()
        );
    }
    Ok(u8::try_from(finished.run.exit_code()).unwrap_or(1))
}

/// `agentproof replay`.
pub async fn run_replay(args: ReplayArgs) -> Result<u8> {
    let fixtures = proxy::record::read(&args.recording).map_err(|e| anyhow!(e))?;
    if fixtures.is_empty() {
        bail!(
            "{}: the recording holds no exchange",
            args.recording.display()
        );
    }
    let mut targets = BTreeMap::new();
    for spec in &args.target {
        let upstream = Upstream::parse(spec).map_err(|e| anyhow!("--target {e}"))?;
        if targets.insert(upstream.platform, upstream.url).is_some() {
            bail!("--target: {} is given twice", upstream.platform);
        }
    }
    let mut creds = crate::check::credentials(&args.credentials)?;
    let embedded = if targets.is_empty() {
        let embedded = Embedded::start(&EmbeddedOptions::ephemeral(), MockConfig::default())
            .await
            .context("cannot start the embedded mocks")?;
        creds = Credentials::from_info(&embedded.info);
        for platform in Platform::ALL {
            if let Some(url) = embedded.url(platform.name()) {
                targets.insert(platform, url.to_string());
            }
        }
        Some(embedded)
    } else {
        None
    };
    for url in targets.values() {
        crate::net::tcp_reachable(url)
            .await
            .map_err(|why| anyhow!("cannot reach the target {url}: {why}"))?;
    }
    let plan = proxy::replay::Plan {
        fixtures,
        targets,
        credentials: proxy::replay::Credentials {
            alibaba_key: pair(&creds, CheckPlatform::Alibaba),
            aui_user: (creds.aui_user.id.clone(), creds.aui_user.secret.clone()),
            aui_auth: creds.aui_auth.clone(),
            duix_app: pair(&creds, CheckPlatform::Duix),
            webhook_bearer: args.webhook_bearer.clone(),
        },
        timeout: Duration::from_millis(args.timeout_ms),
    };
    let parity = proxy::replay::replay(&plan).await;
    if let Some(embedded) = embedded {
        embedded.shutdown().await;
    }
    let written = proxy::replay::report::write(&parity, &args.report_dir).with_context(|| {
        format!(
            "cannot write the parity report into --report-dir {}",
            args.report_dir.display()
        )
    })?;
    let differences: u64 = parity.differences.iter().map(|d| d.count).sum();
    println!(
        "{}: {} of {} exchanges replayed, {} differences ({} exchanges); reports in {} (open {})",
        if parity.differences.is_empty() {
            "SAME"
        } else {
            "DIFFERENT"
        },
        parity.replayed,
        parity.fixtures,
        parity.differences.len(),
        differences,
        args.report_dir.display(),
        written.html.display()
    );
    for difference in &parity.differences {
        let what: Vec<String> = difference
            .aspects
            .iter()
            .map(|a| format!("{} {} → {}", a.what, a.recorded, a.replayed))
            .collect();
        println!(
            "  {} (×{}): {}",
            difference.route,
            difference.count,
            what.join("; ")
        );
    }
    Ok(parity.exit_code())
}

/// The key or app of `platform` as `(id, secret)`.
fn pair(creds: &Credentials, platform: CheckPlatform) -> (String, String) {
    let pair = match platform {
        CheckPlatform::Alibaba => &creds.alibaba_key,
        CheckPlatform::Aui => &creds.aui_app,
        CheckPlatform::Duix => &creds.duix_app,
    };
    (pair.id.clone(), pair.secret.clone())
}
