//! A bounded journal of the requests a mock received, served at `/__admin/requests`.
//!
//! Like wiremock's received-requests API, but over HTTP and with a fixed capacity: the oldest entry
//! is dropped when the journal is full, so memory stays flat under any load. Secrets (authorization
//! headers, tokens, passwords) never leave it: an entry is redacted when it is read.
//!
//! The edge hands over a [`Record`]: the request head copied into one buffer ([`Head`]) and the
//! body's bytes, with nothing split, decoded or redacted yet. That work happens in
//! [`Journal::recent`], for the few entries someone reads, not on every request's path.

use axum::http::{HeaderMap, Method, Uri};
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

/// What the edge stores for one request: the [`Entry`] to be, before redaction.
#[derive(Clone, Debug)]
pub struct Record {
    /// Virtual-clock time at arrival, ms since the epoch.
    pub received_at_ms: i64,
    pub head: Head,
    /// The route template or action the request matched.
    pub route: String,
    pub body: Body,
    pub status: u16,
    pub duration_ms: f64,
    pub request_id: String,
}

/// A request head as received, copied in one buffer: method, path and query, each header's
/// name and value (values cut to [`MAX_BODY_CHARS`] bytes, so memory stays bounded).
#[derive(Clone, Debug)]
pub struct Head {
    method: Method,
    /// The path, then the query (no `?`).
    target: String,
    path_len: usize,
    /// Every header's name then value, back to back.
    header_bytes: Vec<u8>,
    /// Where each header's name and value end in `header_bytes`.
    header_ends: Vec<(usize, usize)>,
}

impl Head {
    /// Copies what the journal shows of a request head.
    pub fn of(method: &Method, uri: &Uri, headers: &HeaderMap) -> Self {
        let path = uri.path();
        let query = uri.query().unwrap_or("");
        let mut target = String::with_capacity(path.len() + query.len());
        target.push_str(path);
        target.push_str(query);
        let size: usize = headers
            .iter()
            .map(|(n, v)| n.as_str().len() + v.len().min(MAX_BODY_CHARS))
            .sum();
        let mut header_bytes = Vec::with_capacity(size);
        let mut header_ends = Vec::with_capacity(headers.len());
        for (name, value) in headers {
            header_bytes.extend_from_slice(name.as_str().as_bytes());
            let name_end = header_bytes.len();
            let value = value.as_bytes();
            header_bytes.extend_from_slice(&value[..value.len().min(MAX_BODY_CHARS)]);
            header_ends.push((name_end, header_bytes.len()));
        }
        Head {
            method: method.clone(),
            target,
            path_len: path.len(),
            header_bytes,
            header_ends,
        }
    }

    fn path(&self) -> &str {
        &self.target[..self.path_len]
    }

    fn query(&self) -> &str {
        &self.target[self.path_len..]
    }

    /// Each header's name and (cut) value, in the order received.
    fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> {
        let mut start = 0;
        self.header_ends.iter().map(move |&(name_end, value_end)| {
            let name = std::str::from_utf8(&self.header_bytes[start..name_end]).unwrap_or("");
            let value = &self.header_bytes[name_end..value_end];
            start = value_end;
            (name, value)
        })
    }
}

/// A request body as the journal keeps it: a short one as received (redacted when read), a
/// long one already redacted and cut, so that what is kept stays small.
#[derive(Clone, Debug)]
pub enum Body {
    Raw(Vec<u8>),
    Shown { text: String, truncated: bool },
}

impl Body {
    /// Keeps `body`: copied when it is short, else redacted and cut now.
    pub fn of(body: &[u8]) -> Self {
        if body.len() <= MAX_BODY_CHARS {
            Body::Raw(body.to_vec())
        } else {
            let (text, truncated) = body_for_journal(body);
            Body::Shown { text, truncated }
        }
    }

    fn shown(&self) -> (String, bool) {
        match self {
            Body::Raw(bytes) => body_for_journal(bytes),
            Body::Shown { text, truncated } => (text.clone(), *truncated),
        }
    }
}

impl Record {
    /// The entry as read: redacted.
    fn entry(&self, seq: u64) -> Entry {
        let (body, body_truncated) = self.body.shown();
        Entry {
            seq,
            received_at_ms: self.received_at_ms,
            method: self.head.method.to_string(),
            path: self.head.path().to_string(),
            query: redact_query(self.head.query()),
            route: self.route.clone(),
            headers: self
                .head
                .headers()
                .map(|(name, value)| redact_header(name, value))
                .collect(),
            body,
            body_truncated,
            status: self.status,
            duration_ms: self.duration_ms,
            request_id: self.request_id.clone(),
        }
    }
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
    /// Each record with its `seq`.
    entries: VecDeque<(u64, Record)>,
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

