//! One request the proxy forwarded and what came back: [`Exchange`] as it passed (secrets and
//! all, for judging only, never stored), and [`Fixture`], its scrubbed and serialisable form:
//! what `--record` writes, the live page and the reports show, and `replay` reads.
//!
//! The fixture format is documented in `docs/src/proxy.md` and its JSON Schema is
//! [`FIXTURE_SCHEMA`] (`proxy/fixture.schema.json`). Secrets are scrubbed as the mocks' journal
//! scrubs them (`mocks::journal`): the `authorization`, `token`, `cookie` and
//! `x-acs-security-token` headers, the `sig`, `token` and `SecurityToken` query parameters, and
//! JSON fields named like secrets (passwords, tokens, keys) at any depth, also inside JSON text
//! inside JSON, become `***`.

use crate::platform::Platform;
use base64::Engine as _;
use bytes::Bytes;
use hyper::HeaderMap;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The JSON Schema of one fixture (one line of `exchanges.jsonl`).
pub const FIXTURE_SCHEMA: &str = include_str!("../fixture.schema.json");

/// The fixture format's version, written in every fixture.
pub const FIXTURE_VERSION: u32 = 1;

/// A request as the proxy received it.
#[derive(Clone, Debug)]
pub struct Request {
    /// HTTP method.
    pub method: String,
    /// Path and query as sent (`/?Action=...`).
    pub path_and_query: String,
    /// Every header but the hop-by-hop ones.
    pub headers: HeaderMap,
    /// The whole body.
    pub body: Bytes,
}

impl Request {
    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(path, _)| path)
    }

    /// The raw query, `""` when none.
    pub fn query(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or("", |(_, query)| query)
    }

    /// A header's value as text, if present and text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What the upstream answered.
#[derive(Clone, Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// Every header but the hop-by-hop ones.
    pub headers: HeaderMap,
    /// The body as read; only its first [`crate::forward::MAX_JUDGED_BODY`] bytes when
    /// `truncated`.
    pub body: Bytes,
    /// The body was longer than what is kept.
    pub truncated: bool,
}

impl Answer {
    /// The `content-type`, lowercase, if any.
    pub fn content_type(&self) -> String {
        self.headers
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase()
    }

    /// The body as JSON, when it is JSON (never for invalid UTF-8).
    pub fn json(&self) -> Option<serde_json::Value> {
        if self.truncated {
            return None;
        }
        serde_json::from_slice(&self.body).ok()
    }
}

/// One exchange as it passed through the proxy.
#[derive(Clone, Debug)]
pub struct Exchange {
    /// Order of arrival on this proxy, from 1.
    pub seq: u64,
    /// The listener's platform.
    pub platform: Platform,
    /// When the request arrived, unix milliseconds.
    pub started_at_ms: i64,
    /// The request.
    pub request: Request,
    /// The answer, or why none came (`upstream unreachable: ...`, `timed out after 20000 ms`).
    pub answer: Result<Answer, String>,
    /// From the request's arrival to the answer's last byte (or the failure).
    pub elapsed: Duration,
}

/// A body in a fixture: text as is, anything else in base64.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Body {
    /// The body text (scrubbed), or its base64 when `base64` is set.
    #[serde(default)]
    pub text: String,
    /// The body is not UTF-8 and `text` holds its base64.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub base64: bool,
    /// Only the first part of a longer body was kept.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

impl Body {
    /// The bytes to send again.
    pub fn bytes(&self) -> Vec<u8> {
        if self.base64 {
            base64::engine::general_purpose::STANDARD
                .decode(&self.text)
                .unwrap_or_default()
        } else {
            self.text.as_bytes().to_vec()
        }
    }

    /// The body as JSON, when it is JSON text.
    pub fn json(&self) -> Option<serde_json::Value> {
        if self.base64 || self.truncated {
            return None;
        }
        serde_json::from_str(&self.text).ok()
    }
}

/// A recorded request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixtureRequest {
    /// HTTP method.
    pub method: String,
    /// Path as sent, without the query.
    pub path: String,
    /// Raw query (scrubbed), `""` when none.
    #[serde(default)]
    pub query: String,
    /// Headers, lowercase names, in order (secret ones `***`).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body (scrubbed).
    #[serde(default)]
    pub body: Body,
}

/// A recorded answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixtureAnswer {
    /// HTTP status.
    pub status: u16,
    /// Headers, lowercase names (secret ones `***`).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// The body (scrubbed).
    #[serde(default)]
    pub body: Body,
}

/// What the proxy judged of the answer when it was recorded, on the unscrubbed bytes: replay
/// compares its own verdict with this one (a scrubbed `***` may not match a schema's pattern).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FixtureVerdict {
    /// The schema the answer was judged against, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Whether the answer was valid against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_ok: Option<bool>,
    /// The rules the exchange broke, e.g. `["status"]`.
    #[serde(default)]
    pub broken: Vec<String>,
}

/// One exchange as recorded: the line format of `exchanges.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fixture {
    /// [`FIXTURE_VERSION`].
    pub version: u32,
    /// Order of arrival during the recording, from 1.
    pub seq: u64,
    /// `alibaba`, `aui`, `duix` or `webhook`.
    pub platform: Platform,
    /// The route template, e.g. `alibaba StartAgent`.
    pub route: String,
    /// When the request arrived, RFC 3339 with milliseconds.
    pub started_at: String,
    /// From the request's arrival to the answer's last byte, milliseconds.
    pub elapsed_ms: f64,
    /// The request.
    pub request: FixtureRequest,
    /// The answer; `null` when none came.
    pub answer: Option<FixtureAnswer>,
    /// Why no answer came, when none did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// What the proxy judged when it recorded.
    #[serde(default)]
    pub verdict: FixtureVerdict,
}

