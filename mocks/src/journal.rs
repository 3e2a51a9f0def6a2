//! A bounded journal of the requests a mock received, served at `/__admin/requests`.
//!
//! Like wiremock's received-requests API, but over HTTP and with a fixed capacity: the oldest entry
//! is dropped when the journal is full, so memory stays flat under any load. Secrets (authorization
//! headers, tokens, passwords) are redacted before an entry is stored.

use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Default number of entries kept.
pub const DEFAULT_CAPACITY: usize = 1000;
/// Longest body kept per entry; the rest is cut and `body_truncated` set.
pub const MAX_BODY_CHARS: usize = 4096;

/// Header names whose values are credentials: any name holding one of these words, so that a
/// team's own (`x-api-key`, `x-gateway-key`, `x-auth-token`, sent by `--aui-auth header:`) is
/// hidden as `authorization` and `cookie` are.
const SECRET_HEADER_WORDS: &[&str] = &["auth", "token", "cookie", "key", "secret", "session"];
const SECRET_QUERY_KEYS: &[&str] = &["sig", "token", "SecurityToken"];

/// One received request and what the mock answered.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub seq: u64,
    /// Virtual-clock time at arrival, ms since the epoch.
    pub received_at_ms: i64,
    pub method: String,
    pub path: String,
    pub query: String,
    /// The route template or action the request matched (the fault and metric key).
    pub route: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    pub body_truncated: bool,
    pub status: u16,
    pub duration_ms: f64,
    pub request_id: String,
}

/// The bounded journal.
#[derive(Debug)]
pub struct Journal {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    next_seq: u64,
    entries: VecDeque<Entry>,
}

impl Default for Journal {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl Journal {
    /// A journal keeping at most `capacity` entries; `0` turns it off (nothing is kept, and the
    /// edge does not even build the entries: [`Journal::is_on`]).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            capacity,
            inner: Mutex::default(),
        }
    }

    /// Whether entries are kept (the capacity is not 0).
    pub fn is_on(&self) -> bool {
        self.capacity > 0
    }

    /// Stores an entry (its `seq` is assigned here), dropping the oldest when full; nothing when
    /// the journal is off.
    pub fn push(&self, mut entry: Entry) {
        if !self.is_on() {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        entry.seq = inner.next_seq;
        inner.next_seq += 1;
        if inner.entries.len() == self.capacity {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry);
    }

    /// The newest `limit` entries matching `route` (all routes when `None`), oldest first.
    pub fn recent(&self, limit: usize, route: Option<&str>) -> Vec<Entry> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut picked: Vec<Entry> = inner
            .entries
            .iter()
            .rev()
            .filter(|e| route.is_none_or(|r| e.route == r || e.path == r))
            .take(limit)
            .cloned()
            .collect();
        picked.reverse();
        picked
    }

    /// How many entries are stored now.
    pub fn len(&self) -> usize {
        self.inner.lock().map(|i| i.entries.len()).unwrap_or(0)
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.entries.clear();
    }
}

/// Replaces secret header values with `***` and cuts long ones to [`MAX_BODY_CHARS`] bytes: a
/// request head may be up to 1 MiB, and the journal keeps a thousand of them.
pub fn redact_headers(headers: &axum::http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| {
            let secret = SECRET_HEADER_WORDS
                .iter()
                .any(|w| name.as_str().contains(w));
            let shown = if secret {
                "***".to_string()
            } else {
                let bytes = value.as_bytes();
                String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_BODY_CHARS)]).into_owned()
            };
            (name.as_str().to_string(), shown)
        })
        .collect()
}

/// Replaces the values of secret query parameters (`sig`, `token`, ...) with `***`.
/// Values that are JSON objects (Alibaba's nested parameters such as `RuntimeConfig`, which
/// carries an `AuthToken`, or `VoiceChatConfig`, with an LLM `ApiKey`) are redacted inside too.
pub fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if SECRET_QUERY_KEYS.contains(&key) => format!("{key}=***"),
            Some((key, value)) => format!("{key}={}", redact_query_value(value)),
            None => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A percent-encoded query value with the secret fields of an embedded JSON object redacted.
