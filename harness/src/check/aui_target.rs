//! What an AUI target serves, and whether it lets agentproof in, found out before any case runs.
//!
//! The AUI app server is the one target a team writes itself, from Alibaba's sample
//! (MediaBox-AUIKits/AUIAICall, Server/Java), whose route set changed across versions: v2.2.0
//! serves the eight routes of [`ROUTES`], its head keeps three (generateMessageChatToken,
//! getRtcAuthToken, describeAIAgentInstance). [`probe`] logs in when the auth says so, then sends
//! each route an empty JSON object with the configured auth:
//! - HTTP 401 or 403 (or a refused login) means the auth is not the server's: the test cannot run,
//!   and the command stops with exit 2 naming `--aui-auth`;
//! - HTTP 404 without the AUI envelope (Spring's `{"timestamp","status":404,"error","path"}`, or any
//!   body without a numeric `code`) means the route is not served: its cases are skipped with that
//!   reason, unless `--aui-routes` requires it ([`Required`]), which makes it a failure;
//! - anything else (a validation error, mostly) means it is served.
//!
//! `load` uses the same probe for the routes its scenario needs.

use super::client::{Aui, AuiRequest, Auth, Http, Reply};
use super::suites::aui as routes;
use super::target::Credentials;
use anyhow::{bail, Result};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The AUI routes agentproof checks: the v2.2.0 route set, head's three first.
pub const ROUTES: [&str; 8] = [
    routes::GET_RTC_AUTH_TOKEN,
    routes::GENERATE_MESSAGE_CHAT_TOKEN,
    routes::DESCRIBE,
    routes::START,
    routes::START_WITH_CHANNEL,
    routes::STOP,
    routes::UPDATE,
    routes::GENERATE_CALL,
];