    /// Stores a record (its `seq` is assigned here), dropping the oldest when full; nothing when
    /// the journal is off.
    pub fn push(&self, record: Record) {
        if !self.is_on() {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let seq = inner.next_seq;
        inner.next_seq += 1;
        if inner.entries.len() == self.capacity {
            inner.entries.pop_front();
        }
        inner.entries.push_back((seq, record));
    }

    /// The newest `limit` entries matching `route` (all routes when `None`), oldest first,
    /// redacted.
    pub fn recent(&self, limit: usize, route: Option<&str>) -> Vec<Entry> {
        let picked: Vec<(u64, Record)> = {
            let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            inner
                .entries
                .iter()
                .rev()
                .filter(|(_, r)| route.is_none_or(|want| r.route == want || r.head.path() == want))
                .take(limit)
                .cloned()
                .collect()
        };
        // Rendered outside the lock: requests go on being recorded meanwhile.
        picked
            .iter()
            .rev()
            .map(|(seq, record)| record.entry(*seq))
            .collect()
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
pub fn redact_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(name, value)| redact_header(name.as_str(), value.as_bytes()))
        .collect()
}

/// One header as shown: `***` for a secret, else its value cut to [`MAX_BODY_CHARS`] bytes.
fn redact_header(name: &str, value: &[u8]) -> (String, String) {
    let secret = SECRET_HEADER_WORDS.iter().any(|w| name.contains(w));
    let shown = if secret {
        "***".to_string()
    } else {
        String::from_utf8_lossy(&value[..value.len().min(MAX_BODY_CHARS)]).into_owned()
    };
    (name.to_string(), shown)
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

    fn record(path: &str) -> Record {
        let uri: Uri = path.parse().unwrap();
        Record {
            received_at_ms: 0,
            head: Head::of(&Method::GET, &uri, &HeaderMap::new()),
            route: path.into(),
            body: Body::of(b""),
            status: 200,
            duration_ms: 0.0,
            request_id: String::new(),
        }
    }

    #[test]
    fn an_entry_is_redacted_when_read_as_it_was_when_stored() {
        let mut headers = HeaderMap::new();
        headers.insert("authorization", "Bearer s3cret".parse().unwrap());
        headers.insert("content-type", "application/json".parse().unwrap());
        headers.append("x-note", "a".parse().unwrap());
        headers.append("x-note", "b".parse().unwrap());
        let uri: Uri = "/api/x?sig=s3cret&user=u%20v".parse().unwrap();
        let body = br#"{"user":"u","password":"s3cret"}"#;
        let journal = Journal::with_capacity(2);
        journal.push(Record {
            received_at_ms: 7,
            head: Head::of(&Method::POST, &uri, &headers),
            route: "aui /api/x".into(),
            body: Body::of(body),
            status: 200,
            duration_ms: 1.5,
            request_id: "R".into(),
        });
        let read = &journal.recent(1, Some("/api/x"))[0];
        assert_eq!(
            (read.method.as_str(), read.path.as_str()),
            ("POST", "/api/x")
        );
        assert_eq!(read.query, redact_query("sig=s3cret&user=u%20v"));
        assert_eq!(read.headers, redact_headers(&headers));
        assert_eq!(
            (read.body.clone(), read.body_truncated),
            body_for_journal(body)
        );
        let long = format!(
            r#"{{"password":"s3cret","pad":"{}"}}"#,
            "x".repeat(MAX_BODY_CHARS)
        );
        journal.push(Record {
            body: Body::of(long.as_bytes()),
            ..journal_record(&journal)
        });
        let read = journal.recent(1, None).pop().unwrap();
        assert_eq!(
            (read.body, read.body_truncated),
            body_for_journal(long.as_bytes())
        );
        assert!(!format!("{:?}", journal.recent(2, None)).contains("s3cret"));
    }

    /// A copy of the newest record, to vary one field of.
    fn journal_record(journal: &Journal) -> Record {
        let inner = journal.inner.lock().unwrap();
        inner.entries.back().unwrap().1.clone()
    }

    #[test]
    fn journal_never_holds_more_than_its_capacity() {
        let journal = Journal::with_capacity(3);
        for i in 0..10 {
            journal.push(record(&format!("/{i}")));
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
        journal.push(record("/a"));
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
