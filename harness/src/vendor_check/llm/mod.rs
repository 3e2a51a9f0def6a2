//! `agentproof llm`: tells a vendor in one command whether an Alibaba agent can talk to their LLM
//! ("self-developed LLM (OpenAI specification)", RTC `LLMConfig.Vendor = "thirdparty"`), and
//! which rule it breaks, in words they can act on.
//!
//! The split, as `agentproof webhook`'s: this file parses the arguments into a [`Setup`] (errors
//! are usage errors, exit 2), starts the reference endpoint when no `--url` is given, and sends
//! and judges; [`traffic`] holds the conversations as the platform has them; [`probes`] the
//! malformed bodies; [`rules`] the rules that are an LLM's own, the engine ([`super`]) those both
//! checkers share and the verdict's printing.

mod probes;
mod rules;
mod traffic;

/// What the fuzz targets (`fuzz/`) drive: how an LLM's stream is judged. Not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::super::send::Answer;
    pub use super::rules::{answer, stream};
    pub use super::traffic::Exchange;
}

use super::common::{reachable, Common, CommonArgs};
use super::report::{finish, Finish};
use super::rules::{Attempt, MalformedWords, ShareWords};
use super::send::{self, Answer, Missing};
use crate::cli::LlmCheckArgs;
use crate::net::{now_rfc3339, shown_url};
use anyhow::{bail, Context, Result};
use protocol::alibaba::llm::{
    chat_completion, endpoint_url, ChatCall, Message, END_ROUTE, TTFT_ROUTE,
};
use reports::LatencyTable;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What to check and how.
pub struct Setup {
    /// `--url` as given: the base URL the agent is configured with.
    pub base: String,
    /// Where the platform POSTs: the base URL and `/chat/completions`.
    pub url: String,
    pub common: Common,
    pub api_key: Option<String>,
    pub model: String,
    pub ttft: Duration,
}

impl Setup {
    /// Parses and checks the arguments; every error is a usage error (exit 2).
    pub fn from_args(args: &LlmCheckArgs, base: String) -> Result<Setup> {
        let common = Common::from_args(CommonArgs {
            requests: args.requests,
            concurrency: args.concurrency,
            rate: args.rate,
            timeout_ms: args.timeout_ms,
            report_dir: &args.report_dir,
            junit: args.junit.as_ref(),
        })?;
        if args.model.trim().is_empty() {
            bail!("--model: give the model name the agent is configured with");
        }
        Ok(Setup {
            url: endpoint_url(&base, true, None),
            base,
            common,
            api_key: args.api_key.clone().filter(|k| !k.is_empty()),
            model: args.model.clone(),
            ttft: Duration::from_millis(args.ttft_ms),
        })
    }
}

/// `agentproof llm`: the verdict first, a line per rule, the reports; exit 0/1 (2 errors).
pub async fn run_cli(args: LlmCheckArgs) -> Result<u8> {
    let (base, reference) = match &args.url {
        Some(url) => {
            let example = "https://llm.example/v1";
            (
                crate::net::vendor_url(url, "--url", "--api-key", example)?,
                None,
            )
        }
        None => {
            let key = uuid::Uuid::new_v4().simple().to_string();
            let config = mocks::alibaba::llm::vendor::VendorConfig {
                api_key: Some(key.clone()),
                ..Default::default()
            };
            let server = mocks::alibaba::llm::vendor::start(config, "127.0.0.1:0".parse()?)
                .await
                .context("cannot start the reference LLM endpoint")?;
            (
                mocks::alibaba::llm::vendor::base_url(&server),
                Some((server, key)),
            )
        }
    };
    let mut setup = Setup::from_args(&args, base)?;
    if let Some((_, key)) = &reference {
        setup.api_key = Some(key.clone());
        eprintln!(
            "agentproof llm: no --url, checking the reference LLM endpoint at {}",
            setup.base
        );
    }
    reachable(&setup.url, "LLM endpoint").await?;
    let outcome = check(Arc::new(setup)).await;
    if let Some((server, _)) = reference {
        server.shutdown().await;
    }
    outcome
}

const MALFORMED: MalformedWords = MalformedWords {
    title: "each malformed body gets 4xx (or, where the OpenAI contract leaves it open, 200), never 5xx",
    leaves_open: "the contract",
};
const AUTH_TITLE: &str = "with --api-key, a request without it or with a wrong key gets 401 or 403";
const NO_KEY: &str = "no --api-key given: give the key the agent is configured with to check that requests without it are refused";
const TTFT: ShareWords = ShareWords {
    rule: "ttft",
    title: "95% of first content tokens under --ttft-ms",
    nothing: "no stream brought a content token or timed out",
};

