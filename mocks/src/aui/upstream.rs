//! The client this app server uses to call ICE (2020-11-09), as the Java server's tea-openapi
//! `callApi` does (PROTOCOLS.md §1.3, §4.3): `POST /?<params>` with an empty body, signed V3
//! (`ACS3-HMAC-SHA256`) by [`protocol::alibaba::v3::sign_request`].
//!
//! `x-acs-date` comes from the virtual clock, not the wall clock: the embedded Alibaba mock reads
//! the same clock and checks the 15-minute skew against it, so moving the clock through
//! `/__admin/clock` moves both sides together. Against the real cloud the clock's offset stays 0
//! (nobody calls `/__admin/clock` on a deployed server), so the date is real UTC.
//!
//! Every failure is bounded and named: a refused or reset connection is 502 `UpstreamUnavailable`,
//! no answer within `timeout_ms` is 504 `UpstreamTimeout`, an answer that is not an OpenAPI
//! answer (not JSON, over [`MAX_ANSWER_BYTES`], an error status without the Alibaba envelope) is
//! 502 `UpstreamBadResponse`, and an Alibaba error envelope is passed on with its own status.

use super::config::UpstreamConfig;
use super::envelope::AuiError;
use crate::clock::VirtualClock;
use axum::http::StatusCode;
use protocol::alibaba::{timestamp, v3};
use serde_json::{Map, Value};
use std::time::Duration;

/// ICE's API version.
pub const ICE_VERSION: &str = "2020-11-09";
/// Largest answer read from the cloud; ICE answers are a few KB.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The ICE client, built once per server and shared by every request.
pub struct Upstream {
    /// `Err` when the HTTP client could not be built (no TLS backend): every call answers 502.
    client: Result<reqwest::Client, String>,
    config: UpstreamConfig,
    clock: VirtualClock,
}

/// A successful ICE answer: its JSON object.
#[derive(Debug)]
pub struct Answer(pub Map<String, Value>);

impl Answer {
    /// `RequestId`, or empty when the answer has none.
    pub fn request_id(&self) -> String {
        self.opt_str("RequestId").unwrap_or_default()
    }

    /// A string (or number) field that must be there; its absence is the cloud's fault (502).
    pub fn str(&self, name: &str) -> Result<String, AuiError> {
        self.opt_str(name)
            .ok_or_else(|| AuiError::upstream_bad_response(format!("the answer has no {name}")))
    }

    /// A string field, or a number rendered as text.
    pub fn opt_str(&self, name: &str) -> Option<String> {
        text_of(self.0.get(name)?)
    }
}

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

