//! `agentproof webhook`: tells a DUIX webhook vendor in one command whether their webhook
//! passes, and which rule it breaks, in words they can act on.
//!
//! The split: this file parses the arguments into a [`Setup`] (errors are usage errors, exit 2),
//! starts the reference webhook when no `--url` is given, and prints and writes the verdict;
//! [`traffic`] puts multi-turn questions to the webhook as the platform does, in JSON and SSE
//! form; [`probes`] builds the malformed requests; [`rules`] judges each rule on its own.

mod probes;
mod rules;
mod traffic;

/// What the fuzz targets (`fuzz/`) drive: how the vendor's answers are read and judged. Not part
/// of the API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::rules::{sse, sse_events, stream_ended, Verdict};
    pub use super::traffic::{answer_text, Answer, Exchange, Missing};
}

use crate::cli::WebhookCheckArgs;
use crate::net::{now_rfc3339, shown_url as shown};
use anyhow::{anyhow, bail, Context, Result};
use protocol::request::duix::{webhook_question, Question, WEBHOOK_ROUTE};
use reports::{LatencyTable, Run, Suite};
use rules::Verdict;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use traffic::{Answer, Exchange, Missing};

/// The route the streamed answers are timed under.
const STREAM_ROUTE: &str = "duix POST webhook dh-question (event stream)";

/// What to check and how.
pub struct Setup {
    pub url: String,
    pub requests: usize,
    pub sse_requests: usize,
    pub turns: usize,
    pub concurrency: usize,
    pub schedule: Option<scenarios::Schedule>,
    /// `--header` pairs, sent with every question (withheld by the auth probe).
    pub headers: Vec<(String, String)>,
    pub questions: Vec<String>,
    pub sid: String,
    pub dh_code: String,
    pub timeout: Duration,
    pub report_dir: PathBuf,
    pub junit: Option<PathBuf>,
}

impl Setup {
    /// Parses and checks the arguments; every error is a usage error (exit 2).
    pub fn from_args(args: &WebhookCheckArgs, url: String) -> Result<Setup> {
        let headers = args
            .header
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<Vec<_>>>()?;
        let questions = match &args.question_file {
            Some(file) => read_questions(file)?,
            None => scenarios::duix::QUESTIONS
                .iter()
                .map(|q| q.to_string())
                .collect(),
        };
        let requests = usize::try_from(args.requests).unwrap_or(usize::MAX);
        if let Some(rate) = args.rate {
            if !(rate.is_finite() && rate > 0.0 && rate <= 100_000.0) {
                bail!("--rate {rate}: questions per second must be above 0 and at most 100000");
            }
        }
        std::fs::create_dir_all(&args.report_dir)
            .with_context(|| format!("cannot create --report-dir {}", args.report_dir.display()))?;
        if let Some(junit) = &args.junit {
            let parent = junit.parent().filter(|p| !p.as_os_str().is_empty());
            if parent.is_some_and(|p| !p.is_dir()) {
                bail!("--junit {}: its folder does not exist", junit.display());
            }
        }
        Ok(Setup {
            url,
            requests,
            sse_requests: (requests / 4).clamp(1, 20),
            turns: 3,
            concurrency: usize::try_from(args.concurrency).unwrap_or(1),
            schedule: args.rate.map(|rate| scenarios::Schedule::new(rate, 1)),
            headers,
            questions,
            sid: args.sid.clone(),
            dh_code: args.dh_code.clone(),
            timeout: Duration::from_millis(args.timeout_ms),
            report_dir: args.report_dir.clone(),
            junit: args.junit.clone(),
        })
    }
}

/// `Name:value` of `--header`.
fn parse_header(text: &str) -> Result<(String, String)> {
    let (name, value) = text.split_once(':').ok_or_else(|| {
        anyhow!(
            "--header {:?}: expected NAME:VALUE, e.g. 'Authorization:Bearer <token>'",
            name_only(text)
        )
    })?;
    let name = name.trim().to_ascii_lowercase();
    reqwest::header::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| anyhow!("--header {name:?}: not a valid header name"))?;
    reqwest::header::HeaderValue::from_str(value.trim())
        .map_err(|_| anyhow!("--header {name}: the value is not a valid header value"))?;
    Ok((name, value.trim().to_string()))
}

