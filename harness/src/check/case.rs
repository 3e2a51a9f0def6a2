//! Cases as sentences: given a request, expect status, code, schema.
//!
//! ```text
//! let reply = aui.post(GET_RTC_AUTH_TOKEN, &json!({"user_id": "alice"})).await;
//! expect().status(200).schema("aui/getRtcAuthToken.response").verify(&reply)?;
//! ```
//!
//! A case body returns [`CaseResult`]: `Ok(())` passes, [`Failure::Broken`] fails with expected
//! against got, [`Failure::Skip`] skips with the reason. [`SuiteRun`] times each case, collects
//! them into a `reports::Suite` with the suite's latency table, from which the reports crate judges
//! the SLO (p95 under 2000 ms, nothing at the 20000 ms timeout) per route.

use super::client::{truncate, Http, Reply};
use super::progress::Progress;
use super::target::Platform;
use reports::{Case, Outcome, Suite};
use serde_json::Value;
use std::future::Future;
use std::time::Instant;

/// Why a case did not pass.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    Broken {
        expected: String,
        got: String,
        detail: Option<String>,
    },
    Skip(String),
}

pub type CaseResult = Result<(), Failure>;

/// A failure: `expected` against `got`.
pub fn broken(expected: impl Into<String>, got: impl Into<String>) -> Failure {
    Failure::Broken {
        expected: expected.into(),
        got: got.into(),
        detail: None,
    }
}

/// A skip with its reason.
pub fn skip(reason: impl Into<String>) -> Failure {
    Failure::Skip(reason.into())
}

impl Failure {
    pub fn with_detail(self, text: impl Into<String>) -> Failure {
        match self {
            Failure::Broken { expected, got, .. } => Failure::Broken {
                expected,
                got,
                detail: Some(text.into()),
            },
            skip => skip,
        }
    }
}

/// Fails with `expected`/`got` unless `condition` holds.
pub fn ensure(condition: bool, expected: impl Into<String>, got: impl Into<String>) -> CaseResult {
    if condition {
        Ok(())
    } else {
        Err(broken(expected, got))
    }
}

/// What a reply must look like.
#[derive(Clone, Debug, Default)]
pub struct Expect {
    statuses: Vec<u16>,
    code: Option<String>,
    error_code: Option<String>,
    schema: Option<String>,
}

/// An empty expectation; chain `status`, `code`, `schema`.
pub fn expect() -> Expect {
    Expect::default()
}

impl Expect {
    /// The HTTP status must be `status` (call again to allow more than one).
    pub fn status(mut self, status: u16) -> Self {
        self.statuses.push(status);
        self
    }

    /// The platform's business code: Alibaba `Code`, AUI envelope `code`, DUIX `code`.
    pub fn code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// AUI only: the `error_code` (the Alibaba Code of an upstream failure).
    pub fn error_code(mut self, code: impl Into<String>) -> Self {
        self.error_code = Some(code.into());
        self
    }

    /// The body must validate against this schema of `schemas::registry()`.
    pub fn schema(mut self, name: impl Into<String>) -> Self {
        self.schema = Some(name.into());
        self
    }

    /// Checks `reply`; on success returns its JSON body (`Null` when none was asked for).
    pub fn verify<'r>(&self, reply: &'r Reply) -> Result<&'r Value, Failure> {
        if reply.failure.is_some() {
            return Err(broken(self.summary(), reply.describe()));
        }
        if !self.statuses.is_empty() && !self.statuses.contains(&reply.status) {
            return Err(broken(self.summary(), reply.describe()));
        }
        if let Some(code) = &self.code {
            let got = business_code(reply.platform, reply.json.as_ref());
            if got.as_deref() != Some(code.as_str()) {
                let got = got.map_or_else(|| "no code".to_string(), |c| format!("code {c}"));
                return Err(
                    broken(self.summary(), format!("HTTP {}, {got}", reply.status))
                        .with_detail(truncate(&reply.body, 500)),
                );
            }
        }
        if let Some(code) = &self.error_code {
            if reply.str("error_code") != Some(code.as_str()) {
                return Err(broken(self.summary(), reply.describe()));
            }
        }
        if let Some(schema) = &self.schema {
            check_schema(schema, reply)?;
        }
        Ok(reply.json.as_ref().unwrap_or(&Value::Null))
    }

    /// `HTTP 400, code InvalidParameter, schema alibaba/error`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if !self.statuses.is_empty() {
            let list: Vec<String> = self.statuses.iter().map(u16::to_string).collect();
            parts.push(format!("HTTP {}", list.join(" or ")));
        }
        if let Some(code) = &self.code {
            parts.push(format!("code {code}"));
        }
        if let Some(code) = &self.error_code {
            parts.push(format!("error_code {code}"));
        }
        if let Some(schema) = &self.schema {
            parts.push(format!("schema {schema}"));
        }
        parts.join(", ")
    }
}

/// The body must be JSON valid against `schema`.
pub fn check_schema(schema: &str, reply: &Reply) -> CaseResult {
    let Some(json) = &reply.json else {
        return Err(broken(
            format!("a JSON body valid against {schema}"),
            reply.describe(),
        ));
    };
    match schemas::registry().validate(schema, json) {
        Ok(()) => Ok(()),
        Err(e) => {
            let violations: Vec<String> = e.violations().iter().map(ToString::to_string).collect();
            let got = if violations.is_empty() {
                e.to_string()
            } else {
                violations.join("; ")
            };
            Err(broken(
                format!("a body valid against {schema}"),
                truncate(&got, 400),
            )
            .with_detail(truncate(&reply.body, 800)))
        }
    }
}

