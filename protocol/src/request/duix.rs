//! DUIX openapi-v2 requests: GETs carrying the app's HS256 JWT ([`crate::duix::sign_token`])
//! in the `token` header, or in the `sig` query parameter for checkSig (seed 003).

use super::HttpRequest;
use crate::alibaba::encoding::percent_encode;

/// Session check: `sig` is the app's token; the answer names the session WebSocket.
pub const CHECK_SIG: &str = "/duix-openapi-v2/sdk/checkSig";
/// The prefix of the v1 endpoints (`getconcurrentNumber`, `sessionList`, ...).
pub const V1: &str = "/duix-openapi-v2/v1/";
/// The app's concurrent session count and quota.
pub const GET_CONCURRENT_NUMBER: &str = "/duix-openapi-v2/v1/getconcurrentNumber";

/// The route template of a path: `duix GET <path>`.
pub fn route(path: &str) -> String {
    format!("duix GET {path}")
}

/// `GET path?query` (percent-encoded) with `token` in the `token` header when given.
pub fn get(path: &str, query: &[(String, String)], token: Option<String>) -> HttpRequest {
    let mut path_and_query = path.to_string();
    for (i, (k, v)) in query.iter().enumerate() {
        path_and_query.push(if i == 0 { '?' } else { '&' });
        path_and_query.push_str(&percent_encode(k));
        path_and_query.push('=');
        path_and_query.push_str(&percent_encode(v));
    }
    let headers = token
        .map(|t| vec![("token".to_string(), t)])
        .unwrap_or_default();
    HttpRequest {
        method: "GET",
        path_and_query,
        headers,
        body: Vec::new(),
        route: route(path),
    }
}

/// `checkSig?sig=<token>`: the token travels in the query, as the SDK sends it.
pub fn check_sig(sig: &str) -> HttpRequest {
    get(CHECK_SIG, &[("sig".to_string(), sig.to_string())], None)
}

/// The route template of the platform's calls to a vendor webhook.
pub const WEBHOOK_ROUTE: &str = "duix POST webhook dh-question";

/// One question the platform puts to a vendor's dialogue webhook (seed 003).
#[derive(Clone, Copy, Debug)]
pub struct Question<'a> {
    /// The customer's id (`sid`).
    pub sid: &'a str,
    /// The digital human's code (`dh-code`).
    pub dh_code: &'a str,
    /// What the user asked (`dh-question`).
    pub question: &'a str,
    /// The conversation the answer must name again (`dh-conversation-id`).
    pub conversation_id: &'a str,
    /// The previous turns as a JSON text (`dh-context`), `{}` at first.
    pub context: &'a str,
}

/// `POST <webhook URL>` as the platform sends it: the seed's field names, `Accept` offering SSE
/// (asking for it alone when `stream`), and the vendor's bearer token when one is configured.
/// The request goes to the webhook URL itself: [`HttpRequest::url`] of it is that URL.
pub fn webhook_question(
    question: &Question<'_>,
    stream: bool,
    bearer: Option<&str>,
) -> HttpRequest {
    // A struct, not json!: the fields go out in the seed's order (sid first).
    #[derive(serde::Serialize)]
    struct Body<'a> {
        sid: &'a str,
        #[serde(rename = "dh-code")]
        dh_code: &'a str,
        #[serde(rename = "dh-question")]
        question: &'a str,
        #[serde(rename = "dh-conversation-id")]
        conversation_id: &'a str,
        #[serde(rename = "dh-context")]
        context: &'a str,
    }
    let body = Body {
        sid: question.sid,
        dh_code: question.dh_code,
        question: question.question,
        conversation_id: question.conversation_id,
        context: question.context,
    };
    let accept = if stream {
        "text/event-stream"
    } else {
        "application/json, text/event-stream"
    };
    let mut headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        ("accept".to_string(), accept.to_string()),
    ];
    if let Some(token) = bearer {
        headers.push(("authorization".to_string(), format!("Bearer {token}")));
    }
    HttpRequest {
        method: "POST",
        path_and_query: String::new(),
        headers,
        body: serde_json::to_vec(&body).expect("strings always serialize"),
        route: WEBHOOK_ROUTE.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_sig_puts_the_token_in_the_query() {
        let request = check_sig("a.b+c");
        assert_eq!(request.path_and_query, format!("{CHECK_SIG}?sig=a.b%2Bc"));
        assert_eq!(request.header("token"), None);
        assert_eq!(request.route, "duix GET /duix-openapi-v2/sdk/checkSig");
    }

    #[test]
    fn a_webhook_question_has_the_seed_field_names() {
        let question = Question {
            sid: "100003",
            dh_code: "187265485019156480",
            question: "who?",
            conversation_id: "c-1",
            context: "{}",
        };
        let request = webhook_question(&question, false, Some("s3"));
        assert_eq!(
            request.url("http://vendor.example/hook/"),
            "http://vendor.example/hook/"
        );
        assert_eq!(request.header("authorization"), Some("Bearer s3"));
        assert_eq!(
            request.header("accept"),
            Some("application/json, text/event-stream")
        );
        let text = String::from_utf8(request.body.clone()).unwrap();
        assert!(text.starts_with(r#"{"sid":"100003","dh-code""#), "{text}");
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
        assert_eq!(body["dh-conversation-id"], "c-1");
        assert_eq!(body["dh-context"], "{}");
        let streamed = webhook_question(&question, true, None);
        assert_eq!(streamed.header("accept"), Some("text/event-stream"));
        assert_eq!(streamed.header("authorization"), None);
    }

    #[test]
    fn v1_calls_carry_the_token_header() {
        let request = get(GET_CONCURRENT_NUMBER, &[], Some("jwt".into()));
        assert_eq!(request.path_and_query, GET_CONCURRENT_NUMBER);
        assert_eq!(request.header("token"), Some("jwt"));
    }
}
