//! The platform's side of the third-party dialogue webhook (seed 003, PROTOCOLS.md §5.4): where
//! each `dh-code`'s webhook lives, and the call itself.
//!
//! For each question the platform POSTs `{sid, dh-code, dh-question, dh-conversation-id,
//! dh-context}` as JSON, waits at most `webhook_timeout_ms` (20000 ms by default) for the whole
//! answer, reads it as JSON or as server-sent events ([`super::answer`]), and records the time it
//! took in [`WebhookStats`]. Every failure (timeout, connection, non-2xx status, unreadable answer)
//! becomes `40002`; a dh-code with no webhook is `1007`.
//!
//! The platform sends `Accept: application/json, text/event-stream` (it reads both, JSON
//! preferred), or `Accept: text/event-stream` for a target registered with `"stream": true`.

use super::answer::{json_answer, Piece, SseReader};
use super::stats::{Outcome, WebhookStats};
use protocol::duix::DuixError;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

/// Largest answer read (JSON body, or all events together).
pub const MAX_ANSWER_BYTES: usize = 1024 * 1024;
/// Most events read from one streamed answer.
pub const MAX_PIECES: usize = 1000;
/// Most dh-codes with a webhook of their own.
pub const MAX_TARGETS: usize = 1024;
/// Longest dh-code and webhook URL registered (the registry's memory stays small).
pub const MAX_DH_CODE_BYTES: usize = 256;
pub const MAX_URL_BYTES: usize = 4096;

/// Where one dh-code's questions go.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub url: String,
    /// Ask for the SSE form (`Accept: text/event-stream`).
    pub stream: bool,
    /// Sent as `Authorization: Bearer <bearer>`; never shown back.
    #[serde(skip)]
    pub bearer: Option<String>,
}

/// The body of a webhook call, with the seed's field names.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookRequest {
    pub sid: String,
    #[serde(rename = "dh-code")]
    pub dh_code: String,
    #[serde(rename = "dh-question")]
    pub dh_question: String,
    #[serde(rename = "dh-conversation-id")]
    pub dh_conversation_id: String,
    #[serde(rename = "dh-context")]
    pub dh_context: String,
}

/// Why a question got no answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WebhookError {
    #[error("no webhook is configured for dh-code {0:?}")]
    NoWebhook(String),
    #[error("the webhook did not answer within {0} ms")]
    TimedOut(u64),
    #[error("the webhook could not be reached: {0}")]
    Transport(String),
    #[error("the webhook answered HTTP {0}")]
    Status(u16),
    #[error("the webhook's answer is unreadable: {0}")]
    BadAnswer(String),
}

impl WebhookError {
    /// The business code the client sees.
    pub fn code(&self) -> DuixError {
        match self {
            WebhookError::NoWebhook(_) => DuixError::DIALOGUE_NOT_FOUND,
            _ => DuixError::INTERNAL_ERROR,
        }
    }
}

#[derive(Default, Clone)]
struct Registry {
    by_code: BTreeMap<String, Target>,
    default: Option<Target>,
}

/// The webhook targets, the HTTP client that calls them, and their statistics.
pub struct Webhooks {
    client: reqwest::Client,
    timeout: Duration,
    configured: Registry,
    registry: RwLock<Registry>,
    pub stats: WebhookStats,
}

fn plain(url: &str, bearer: Option<&str>) -> Target {
    Target {
        url: url.to_string(),
        stream: false,
        bearer: bearer.map(str::to_string),
    }
}

