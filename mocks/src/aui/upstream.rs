//! The client this app server uses to call ICE (2020-11-09), as the Java server's tea-openapi
//! `callApi` does (PROTOCOLS.md §1.3, §4.3): `POST /?<params>` with an empty body, signed V3
//! (`ACS3-HMAC-SHA256`) by [`protocol::request::alibaba::signed`], as every client here signs.
//!
//! `x-acs-date` comes from the virtual clock, not the wall clock: the embedded Alibaba mock reads
//! the same clock and checks the 15-minute skew against it, so moving the clock through
//! `/__admin/clock` moves both sides together. Against the real cloud the clock's offset stays 0
//! (nobody calls `/__admin/clock` on a deployed server), so the date is real UTC.
//!
//! When the Alibaba mock that answers the endpoint runs in this same process (`agentproof mock`,
//! the embedded default), [`Upstream::in_process`] hands the signed call to its whole application
//! (edge, signature check, journal, metrics, faults) as the HTTP request the client would send,
//! header for header: the socket round trip and the wake-ups of the client's and the server's
//! tasks on other threads were most of the hop's time, not the signing or the mock's own work.
//!
//! Every failure is bounded and named: a refused or reset connection is 502 `UpstreamUnavailable`,
//! no answer within `timeout_ms` is 504 `UpstreamTimeout`, an answer that is not an OpenAPI
//! answer (not JSON, over [`MAX_ANSWER_BYTES`], an error status without the Alibaba envelope) is
//! 502 `UpstreamBadResponse` (a redirect too: it is never followed), an Alibaba error that blames
//! this server's AccessKey, signature, clock or rights is 502 with its `Code`, and any other
//! Alibaba error envelope is passed on with its own status. Failures are logged without the URL,
//! whose query holds the call's parameters (the agent's RTC token among them).

use super::config::UpstreamConfig;
use super::envelope::AuiError;
use crate::clock::VirtualClock;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::{BodyExt, Limited};
use protocol::alibaba::timestamp;
use protocol::request;
use serde_json::{Map, Value};
use std::time::Duration;

/// ICE's API version.
pub const ICE_VERSION: &str = request::alibaba::ICE_VERSION;
/// Largest answer read from the cloud; ICE answers are a few KB.
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The `user-agent` of every call.
const USER_AGENT: &str = concat!("agentproof-aui/", env!("CARGO_PKG_VERSION"));

/// The ICE client, built once per server and shared by every request.
pub struct Upstream {
    transport: Transport,
    /// The target of the configured region, worked out once (`None` when the endpoint is not
    /// usable: each call then says why).
    usual_target: Option<Target>,
    /// [`call_timeout`], worked out once.
    timeout: Duration,
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

/// How a signed call reaches ICE.
enum Transport {
    /// Over HTTP(S): the real cloud, or a mock in another process. `Err` when the client could not
    /// be built (no TLS backend): every call answers 502.
    Http(Result<reqwest::Client, String>),
    /// The Alibaba mock's whole application, served by this process at the configured endpoint.
    InProcess(Router),
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
        let timeout = call_timeout(&config);
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            // ICE never redirects; following one would re-send a signed call somewhere else.
            .redirect(reqwest::redirect::Policy::none())
            // ICE answers are a few KB. Asked for plainly, the request is the same whichever
            // decoders the build's reqwest features turned on, and the same as in-process.
            .no_gzip()
            .no_brotli()
            .no_deflate()
            .no_zstd()
            .user_agent(USER_AGENT);
        if is_loopback(&config.endpoint) {
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| e.to_string());
        if let Err(e) = &client {
            tracing::error!("aui: cannot build the upstream HTTP client: {e}");
        }
        Self::with(Transport::Http(client), config, clock)
    }

    /// Calls `alibaba`, the Alibaba mock's whole application that this process also serves at
    /// `config.endpoint`, without a socket: the same signed request, the same bounds (timeout,
    /// answer size) and the same answers as over HTTP.
    pub fn in_process(config: UpstreamConfig, clock: VirtualClock, alibaba: Router) -> Self {
        Self::with(Transport::InProcess(alibaba), config, clock)
    }

    fn with(transport: Transport, config: UpstreamConfig, clock: VirtualClock) -> Self {
        let mut upstream = Self {
            transport,
            usual_target: None,
            timeout: call_timeout(&config),
            config,
            clock,
        };
        upstream.usual_target = upstream.target(&upstream.config.region).ok();
        upstream
    }

