//! The one request path every scenario sends through: wait for the schedule's slot, send through
//! the goose user's client (so goose counts it too), read the whole answer, judge it against
//! its contract, record the sample, and tell goose a broken answer is a failure with the reason.
//!
//! goose times a request to its first byte; the verdict needs the whole response, so the time
//! recorded here runs until the last body byte is read.

use crate::plan::Plan;
use crate::sink::{Outcome, Sample};
use goose::goose::{GooseRequest, GooseUser, TransactionError};
use protocol::request::HttpRequest;
use serde_json::Value;
use std::time::Instant;

/// The most of a body that is read; a longer answer is a failure.
pub const MAX_BODY: usize = 4 * 1024 * 1024;

/// The platform's own rule on a good answer (business code, state, an echoed id), beyond its
/// schema; the error says what was seen.
pub type Rule<'a> = &'a (dyn Fn(&Value) -> Result<(), String> + Sync);

/// What a good answer looks like.
pub struct Expect<'a> {
    /// HTTP status.
    pub status: u16,
    /// Schema of the body, by registry name (`aui/getRtcAuthToken.response`); [`ANY_JSON`]
    /// takes any JSON body.
    pub schema: &'static str,
    /// The platform's success rule.
    pub success: Rule<'a>,
    /// When the answer may also come as Server-Sent Events (a DUIX vendor webhook), the schema
    /// of each event; `None` where only JSON is right.
    pub sse_event: Option<&'static str>,
}

/// [`Expect::schema`] of a body that only has to be JSON (the `http-get` scenario's).
pub const ANY_JSON: &str = "";

/// [`Expect::schema`] of a body that may be anything (`http.request` without a schema); the
/// success rule sees its JSON, or `null` when it is not JSON.
pub const ANY_BODY: &str = "*";

/// The error of a request not sent because the run is ending (Ctrl-C or its planned end); it
/// counts nowhere.
pub fn stopped() -> Failure {
    Box::new(TransactionError::Custom("the run is ending".to_string()))
}

/// A transaction's error: the request failed, the reason is already recorded.
pub type Failure = Box<TransactionError>;

/// When a request goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pace {
    /// In its slot of the `--rate` schedule, and not once the run is ending.
    Scheduled,
    /// At once, even as the run ends: stopping what a user started, on-stop steps.
    Now,
}

/// Sends `request` to `base` in its slot, records it, and returns the answer's JSON when it
/// is good.
pub async fn send(
    user: &mut GooseUser,
    plan: &Plan,
    base: &str,
    request: HttpRequest,
    expect: &Expect<'_>,
) -> Result<Value, Failure> {
    send_paced(user, plan, base, request, expect, Pace::Scheduled).await
}

/// [`send`], at the given pace.
pub async fn send_paced(
    user: &mut GooseUser,
    plan: &Plan,
    base: &str,
    request: HttpRequest,
    expect: &Expect<'_>,
    pace: Pace,
) -> Result<Value, Failure> {
    let due = match pace {
        Pace::Scheduled => plan.slot(user.weighted_users_index).await?,
        Pace::Now => None,
    };
    let method = match request.method {
        "GET" => reqwest::Method::GET,
        "PUT" => reqwest::Method::PUT,
        "PATCH" => reqwest::Method::PATCH,
        "DELETE" => reqwest::Method::DELETE,
        "HEAD" => reqwest::Method::HEAD,
        _ => reqwest::Method::POST,
    };
    // The URL is whole (a target's base and the path), so the builder comes from the user's
    // client itself: goose's get_request_builder would parse it once more to see that it needs
    // no base URL, then reqwest again (URL parsing was a twentieth of the request path).
    let mut builder = user.client.request(method, request.url(base));
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if !request.body.is_empty() {
        builder = builder.body(request.body);
    }
    let goose_request = GooseRequest::builder()
        .set_request_builder(builder)
        .name(request.route.as_str())
        .expect_status_code(expect.status)
        .build();
    let sent = Instant::now();
    let mut goose = user.request(goose_request).await?;
    let answer = match goose.response {
        Ok(response) => read_answer(response).await,
        Err(e) => Err(transport_failure(&e)),
    };
    let finished = Instant::now();
    let judged = answer.and_then(|answer| match answer.is_sse {
        true => judge_sse(answer.status, &answer.body, expect),
        false => judge(answer.status, &answer.body, expect),
    });
    let outcome = match &judged {
        Ok(_) => Outcome::Ok,
        Err(Broken::TimedOut) => Outcome::TimedOut,
        Err(Broken::Reason(why)) => Outcome::Failed(why),
    };
    plan.sink.record(&Sample {
        route: &request.route,
        due,
        sent,
        finished,
        outcome,
    });
    match judged {
        Ok(json) => Ok(json),
        Err(broken) => {
            let why = broken.to_string();
            user.set_failure(&why, &mut goose.request, None, None)?;
            Err(Box::new(TransactionError::Custom(why)))
        }
    }
}