impl Webhooks {
    /// Targets from the config, each sent `bearer` when given; `timeout_ms` bounds each whole
    /// answer.
    pub fn new(
        by_code: &BTreeMap<String, String>,
        default: Option<&str>,
        bearer: Option<&str>,
        timeout_ms: u64,
    ) -> Self {
        let configured = Registry {
            by_code: by_code
                .iter()
                .map(|(k, v)| (k.clone(), plain(v, bearer)))
                .collect(),
            default: default.map(|url| plain(url, bearer)),
        };
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            client,
            timeout: Duration::from_millis(timeout_ms),
            registry: RwLock::new(configured.clone()),
            configured,
            stats: WebhookStats::default(),
        }
    }

    /// The target of `dh_code`: its own, else the default.
    pub fn target(&self, dh_code: &str) -> Option<Target> {
        let registry = self.registry.read().unwrap_or_else(|e| e.into_inner());
        registry
            .by_code
            .get(dh_code)
            .or(registry.default.as_ref())
            .cloned()
    }

    /// Sets (or with `None` removes) the target of `dh_code`; `*` is the default target.
    pub fn set(&self, dh_code: &str, target: Option<Target>) -> Result<(), String> {
        if dh_code.is_empty() || dh_code.len() > MAX_DH_CODE_BYTES {
            return Err(format!("dh_code must be 1 to {MAX_DH_CODE_BYTES} bytes"));
        }
        if let Some(target) = &target {
            check_url(&target.url)?;
        }
        let mut registry = self.registry.write().unwrap_or_else(|e| e.into_inner());
        if dh_code == "*" {
            registry.default = target;
            return Ok(());
        }
        match target {
            None => {
                registry.by_code.remove(dh_code);
            }
            Some(_)
                if registry.by_code.len() >= MAX_TARGETS
                    && !registry.by_code.contains_key(dh_code) =>
            {
                return Err(format!(
                    "at most {MAX_TARGETS} dh-codes can have their own webhook"
                ));
            }
            Some(target) => {
                registry.by_code.insert(dh_code.to_string(), target);
            }
        }
        Ok(())
    }

    /// `{"default": target|null, "webhooks": {"<dh-code>": target}}`.
    pub fn to_json(&self) -> Value {
        let registry = self.registry.read().unwrap_or_else(|e| e.into_inner());
        json!({"default": registry.default, "webhooks": registry.by_code})
    }

    /// Back to the configured targets, statistics forgotten.
    pub fn reset(&self) {
        *self.registry.write().unwrap_or_else(|e| e.into_inner()) = self.configured.clone();
        self.stats.clear();
    }

    /// Asks the question; `on_piece` gets each piece of the answer with the milliseconds since
    /// the call started. Answers the whole text.
    pub async fn ask(
        &self,
        request: &WebhookRequest,
        on_piece: &mut (dyn FnMut(Piece, u64) + Send),
    ) -> Result<String, WebhookError> {
        let target = self
            .target(&request.dh_code)
            .ok_or_else(|| WebhookError::NoWebhook(request.dh_code.clone()))?;
        let started = Instant::now();
        let exchange = self.exchange(&target, request, started, on_piece);
        let result = match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(WebhookError::TimedOut(self.timeout.as_millis() as u64)),
        };
        let outcome = match &result {
            Ok(_) => Outcome::Answered,
            Err(WebhookError::TimedOut(_)) => Outcome::TimedOut,
            Err(_) => Outcome::Failed,
        };
        self.stats
            .record(&request.dh_code, outcome, started.elapsed());
        if let Err(e) = &result {
            let url = loggable(&target.url);
            tracing::info!(dh_code = %request.dh_code, %url, "webhook failed: {e}");
        }
        result
    }

    async fn exchange(
        &self,
        target: &Target,
        request: &WebhookRequest,
        started: Instant,
        on_piece: &mut (dyn FnMut(Piece, u64) + Send),
    ) -> Result<String, WebhookError> {
        // The request shape is protocol's, shared with the load scenario that plays the platform.
        let built = protocol::request::duix::webhook_question(
            &protocol::request::duix::Question {
                sid: &request.sid,
                dh_code: &request.dh_code,
                question: &request.dh_question,
                conversation_id: &request.dh_conversation_id,
                context: &request.dh_context,
            },
            target.stream,
            target.bearer.as_deref(),
        );
        let mut call = self.client.post(built.url(&target.url)).body(built.body);
        for (name, value) in &built.headers {
            let Ok(mut value) = reqwest::header::HeaderValue::from_str(value) else {
                return Err(WebhookError::Transport(format!(
                    "header {name} is not valid"
                )));
            };
            // The bearer token stays out of any Debug output, as bearer_auth marks it.
            value.set_sensitive(name == "authorization");
            call = call.header(name.as_str(), value);
        }
        let response = call
            .send()
            .await
            .map_err(|e| WebhookError::Transport(without_url(&e)))?;
        if !response.status().is_success() {
            return Err(WebhookError::Status(response.status().as_u16()));
        }
        let is_sse = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("text/event-stream")
            });
        if is_sse {
            read_stream(response, started, on_piece).await
        } else {
            let body = read_capped(response).await?;
            let text = json_answer(&body).map_err(WebhookError::BadAnswer)?;
            on_piece(
                Piece {
                    text: text.clone(),
                    is_end: true,
                },
                elapsed_ms(started),
            );
            Ok(text)
        }
    }
}