/// What of a malformed `--header` may be shown: its first word, when it looks like a header
/// name, else nothing (without a colon the value is not told apart, and it may be a secret).
fn name_only(text: &str) -> &str {
    let word = text.split([':', ' ', '=', '\t']).next().unwrap_or_default();
    match !word.is_empty()
        && word.len() < text.len()
        && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        true => word,
        false => "…",
    }
}

/// Header names whose values are credentials: the auth rule withholds these.
fn is_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "authorization"
        || name == "cookie"
        || ["key", "token", "secret", "auth"]
            .iter()
            .any(|w| name.contains(w))
}

/// One question per non-empty line of `file` (`\n` inside a line stands for a newline).
fn read_questions(file: &std::path::Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("--question-file {}", file.display()))?;
    let questions: Vec<String> = text
        .lines()
        .map(|l| l.trim().replace("\\n", "\n"))
        .filter(|l| !l.is_empty())
        .collect();
    if questions.is_empty() {
        bail!(
            "--question-file {}: no question in it (one per line)",
            file.display()
        );
    }
    Ok(questions)
}

/// `agentproof webhook`: the verdict first, a line per rule, the reports; exit 0/1 (2 errors).
pub async fn run_cli(args: WebhookCheckArgs) -> Result<u8> {
    let (url, reference) = match &args.url {
        Some(url) => (crate::net::webhook_url(url, "--url", "--header")?, None),
        None => {
            let secret = uuid::Uuid::new_v4().simple().to_string();
            let config = mocks::duix::vendor::VendorConfig {
                shared_secret: Some(secret.clone()),
                answer_delay_ms: 0,
            };
            let server = mocks::duix::vendor::start(config, "127.0.0.1:0".parse()?)
                .await
                .context("cannot start the reference webhook")?;
            (server.url(), Some((server, secret)))
        }
    };
    let mut setup = Setup::from_args(&args, url)?;
    if let Some((_, secret)) = &reference {
        setup
            .headers
            .push(("authorization".into(), format!("Bearer {secret}")));
        eprintln!(
            "agentproof webhook: no --url, checking the reference webhook at {}",
            setup.url
        );
    }
    probe(&setup.url).await?;
    let outcome = check(Arc::new(setup)).await;
    if let Some((server, _)) = reference {
        server.shutdown().await;
    }
    outcome
}

/// The webhook answers TCP within 5 s, or the connect error in words (exit 2).
async fn probe(url: &str) -> Result<()> {
    crate::net::tcp_reachable(url)
        .await
        .map_err(|why| anyhow!("cannot reach the webhook at {}: {why}", shown(url)))
}

