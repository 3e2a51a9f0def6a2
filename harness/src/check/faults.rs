//! Server failures on purpose: the errors suites' cases for codes a client cannot cause (Alibaba
//! `InternalError`, AUI `code 500/502/504`, DUIX `-1` and `40002` as server failures), through the
//! target's `/__admin/faults` (the mocks' fault API, `mocks::faults`).
//!
//! ```text
//! let rule = fault("GetAgent").answering(500, "InternalError").saying("...");
//! run.case(sentence, faults.during(rule, async { error(500, "InternalError").verify(&reply)? })).await;
//! ```
//!
//! [`Faults::during`] adds the rule, runs the case body, and removes the rule again whatever the
//! body answered, so no fault outlives its case. Against a target without `/__admin/faults`
//! (found once per target by `check::probe`) the case is skipped with [`NEEDS_FAULTS`].
//!
//! Why the rules cannot disturb other suites: each rule lives on one mock (one platform) and names
//! one route, and a platform's contract, errors, lifecycle and bad-input suites run one after the
//! other (`check::run_targets`); only other platforms' suites run meanwhile, and they never send to
//! that route on that mock. The one mock two platforms share is Alibaba (the AUI server calls it
//! upstream), and the AUI server only calls ICE actions, never `GetAgent`, the route the Alibaba
//! rules use. The expiry suites run after all of these.

use super::case::{broken, skip, CaseResult, Failure};
use super::client::{truncate, Http};
use super::Ctx;
use serde_json::{json, Value};
use std::future::Future;

/// Why a server-failure case is skipped against a target without the fault API.
pub const NEEDS_FAULTS: &str =
    "needs /__admin/faults (a server failure a client cannot cause on purpose)";

/// One fault rule: every request on `route` answered with `status` and `code` in the platform's
/// own envelope.
#[derive(Clone, Debug)]
pub struct Fault {
    route: String,
    status: u16,
    code: String,
    message: Option<String>,
}

/// A rule for `route`: an Alibaba action (`GetAgent`) or a path (`/api/v2/aiagent/...`).
pub fn fault(route: impl Into<String>) -> Fault {
    Fault {
        route: route.into(),
        status: 500,
        code: String::new(),
        message: None,
    }
}

impl Fault {
    /// The HTTP status and the platform's code of the answer.
    pub fn answering(mut self, status: u16, code: impl Into<String>) -> Self {
        self.status = status;
        self.code = code.into();
        self
    }

    /// The envelope's message (the platform's own text for that code).
    pub fn saying(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// The body of `POST /__admin/faults`.
    pub fn rule(&self) -> Value {
        let mut error = json!({"status": self.status, "code": self.code});
        if let Some(message) = &self.message {
            error["message"] = message.as_str().into();
        }
        json!({"route": self.route, "error_rate": 1.0, "error": error})
    }
}

/// The target's `/__admin/faults`, when it has one.
pub struct Faults {
    admin: Option<(Http, String)>,
}

impl Faults {
    /// The fault API of the suite's target (admin calls are not timed into the suite's latency).
    pub fn of(ctx: &Ctx, http: Http) -> Faults {
        Faults {
            admin: ctx.target.has_faults.then(|| (http, ctx.url().to_string())),
        }
    }

    /// Runs `body` while `fault` is in force; the rule is removed afterwards even when the body
    /// fails. Skipped with [`NEEDS_FAULTS`] when the target has no fault API.
    pub async fn during(&self, fault: Fault, body: impl Future<Output = CaseResult>) -> CaseResult {
        let Some((http, url)) = &self.admin else {
            return Err(skip(NEEDS_FAULTS));
        };
        let id = add(http, url, &fault).await?;
        let result = body.await;
        let removed = remove(http, url, id).await;
        match (result, removed) {
            (Ok(()), removed) => removed,
            (Err(failure), Ok(())) => Err(failure),
            (Err(failure), Err(not_removed)) => Err(failure.with_detail(format!(
                "and the fault rule {id} could not be removed: {}",
                describe(&not_removed)
            ))),
        }
    }
}

async fn add(http: &Http, url: &str, fault: &Fault) -> Result<u64, Failure> {
    let expected = format!("POST /__admin/faults to add {}", fault.rule());
    let response = http
        .client()
        .post(format!("{url}/__admin/faults"))
        .json(&fault.rule())
        .send()
        .await
        .map_err(|e| broken(&expected, e.to_string()))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    let id = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|body| body["id"].as_u64());
    match id {
        Some(id) if status.is_success() => Ok(id),
        _ => Err(broken(
            expected,
            format!("HTTP {} {}", status.as_u16(), truncate(&text, 300)),
        )),
    }
}

async fn remove(http: &Http, url: &str, id: u64) -> CaseResult {
    let expected = format!("DELETE /__admin/faults/{id} to remove the rule");
    let response = http
        .client()
        .delete(format!("{url}/__admin/faults/{id}"))
        .send()
        .await
        .map_err(|e| broken(&expected, e.to_string()))?;
    match response.status() {
        status if status.is_success() => Ok(()),
        status => Err(broken(expected, format!("HTTP {}", status.as_u16()))),
    }
}

fn describe(failure: &Failure) -> String {
    match failure {
        Failure::Broken { got, .. } => got.clone(),
        Failure::Skip(reason) => reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_always_fails_its_route_with_the_code_and_message() {
        let rule = fault("GetAgent")
            .answering(503, "ServiceUnavailable")
            .saying("try later")
            .rule();
        assert_eq!(
            rule,
            json!({"route": "GetAgent", "error_rate": 1.0, "error": {"status": 503, "code": "ServiceUnavailable", "message": "try later"}})
        );
        let bare = fault("/x").answering(500, "-1").rule();
        assert!(bare["error"].get("message").is_none(), "{bare}");
    }
}