/// A route's name, the last segment of its path: `getRtcAuthToken`.
pub fn name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Which routes the target must serve (`--aui-routes`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Required {
    /// None: whatever it serves is checked, the rest skipped (the default, `served`).
    #[default]
    Served,
    /// Every route of [`ROUTES`] (`all`).
    All,
    /// These paths (a comma list of names).
    These(Vec<&'static str>),
}

impl Required {
    /// `served`, `all`, or a comma list of route names; `flag` names the source in errors.
    pub fn parse(flag: &str, text: &str) -> Result<Required> {
        match text.trim() {
            "" | "served" => return Ok(Required::Served),
            "all" => return Ok(Required::All),
            _ => {}
        }
        let mut paths = Vec::new();
        for word in text.split(',').map(str::trim).filter(|w| !w.is_empty()) {
            match ROUTES.iter().find(|path| name(path) == word) {
                Some(path) => paths.push(*path),
                None => bail!(
                    "{flag} {text:?}: no AUI route named {word:?}; give served, all, or names from {}",
                    ROUTES.map(name).join(", ")
                ),
            }
        }
        Ok(Required::These(paths))
    }

    /// Whether `path` must be served.
    pub fn requires(&self, path: &str) -> bool {
        match self {
            Required::Served => false,
            Required::All => ROUTES.contains(&path),
            Required::These(paths) => paths.contains(&path),
        }
    }

    /// How the user said it, for messages: `--aui-routes all`.
    pub fn describe(&self) -> String {
        match self {
            Required::Served => "served".into(),
            Required::All => "all".into(),
            Required::These(paths) => paths.iter().map(|p| name(p)).collect::<Vec<_>>().join(","),
        }
    }
}

/// What the probe found: the routes answered with a bare 404, each with that answer.
#[derive(Clone, Debug, Default)]
pub struct Served {
    /// Path → the answer that showed it missing (`HTTP 404 {"timestamp":...}`).
    pub missing: BTreeMap<&'static str, String>,
    pub required: Required,
}

impl Served {
    /// Whether `path` answered anything but a bare 404.
    pub fn serves(&self, path: &str) -> bool {
        !self.missing.contains_key(path)
    }

    /// Why a case needing `paths` is skipped: the first of them that is missing and not required.
    /// A required missing route gives no reason: its cases run, and fail on the 404.
    pub fn skip_reason(&self, paths: &[&str]) -> Option<String> {
        let (path, answer) = paths.iter().find_map(|path| {
            let answer = self.missing.get(path)?;
            (!self.required.requires(path)).then_some((path, answer))
        })?;
        Some(format!(
            "needs {}, which the target does not serve ({}); --aui-routes all or --aui-routes {} makes that a failure",
            name(path),
            super::client::truncate(answer, 160),
            name(path)
        ))
    }

    /// `3 of 8 AUI routes served (not served: startAIAgentInstance, ...)`.
    pub fn summary(&self) -> String {
        let served = ROUTES.len() - self.missing.len();
        if self.missing.is_empty() {
            return format!("all {served} AUI routes served");
        }
        let missing: Vec<&str> = self.missing.keys().map(|p| name(p)).collect();
        format!(
            "{served} of {} AUI routes served (not served: {})",
            ROUTES.len(),
            missing.join(", ")
        )
    }
}

/// A route answered as an unknown path: HTTP 404 and no AUI envelope (no numeric `code`; the
/// sample's `Result.notFound()` is `{"code":404,...}` and means the route is there).
pub fn not_served(reply: &Reply) -> bool {
    let envelope = reply.field("code").is_some_and(Value::is_i64);
    reply.failure.is_none() && reply.status == 404 && !envelope
}

/// The target refused the credentials: HTTP 401 or 403 (the status, not the envelope's `code`:
/// the sample answers `invalidParam` as HTTP 200 with code 401).
pub fn refused(reply: &Reply) -> bool {
    reply.failure.is_none() && matches!(reply.status, 401 | 403)
}

/// Logs in when the auth says so and sends every route an empty JSON object; exit 2 (an error)
/// when the target refuses the auth or serves none of the routes. `url` is shown in errors as
/// given (it holds no credentials: `--target` refuses those).
pub async fn probe(
    http: &Http,
    url: &str,
    creds: &Credentials,
    required: &Required,
    paths: &[&'static str],
) -> Result<Served> {
    let mut aui = Aui::new(http.clone(), url, &Arc::new(creds.aui_auth.clone()));
    if let Some(reply) = aui.login(&creds.aui_user).await {
        login_refusal(url, creds, &reply).map_err(|e| masked(e, creds))?;
        if aui.session.is_none() {
            // The login answered but handed out no token: a contract failure the suites report
            // (every route would be refused for want of one), not a reason to stop.
            return Ok(Served {
                required: required.clone(),
                ..Served::default()
            });
        }
    }
    let mut served = Served {
        required: required.clone(),
        ..Served::default()
    };
    let mut refusals = Vec::new();
    for path in paths {
        let request = AuiRequest {
            path,
            body: b"{}".to_vec(),
            auth: Auth::Configured,
        };
        let reply = aui.send(&request).await;
        if refused(&reply) {
            refusals.push(format!("{}: {}", name(path), reply.describe()));
        } else if not_served(&reply) {
            served.missing.insert(path, mask(&reply.describe(), creds));
        }
    }
    if let Some(first) = refusals.first() {
        let first = mask(first, creds);
        bail!(
            "the AUI target {url} refused agentproof's requests with --aui-auth {} ({} of {} routes, e.g. {first}); \
             the test cannot run: give the auth your server takes with --aui-auth (login, bearer:TOKEN, \
             header:NAME:VALUE, none)",
            creds.aui_auth.describe(),
            refusals.len(),
            paths.len()
        );
    }
    if served.missing.len() == paths.len() {
        let first = served.missing.values().next().cloned().unwrap_or_default();
        let first = mask(&first, creds);
        bail!(
            "the AUI target {url} serves none of the AUI routes ({first} for each): is the URL's path \
             prefix right? The routes are {url}/api/v2/aiagent/<route>"
        );
    }
    Ok(served)
}

/// `text` with every secret given (by flag, environment or file) as `***`: a target may echo
/// one back, and these errors are printed.
fn mask(text: &str, creds: &Credentials) -> String {
    creds
        .given
        .0
        .iter()
        .filter(|s| !s.is_empty())
        .fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
}

fn masked(error: anyhow::Error, creds: &Credentials) -> anyhow::Error {
    anyhow::anyhow!(mask(&error.to_string(), creds))
}

/// A login the target refused (401/403) or does not have (a bare 404): exit 2, saying how to fix.
fn login_refusal(url: &str, creds: &Credentials, reply: &Reply) -> Result<()> {
    let Some(login) = creds.aui_auth.login() else {
        return Ok(());
    };
    if refused(reply) {
        bail!(
            "the AUI target {url} refused the login of user {:?} at {} ({}); the test cannot run: \
             give a user it takes with --aui-user, or the auth it uses with --aui-auth \
             (bearer:TOKEN, header:NAME:VALUE, none)",
            creds.aui_user.id,
            login.path,
            reply.describe()
        );
    }
    if not_served(reply) {
        bail!(
            "the AUI target {url} has no login route at {} ({}); the test cannot run: if it \
             authenticates another way say how with --aui-auth (none for the official sample's \
             filter, bearer:TOKEN, header:NAME:VALUE), or give its login route with --aui-login-path",
            login.path,
            reply.describe()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::target::Platform;
    use std::time::Duration;

    fn reply(status: u16, body: &str) -> Reply {
        Reply::answer(Platform::Aui, "r", status, body.as_bytes(), Duration::ZERO)
    }

    #[test]
    fn a_bare_404_is_not_served_but_the_samples_not_found_envelope_is() {
        let spring = r#"{"timestamp":"2025-01-01T00:00:00.000+00:00","status":404,"error":"Not Found","path":"/api/v2/aiagent/startAIAgentInstance"}"#;
        assert!(not_served(&reply(404, spring)));
        assert!(not_served(&reply(404, "")));
        assert!(!not_served(&reply(
            404,
            r#"{"code":404,"message":"未查询到"}"#
        )));
        assert!(!not_served(&reply(200, r#"{"code":500,"msg":"x"}"#)));
    }

    #[test]
    fn refusals_are_http_statuses_not_envelope_codes() {
        assert!(refused(&reply(403, "")));
        assert!(refused(&reply(401, "{}")));
        assert!(!refused(&reply(
            200,
            r#"{"code":401,"message":"参数错误"}"#
        )));
    }

    #[test]
    fn required_routes_read_by_name_and_skip_reasons_spare_them() {
        assert_eq!(
            Required::parse("--aui-routes", "served").unwrap(),
            Required::Served
        );
        assert_eq!(
            Required::parse("--aui-routes", "all").unwrap(),
            Required::All
        );
        let some = Required::parse("--aui-routes", "getRtcAuthToken, stopAIAgentInstance").unwrap();
        assert_eq!(
            some,
            Required::These(vec![routes::GET_RTC_AUTH_TOKEN, routes::STOP])
        );
        let error = Required::parse("--aui-routes", "getRtcToken")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("getRtcToken") && error.contains("describeAIAgentInstance"),
            "{error}"
        );
        let mut served = Served {
            required: some,
            ..Served::default()
        };
        served.missing.insert(routes::START, "HTTP 404".into());
        served.missing.insert(routes::STOP, "HTTP 404".into());
        let why = served
            .skip_reason(&[routes::DESCRIBE, routes::START])
            .unwrap();
        assert!(
            why.starts_with("needs startAIAgentInstance, which the target does not serve"),
            "{why}"
        );
        assert_eq!(
            served.skip_reason(&[routes::STOP]),
            None,
            "required: runs and fails"
        );
        assert_eq!(served.skip_reason(&[routes::DESCRIBE]), None);
        assert_eq!(
            served.summary(),
            "6 of 8 AUI routes served (not served: startAIAgentInstance, stopAIAgentInstance)"
        );
    }
}