/// Why an answer is not good.
#[derive(Debug)]
pub enum Broken {
    /// No whole answer within the timeout.
    TimedOut,
    /// Anything else, in words.
    Reason(String),
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::TimedOut => f.write_str("timed out"),
            Broken::Reason(why) => f.write_str(why),
        }
    }
}

/// A whole answer: status, whether it is an event stream, the body.
struct Answer {
    status: u16,
    is_sse: bool,
    body: Vec<u8>,
}

/// The status and the whole body, at most [`MAX_BODY`] bytes.
async fn read_answer(mut response: reqwest::Response) -> Result<Answer, Broken> {
    let status = response.status().as_u16();
    let is_sse = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("text/event-stream")
        });
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) if body.len() + chunk.len() > MAX_BODY => {
                return Err(Broken::Reason(format!(
                    "HTTP {status} with a body over {MAX_BODY} bytes"
                )))
            }
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) => {
                return Ok(Answer {
                    status,
                    is_sse,
                    body,
                })
            }
            Err(e) => return Err(transport_failure(&e)),
        }
    }
}

/// A transport error in words that group well in a report (no URL: it holds tokens).
pub fn transport_failure(error: &reqwest::Error) -> Broken {
    if error.is_timeout() {
        return Broken::TimedOut;
    }
    let kind = if error.is_connect() {
        "cannot connect"
    } else if error.is_body() || error.is_decode() {
        "answer cut off"
    } else {
        "no answer"
    };
    let mut text = kind.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    Broken::Reason(text)
}

/// The start of every failure reason that is a refusal of the caller's credentials (see
/// [`refused`]): a run whose sign-in only ever got these broke as a test, not as a target.
pub const REFUSED: &str = "refused: ";

/// Status, JSON, schema and the platform's success rule, in that order; a refusal of the
/// caller's credentials is said first, whatever the status.
pub fn judge(status: u16, body: &[u8], expect: &Expect<'_>) -> Result<Value, Broken> {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let refusal = match &json {
        Some(json) => refused(status, json),
        None => matches!(status, 401 | 403),
    };
    if status != expect.status || refusal {
        let code = json.as_ref().and_then(business_code).unwrap_or_default();
        let prefix = if refusal { REFUSED } else { "" };
        let expected = match status == expect.status {
            true => String::new(),
            false => format!(", expected {}", expect.status),
        };
        return Err(Broken::Reason(format!(
            "{prefix}HTTP {status}{code}{expected}"
        )));
    }
    if expect.schema == ANY_BODY {
        let json = json.unwrap_or(Value::Null);
        (expect.success)(&json).map_err(Broken::Reason)?;
        return Ok(json);
    }
    let json = json.ok_or_else(|| Broken::Reason(format!("HTTP {status} body is not JSON")))?;
    if expect.schema != ANY_JSON {
        let schema = schemas::registry()
            .get(expect.schema)
            .ok_or_else(|| Broken::Reason(format!("no schema named {}", expect.schema)))?;
        if let Some(v) = schema.violations(&json).first() {
            return Err(Broken::Reason(violation(expect.schema, v)));
        }
    }
    (expect.success)(&json).map_err(Broken::Reason)?;
    Ok(json)
}

