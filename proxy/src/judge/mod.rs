//! Judging one exchange against the contracts: the request and the answer against their schemas,
//! the business code against the platform's catalogue, the status against the code, and, for
//! Alibaba with the key, the request's signature.
//!
//! The split: this file holds the rules and the verdict; each platform module reads what is its
//! own ([`alibaba`], [`aui`], [`duix`], [`webhook`]): which operation a request is (its route
//! template and schemas), the request as its schema sees it, the answer's envelope (success or
//! an error with its code), and whether the status fits the code.
//!
//! The rules judge the *exchange*, the upstream's side of the contract given what it was sent:
//! a request signed wrongly must be refused and one signed rightly must not be refused for its
//! signature; a request outside its schema that the upstream refused keeps `request-schema`, one
//! it accepted is noted (a lenient server is no broken contract: the embedded AUI server, like
//! Java's, takes `template_config` as an object too). A client that sends bad requests on purpose
//! (the official SDKs' error tests, `agentproof check`'s error suites) therefore passes when the
//! upstream refuses them properly; [`Judge::strict_requests`] makes every request outside its
//! schema a failure, for an app whose own requests are what is being checked.
//!
//! | rule | what it asks |
//! | --- | --- |
//! | `answered` | the upstream answered (no refused connection, reset or timeout) |
//! | `request-schema` | with `--strict-requests`, no request outside its schema (without: one the upstream accepted is noted, not failed) |
//! | `signature` | Alibaba, with `--alibaba-key`: a request signed wrongly was refused, one signed rightly was not refused for its signature |
//! | `answer-schema` | a success answer is valid against the operation's response schema, an error against the platform's error envelope |
//! | `code` | an error's business code is in the platform's catalogue |
//! | `status` | the HTTP status is the one the code comes with (AUI and DUIX: or 200, as the platforms' own servers send) |
//!
//! Latency per route is the SLO's (p95 under 2000 ms, nothing at the 20000 ms timeout), judged
//! from the histograms by the reports crate.

pub mod alibaba;
pub mod aui;
pub mod duix;
pub mod webhook;

use crate::exchange::{Answer, Exchange, FixtureVerdict};
use crate::platform::Platform;
use serde_json::Value;

/// One rule of the judge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// The upstream answered.
    Answered,
    /// The request against its schema.
    RequestSchema,
    /// Alibaba signatures, re-verified with the key.
    Signature,
    /// The answer against its schema.
    AnswerSchema,
    /// The business code against the catalogue.
    Code,
    /// The status against the code.
    Status,
}

impl Rule {
    /// Every rule, in report order.
    pub const ALL: [Rule; 6] = [
        Rule::Answered,
        Rule::RequestSchema,
        Rule::Signature,
        Rule::AnswerSchema,
        Rule::Code,
        Rule::Status,
    ];

    /// The rule's name in reports: `answer-schema`.
    pub fn name(self) -> &'static str {
        match self {
            Rule::Answered => "answered",
            Rule::RequestSchema => "request-schema",
            Rule::Signature => "signature",
            Rule::AnswerSchema => "answer-schema",
            Rule::Code => "code",
            Rule::Status => "status",
        }
    }

    /// What the rule asks, as a sentence.
    pub fn title(self) -> &'static str {
        match self {
            Rule::Answered => "every request got an answer",
            Rule::RequestSchema => "requests valid against their schemas, or refused",
            Rule::Signature => "signatures: wrong ones refused, right ones accepted",
            Rule::AnswerSchema => "every answer is valid against its schema",
            Rule::Code => "every business code is in the platform's catalogue",
            Rule::Status => "every HTTP status fits its business code",
        }
    }
}

/// How one rule judged one exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// The exchange keeps the rule.
    Pass,
    /// The exchange breaks the rule: what was expected and what came.
    Fail {
        /// What the contract asks.
        expected: String,
        /// What the exchange did.
        got: String,
    },
    /// The rule does not apply (no schema for the route, no key to verify with, ...).
    Skip,
    /// Worth knowing, not a broken contract: a request outside its schema that the upstream
    /// accepted (a lenient server), unless `--strict-requests` makes it a failure.
    Note(String),
}

fn fail(expected: impl Into<String>, got: impl Into<String>) -> Finding {
    Finding::Fail {
        expected: expected.into(),
        got: got.into(),
    }
}

/// Everything the judge said of one exchange.
#[derive(Clone, Debug)]
pub struct Verdict {
    /// The route template it is timed and reported under.
    pub route: String,
    /// One finding per rule, in [`Rule::ALL`] order.
    pub findings: Vec<(Rule, Finding)>,
    /// The schema the answer was judged against, and whether it held.
    pub answer_schema: Option<(String, bool)>,
}

impl Verdict {
    /// Whether the exchange broke no rule.
    pub fn passed(&self) -> bool {
        self.broken().next().is_none()
    }

