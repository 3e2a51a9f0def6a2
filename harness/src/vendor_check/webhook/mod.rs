//! `agentproof webhook`: tells a DUIX webhook vendor in one command whether their webhook
//! passes, and which rule it breaks, in words they can act on.
//!
//! The split: this file parses the arguments into a [`Setup`] (errors are usage errors, exit 2),
//! starts the reference webhook when no `--url` is given, and sends and judges; [`traffic`] puts
//! multi-turn questions to the webhook as the platform does, in JSON and SSE form; [`probes`]
//! builds the malformed requests; [`rules`] judges the rules that are the webhook's own, the
//! engine ([`super`]) those both checkers share and the verdict's printing.

mod probes;
mod rules;
mod traffic;

/// What the fuzz targets (`fuzz/`) drive: how the vendor's answers are read and judged. Not part
/// of the API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::super::send::{Answer, Missing};
    pub use super::super::verdict::Verdict;
    pub use super::rules::{sse, sse_events, stream_ended};
    pub use super::traffic::{answer_text, Exchange};
}

use super::common::{is_credential, parse_header, reachable, Common, CommonArgs};
use super::report::{finish, Finish};
use super::rules::{Attempt, MalformedWords, ShareWords};
use super::send::{self, Answer, Missing};
use crate::cli::WebhookCheckArgs;
use crate::net::{now_rfc3339, shown_url as shown};
use anyhow::{bail, Context, Result};
use protocol::request::duix::{webhook_question, Question, WEBHOOK_ROUTE};
use reports::LatencyTable;
use std::sync::Arc;
use std::time::{Duration, Instant};
use traffic::Exchange;

/// The route the streamed answers are timed under.
const STREAM_ROUTE: &str = "duix POST webhook dh-question (event stream)";

/// The SLO limit of an answer.
const LIMIT: Duration = Duration::from_millis(2000);

/// What to check and how.
pub struct Setup {
    pub url: String,
    pub common: Common,
    pub sse_requests: usize,
    pub turns: usize,
    /// `--header` pairs, sent with every question (withheld by the auth probe).
    pub headers: Vec<(String, String)>,
    pub questions: Vec<String>,
    pub sid: String,
    pub dh_code: String,
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
        let common = Common::from_args(CommonArgs {
            requests: args.requests,
            concurrency: args.concurrency,
            rate: args.rate,
            timeout_ms: args.timeout_ms,
            report_dir: &args.report_dir,
            junit: args.junit.as_ref(),
        })?;
        Ok(Setup {
            url,
            sse_requests: (common.requests / 4).clamp(1, 20),
            common,
            turns: 3,
            headers,
            questions,
            sid: args.sid.clone(),
            dh_code: args.dh_code.clone(),
        })
    }
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
    reachable(&setup.url, "webhook").await?;
    let outcome = check(Arc::new(setup)).await;
    if let Some((server, _)) = reference {
        server.shutdown().await;
    }
    outcome
}

/// Sends everything, judges every rule, writes the reports, prints the verdict.
async fn check(setup: Arc<Setup>) -> Result<u8> {
    let started = Instant::now();
    let started_at = now_rfc3339();
    let client = setup.common.client()?;
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
    if send::nothing_answered(questions.iter().map(|e| &e.answer)) {
        let why = send::first_failure(questions.iter().map(|e| &e.answer));
        bail!("the webhook at {} never answered: {why}", shown(&setup.url));
    }
    let mut latency = LatencyTable::new();
    for (route, exchanges) in [(WEBHOOK_ROUTE, &questions), (STREAM_ROUTE, &streams)] {
        for e in exchanges.iter() {
            send::record(&mut latency, route, &e.answer, setup.common.timeout);
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
    let attempts: Vec<Attempt<'_>> = withheld
        .iter()
        .map(|answer| Attempt {
            what: format!("without {}", header_names.join(", ")),
            answer,
        })
        .collect();
    let verdicts = [
        rules::envelope(&questions),
        rules::answer(&questions),
        rules::conversation_id(&questions),
        rules::continuity(&questions),
        rules::sse(&streams),
        super::rules::malformed(&probes, &MALFORMED),
        super::rules::auth(AUTH_TITLE, &attempts, NO_CREDENTIAL),
        latency_rule(&questions, &latency),
        super::rules::timeout(&everything, setup.common.timeout),
    ];
    let done = Finish {
        suite: "webhook",
        platform: "duix",
        target: ("webhook", &setup.url),
        started_at,
        elapsed: started.elapsed(),
        report_dir: &setup.common.report_dir,
        junit: setup.common.junit.as_ref(),
    };
    finish(done, &verdicts, latency)
}

const MALFORMED: MalformedWords = MalformedWords {
    title: "each malformed request gets 4xx (or, where the seed leaves it open, 200), never 5xx",
    leaves_open: "the seed",
};
const AUTH_TITLE: &str = "without the configured credentials a request gets 401 or 403";
const NO_CREDENTIAL: &str =
    "no credential among the --header given (Authorization, *key*, *token*, *secret*, Cookie)";

/// 95 % of the JSON answers under 2000 ms, counted exactly (a timed-out one is never under;
/// requests with no answer at all are other rules' findings).
fn latency_rule(questions: &[Exchange], table: &LatencyTable) -> super::verdict::Verdict {
    let words = ShareWords {
        rule: "latency",
        title: "95% of answers under 2000 ms",
        nothing: "no question was answered or timed out",
    };
    let times: Vec<Option<Duration>> = questions
        .iter()
        .filter_map(|e| match &e.answer {
            Ok(a) => Some(Some(a.elapsed)),
            Err(Missing::TimedOut) => Some(None),
            Err(Missing::Failed(_)) => None,
        })
        .collect();
    super::rules::share_under(&words, &times, LIMIT, 95, table.summary(WEBHOOK_ROUTE))
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