/// An answer in Server-Sent Events: each event's JSON against `expect.sse_event`, the last one
/// with `isEnd` true. The result is `{"events": [...], "answer": "<the pieces joined>"}`; the
/// success rule, written for the JSON form, does not apply.
pub fn judge_sse(status: u16, body: &[u8], expect: &Expect<'_>) -> Result<Value, Broken> {
    let Some(event_schema) = expect.sse_event else {
        return Err(Broken::Reason(format!(
            "HTTP {status} answered an event stream where JSON was expected"
        )));
    };
    if status != expect.status {
        return Err(Broken::Reason(format!(
            "HTTP {status}, expected {}",
            expect.status
        )));
    }
    let schema = schemas::registry()
        .get(event_schema)
        .ok_or_else(|| Broken::Reason(format!("no schema named {event_schema}")))?;
    let text = String::from_utf8_lossy(body);
    let mut events = Vec::new();
    for data in text.lines().filter_map(|l| l.strip_prefix("data:")) {
        let event: Value = serde_json::from_str(data.trim())
            .map_err(|_| Broken::Reason("an SSE event whose data is not JSON".into()))?;
        if let Some(v) = schema.violations(&event).first() {
            return Err(Broken::Reason(violation(event_schema, v)));
        }
        events.push(event);
    }
    if events.last().and_then(|e| e["isEnd"].as_bool()) != Some(true) {
        return Err(Broken::Reason(
            "the event stream ended without isEnd".into(),
        ));
    }
    let answer: String = events.iter().filter_map(|e| e["answer"].as_str()).collect();
    Ok(serde_json::json!({"events": events, "answer": answer}))
}