    /// The rules broken, with what was expected and what came.
    pub fn broken(&self) -> impl Iterator<Item = (Rule, &str, &str)> {
        self.findings
            .iter()
            .filter_map(|(rule, finding)| match finding {
                Finding::Fail { expected, got } => Some((*rule, expected.as_str(), got.as_str())),
                _ => None,
            })
    }

    /// The part a fixture keeps.
    pub fn for_fixture(&self) -> FixtureVerdict {
        FixtureVerdict {
            schema: self.answer_schema.as_ref().map(|(name, _)| name.clone()),
            schema_ok: self.answer_schema.as_ref().map(|(_, ok)| *ok),
            broken: self
                .broken()
                .map(|(rule, _, _)| rule.name().to_string())
                .collect(),
        }
    }
}

/// What a platform module reads of a request: its operation and the request as its schema sees it.
#[derive(Clone, Debug)]
pub struct Operation {
    /// The route template: `alibaba StartAgent`, `aui POST /api/v2/aiagent/login`.
    pub route: String,
    /// The request schema and the request as a JSON document for it (or why it cannot be read).
    pub request: Option<(String, Result<Value, String>)>,
    /// The schema a success answer must satisfy, when the operation is known.
    pub success_schema: Option<String>,
}

/// An answer's envelope, as the platform's clients read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Envelope {
    /// The operation succeeded.
    Success,
    /// The platform refused or failed, with its business code.
    Error {
        /// The code as text (`NotFound`, `403`, `1006`).
        code: String,
    },
    /// The body is not the platform's envelope at all (not JSON, no code where one must be).
    Unreadable(String),
}

/// The judge: the rules, and the keys it verifies with.
#[derive(Clone, Default)]
pub struct Judge {
    /// `--alibaba-key ID:SECRET`: Alibaba signatures made with this key are re-verified.
    pub alibaba_key: Option<(String, String)>,
    /// `--strict-requests`: a request outside its schema breaks `request-schema` even when the
    /// upstream refused it.
    pub strict_requests: bool,
}

impl std::fmt::Debug for Judge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Judge")
            .field("alibaba_key", &self.alibaba_key.as_ref().map(|(id, _)| id))
            .field("strict_requests", &self.strict_requests)
            .finish()
    }
}

impl Judge {
    /// The operation (route template and schemas) of an exchange's request.
    pub fn operation(&self, exchange: &Exchange) -> Operation {
        match exchange.platform {
            Platform::Alibaba => alibaba::operation(&exchange.request),
            Platform::Aui => aui::operation(&exchange.request),
            Platform::Duix => duix::operation(&exchange.request),
            Platform::Webhook => webhook::operation(&exchange.request),
        }
    }

    /// Judges one exchange by every rule.
    pub fn judge(&self, exchange: &Exchange) -> Verdict {
        let operation = self.operation(exchange);
        let mut verdict = Verdict {
            route: operation.route.clone(),
            findings: Vec::with_capacity(Rule::ALL.len()),
            answer_schema: None,
        };
        let answer = match &exchange.answer {
            Ok(answer) => answer,
            Err(why) => {
                verdict
                    .findings
                    .push((Rule::Answered, fail("an answer", format!("none: {why}"))));
                return verdict;
            }
        };
        verdict.findings.push((Rule::Answered, Finding::Pass));
        let read = read_answer(exchange.platform, answer);
        let accepted = matches!(read.envelope, Envelope::Success);
        let request = self.request_finding(&operation, accepted);
        verdict.findings.push((Rule::RequestSchema, request));
        let signature = match exchange.platform {
            Platform::Alibaba => {
                alibaba::signature(&exchange.request, self.alibaba_key.as_ref(), &read.envelope)
            }
            _ => Finding::Skip,
        };
        verdict.findings.push((Rule::Signature, signature));
        let schema = match &read.envelope {
            Envelope::Success => operation.success_schema.clone(),
            Envelope::Error { .. } => Some(error_schema(exchange.platform).to_string()),
            Envelope::Unreadable(_) => None,
        };
        let answer_schema =
            answer_schema_finding(exchange.platform, answer, &read, schema.as_deref());
        if let (Some(name), Finding::Pass | Finding::Fail { .. }) = (&schema, &answer_schema) {
            verdict.answer_schema = Some((name.clone(), answer_schema == Finding::Pass));
        }
        verdict.findings.push((Rule::AnswerSchema, answer_schema));
        verdict
            .findings
            .push((Rule::Code, code_finding(exchange.platform, &read.envelope)));
        verdict.findings.push((
            Rule::Status,
            status_finding(exchange.platform, answer.status, &read.envelope),
        ));
        verdict
    }

