//! The timed HTTP client every suite sends through, and one small client per platform on top:
//! [`Alibaba`] signs with V3 (`ACS3-HMAC-SHA256`, protocol::alibaba::v3), [`Aui`] logs in and
//! sends the bearer token, [`Duix`] signs HS256 tokens (protocol::duix).
//!
//! Every request is timed into the suite's [`LatencyTable`] under its route template
//! (`alibaba StartAgent`, `aui POST /api/v2/aiagent/getRtcAuthToken`, `duix GET /duix-openapi-v2/sdk/checkSig`);
//! the client gives up after [`TIMEOUT`], and a request that timed out is recorded at the timeout.

use super::target::{Pair, Platform};
use protocol::alibaba::encoding::percent_encode;
use protocol::alibaba::{timestamp::format_utc, v3};
use reports::LatencyTable;
use serde_json::Value;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Per-request client timeout, the SLO's 20000 ms.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// A reqwest client and the latency table of the suite using it. Cheap to clone.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    latency: Arc<Mutex<LatencyTable>>,
}

/// What came back, or why nothing did.
#[derive(Clone, Debug)]
pub struct Reply {
    pub platform: Platform,
    pub route: String,
    /// HTTP status; 0 when no answer came.
    pub status: u16,
    pub body: String,
    /// The body as JSON, when it is JSON.
    pub json: Option<Value>,
    pub elapsed: Duration,
    /// Transport failure (timeout, refused, reset), when there was no answer.
    pub failure: Option<String>,
}

impl Reply {
    /// `HTTP 400 {"Code":...}` or `no answer: ...`, short enough for a report line.
    pub fn describe(&self) -> String {
        match &self.failure {
            Some(why) => format!("no answer: {why}"),
            None => format!("HTTP {} {}", self.status, truncate(&self.body, 300)),
        }
    }

    /// A string field of the JSON body.
    pub fn str(&self, field: &str) -> Option<&str> {
        self.json.as_ref()?.get(field)?.as_str()
    }