/// Sends everything, judges every rule, writes the reports, prints the verdict.
async fn check(setup: Arc<Setup>) -> Result<u8> {
    let started = Instant::now();
    let started_at = now_rfc3339();
    let client = reqwest::Client::builder()
        .timeout(setup.timeout)
        .connect_timeout(setup.timeout.min(Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let questions = traffic::converse(&setup, &client, false).await;
    let streams = traffic::converse(&setup, &client, true).await;
    let mut probes = Vec::new();
    for probe in probes::malformed(&setup.sid, &setup.dh_code) {
        let request = raw_request(&setup, probe.body.clone());
        let answer = traffic::send(&client, &setup, request, &setup.headers).await;
        probes.push((probe, answer));
    }
    let (credentials, others): (Vec<_>, Vec<_>) = setup
        .headers
        .iter()
        .cloned()
        .partition(|(n, _)| is_credential(n));
    let withheld = match credentials.is_empty() {
        true => None,
        false => {
            let request = raw_request(&setup, Vec::new());
            Some(traffic::send(&client, &setup, request, &others).await)
        }
    };
    if nothing_answered(&questions) {
        let why = questions
            .iter()
            .find_map(|e| match &e.answer {
                Err(Missing::Failed(why)) => Some(why.clone()),
                _ => None,
            })
            .unwrap_or_default();
        bail!("the webhook at {} never answered: {why}", shown(&setup.url));
    }
    let mut latency = LatencyTable::new();
    for (route, exchanges) in [(WEBHOOK_ROUTE, &questions), (STREAM_ROUTE, &streams)] {
        for e in exchanges.iter() {
            record(&mut latency, route, &e.answer, setup.timeout);
        }
    }
    let header_names: Vec<String> = credentials.iter().map(|(n, _)| n.clone()).collect();
    let everything: Vec<&Result<Answer, Missing>> = questions
        .iter()
        .chain(&streams)
        .map(|e| &e.answer)
        .chain(probes.iter().map(|(_, a)| a))
        .chain(withheld.iter())
        .collect();
    let verdicts = [
        rules::envelope(&questions),
        rules::answer(&questions),
        rules::conversation_id(&questions),
        rules::continuity(&questions),
        rules::sse(&streams),
        rules::malformed(&probes),
        rules::auth(withheld.as_ref(), &header_names),
        rules::latency(&questions, &latency, WEBHOOK_ROUTE),
        rules::timeout(&everything, setup.timeout),
    ];
    let run = to_run(&setup, &verdicts, latency, started_at, started.elapsed());
    report(&setup, &verdicts, &run)
}

/// A dh-question request with this raw body (empty: a valid question), headers as the
/// platform sends them.
fn raw_request(setup: &Setup, body: Vec<u8>) -> protocol::request::HttpRequest {
    let id = uuid::Uuid::new_v4().to_string();
    let mut request = webhook_question(
        &Question {
            sid: &setup.sid,
            dh_code: &setup.dh_code,
            question: "who are you?",
            conversation_id: &id,
            context: "{}",
        },
        false,
        None,
    );
    if !body.is_empty() {
        request.body = body;
    }
    request
}

/// True when no question could even connect: nothing listens there (a webhook that accepts
/// connections and then fails is judged by the rules instead).
fn nothing_answered(exchanges: &[Exchange]) -> bool {
    !exchanges.is_empty()
        && exchanges.iter().all(
            |e| matches!(&e.answer, Err(Missing::Failed(why)) if why.starts_with("cannot connect")),
        )
}

/// An answer's time, a timed-out request at the timeout.
fn record(
    table: &mut LatencyTable,
    route: &str,
    answer: &Result<Answer, Missing>,
    timeout: Duration,
) {
    match answer {
        Ok(a) => table.record(route, a.elapsed),
        Err(Missing::TimedOut) => table.record(route, timeout),
        Err(Missing::Failed(_)) => {}
    }
}

fn to_run(
    setup: &Setup,
    verdicts: &[Verdict],
    latency: LatencyTable,
    started_at: String,
    elapsed: Duration,
) -> Run {
    let mut suite = Suite::new("webhook", "duix");
    suite.cases = verdicts.iter().map(Verdict::case).collect();
    suite.latency = latency;
    Run {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        started_at,
        duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
        target: BTreeMap::from([("webhook".to_string(), shown(&setup.url))]),
        seed: None,
        suites: vec![suite],
    }
}

/// Writes the reports, prints the verdict first, returns the exit code.
fn report(setup: &Setup, verdicts: &[Verdict], run: &Run) -> Result<u8> {
    let written = reports::write_all(run, &setup.report_dir).with_context(|| {
        format!(
            "cannot write the reports into --report-dir {}",
            setup.report_dir.display()
        )
    })?;
    if let Some(junit) = &setup.junit {
        std::fs::write(junit, reports::render::junit::render(run))
            .with_context(|| format!("cannot write --junit {}", junit.display()))?;
    }
    let broken = verdicts.iter().filter(|v| v.failed()).count();
    let skipped: Vec<&str> = verdicts
        .iter()
        .filter(|v| matches!(v.outcome, rules::Outcome::Skip(_)))
        .map(|v| v.rule)
        .collect();
    match (broken, skipped.len()) {
        (0, 0) => println!("PASS"),
        (0, n) => println!("PASS ({n} skipped: {})", skipped.join(", ")),
        (n, _) => println!("FAIL: {n} of {} rules broken", verdicts.len()),
    }
    for verdict in verdicts {
        println!("{}", verdict.line());
    }
    println!(
        "reports in {}: {}, {}, {}, {}{}",
        setup.report_dir.display(),
        written.html.display(),
        written.json.display(),
        written.junit.display(),
        written.markdown.display(),
        setup
            .junit
            .as_ref()
            .map_or(String::new(), |j| format!(", {}", j.display()))
    );
    Ok(u8::from(broken > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_name_colon_value_and_errors_hide_the_value() {
        assert_eq!(
            parse_header("Authorization: Bearer s3cret").unwrap(),
            ("authorization".into(), "Bearer s3cret".into())
        );
        let error = parse_header("Authorization Bearer s3cret")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("NAME:VALUE") && !error.contains("s3cret"),
            "{error}"
        );
        assert!(parse_header("bad name:x").is_err());
    }
}
