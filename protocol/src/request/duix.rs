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
    fn v1_calls_carry_the_token_header() {
        let request = get(GET_CONCURRENT_NUMBER, &[], Some("jwt".into()));
        assert_eq!(request.path_and_query, GET_CONCURRENT_NUMBER);
        assert_eq!(request.header("token"), Some("jwt"));
    }
}