/// Sends everything, judges every rule, writes the reports, prints the verdict.
async fn check(setup: Arc<Setup>) -> Result<u8> {
    let started = Instant::now();
    let started_at = now_rfc3339();
    let client = setup.common.client()?;
    let exchanges = traffic::converse(&setup, &client).await;
    if send::nothing_answered(exchanges.iter().map(|e| &e.answer)) {
        let why = send::first_failure(exchanges.iter().map(|e| &e.answer));
        bail!(
            "the LLM endpoint at {} never answered: {why}",
            shown_url(&setup.url)
        );
    }
    let mut probes = Vec::new();
    for probe in probes::malformed(&setup.model) {
        let mut request = valid_request(&setup, setup.api_key.as_deref());
        request.body = probe.body.clone();
        let answer = traffic::send(&client, &setup, request, &[]).await;
        probes.push((probe, answer));
    }
    let withheld = match &setup.api_key {
        None => Vec::new(),
        Some(key) => {
            let wrong = format!("{key}-wrong");
            let mut answers = Vec::new();
            for (what, key) in [
                ("without the key", None),
                ("with a wrong key", Some(wrong.as_str())),
            ] {
                let request = valid_request(&setup, key);
                answers.push((what, traffic::send(&client, &setup, request, &[]).await));
            }
            answers
        }
    };
    let mut latency = LatencyTable::new();
    for e in &exchanges {
        send::record(&mut latency, END_ROUTE, &e.answer, setup.common.timeout);
        match &e.answer {
            Ok(Answer {
                first_event: Some(first),
                ..
            }) => latency.record(TTFT_ROUTE, *first),
            Err(Missing::TimedOut) => latency.record(TTFT_ROUTE, setup.common.timeout),
            _ => {}
        }
    }
    let attempts: Vec<Attempt<'_>> = withheld
        .iter()
        .map(|(what, answer)| Attempt {
            what: what.to_string(),
            answer,
        })
        .collect();
    let everything: Vec<&Result<Answer, Missing>> = exchanges
        .iter()
        .map(|e| &e.answer)
        .chain(probes.iter().map(|(_, a)| a))
        .chain(withheld.iter().map(|(_, a)| a))
        .collect();
    let path = rules::path(&exchanges, &setup.base, &setup.url);
    // Requests the endpoint does not answer at the path say nothing of its auth or its parsing.
    let (auth, malformed) = match path.failed() {
        true => (
            rules::not_at_the_path("auth", AUTH_TITLE),
            rules::not_at_the_path("malformed", MALFORMED.title),
        ),
        false => (
            super::rules::auth(AUTH_TITLE, &attempts, NO_KEY),
            super::rules::malformed(&probes, &MALFORMED),
        ),
    };
    let verdicts = [
        path,
        rules::stream(&exchanges),
        rules::answer(&exchanges),
        auth,
        malformed,
        super::rules::share_under(
            &TTFT,
            &rules::first_tokens(&exchanges),
            setup.ttft,
            95,
            latency.summary(TTFT_ROUTE),
        ),
        super::rules::timeout(&everything, setup.common.timeout),
    ];
    let done = Finish {
        suite: "llm",
        platform: "alibaba",
        target: ("llm", &setup.url),
        started_at,
        elapsed: started.elapsed(),
        report_dir: &setup.common.report_dir,
        junit: setup.common.junit.as_ref(),
    };
    finish(done, &verdicts, latency)
}

/// A valid first turn as the platform sends it, with `key` (none: no `Authorization`).
fn valid_request(setup: &Setup, key: Option<&str>) -> protocol::request::HttpRequest {
    let records = [
        Message::new("system", scenarios::alibaba::llm::PROMPT),
        Message::new("user", "你好"),
    ];
    let extend = protocol::alibaba::llm::ExtendData {
        instance_id: "agentproof-probe".into(),
        channel_id: "agentproof-probe".into(),
        sentence_id: 1,
        ..Default::default()
    };
    chat_completion(&ChatCall {
        model: &setup.model,
        messages: &records,
        api_key: key,
        extend_data: &extend,
        ..ChatCall::default()
    })
}