    /// Calls ICE `action` with `params` (nested objects already JSON strings) in `region`.
    pub async fn call(
        &self,
        action: &str,
        region: Option<&str>,
        params: &[(String, String)],
    ) -> Result<Answer, AuiError> {
        let region = region.unwrap_or(&self.config.region);
        let other;
        let target = match &self.usual_target {
            Some(usual) if region == self.config.region => usual,
            _ => {
                other = self.target(region)?;
                &other
            }
        };
        let date = timestamp::format_utc(self.clock.now_ms());
        let nonce = request::alibaba::fresh_nonce();
        let call = request::alibaba::signed(request::alibaba::Call {
            method: "POST",
            host: &target.host,
            action,
            version: ICE_VERSION,
            params,
            access_key_id: &self.config.access_key_id,
            secret: &self.config.access_key_secret,
            date: &date,
            nonce: &nonce,
        });
        let (status, body) = match &self.transport {
            Transport::Http(client) => {
                let client = client.as_ref().map_err(AuiError::upstream_unavailable)?;
                self.send_http(client, target, &call, action).await?
            }
            Transport::InProcess(alibaba) => {
                self.send_in_process(alibaba, target, &call, action).await?
            }
        };
        interpret(status, &body)
    }

    async fn send_http(
        &self,
        client: &reqwest::Client,
        target: &Target,
        call: &request::HttpRequest,
        action: &str,
    ) -> Result<(StatusCode, Vec<u8>), AuiError> {
        // `signed` sends `POST /?<canonical query>`: the base URL (path `/`) parsed once, with the
        // query set, is the same URL as `call.url(base)` parsed again on every call.
        let mut url = target.url.clone();
        url.set_query(call.path_and_query.strip_prefix("/?"));
        let mut request = client.post(url).header("accept", "application/json");
        for (name, value) in &call.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.transport_error(action, e))?;
        let status = response.status();
        let body = self.read_bounded(action, response).await?;
        Ok((status, body))
    }

    /// The request reqwest would send, header for header and in its order (the Alibaba mock's
    /// journal shows the same entry either way), answered by the application itself.
    async fn send_in_process(
        &self,
        alibaba: &Router,
        target: &Target,
        call: &request::HttpRequest,
        action: &str,
    ) -> Result<(StatusCode, Vec<u8>), AuiError> {
        let mut request =
            Request::post(call.path_and_query.as_str()).header(header::ACCEPT, "application/json");
        for (name, value) in &call.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let request = request
            .header(header::USER_AGENT, USER_AGENT)
            .header(header::HOST, target.host.as_str())
            .body(axum::body::Body::empty())
            .map_err(|e| {
                tracing::warn!("aui: upstream {action} is not a valid request: {e}");
                AuiError::upstream_unavailable(format!("{action} is not a valid request"))
            })?;
        let exchange = async {
            // An injected reset: over a socket the client sees the connection closed unanswered.
            let response = crate::server::call(alibaba.clone(), request)
                .await
                .map_err(|dropped| {
                    tracing::warn!("aui: upstream {action} failed: {dropped}");
                    AuiError::upstream_unavailable(format!("{action} failed in transit"))
                })?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|_| {
                    AuiError::upstream_bad_response(format!(
                        "the answer is larger than {MAX_ANSWER_BYTES} bytes"
                    ))
                })?;
            Ok((status, body.to_bytes().to_vec()))
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                tracing::warn!("aui: upstream {action} failed: no answer in time");
                Err(AuiError::upstream_timeout(self.config.timeout_ms))
            })
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
        Ok(Target { url, host })
    }

    fn transport_error(&self, action: &str, error: reqwest::Error) -> AuiError {
        // The URL holds the call's parameters, the agent's RTC token among them: not for the log.
        let error = error.without_url();
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
            .map_err(|e| self.transport_error(action, e))?
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

/// The bound of a whole call: `timeout_ms`, at least 1 ms.
fn call_timeout(config: &UpstreamConfig) -> Duration {
    Duration::from_millis(config.timeout_ms.max(1))
}

/// Where a region's calls go: the endpoint's URL (path `/`) and its `host` header.
struct Target {
    url: reqwest::Url,
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
    let code_text = code.as_deref().unwrap_or("Unknown");
    if refuses_this_server(status, code_text) {
        tracing::warn!(
            "aui: the Alibaba OpenAPI refused our call: HTTP {status} {code_text}: {} (request id {request_id})",
            message.as_deref().unwrap_or("")
        );
        return Some(AuiError::upstream_refused(code_text, &request_id));
    }
    Some(AuiError::upstream(
        status,
        code.as_deref().unwrap_or("Unknown"),
        message.as_deref().unwrap_or(""),
        &request_id,
    ))
}

/// Gateway codes that blame the caller's credentials, signature, clock or rights, i.e. this
/// server, not its client (PROTOCOLS.md §2): passed on as they are, a client would read a 403 as
/// "log in again" or a 400 as "fix your request", and could do neither.
const REFUSALS_OF_THIS_SERVER: [&str; 10] = [
    "InvalidAccessKeyId",
    "InvalidSecurityToken",
    "IncompleteSignature",
    "InvalidTimeStamp",
    "SignatureNonceUsed",
    "InvalidSignatureMethod",
    "SignatureDoesNotMatch",
    "InvalidVersion",
    "UnsupportedHTTPMethod",
    "Forbidden",
];

fn refuses_this_server(status: StatusCode, code: &str) -> bool {
    status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
        || REFUSALS_OF_THIS_SERVER.iter().any(|refusal| {
            code.strip_prefix(refusal)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
        })
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
    use serde_json::json;

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
        assert_eq!(target.url.as_str(), "https://ice.cn-beijing.aliyuncs.com/");
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

    /// Keeps the text of every event this crate logs.
    #[derive(Clone, Default)]
    struct Logged(std::sync::Arc<std::sync::Mutex<String>>);

    impl tracing::Subscriber for Logged {
        fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
            metadata.target().starts_with("mocks")
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            struct Text<'a>(&'a mut String);
            impl tracing::field::Visit for Text<'_> {
                fn record_debug(&mut self, _: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                    self.0.push_str(&format!("{value:?}\n"));
                }
            }
            if let Ok(mut text) = self.0.lock() {
                event.record(&mut Text(&mut text));
            }
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }

    #[tokio::test]
    async fn a_failed_call_is_logged_without_its_url_and_the_tokens_in_it() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let logged = Logged::default();
        let _guard = tracing::subscriber::set_default(logged.clone());
        let params = [("RuntimeConfig".to_string(), "AuthToken-s3cret".to_string())];
        let error = upstream(&endpoint)
            .call("StartAIAgentInstance", None, &params)
            .await
            .unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_GATEWAY);
        assert!(!error.message.contains("s3cret"), "{error}");
        let text = logged.0.lock().unwrap().clone();
        assert!(text.contains("StartAIAgentInstance failed"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }

    #[test]
    fn refusals_of_this_servers_credentials_are_502_without_the_echoed_string_to_sign() {
        for (status, code) in [
            (StatusCode::BAD_REQUEST, "SignatureDoesNotMatch"),
            (StatusCode::NOT_FOUND, "InvalidAccessKeyId.NotFound"),
            (StatusCode::FORBIDDEN, "Forbidden.RAM"),
            (StatusCode::BAD_REQUEST, "InvalidTimeStamp.Expired"),
            (StatusCode::FORBIDDEN, "SomethingNew"),
        ] {
            let body = json!({"RequestId": "R3", "Code": code,
                "Message": "server string to sign is:POST&%2F&AccessKeyId%3Dx"});
            let error = interpret(status, body.to_string().as_bytes()).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_GATEWAY, "{code}");
            assert_eq!(error.error_code, code);
            assert_eq!(error.request_id.as_deref(), Some("R3"));
            assert!(!error.message.contains("string to sign"), "{error}");
        }
        for code in [
            "InvalidParameter",
            "ForbiddenFruit",
            "NotFound",
            "Throttling.User",
        ] {
            let body = json!({"RequestId": "R4", "Code": code, "Message": "m"});
            let error =
                interpret(StatusCode::BAD_REQUEST, body.to_string().as_bytes()).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{code}");
        }
    }

    #[test]
    fn loopback_endpoints_are_recognised() {
        assert!(is_loopback("http://127.0.0.1:1"));
        assert!(is_loopback("http://localhost:1"));
        assert!(is_loopback("http://[::1]:1"));
        assert!(!is_loopback("https://ice.cn-shanghai.aliyuncs.com"));
    }
}