fn redact_query_value(value: &str) -> String {
    // Only a value that decodes to `{...}` can hold a JSON object: skip decoding the others.
    let object = value.starts_with('{')
        || value
            .get(..3)
            .is_some_and(|start| start.eq_ignore_ascii_case("%7B"));
    if !object {
        return value.to_string();
    }
    let decoded = percent_encoding::percent_decode_str(&value.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned();
    if !decoded.starts_with('{') || !mentions_secret(&decoded) {
        return value.to_string();
    }
    let redacted = redact_body(&decoded);
    percent_encoding::utf8_percent_encode(&redacted, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// JSON body fields whose values are secrets, at any depth.
const SECRET_BODY_KEYS: &[&str] = &[
    "password",
    "bearer",
    "secret",
    "shared_secret",
    "token",
    "app_key",
    "access_key_secret",
    "AccessKeySecret",
    "AuthToken",
    "ApiKey",
    "auth_token",
    "api_key",
];

/// The body as text for the journal: lossy UTF-8, cut at [`MAX_BODY_CHARS`], secret JSON fields
/// (passwords, bearer tokens, keys) redacted.
pub fn body_for_journal(body: &[u8]) -> (String, bool) {
    let text = String::from_utf8_lossy(body);
    let text = redact_body(&text);
    match text.char_indices().nth(MAX_BODY_CHARS) {
        Some((cut, _)) => (text[..cut].to_string(), true),
        None => (text, false),
    }
}

/// Whether a JSON field of this name holds a secret (its value is redacted at any depth).
pub fn is_secret_key(name: &str) -> bool {
    SECRET_BODY_KEYS.contains(&name)
}

/// A cheap filter before parsing: a key name anywhere, quoted or escaped inside JSON text.
fn mentions_secret(text: &str) -> bool {
    SECRET_BODY_KEYS.iter().any(|key| text.contains(key))
}

/// `text` with its secrets redacted, whole (no cut): secret JSON fields at any depth (also in
/// JSON text inside JSON), or a form body's secret params; a body that names a secret field and
/// is neither is withheld. What the journal keeps of a body, before its cut; the proxy's
/// recordings keep bodies whole.
pub fn redact_body(text: &str) -> String {
    if !mentions_secret(text) {
        return text.to_string();
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut value) => {
            redact_value(&mut value);
            value.to_string()
        }
        // A form body (Alibaba V1) is redacted like a query string.
        Err(_) if looks_like_form(text) => redact_query(text),
        Err(_) => "<body withheld: it names a secret field and is not JSON>".to_string(),
    }
}

fn looks_like_form(text: &str) -> bool {
    text.contains('=') && !text.contains(char::is_whitespace) && !text.starts_with(['{', '['])
}

fn redact_value(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, field) in map.iter_mut() {
                if SECRET_BODY_KEYS.contains(&key.as_str()) && !field.is_null() {
                    *field = "***".into();
                } else {
                    redact_value(field);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_value),
        // Nested configs often travel as JSON text inside JSON (the AUI server's
        // {"VoiceChat":"{\"AuthToken\":...}"}): look inside those too.
        serde_json::Value::String(text) if text.starts_with('{') && mentions_secret(text) => {
            *text = redact_body(text);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str) -> Entry {
        Entry {
            seq: 0,
            received_at_ms: 0,
            method: "GET".into(),
            path: path.into(),
            query: String::new(),
            route: path.into(),
            headers: vec![],
            body: String::new(),
            body_truncated: false,
            status: 200,
            duration_ms: 0.0,
            request_id: String::new(),
        }
    }

    #[test]
    fn journal_never_holds_more_than_its_capacity() {
        let journal = Journal::with_capacity(3);
        for i in 0..10 {
            journal.push(entry(&format!("/{i}")));
        }
        assert_eq!(journal.len(), 3);
        let kept: Vec<_> = journal
            .recent(10, None)
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(kept, ["/7", "/8", "/9"]);
        assert_eq!(journal.recent(10, None)[2].seq, 9);
    }

    #[test]
    fn a_journal_of_capacity_zero_keeps_nothing() {
        let journal = Journal::with_capacity(0);
        journal.push(entry("/a"));
        assert!(!journal.is_on() && journal.is_empty());
        assert!(journal.recent(10, None).is_empty());
    }

    #[test]
    fn secrets_are_redacted() {
        assert_eq!(redact_query("sig=abc&appId=1"), "sig=***&appId=1");
        let runtime = percent_encoding::utf8_percent_encode(
            r#"{"VoiceChat":{"AgentUserId":"a1","AuthToken":"eyJzZWNyZXQi"}}"#,
            percent_encoding::NON_ALPHANUMERIC,
        );
        let query = redact_query(&format!(
            "Action=StartAIAgentInstance&RuntimeConfig={runtime}"
        ));
        assert!(
            !query.contains("eyJzZWNyZXQi") && query.contains("a1"),
            "{query}"
        );
        let (body, _) = body_for_journal(br#"{"VoiceChat":"{\"AuthToken\":\"eyJzZWNyZXQi\"}"}"#);
        assert!(
            !body.contains("eyJzZWNyZXQi") && body.contains("VoiceChat"),
            "{body}"
        );
        let (body, _) = body_for_journal(br#"{"username":"u","password":"p"}"#);
        assert!(!body.contains("\"p\""), "{body}");
        let (body, _) = body_for_journal(
            br#"{"dh_code":"*","url":"http://x","bearer":"s3cret","nested":[{"app_key":"k3y"}]}"#,
        );
        assert!(!body.contains("s3cret") && !body.contains("k3y"), "{body}");
        assert!(body.contains("http://x"), "{body}");
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("authorization", "Bearer x".parse().unwrap());
        assert_eq!(redact_headers(&headers)[0].1, "***");
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-gateway-key", "k3y".parse().unwrap());
        headers.insert("x-acs-security-token", "t0k".parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        let shown = redact_headers(&headers);
        assert!(
            shown
                .iter()
                .all(|(n, v)| (v == "***") == (n != "content-type")),
            "{shown:?}"
        );
    }

    #[test]
    fn long_bodies_are_cut() {
        let (body, cut) = body_for_journal("x".repeat(MAX_BODY_CHARS + 10).as_bytes());
        assert!(cut);
        assert_eq!(body.len(), MAX_BODY_CHARS);
    }
}