fn check_url(url: &str) -> Result<(), String> {
    if url.len() > MAX_URL_BYTES {
        return Err(format!("webhook url is longer than {MAX_URL_BYTES} bytes"));
    }
    match reqwest::Url::parse(url) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => Ok(()),
        Ok(parsed) => Err(format!(
            "webhook url must be http or https, not {}",
            parsed.scheme()
        )),
        Err(e) => Err(format!("webhook url {url:?} is not a URL: {e}")),
    }
}

/// The URL without what may be a credential (user info, query, fragment), for the log.
fn loggable(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut url) => {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            url.to_string()
        }
        Err(_) => "<not a URL>".into(),
    }
}

/// reqwest's message without the URL (which may carry credentials in its query).
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    match std::error::Error::source(error) {
        Some(source) => format!("{kind}: {source}"),
        None => kind.to_string(),
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    started.elapsed().as_millis() as u64
}

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, WebhookError> {
    let mut body = Vec::new();
    while let Some(chunk) = next_chunk(&mut response).await? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ANSWER_BYTES {
            return Err(too_big());
        }
    }
    Ok(body)
}

async fn next_chunk(
    response: &mut reqwest::Response,
) -> Result<Option<bytes::Bytes>, WebhookError> {
    response
        .chunk()
        .await
        .map_err(|e| WebhookError::Transport(without_url(&e)))
}

fn too_big() -> WebhookError {
    WebhookError::BadAnswer(format!(
        "longer than {MAX_ANSWER_BYTES} bytes or {MAX_PIECES} events"
    ))
}

/// Forwards each event as it arrives; a stream that ends without `isEnd: true` is closed with an
/// empty last piece, so the client always sees the end of the answer.
async fn read_stream(
    mut response: reqwest::Response,
    started: Instant,
    on_piece: &mut (dyn FnMut(Piece, u64) + Send),
) -> Result<String, WebhookError> {
    let mut reader = SseReader::default();
    let (mut text, mut read, mut pieces) = (String::new(), 0usize, 0usize);
    while let Some(chunk) = next_chunk(&mut response).await? {
        read += chunk.len();
        let arrived = reader.push(&chunk).map_err(WebhookError::BadAnswer)?;
        pieces += arrived.len();
        if read > MAX_ANSWER_BYTES || pieces > MAX_PIECES {
            return Err(too_big());
        }
        for piece in arrived {
            text.push_str(&piece.text);
            let is_end = piece.is_end;
            on_piece(piece, elapsed_ms(started));
            if is_end {
                return Ok(text);
            }
        }
    }
    let last = reader.finish().map_err(WebhookError::BadAnswer)?;
    let mut last = last.unwrap_or(Piece {
        text: String::new(),
        is_end: true,
    });
    last.is_end = true;
    text.push_str(&last.text);
    on_piece(last, elapsed_ms(started));
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_never_shows_credentials_of_a_webhook_url() {
        let logged = loggable("https://user:pw@hook.example:8443/duix?key=abc#frag");
        assert_eq!(logged, "https://hook.example:8443/duix");
    }

    #[test]
    fn registrations_are_bounded_in_size() {
        let hooks = Webhooks::new(&BTreeMap::new(), None, None, 1000);
        let target = |url: String| Some(plain(&url, None));
        assert!(hooks.set("c", target("http://h/".into())).is_ok());
        assert!(hooks
            .set(&"c".repeat(257), target("http://h/".into()))
            .is_err());
        assert!(hooks.set("", target("http://h/".into())).is_err());
        let long = format!("http://h/{}", "p".repeat(MAX_URL_BYTES));
        assert!(hooks.set("c", target(long)).is_err());
    }
}