    /// A field of the JSON body.
    pub fn field(&self, field: &str) -> Option<&Value> {
        self.json.as_ref()?.get(field)
    }
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

impl Http {
    pub fn new() -> anyhow::Result<Http> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Http {
            client,
            latency: Arc::default(),
        })
    }

    /// The same connection pool with an empty latency table, for the next suite.
    pub fn for_suite(&self) -> Http {
        Http {
            client: self.client.clone(),
            latency: Arc::default(),
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The latency recorded so far.
    pub fn latency(&self) -> LatencyTable {
        self.latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Records one timing under `route` (also used for WebSocket exchanges).
    pub fn record(&self, route: &str, elapsed: Duration) {
        self.latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(route, elapsed);
    }

    /// Sends, reads the whole answer, and records the time under `route`.
    pub async fn send(
        &self,
        platform: Platform,
        route: &str,
        request: reqwest::RequestBuilder,
    ) -> Reply {
        let started = Instant::now();
        let outcome = match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                response.text().await.map(|body| (status, body))
            }
            Err(e) => Err(e),
        };
        let mut elapsed = started.elapsed();
        let (status, body, failure) = match outcome {
            Ok((status, body)) => (status, body, None),
            Err(e) if e.is_timeout() => {
                elapsed = elapsed.max(TIMEOUT);
                (
                    0,
                    String::new(),
                    Some(format!("timed out after {} ms", TIMEOUT.as_millis())),
                )
            }
            Err(e) => (0, String::new(), Some(error_chain(&e))),
        };
        self.record(route, elapsed);
        let json = serde_json::from_str(&body).ok();
        Reply {
            platform,
            route: route.to_string(),
            status,
            body,
            json,
            elapsed,
            failure,
        }
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

/// Unix milliseconds by this machine's clock.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// How far the target's clock runs ahead of ours (set by the expiry suite when it moves it), so
/// that signatures and tokens are dated by the target's "now".
#[derive(Clone, Debug, Default)]
pub struct ClockOffset(Arc<AtomicI64>);

impl ClockOffset {
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }

    pub fn set(&self, offset_ms: i64) {
        self.0.store(offset_ms, Ordering::Relaxed);
    }

    /// The target's now, in unix seconds.
    pub fn now_secs(&self) -> i64 {
        (now_ms() + self.get()).div_euclid(1000)
    }
}

/// How a signed Alibaba request is spoiled on purpose (errors and bad-input suites).
#[derive(Clone, Debug, PartialEq)]
pub enum Tamper {
    None,
    /// One hex digit of the signature changed.
    FlipSignature,
    /// Signed with this secret instead of the right one.
    WrongSecret(String),
    /// This AccessKey id, unknown to the target.
    UnknownKey(String),
    /// `x-acs-date` this many seconds from now.
    SkewSecs(i64),
    /// `x-acs-date` replaced by this text after signing.
    Date(String),
    /// This header left out after signing.
    DropHeader(&'static str),
    /// `Authorization` replaced by this text.
    Authorization(String),
    /// This `x-acs-signature-nonce` instead of a fresh one.
    Nonce(String),
    /// Sent with this HTTP method.
    Method(&'static str),
    /// This `x-acs-version` (signed).
    Version(String),
}

/// One Alibaba OpenAPI call: action, query params, tampering.
#[derive(Clone, Debug)]
pub struct AliRequest {
    pub action: String,
    pub params: Vec<(String, String)>,
    pub tamper: Tamper,
}

impl AliRequest {
    pub fn new(action: &str, params: &[(&str, &str)]) -> Self {
        let params = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        AliRequest {
            action: action.to_string(),
            params,
            tamper: Tamper::None,
        }
    }

    pub fn tampered(mut self, tamper: Tamper) -> Self {
        self.tamper = tamper;
        self
    }
}

/// The API version of an action: RTC 2018-01-11 for the agent-task APIs, ICE 2020-11-09 otherwise.
pub fn version_of(action: &str) -> &'static str {
    match action {
        "StartAgent" | "StopAgent" | "UpdateAgent" | "GetAgent" => "2018-01-11",
        _ => "2020-11-09",
    }
}

/// The Alibaba OpenAPI at one endpoint, signing with V3 as the official SDKs do.
#[derive(Clone)]
pub struct Alibaba {
    pub http: Http,
    pub url: String,
    pub key: Pair,
    pub clock: ClockOffset,
}

impl Alibaba {
    /// Calls `action` with `params`, signed correctly.
    pub async fn call(&self, action: &str, params: &[(&str, &str)]) -> Reply {
        self.send(&AliRequest::new(action, params)).await
    }

    pub async fn send(&self, request: &AliRequest) -> Reply {
        let (method, headers) = self.signed_headers(request);
        let query = v3::canonical_query(&request.params);
        let url = format!("{}/?{query}", self.url);
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut builder = self.http.client().request(method, url);
        for (name, value) in headers.iter().filter(|(n, _)| n != "host") {
            builder = builder.header(name, value);
        }
        let route = format!("alibaba {}", request.action);
        self.http.send(Platform::Alibaba, &route, builder).await
    }

    fn host(&self) -> String {
        reqwest::Url::parse(&self.url)
            .ok()
            .and_then(|u| {
                Some(match u.port() {
                    Some(port) => format!("{}:{port}", u.host_str()?),
                    None => u.host_str()?.to_string(),
                })
            })
            .unwrap_or_default()
    }

    /// The method and every header, signed, then spoiled as `request.tamper` says.
    fn signed_headers(&self, request: &AliRequest) -> (String, Vec<(String, String)>) {
        let tamper = &request.tamper;
        let method = match tamper {
            Tamper::Method(m) => m.to_string(),
            _ => "POST".into(),
        };
        let skew_ms = match tamper {
            Tamper::SkewSecs(s) => s * 1000,
            _ => 0,
        };
        let date = format_utc(now_ms() + self.clock.get() + skew_ms);
        let nonce = match tamper {
            Tamper::Nonce(n) => n.clone(),
            _ => uuid::Uuid::new_v4().simple().to_string(),
        };
        let secret = match tamper {
            Tamper::WrongSecret(s) => s.as_str(),
            _ => self.key.secret.as_str(),
        };
        let key_id = match tamper {
            Tamper::UnknownKey(k) => k.as_str(),
            _ => self.key.id.as_str(),
        };
        let version = match tamper {
            Tamper::Version(v) => v.as_str(),
            _ => version_of(&request.action),
        };
        let host = self.host();
        let mut headers = v3::sign_request(v3::SignInput {
            method: &method,
            host: &host,
            path: "/",
            params: &request.params,
            body: b"",
            content_type: None,
            action: &request.action,
            version,
            access_key_id: key_id,
            secret,
            date: &date,
            nonce: &nonce,
        });
        spoil(&mut headers, tamper);
        (method, headers)
    }
}

/// Applies the after-signing tampering to the header list.
fn spoil(headers: &mut Vec<(String, String)>, tamper: &Tamper) {
    let set = |headers: &mut Vec<(String, String)>, name: &str, value: String| {
        if let Some(h) = headers.iter_mut().find(|(n, _)| n == name) {
            h.1 = value;
        }
    };
    match tamper {
        Tamper::FlipSignature => {
            if let Some((_, auth)) = headers.iter_mut().find(|(n, _)| n == "authorization") {
                let last = auth.pop().unwrap_or('0');
                auth.push(if last == '0' { '1' } else { '0' });
            }
        }
        Tamper::Date(text) => set(headers, "x-acs-date", text.clone()),
        Tamper::Authorization(text) => set(headers, "authorization", text.clone()),
        Tamper::DropHeader(name) => headers.retain(|(n, _)| n != name),
        _ => {}
    }
}

/// How an AUI request authenticates.
#[derive(Clone, Debug, PartialEq)]
pub enum Auth {
    /// `Authorization: Bearer <the token from login>`.
    Session,
    /// No `Authorization` header.
    None,
    /// This exact `Authorization` header.
    Header(String),
}

/// One AUI app server request: path, raw body, authentication.
#[derive(Clone, Debug)]
pub struct AuiRequest {
    pub path: &'static str,
    pub body: Vec<u8>,
    pub auth: Auth,
}

/// Where AUI's bearer login lives (the mock's route, beside the others).
pub const AUI_LOGIN: &str = "/api/v2/aiagent/login";

/// The AUI app server at one URL, with the bearer token of its login.
#[derive(Clone)]
pub struct Aui {
    pub http: Http,
    pub url: String,
    pub bearer: Option<String>,
}

impl Aui {
    /// `POST /api/v2/aiagent/login`; on success the client sends the token from then on.
    pub async fn login(&mut self, user: &Pair) -> Reply {
        let body = serde_json::json!({"username": user.id, "password": user.secret});
        let reply = self
            .send(&AuiRequest {
                path: AUI_LOGIN,
                body: body.to_string().into_bytes(),
                auth: Auth::None,
            })
            .await;
        if let Some(token) = reply.str("token").filter(|_| reply.status == 200) {
            self.bearer = Some(token.to_string());
        }
        reply
    }

    /// POSTs `body` as JSON with the session's bearer token.
    pub async fn post(&self, path: &'static str, body: &Value) -> Reply {
        let body = body.to_string().into_bytes();
        self.send(&AuiRequest {
            path,
            body,
            auth: Auth::Session,
        })
        .await
    }

    pub async fn send(&self, request: &AuiRequest) -> Reply {
        let mut builder = self
            .http
            .client()
            .post(format!("{}{}", self.url, request.path))
            .header("content-type", "application/json")
            .body(request.body.clone());
        let auth = match &request.auth {
            Auth::Session => self.bearer.as_ref().map(|t| format!("Bearer {t}")),
            Auth::None => None,
            Auth::Header(value) => Some(value.clone()),
        };
        if let Some(auth) = auth {
            builder = builder.header("authorization", auth);
        }
        let route = format!("aui POST {}", request.path);
        self.http.send(Platform::Aui, &route, builder).await
    }
}

/// How a DUIX request carries its token.
#[derive(Clone, Debug, PartialEq)]
pub enum Token {
    /// A fresh, valid token of the app (header `token`, or query `sig` for checkSig).
    Good,
    None,
    Raw(String),
}

/// One DUIX request: `GET path?query` with a token.
#[derive(Clone, Debug)]
pub struct DuixRequest {
    pub path: String,
    pub query: Vec<(String, String)>,
    pub token: Token,
}

/// Where DUIX's endpoints live.
pub const CHECK_SIG: &str = "/duix-openapi-v2/sdk/checkSig";
pub const V1: &str = "/duix-openapi-v2/v1/";

/// DUIX openapi-v2 at one URL, signing tokens for one app.
#[derive(Clone)]
pub struct Duix {
    pub http: Http,
    pub url: String,
    pub app: Pair,
    pub clock: ClockOffset,
}

impl Duix {
    /// A token of the app valid for `ttl_secs` from the target's now.
    pub fn token(&self, ttl_secs: i64) -> String {
        let now = self.clock.now_secs();
        protocol::duix::sign_token(&self.app.id, &self.app.secret, now, now + ttl_secs)
    }

    /// `GET path?query` with a fresh token in the `token` header.
    pub async fn get(&self, path: &str, query: &[(&str, &str)]) -> Reply {
        let query = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.send(&DuixRequest {
            path: path.to_string(),
            query,
            token: Token::Good,
        })
        .await
    }

    /// `checkSig?sig=<sig>`.
    pub async fn check_sig(&self, sig: &str) -> Reply {
        let query = vec![("sig".to_string(), sig.to_string())];
        self.send(&DuixRequest {
            path: CHECK_SIG.into(),
            query,
            token: Token::None,
        })
        .await
    }

    pub async fn send(&self, request: &DuixRequest) -> Reply {
        let query: Vec<String> = request
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect();
        let url = match query.is_empty() {
            true => format!("{}{}", self.url, request.path),
            false => format!("{}{}?{}", self.url, request.path, query.join("&")),
        };
        let mut builder = self.http.client().get(url);
        let token = match &request.token {
            Token::Good => Some(self.token(1800)),
            Token::None => None,
            Token::Raw(raw) => Some(raw.clone()),
        };
        if let Some(token) = token {
            builder = builder.header("token", token);
        }
        let route = format!("duix GET {}", request.path);
        self.http.send(Platform::Duix, &route, builder).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_follow_the_product() {
        assert_eq!(version_of("GetAgent"), "2018-01-11");
        assert_eq!(version_of("DescribeAIAgentInstance"), "2020-11-09");
    }

    #[test]
    fn truncate_cuts_at_a_char_boundary() {
        assert_eq!(truncate("abc", 5), "abc");
        assert_eq!(truncate("ééé", 3), "é…");
    }

    #[test]
    fn flipping_the_signature_changes_only_its_last_digit() {
        let mut headers = vec![("authorization".to_string(), "X,Signature=ab0".to_string())];
        spoil(&mut headers, &Tamper::FlipSignature);
        assert_eq!(headers[0].1, "X,Signature=ab1");
    }
}