impl Upstream {
    /// A client with the configured timeout. Proxy variables (`HTTPS_PROXY`...) are honoured for a
    /// remote endpoint and ignored for a loopback one, so a laptop's proxy never swallows the call to
    /// the embedded mock.
    pub fn new(config: UpstreamConfig, clock: VirtualClock) -> Self {
        let timeout = Duration::from_millis(config.timeout_ms.max(1));
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("agentproof-aui/", env!("CARGO_PKG_VERSION")));
        if is_loopback(&config.endpoint) {
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| e.to_string());
        if let Err(e) = &client {
            tracing::error!("aui: cannot build the upstream HTTP client: {e}");
        }
        Self {
            client,
            config,
            clock,
        }
    }

    /// Calls ICE `action` with `params` (nested objects already JSON strings) in `region`.
    pub async fn call(
        &self,
        action: &str,
        region: Option<&str>,
        params: &[(String, String)],
    ) -> Result<Answer, AuiError> {
        let client = self
            .client
            .as_ref()
            .map_err(AuiError::upstream_unavailable)?;
        let target = self.target(region.unwrap_or(&self.config.region))?;
        let date = timestamp::format_utc(self.clock.now_ms());
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let headers = v3::sign_request(v3::SignInput {
            method: "POST",
            host: &target.host,
            path: "/",
            params,
            body: b"",
            content_type: None,
            action,
            version: ICE_VERSION,
            access_key_id: &self.config.access_key_id,
            secret: &self.config.access_key_secret,
            date: &date,
            nonce: &nonce,
        });
        let url = format!("{}/?{}", target.base, v3::canonical_query(params));
        let mut request = client.post(url).header("accept", "application/json");
        for (name, value) in &headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(action, &e))?;
        let status = response.status();
        let body = self.read_bounded(action, response).await?;
        interpret(status, &body)
    }

    /// Base URL (scheme and authority) and `host` header for a region.
    fn target(&self, region: &str) -> Result<Target, AuiError> {
        let endpoint = self.config.endpoint.trim().trim_end_matches('/');
        if endpoint.is_empty() {
            return Err(AuiError::upstream_unavailable(
                "no upstream endpoint is configured (AuiConfig.upstream.endpoint)",
            ));
        }
        let endpoint = endpoint.replace("{region}", region);
        let url = reqwest::Url::parse(&endpoint).map_err(|e| {
            AuiError::upstream_unavailable(format!(
                "upstream endpoint {endpoint:?} is not a URL: {e}"
            ))
        })?;
        // The signature covers the path "/": an endpoint with a path would be signed wrongly.
        let host = match (url.host_str(), url.path()) {
            (Some(host), "/" | "") => host.to_string(),
            _ => {
                return Err(AuiError::upstream_unavailable(format!(
                    "upstream endpoint {endpoint:?} must be scheme://host[:port] with no path"
                )))
            }
        };
        let host = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
        Ok(Target {
            base: endpoint,
            host,
        })
    }

    fn transport_error(&self, action: &str, error: &reqwest::Error) -> AuiError {
        tracing::warn!("aui: upstream {action} failed: {error}");
        if error.is_timeout() {
            AuiError::upstream_timeout(self.config.timeout_ms)
        } else if error.is_connect() {
            AuiError::upstream_unavailable(format!("cannot connect to {}", self.config.endpoint))
        } else {
            AuiError::upstream_unavailable(format!("{action} failed in transit"))
        }
    }

    /// Reads the answer, refusing one larger than [`MAX_ANSWER_BYTES`].
    async fn read_bounded(
        &self,
        action: &str,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, AuiError> {
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(action, &e))?
        {
            if body.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(AuiError::upstream_bad_response(format!(
                    "the answer is larger than {MAX_ANSWER_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

struct Target {
    base: String,
    host: String,
}

/// Turns a status and body into an [`Answer`] or the right [`AuiError`].
fn interpret(status: StatusCode, body: &[u8]) -> Result<Answer, AuiError> {
    let parsed: Option<Map<String, Value>> = serde_json::from_slice(body).ok();
    match parsed {
        Some(object) if status.is_success() => Ok(Answer(object)),
        Some(object) if status.is_client_error() || status.is_server_error() => {
            Err(alibaba_error(status, &object).unwrap_or_else(|| not_an_envelope(status)))
        }
        Some(_) => Err(AuiError::upstream_bad_response(format!("HTTP {status}"))),
        None if status.is_success() => Err(AuiError::upstream_bad_response(
            "HTTP 200 with a body that is not a JSON object",
        )),
        None => Err(not_an_envelope(status)),
    }
}

fn not_an_envelope(status: StatusCode) -> AuiError {
    AuiError::upstream_bad_response(format!(
        "HTTP {} without an Alibaba error envelope",
        status.as_u16()
    ))
}

/// The Alibaba error envelope, read as the tea SDK reads it (`Code|code`, `Message|message`,
/// `RequestId|requestId`); `None` when the object has neither a code nor a message.
fn alibaba_error(status: StatusCode, object: &Map<String, Value>) -> Option<AuiError> {
    let field = |a: &str, b: &str| object.get(a).or_else(|| object.get(b)).and_then(text_of);
    let code = field("Code", "code");
    let message = field("Message", "message");
    if code.is_none() && message.is_none() {
        return None;
    }
    let request_id = field("RequestId", "requestId").unwrap_or_default();
    Some(AuiError::upstream(
        status,
        code.as_deref().unwrap_or("Unknown"),
        message.as_deref().unwrap_or(""),
        &request_id,
    ))
}

fn is_loopback(endpoint: &str) -> bool {
    reqwest::Url::parse(endpoint)
        .ok()
        .and_then(|url| url.host_str().map(str::to_string))
        .is_some_and(|host| {
            host == "localhost"
                || host
                    .trim_matches(|c| c == '[' || c == ']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aui::config::UpstreamConfig;

    fn upstream(endpoint: &str) -> Upstream {
        let config = UpstreamConfig {
            endpoint: endpoint.into(),
            ..UpstreamConfig::default()
        };
        Upstream::new(config, VirtualClock::new())
    }

    #[test]
    fn the_host_header_is_the_endpoint_authority_with_region_filled_in() {
        let target = upstream("https://ice.{region}.aliyuncs.com/")
            .target("cn-beijing")
            .unwrap();
        assert_eq!(target.base, "https://ice.cn-beijing.aliyuncs.com");
        assert_eq!(target.host, "ice.cn-beijing.aliyuncs.com");
        let target = upstream("http://127.0.0.1:8081")
            .target("cn-shanghai")
            .unwrap();
        assert_eq!(target.host, "127.0.0.1:8081");
    }

    #[test]
    fn unusable_endpoints_are_named_in_a_502() {
        for endpoint in ["", "not a url", "http://h/some/path"] {
            let error = upstream(endpoint).target("cn-shanghai").err().unwrap();
            assert_eq!(error.status, StatusCode::BAD_GATEWAY, "{endpoint}");
            assert_eq!(error.error_code, "UpstreamUnavailable");
        }
    }

    #[test]
    fn alibaba_envelopes_keep_their_status_and_others_are_bad_responses() {
        let body = br#"{"RequestId":"R1","Code":"NotFound","Message":"gone."}"#;
        let error = interpret(StatusCode::NOT_FOUND, body).unwrap_err();
        assert_eq!(
            (error.status.as_u16(), error.error_code.as_str()),
            (404, "NotFound")
        );
        assert_eq!(error.request_id.as_deref(), Some("R1"));
        let error = interpret(StatusCode::SERVICE_UNAVAILABLE, b"<html>").unwrap_err();
        assert_eq!(
            (error.status.as_u16(), error.error_code.as_str()),
            (502, "UpstreamBadResponse")
        );
        let error = interpret(StatusCode::OK, b"[1,2]").unwrap_err();
        assert_eq!(error.error_code, "UpstreamBadResponse");
        let answer = interpret(StatusCode::OK, br#"{"RequestId":"R2"}"#).unwrap();
        assert_eq!(answer.request_id(), "R2");
    }

    #[test]
    fn loopback_endpoints_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:1"));
        assert!(is_loopback("http://localhost:1"));
        assert!(is_loopback("http://[::1]:1"));
        assert!(!is_loopback("https://ice.cn-shanghai.aliyuncs.com"));
    }
}