    fn request_finding(&self, operation: &Operation, accepted: bool) -> Finding {
        let Some((schema, document)) = &operation.request else {
            return Finding::Skip;
        };
        let broken = match document {
            Ok(document) => match schemas::registry().get(schema) {
                Some(compiled) => violations(compiled, document),
                None => return Finding::Skip,
            },
            Err(why) => Some(why.clone()),
        };
        match broken {
            None => Finding::Pass,
            Some(why) if self.strict_requests => fail(
                format!("every request valid against {schema}"),
                format!("sent: {why}"),
            ),
            Some(why) if accepted => Finding::Note(format!("outside {schema}, accepted: {why}")),
            Some(_) => Finding::Pass,
        }
    }
}

/// The error envelope's schema of each platform.
pub fn error_schema(platform: Platform) -> &'static str {
    match platform {
        Platform::Alibaba => "alibaba/error",
        Platform::Aui => "aui/error",
        Platform::Duix => "duix/error",
        Platform::Webhook => "duix/webhook.error",
    }
}

/// An answer as its platform's clients read it.
pub struct ReadAnswer {
    /// Success, an error with its code, or not the envelope.
    pub envelope: Envelope,
    /// The body as JSON, when it is.
    pub json: Option<Value>,
}

/// Reads an answer's envelope.
pub fn read_answer(platform: Platform, answer: &Answer) -> ReadAnswer {
    if answer.truncated {
        let why = format!("a body over {} bytes", crate::forward::MAX_JUDGED_BODY);
        return ReadAnswer {
            envelope: Envelope::Unreadable(why),
            json: None,
        };
    }
    match platform {
        Platform::Alibaba => alibaba::read_answer(answer),
        Platform::Aui => aui::read_answer(answer),
        Platform::Duix => duix::read_answer(answer),
        Platform::Webhook => webhook::read_answer(answer),
    }
}

fn answer_schema_finding(
    platform: Platform,
    answer: &Answer,
    read: &ReadAnswer,
    schema: Option<&str>,
) -> Finding {
    if let Envelope::Unreadable(why) = &read.envelope {
        return fail(
            format!("the {platform} envelope"),
            format!("HTTP {}: {why}", answer.status),
        );
    }
    if platform == Platform::Webhook && webhook::is_stream(answer) {
        return webhook::stream_finding(answer);
    }
    let (Some(schema), Some(json)) = (schema, &read.json) else {
        return Finding::Skip;
    };
    let Some(compiled) = schemas::registry().get(schema) else {
        return Finding::Skip;
    };
    match violations(compiled, json) {
        None => Finding::Pass,
        Some(why) => fail(format!("a body valid against {schema}"), why),
    }
}

/// The violations of `document`, joined, with values under secret names withheld; `None` when
/// it is valid.
pub fn violations(schema: &schemas::Schema, document: &Value) -> Option<String> {
    if schema.is_valid(document) {
        return None;
    }
    let texts: Vec<String> = schema
        .violations(document)
        .iter()
        .take(5)
        .map(|v| {
            let last = v.instance_path.rsplit('/').next().unwrap_or_default();
            if mocks::journal::is_secret_key(last) {
                format!("{}: (value withheld: a secret field)", v.instance_path)
            } else {
                v.to_string()
            }
        })
        .collect();
    Some(truncate(&texts.join("; "), 600))
}

fn code_finding(platform: Platform, envelope: &Envelope) -> Finding {
    let Envelope::Error { code } = envelope else {
        return Finding::Skip;
    };
    let known = match platform {
        Platform::Alibaba => alibaba::is_catalogued(code),
        Platform::Aui => aui::is_catalogued(code),
        Platform::Duix => duix::is_catalogued(code),
        Platform::Webhook => webhook::is_catalogued(code),
    };
    if known {
        Finding::Pass
    } else {
        fail(
            format!("a code of the {platform} catalogue"),
            format!("code {code}"),
        )
    }
}

fn status_finding(platform: Platform, status: u16, envelope: &Envelope) -> Finding {
    let expected = match envelope {
        Envelope::Unreadable(_) => return Finding::Skip,
        Envelope::Success => vec![200],
        Envelope::Error { code } => match platform {
            Platform::Alibaba => alibaba::statuses(code),
            Platform::Aui => aui::statuses(code),
            Platform::Duix => duix::statuses(code),
            Platform::Webhook => webhook::statuses(code),
        },
    };
    if expected.is_empty() || expected.contains(&status) {
        return Finding::Pass;
    }
    let list: Vec<String> = expected.iter().map(u16::to_string).collect();
    let what = match envelope {
        Envelope::Error { code } => format!("code {code}"),
        _ => "success".to_string(),
    };
    fail(
        format!("HTTP {} for {what}", list.join(" or ")),
        format!("HTTP {status}"),
    )
}

/// At most `max` bytes of `text`, cut at a character boundary, with an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// A JSON body's string or number field as text: how business codes travel.
pub fn code_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
