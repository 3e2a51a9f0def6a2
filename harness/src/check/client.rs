//! The timed HTTP client every suite sends through, and one small client per platform on top:
//! [`Alibaba`] signs with V3 (`ACS3-HMAC-SHA256`, protocol::alibaba::v3), [`Aui`] authenticates
//! as `--aui-auth` says (protocol::request::aui::auth), [`Duix`] signs HS256 tokens (protocol::duix).
//!
//! Every request is timed into the suite's [`LatencyTable`] under its route template
//! (`alibaba StartAgent`, `aui POST /api/v2/aiagent/getRtcAuthToken`, `duix GET /duix-openapi-v2/sdk/checkSig`);
//! the client gives up after [`TIMEOUT`] (or `--timeout-ms`), and a request that timed out is
//! recorded at the timeout.
//!
//! Against hostile targets: redirects are not followed (the platforms never redirect, and a
//! redirect to a conforming server must not pass), bodies are read up to [`MAX_BODY`] bytes, JSON
//! is parsed from the raw bytes (invalid UTF-8 is not JSON), and after [`TRIP_AFTER`] timeouts in a
//! row the client stops sending to that target (each later request fails at once, saying why), so
//! a target that accepts connections and never answers costs a few timeouts, not one per request.

use super::target::{Pair, Platform};
use protocol::alibaba::timestamp::format_utc;
use protocol::request::aui::auth::AuiAuth;
use protocol::request::{self, HttpRequest};
use reports::LatencyTable;
use serde_json::Value;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Per-request client timeout, the SLO's 20000 ms.
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// The most of a body that is read; a longer answer fails as too large.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// Timeouts in a row after which a target counts as hung and nothing more is sent to it.
pub const TRIP_AFTER: usize = 3;

/// A reqwest client and the latency table of the suite using it. Cheap to clone.
#[derive(Clone)]
pub struct Http {
    client: reqwest::Client,
    timeout: Duration,
    latency: Arc<Mutex<LatencyTable>>,
    /// Timeouts in a row from this target; shared by every suite of the target.
    timeouts_in_a_row: Arc<AtomicUsize>,
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
    /// The failure is a timeout (or the target already counts as hung).
    pub timed_out: bool,
}