/// The platform's business code as text: Alibaba `Code`, AUI `code` (a number), DUIX `code`.
pub fn business_code(platform: Platform, json: Option<&Value>) -> Option<String> {
    let value = match platform {
        Platform::Alibaba => json?.get("Code")?,
        Platform::Aui | Platform::Duix => json?.get("code")?,
    };
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One suite being run: its cases so far, its client (and latency table), the progress display.
pub struct SuiteRun {
    suite: Suite,
    http: Http,
    progress: Progress,
    /// Texts never written anywhere: the secrets given on the command line.
    secrets: Vec<String>,
}

impl SuiteRun {
    pub fn new(platform: Platform, name: &str, http: &Http, progress: &Progress) -> Self {
        SuiteRun {
            suite: Suite::new(name, platform.name()),
            http: http.for_suite(),
            progress: progress.clone(),
            secrets: Vec::new(),
        }
    }

    /// Replaces each of `secrets` with `***` in every case before it is shown or reported, in
    /// case the target echoes one back.
    pub fn redacting(mut self, secrets: Vec<String>) -> Self {
        self.secrets = secrets.into_iter().filter(|s| !s.is_empty()).collect();
        self
    }

    /// The suite's client: requests through it count in its latency table.
    pub fn http(&self) -> Http {
        self.http.clone()
    }

    /// Runs one case and records its outcome.
    pub async fn case(&mut self, name: impl Into<String>, body: impl Future<Output = CaseResult>) {
        let started = Instant::now();
        let result = body.await;
        let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.push(to_case(name.into(), result, ms));
    }

    /// Records a case that cannot run here, with the reason.
    pub fn skip(&mut self, name: impl Into<String>, reason: impl Into<String>) {
        self.push(Case::skipped(name, reason));
    }

    pub fn push(&mut self, mut case: Case) {
        self.redact(&mut case);
        self.progress.case_done(&self.suite, &case);
        self.suite.cases.push(case);
    }

    /// The finished suite with its latency table. The SLO is judged from that table by the
    /// reports crate (one verdict per route), not by a case here, so that a breach counts once.
    pub fn finish(mut self) -> Suite {
        self.suite.latency = self.http.latency();
        self.progress.suite_done(&self.suite);
        self.suite
    }
}

impl SuiteRun {
    fn redact(&self, case: &mut Case) {
        let scrub = |text: &mut String| {
            for secret in &self.secrets {
                if text.contains(secret.as_str()) {
                    *text = text.replace(secret.as_str(), "***");
                }
            }
        };
        scrub(&mut case.name);
        if let Some(detail) = &mut case.detail {
            scrub(detail);
        }
        match &mut case.outcome {
            Outcome::Failed { expected, got } => {
                scrub(expected);
                scrub(got);
            }
            Outcome::Skipped { reason } => scrub(reason),
            Outcome::Passed => {}
        }
    }
}

fn to_case(name: String, result: CaseResult, ms: u64) -> Case {
    match result {
        Ok(()) => Case::passed(name, ms),
        Err(Failure::Skip(reason)) => Case::skipped(name, reason),
        Err(Failure::Broken {
            expected,
            got,
            detail,
        }) => {
            let case = Case::failed(name, expected, got, ms);
            match detail {
                Some(detail) => case.with_detail(detail),
                None => case,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn reply(platform: Platform, status: u16, body: Value) -> Reply {
        Reply {
            platform,
            route: "r".into(),
            status,
            body: body.to_string(),
            json: Some(body),
            elapsed: Duration::ZERO,
            failure: None,
            timed_out: false,
        }
    }

    #[test]
    fn business_codes_are_read_per_platform() {
        assert_eq!(
            business_code(Platform::Alibaba, Some(&json!({"Code": "NotFound"}))).as_deref(),
            Some("NotFound")
        );
        assert_eq!(
            business_code(Platform::Aui, Some(&json!({"code": 403}))).as_deref(),
            Some("403")
        );
        assert_eq!(
            business_code(Platform::Duix, Some(&json!({"code": "1006"}))).as_deref(),
            Some("1006")
        );
    }

    #[test]
    fn a_wrong_code_fails_naming_expected_and_got() {
        let r = reply(
            Platform::Duix,
            401,
            json!({"code": "1005", "success": false}),
        );
        let error = expect().status(401).code("1006").verify(&r).unwrap_err();
        let Failure::Broken { expected, got, .. } = error else {
            panic!()
        };
        assert_eq!(expected, "HTTP 401, code 1006");
        assert_eq!(got, "HTTP 401, code 1005");
    }

    #[test]
    fn a_body_breaking_its_schema_fails_with_the_violation_path() {
        let r = reply(
            Platform::Duix,
            200,
            json!({"code": "0", "success": true, "data": {"appId": "a"}}),
        );
        let error = expect()
            .status(200)
            .schema("duix/checkSig.response")
            .verify(&r)
            .unwrap_err();
        let Failure::Broken { got, .. } = error else {
            panic!()
        };
        assert!(got.contains("/data/wsService"), "{got}");
    }
}