impl Exchange {
    /// The scrubbed fixture of this exchange, with the route and verdict the judge gave it;
    /// `secrets` (the proxy's own keys) are masked wherever they appear.
    pub fn fixture(&self, route: &str, verdict: FixtureVerdict, secrets: &[String]) -> Fixture {
        let request = FixtureRequest {
            method: self.request.method.clone(),
            path: self.request.path().to_string(),
            query: mask(&mocks::journal::redact_query(self.request.query()), secrets),
            headers: scrub_headers(&self.request.headers, secrets),
            body: scrub_body(&self.request.body, false, secrets),
        };
        let (answer, failure) = match &self.answer {
            Ok(answer) => (
                Some(FixtureAnswer {
                    status: answer.status,
                    headers: scrub_headers(&answer.headers, secrets),
                    body: scrub_body(&answer.body, answer.truncated, secrets),
                }),
                None,
            ),
            Err(why) => (None, Some(mask(why, secrets))),
        };
        Fixture {
            version: FIXTURE_VERSION,
            seq: self.seq,
            platform: self.platform,
            route: route.to_string(),
            started_at: rfc3339_ms(self.started_at_ms),
            elapsed_ms: self.elapsed.as_secs_f64() * 1000.0,
            request,
            answer,
            failure,
            verdict,
        }
    }
}

/// `text` with each of `secrets` replaced by `***`.
pub fn mask(text: &str, secrets: &[String]) -> String {
    let mut text = text.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        if text.contains(secret.as_str()) {
            text = text.replace(secret.as_str(), "***");
        }
    }
    text
}

fn scrub_headers(headers: &HeaderMap, secrets: &[String]) -> Vec<(String, String)> {
    let mut scrubbed = mocks::journal::redact_headers(headers);
    for (name, value) in &mut scrubbed {
        if name == "set-cookie" {
            *value = "***".into();
        }
        *value = mask(value, secrets);
    }
    scrubbed
}

fn scrub_body(body: &[u8], truncated: bool, secrets: &[String]) -> Body {
    match std::str::from_utf8(body) {
        Ok(text) => Body {
            text: mask(&mocks::journal::redact_body(text), secrets),
            base64: false,
            truncated,
        },
        Err(_) => Body {
            text: base64::engine::general_purpose::STANDARD.encode(body),
            base64: true,
            truncated,
        },
    }
}

/// Unix milliseconds as RFC 3339 with milliseconds, UTC.
pub fn rfc3339_ms(unix_ms: i64) -> String {
    let nanos = i128::from(unix_ms) * 1_000_000;
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    );
    at.format(&format).unwrap_or_default()
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exchange(body: &str, answer: &str) -> Exchange {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer eyJsecret".parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        Exchange {
            seq: 1,
            platform: Platform::Aui,
            started_at_ms: 1_700_000_000_123,
            request: Request {
                method: "POST".into(),
                path_and_query: "/api/v2/aiagent/login?sig=abc&x=1".into(),
                headers,
                body: Bytes::from(body.to_string()),
            },
            answer: Ok(Answer {
                status: 200,
                headers: HeaderMap::new(),
                body: Bytes::from(answer.to_string()),
                truncated: false,
            }),
            elapsed: Duration::from_micros(1500),
        }
    }

    #[test]
    fn a_fixture_keeps_the_exchange_and_scrubs_its_secrets() {
        let e = exchange(
            r#"{"username":"demo","password":"hunter2"}"#,
            r#"{"code":200,"token":"eyJtoken","expire":1}"#,
        );
        let fixture = e.fixture(
            "aui POST /api/v2/aiagent/login",
            FixtureVerdict::default(),
            &[],
        );
        let text = serde_json::to_string(&fixture).unwrap();
        for secret in ["hunter2", "eyJtoken", "eyJsecret", "sig=abc"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(fixture.request.path, "/api/v2/aiagent/login");
        assert_eq!(fixture.request.query, "sig=***&x=1");
        assert_eq!(fixture.started_at, "2023-11-14T22:13:20.123Z");
        assert_eq!(fixture.elapsed_ms, 1.5);
        let back: Fixture = serde_json::from_str(&text).unwrap();
        assert_eq!(back, fixture);
    }

    #[test]
    fn the_proxys_own_secrets_are_masked_anywhere() {
        let e = exchange("K3ySecret in a body", "{}");
        let fixture = e.fixture("r", FixtureVerdict::default(), &["K3ySecret".to_string()]);
        assert_eq!(fixture.request.body.text, "*** in a body");
    }

    #[test]
    fn a_body_that_is_not_utf8_travels_as_base64_and_comes_back_whole() {
        let mut e = exchange("", "");
        e.request.body = Bytes::from_static(b"\xff\xfe\x00");
        let fixture = e.fixture("r", FixtureVerdict::default(), &[]);
        assert!(fixture.request.body.base64);
        assert_eq!(fixture.request.body.bytes(), b"\xff\xfe\x00");
    }
}