/// A schema violation as a failure reason: the schema, the path and what is wrong, never the
/// offending value (it may be an issued token), so reasons also group well in the report.
pub fn violation(schema: &str, v: &schemas::Violation) -> String {
    let path = if v.instance_path.is_empty() {
        "/"
    } else {
        &v.instance_path
    };
    // jsonschema's messages start with the value: `"abc" is not of type "integer"`.
    let what = [" is ", " does ", " has ", " should ", " must ", " was "]
        .iter()
        .filter_map(|verb| v.message.find(verb))
        .min()
        .map(|at| v.message[at + 1..].to_string());
    match what {
        Some(what) => format!("breaks {schema} at {path}: {}", cut(&what, 120)),
        None => format!("breaks {schema} at {path}"),
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Whether an answer refuses the caller rather than the request: HTTP 401 or 403, or a
/// platform's own code for refused credentials in any status (DUIX answers them with HTTP 200:
/// `1005`, `1006`, `40001`; the Alibaba gateway's `InvalidAccessKeyId.NotFound`,
/// `SignatureDoesNotMatch`, ...). An AUI server's `code` alone is not read: the official
/// sample answers bad parameters with `code` 401, so only the HTTP status says refused there.
pub fn refused(status: u16, json: &Value) -> bool {
    if matches!(status, 401 | 403) {
        return true;
    }
    if let Some(code) = json.get("Code").and_then(Value::as_str) {
        return protocol::alibaba::errors::is_credential_refusal(code);
    }
    json.get("code")
        .and_then(Value::as_str)
        .and_then(protocol::duix::DuixError::from_code)
        .is_some_and(|e| e.is_credential_refusal())
}

/// Whether a failure reason (as [`judge`] writes it) is a refusal of the caller's credentials.
pub fn is_refusal(reason: &str) -> bool {
    reason.starts_with(REFUSED)
}

/// ` code X` of an error envelope, for the failure reason (`Code`, `code`).
fn business_code(json: &Value) -> Option<String> {
    let code = json.get("Code").or_else(|| json.get("code"))?;
    Some(match code {
        Value::String(s) => format!(" code {s}"),
        other => format!(" code {other}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHECK_SIG: Expect<'static> = Expect {
        status: 200,
        schema: "duix/checkSig.response",
        success: &|_| Ok(()),
        sse_event: None,
    };

    const WEBHOOK: Expect<'static> = Expect {
        status: 200,
        schema: "duix/webhook.response",
        success: &|_| Ok(()),
        sse_event: Some("duix/webhook.sse-event"),
    };

    #[test]
    fn a_violation_names_the_path_but_never_the_value() {
        let v = schemas::Violation {
            instance_path: "/token".into(),
            message: "\"s3cr3t-token\" does not match \"^[a-z]+$\"".into(),
        };
        let reason = violation("aui/login.response", &v);
        assert_eq!(
            reason,
            "breaks aui/login.response at /token: does not match \"^[a-z]+$\""
        );
        assert!(!reason.contains("s3cr3t"));
    }

    #[test]
    fn an_event_stream_must_end_with_is_end() {
        let good = b"data: {\"answer\":\"hel\",\"isEnd\":false}\n\ndata: {\"answer\":\"lo\",\"isEnd\":true}\n\n";
        let answer = judge_sse(200, good, &WEBHOOK).unwrap();
        assert_eq!(answer["answer"], "hello");
        let cut = b"data: {\"answer\":\"hel\",\"isEnd\":false}\n\n";
        let why = judge_sse(200, cut, &WEBHOOK).unwrap_err().to_string();
        assert_eq!(why, "the event stream ended without isEnd");
        let bad = b"data: {not json}\n\n";
        assert!(judge_sse(200, bad, &WEBHOOK).is_err());
        assert!(
            judge_sse(200, good, &CHECK_SIG).is_err(),
            "SSE where JSON is due"
        );
    }

    #[test]
    fn a_wrong_status_names_status_and_code() {
        let why = judge(500, br#"{"code":"-1","success":false}"#, &CHECK_SIG).unwrap_err();
        assert_eq!(why.to_string(), "HTTP 500 code -1, expected 200");
        assert!(!is_refusal(&why.to_string()));
    }

    #[test]
    fn a_refusal_of_the_credentials_is_said_first_in_any_status() {
        let refusals: [(u16, &[u8]); 5] = [
            (401, br#"{"code":"40001","success":false}"#),
            (403, b"<html>forbidden</html>"),
            (
                200,
                br#"{"code":"40001","message":"appid","success":false}"#,
            ),
            (
                404,
                br#"{"Code":"InvalidAccessKeyId.NotFound","RequestId":"r"}"#,
            ),
            (400, br#"{"Code":"SignatureDoesNotMatch","RequestId":"r"}"#),
        ];
        for (status, body) in refusals {
            let why = judge(status, body, &CHECK_SIG).unwrap_err().to_string();
            assert!(is_refusal(&why), "{status}: {why}");
        }
        let why = judge(401, br#"{"code":"40001","success":false}"#, &CHECK_SIG).unwrap_err();
        assert_eq!(
            why.to_string(),
            "refused: HTTP 401 code 40001, expected 200"
        );
        let not_refusals: [(u16, &[u8]); 3] = [
            (200, r#"{"code":401,"message":"参数错误"}"#.as_bytes()),
            (400, br#"{"Code":"MissingInstanceId","RequestId":"r"}"#),
            (200, br#"{"code":"1009","success":false}"#),
        ];
        for (status, body) in not_refusals {
            let why = judge(status, body, &CHECK_SIG).unwrap_err().to_string();
            assert!(!is_refusal(&why), "{status}: {why}");
        }
    }

    #[test]
    fn a_wrong_shape_names_the_schema_and_the_path() {
        let why = judge(200, br#"{"code":"0","success":true,"data":7}"#, &CHECK_SIG)
            .unwrap_err()
            .to_string();
        assert!(why.starts_with("breaks duix/checkSig.response"), "{why}");
    }

    #[test]
    fn a_body_that_is_not_json_is_broken() {
        let why = judge(200, b"<html>", &CHECK_SIG).unwrap_err();
        assert_eq!(why.to_string(), "HTTP 200 body is not JSON");
    }
}