impl Reply {
    /// `HTTP 400 {"Code":...}` or `no answer: ...`, short enough for a report line.
    pub fn describe(&self) -> String {
        match &self.failure {
            Some(why) if self.status != 0 => why.clone(),
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
        Http::with_timeout(TIMEOUT)
    }

    /// A client giving up after `timeout` (and connecting within 5 s at most).
    pub fn with_timeout(timeout: Duration) -> anyhow::Result<Http> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Http {
            client,
            timeout,
            latency: Arc::default(),
            timeouts_in_a_row: Arc::default(),
        })
    }

    /// The same connection pool with a fresh hang counter, for another target.
    pub fn for_target(&self) -> Http {
        Http {
            timeouts_in_a_row: Arc::default(),
            ..self.for_suite()
        }
    }

    /// The same connection pool and target with an empty latency table, for the next suite.
    pub fn for_suite(&self) -> Http {
        Http {
            client: self.client.clone(),
            timeout: self.timeout,
            latency: Arc::default(),
            timeouts_in_a_row: self.timeouts_in_a_row.clone(),
        }
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The per-request timeout (also for WebSocket frames).
    pub fn timeout(&self) -> Duration {
        self.timeout
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

    /// Whether the target timed out [`TRIP_AFTER`] times in a row: nothing more is sent to it.
    pub fn hung(&self) -> bool {
        self.timeouts_in_a_row.load(Ordering::Relaxed) >= TRIP_AFTER
    }

    /// Sends, reads the answer (at most [`MAX_BODY`] bytes), and records the time under `route`.
    /// Sent again when the connection closed unanswered only if it is a GET or HEAD
    /// ([`Retry::by_method`]).
    pub async fn send(
        &self,
        platform: Platform,
        route: &str,
        request: reqwest::RequestBuilder,
    ) -> Reply {
        let (client, request) = request.build_split();
        let request = match request {
            Ok(request) => request,
            Err(e) => return Reply::none(platform, route, Duration::ZERO, error_chain(&e), false),
        };
        let again = match Retry::by_method(request.method().as_str()) {
            Retry::Once => request.try_clone(),
            Retry::Never => None,
        };
        self.deliver(platform, route, &client, request, || again)
            .await
    }

    /// Sends the request `build` makes to `base`, timed under its route. When the connection
    /// closed unanswered and `retry` is [`Retry::Once`], `build` makes it again (a signed request
    /// gets a fresh nonce, date and token: a blind resend would be refused as a replay) and that
    /// is sent once.
    pub async fn send_built(
        &self,
        platform: Platform,
        base: &str,
        retry: Retry,
        build: impl Fn() -> HttpRequest,
    ) -> Reply {
        let first = build();
        let route = first.route.clone();
        let request = match self.reqwest_request(base, first) {
            Ok(request) => request,
            Err(e) => return Reply::none(platform, &route, Duration::ZERO, error_chain(&e), false),
        };
        let again = || match retry {
            Retry::Once => self.reqwest_request(base, build()).ok(),
            Retry::Never => None,
        };
        self.deliver(platform, &route, &self.client, request, again)
            .await
    }

    fn reqwest_request(
        &self,
        base: &str,
        request: HttpRequest,
    ) -> Result<reqwest::Request, reqwest::Error> {
        let method =
            reqwest::Method::from_bytes(request.method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut builder = self.client.request(method, request.url(base));
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if !request.body.is_empty() {
            builder = builder.body(request.body);
        }
        builder.build()
    }

    /// Sends `request`; if the connection closed before any answer, sends what `again` gives, if
    /// anything. Reads the answer and records the time under `route`.
    async fn deliver(
        &self,
        platform: Platform,
        route: &str,
        client: &reqwest::Client,
        request: reqwest::Request,
        again: impl FnOnce() -> Option<reqwest::Request>,
    ) -> Reply {
        if self.hung() {
            let why = format!(
                "not sent: the target stopped answering ({TRIP_AFTER} requests in a row timed out after {} ms)",
                self.timeout.as_millis()
            );
            return Reply::none(platform, route, Duration::ZERO, why, true);
        }
        let started = Instant::now();
        let mut outcome = exchange(client, request).await;
        let mut not_repeated = false;
        if matches!(&outcome, Err(e) if closed_unanswered(e)) {
            match again() {
                Some(again) => outcome = exchange(client, again).await,
                None => not_repeated = true,
            }
        }
        let mut elapsed = started.elapsed();
        let timed_out = matches!(&outcome, Err(e) if e.is_timeout());
        if timed_out {
            elapsed = elapsed.max(self.timeout);
            self.timeouts_in_a_row.fetch_add(1, Ordering::Relaxed);
        } else {
            self.timeouts_in_a_row.store(0, Ordering::Relaxed);
        }
        self.record(route, elapsed);
        match outcome {
            Ok((status, bytes, too_large)) => {
                let mut reply = Reply::answer(platform, route, status, &bytes, elapsed);
                if too_large {
                    reply.failure =
                        Some(format!("HTTP {status} with a body over {MAX_BODY} bytes"));
                }
                reply
            }
            Err(_) if timed_out => {
                let why = format!("timed out after {} ms", self.timeout.as_millis());
                Reply::none(platform, route, elapsed, why, true)
            }
            Err(e) => {
                let mut why = error_chain(&e);
                if not_repeated {
                    why.push_str(" (not sent again: the target may have acted on it)");
                }
                Reply::none(platform, route, elapsed, why, false)
            }
        }
    }
}

/// Whether a request may go out a second time when the connection closed before any answer:
/// the race of a pooled keep-alive connection the target closed as the request went out. The
/// target may have read and acted on it, so only a request whose repeat changes nothing is sent
/// again, and never a Start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// The failure is reported: a Start, a Stop, a login, any POST not known to be a read.
    Never,
    /// Sent once more: a GET or HEAD, or a read action (re-signed when it is signed).
    Once,
}

impl Retry {
    /// GET and HEAD are safe to repeat (RFC 9110 §9.2.1); any other method is not, unless the
    /// caller knows the request only reads (it then says [`Retry::Once`] itself).
    pub fn by_method(method: &str) -> Retry {
        match method {
            "GET" | "HEAD" => Retry::Once,
            _ => Retry::Never,
        }
    }

    /// [`Retry::Once`] when `read` holds, else [`Retry::Never`].
    pub fn if_read(read: bool) -> Retry {
        if read {
            Retry::Once
        } else {
            Retry::Never
        }
    }
}

async fn exchange(
    client: &reqwest::Client,
    request: reqwest::Request,
) -> Result<(u16, Vec<u8>, bool), reqwest::Error> {
    read_bounded(client.execute(request).await?).await
}

/// The connection closed before any answer (see [`Retry`]).
fn closed_unanswered(error: &reqwest::Error) -> bool {
    error.is_request() && error_chain(error).contains("connection closed before message completed")
}

/// The status and at most [`MAX_BODY`] bytes of the body; `true` when there was more.
async fn read_bounded(
    mut response: reqwest::Response,
) -> Result<(u16, Vec<u8>, bool), reqwest::Error> {
    let status = response.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY {
            body.extend_from_slice(&chunk[..MAX_BODY - body.len()]);
            return Ok((status, body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((status, body, false))
}

impl Reply {
    /// An answer; `json` only when the raw bytes are JSON (so never for invalid UTF-8).
    pub fn answer(
        platform: Platform,
        route: &str,
        status: u16,
        bytes: &[u8],
        elapsed: Duration,
    ) -> Reply {
        Reply {
            platform,
            route: route.to_string(),
            status,
            body: String::from_utf8_lossy(bytes).into_owned(),
            json: serde_json::from_slice(bytes).ok(),
            elapsed,
            failure: None,
            timed_out: false,
        }
    }

    /// No answer, and why.
    fn none(
        platform: Platform,
        route: &str,
        elapsed: Duration,
        why: String,
        timed_out: bool,
    ) -> Reply {
        Reply {
            platform,
            route: route.to_string(),
            status: 0,
            body: String::new(),
            json: None,
            elapsed,
            failure: Some(why),
            timed_out,
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
    request::alibaba::api_version(action)
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

    /// Sends `request`; a read action is sent again, re-signed, if the connection closed
    /// unanswered, unless it carries a fixed nonce (a second send would be a replay).
    pub async fn send(&self, request: &AliRequest) -> Reply {
        let fixed_nonce = matches!(request.tamper, Tamper::Nonce(_));
        let retry = Retry::if_read(request::alibaba::is_read(&request.action) && !fixed_nonce);
        self.http
            .send_built(Platform::Alibaba, &self.url, retry, || self.signed(request))
            .await
    }

    /// The request, signed, then spoiled as `request.tamper` says.
    fn signed(&self, request: &AliRequest) -> HttpRequest {
        let tamper = &request.tamper;
        let skew_ms = match tamper {
            Tamper::SkewSecs(s) => s * 1000,
            _ => 0,
        };
        let date = format_utc(now_ms() + self.clock.get() + skew_ms);
        let nonce = match tamper {
            Tamper::Nonce(n) => n.clone(),
            _ => request::alibaba::fresh_nonce(),
        };
        let host = request::alibaba::host_of(&self.url);
        let mut built = request::alibaba::signed(request::alibaba::Call {
            method: match tamper {
                Tamper::Method(m) => m,
                _ => "POST",
            },
            host: &host,
            action: &request.action,
            version: match tamper {
                Tamper::Version(v) => v.as_str(),
                _ => version_of(&request.action),
            },
            params: &request.params,
            access_key_id: match tamper {
                Tamper::UnknownKey(k) => k.as_str(),
                _ => self.key.id.as_str(),
            },
            secret: match tamper {
                Tamper::WrongSecret(s) => s.as_str(),
                _ => self.key.secret.as_str(),
            },
            date: &date,
            nonce: &nonce,
        });
        spoil(&mut built.headers, tamper);
        built
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
#[derive(Clone, PartialEq)]
pub enum Auth {
    /// As configured (`--aui-auth`): the session's or the given bearer token, the configured
    /// headers.
    Configured,
    /// Exactly these headers and no others: a request without credentials (`Auth::none()`), a
    /// forged bearer beside the configured gateway headers, a spoiled header value.
    Exactly(Vec<(String, String)>),
}

impl std::fmt::Debug for Auth {
    /// Header names only: their values are credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Configured => f.write_str("Configured"),
            Auth::Exactly(headers) => {
                let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
                write!(f, "Exactly({})", names.join(", "))
            }
        }
    }
}

impl Auth {
    /// No credentials at all.
    pub fn none() -> Auth {
        Auth::Exactly(Vec::new())
    }

    /// The configured headers of `auth` (a gateway key lets the request reach the server's own
    /// bearer check) with this `Authorization` value, or none.
    pub fn authorization(auth: &AuiAuth, value: Option<String>) -> Auth {
        let authorization = value.map(|v| ("authorization".to_string(), v));
        Auth::Exactly(
            authorization
                .into_iter()
                .chain(auth.headers.clone())
                .collect(),
        )
    }
}

/// One AUI app server request: path, raw body, authentication.
#[derive(Clone, Debug)]
pub struct AuiRequest {
    pub path: &'static str,
    pub body: Vec<u8>,
    pub auth: Auth,
}

/// Where AUI's bearer login lives (the mock's route, beside the others).
pub const AUI_LOGIN: &str = request::aui::LOGIN;

/// The AUI app server at one URL, authenticating as configured (the session token of its login
/// under `--aui-auth login`).
#[derive(Clone)]
pub struct Aui {
    pub http: Http,
    pub url: String,
    pub auth: Arc<AuiAuth>,
    /// The bearer token the login handed out.
    pub session: Option<String>,
}

impl Aui {
    /// A client that has not logged in yet.
    pub fn new(http: Http, url: &str, auth: &Arc<AuiAuth>) -> Aui {
        Aui {
            http,
            url: url.to_string(),
            auth: auth.clone(),
            session: None,
        }
    }

    /// Logs in when the auth is a login (`None` otherwise); on success the client sends the
    /// token from then on.
    pub async fn login(&mut self, user: &Pair) -> Option<Reply> {
        let login = self.auth.login()?.clone();
        let build = || login.request(&self.auth, &user.id, &user.secret);
        let reply = self
            .http
            .send_built(Platform::Aui, &self.url, Retry::Never, build)
            .await;
        if reply.status == 200 {
            if let Some(token) = reply.json.as_ref().and_then(|json| login.token(json)) {
                self.session = Some(token.to_string());
            }
        }
        Some(reply)
    }

    /// POSTs `body` as JSON with the configured auth.
    pub async fn post(&self, path: &'static str, body: &Value) -> Reply {
        let body = body.to_string().into_bytes();
        self.send(&AuiRequest {
            path,
            body,
            auth: Auth::Configured,
        })
        .await
    }

    /// Sends `request`; only a read (describe) is sent again if the connection closed unanswered.
    pub async fn send(&self, request: &AuiRequest) -> Reply {
        let headers = match &request.auth {
            Auth::Configured => self.auth.headers(self.session.as_deref()),
            Auth::Exactly(headers) => headers.clone(),
        };
        let build = || {
            let mut built = request::aui::post(request.path, request.body.clone(), None);
            built.headers.extend(headers.iter().cloned());
            built
        };
        let retry = Retry::if_read(request::aui::is_read(request.path));
        self.http
            .send_built(Platform::Aui, &self.url, retry, build)
            .await
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
pub const CHECK_SIG: &str = request::duix::CHECK_SIG;
pub const V1: &str = request::duix::V1;

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

    /// Sends `request`, a GET: sent again (with a fresh token when it carries a good one) if
    /// the connection closed unanswered.
    pub async fn send(&self, request: &DuixRequest) -> Reply {
        let build = || {
            let token = match &request.token {
                Token::Good => Some(self.token(1800)),
                Token::None => None,
                Token::Raw(raw) => Some(raw.clone()),
            };
            request::duix::get(&request.path, &request.query, token)
        };
        self.http
            .send_built(Platform::Duix, &self.url, Retry::by_method("GET"), build)
            .await
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

    async fn answering(template: wiremock::ResponseTemplate) -> (wiremock::MockServer, Reply) {
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(template)
            .mount(&server)
            .await;
        let http = Http::new().unwrap();
        let request = http.client().get(server.uri());
        let reply = http.send(Platform::Duix, "r", request).await;
        (server, reply)
    }

    #[tokio::test]
    async fn a_huge_body_is_read_only_up_to_the_bound_and_fails() {
        let huge = vec![b' '; MAX_BODY + 2 * 1024 * 1024];
        let (_server, reply) =
            answering(wiremock::ResponseTemplate::new(200).set_body_raw(huge, "application/json"))
                .await;
        assert!(
            reply.body.len() <= MAX_BODY,
            "{} bytes kept",
            reply.body.len()
        );
        assert!(
            reply.describe().contains("a body over"),
            "{}",
            reply.describe()
        );
    }

    #[tokio::test]
    async fn a_body_that_is_not_utf8_is_not_json() {
        let bytes = b"{\"code\":\"0\",\"success\":true,\"message\":\"\xff\xfe\"}".to_vec();
        let (_server, reply) =
            answering(wiremock::ResponseTemplate::new(200).set_body_raw(bytes, "application/json"))
                .await;
        assert_eq!(reply.status, 200);
        assert!(reply.json.is_none(), "{:?}", reply.json);
    }

    #[tokio::test]
    async fn redirects_are_answers_not_followed() {
        let (_server, reply) = answering(
            wiremock::ResponseTemplate::new(302)
                .insert_header("location", "http://127.0.0.1:9/elsewhere"),
        )
        .await;
        assert_eq!(reply.status, 302, "{}", reply.describe());
    }

    /// A raw TCP server that reads each request whole and closes the connection without a word
    /// the first `unanswered` times, then answers `200 {}`. Returns its URL and the head of
    /// every request it read.
    async fn closing_server(unanswered: usize) -> (String, Arc<Mutex<Vec<String>>>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = heads.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut bytes = Vec::new();
                let mut buffer = [0u8; 4096];
                // The whole request is read before closing: unread bytes would turn the close
                // into a reset, which is another failure than the one under test.
                let head_end = loop {
                    if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
                        break at + 4;
                    }
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => break bytes.len(),
                        Ok(n) => bytes.extend_from_slice(&buffer[..n]),
                    }
                };
                let head = String::from_utf8_lossy(&bytes[..head_end]).to_ascii_lowercase();
                let length = head
                    .lines()
                    .find_map(|line| line.strip_prefix("content-length:"))
                    .and_then(|n| n.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                while bytes.len() < head_end + length {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => bytes.extend_from_slice(&buffer[..n]),
                    }
                }
                let count = {
                    let mut heads = seen.lock().unwrap();
                    heads.push(head);
                    heads.len()
                };
                if count > unanswered {
                    let ok = "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}";
                    let _ = socket.write_all(ok.as_bytes()).await;
                }
            }
        });
        (url, heads)
    }

    fn sent(heads: &Arc<Mutex<Vec<String>>>) -> Vec<String> {
        heads.lock().unwrap().clone()
    }

    #[tokio::test]
    async fn a_get_closed_without_an_answer_is_sent_again_once() {
        let (url, heads) = closing_server(1).await;
        let http = Http::new().unwrap();
        let reply = http.send(Platform::Duix, "r", http.client().get(url)).await;
        assert_eq!(reply.status, 200, "{}", reply.describe());
        assert_eq!(sent(&heads).len(), 2);
    }

    #[tokio::test]
    async fn a_post_closed_without_an_answer_is_not_sent_again() {
        let (url, heads) = closing_server(1).await;
        let http = Http::new().unwrap();
        let request = http.client().post(url).body("{}");
        let reply = http.send(Platform::Aui, "r", request).await;
        assert_eq!(reply.status, 0, "{}", reply.describe());
        assert!(
            reply.describe().contains("not sent again"),
            "{}",
            reply.describe()
        );
        assert_eq!(sent(&heads).len(), 1);
    }

    fn alibaba(url: String) -> Alibaba {
        Alibaba {
            http: Http::new().unwrap(),
            url,
            key: Pair {
                id: "testid".into(),
                secret: "testsecret".into(),
            },
            clock: ClockOffset::default(),
        }
    }

    fn nonce_of(head: &str) -> Option<&str> {
        head.lines()
            .find_map(|line| line.strip_prefix("x-acs-signature-nonce:"))
            .map(str::trim)
    }

    #[tokio::test]
    async fn an_alibaba_start_is_never_sent_twice() {
        for action in ["StartAgent", "StartAIAgentInstance"] {
            let (url, heads) = closing_server(1).await;
            let reply = alibaba(url).call(action, &[]).await;
            assert_eq!(reply.status, 0, "{action}: {}", reply.describe());
            assert_eq!(sent(&heads).len(), 1, "{action}");
        }
    }

    #[tokio::test]
    async fn an_alibaba_read_is_sent_again_re_signed_with_a_fresh_nonce() {
        let (url, heads) = closing_server(1).await;
        let reply = alibaba(url).call("GetAgent", &[("TaskId", "t1")]).await;
        assert_eq!(reply.status, 200, "{}", reply.describe());
        let heads = sent(&heads);
        assert_eq!(heads.len(), 2);
        let nonces: Vec<_> = heads.iter().map(|h| nonce_of(h)).collect();
        assert!(nonces[0].is_some(), "{heads:?}");
        assert_ne!(nonces[0], nonces[1], "a blind resend replays the nonce");
    }

    #[tokio::test]
    async fn an_alibaba_read_with_a_fixed_nonce_is_not_sent_again() {
        let (url, heads) = closing_server(1).await;
        let request = AliRequest::new("DescribeAIAgentInstance", &[("InstanceId", "i")])
            .tampered(Tamper::Nonce("0123456789abcdef0123456789abcdef".into()));
        let reply = alibaba(url).send(&request).await;
        assert_eq!(reply.status, 0, "{}", reply.describe());
        assert_eq!(sent(&heads).len(), 1);
    }

    #[tokio::test]
    async fn an_aui_start_is_never_sent_twice_but_a_describe_is() {
        for (path, sends, status) in [
            (request::aui::START_AI_AGENT_INSTANCE, 1, 0),
            (request::aui::DESCRIBE_AI_AGENT_INSTANCE, 2, 200),
        ] {
            let (url, heads) = closing_server(1).await;
            let auth = Arc::new(AuiAuth::parse(&["bearer:t0k"]).unwrap());
            let aui = Aui::new(Http::new().unwrap(), &url, &auth);
            let reply = aui.post(path, &serde_json::json!({"user_id": "u1"})).await;
            assert_eq!(reply.status, status, "{path}: {}", reply.describe());
            assert_eq!(sent(&heads).len(), sends, "{path}");
        }
    }

    #[test]
    fn flipping_the_signature_changes_only_its_last_digit() {
        let mut headers = vec![("authorization".to_string(), "X,Signature=ab0".to_string())];
        spoil(&mut headers, &Tamper::FlipSignature);
        assert_eq!(headers[0].1, "X,Signature=ab1");
    }
}
