//! The Alibaba mock's V1 path (RPC, HMAC-SHA1, params in the query or a form body): the raw query
//! and body as the server receives them, through `Alibaba::answer` (the gateway's parse of
//! `mocks::alibaba::gateway::ApiRequest`, `protocol::alibaba::encoding::parse_query`, the checks,
//! the action, the JSON/XML envelope) and the route key the edge computes from the raw URI.
//!
//! Input: one flag byte, the query (after `?`), `\n`, the body.
//! Flags: bit 0 POST (else GET); bits 1-2 Content-Type (none, form, JSON, text/plain); bit 3 sign
//! the decoded params with the demo secret and append `Signature`, so that inputs get past the
//! HMAC into the actions and their validators; bit 4 send the request twice (nonce replay).

#![no_main]

use agentproof_fuzz::{fresh_alibaba, split_at_byte, ALIBABA_SECRET};
use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};
use libfuzzer_sys::fuzz_target;
use mocks::alibaba::gateway::ApiRequest;
use mocks::Platform;
use protocol::alibaba::encoding::{parse_query, percent_encode};
use protocol::alibaba::v1;

const CONTENT_TYPES: [Option<&str>; 4] = [
    None,
    Some("application/x-www-form-urlencoded"),
    Some("application/json"),
    Some("text/plain"),
];

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (query, body) = split_at_byte(rest, b'\n');
    let Ok(query) = std::str::from_utf8(query) else {
        return;
    };
    // The parser alone, on any text (the gateway only ever sees what a URI allows).
    let _ = parse_query(query);

    let method = if flags & 1 == 0 {
        Method::GET
    } else {
        Method::POST
    };
    let mut headers = HeaderMap::new();
    if let Some(content_type) = CONTENT_TYPES[usize::from((flags >> 1) & 3)] {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    let body = Bytes::copy_from_slice(body);
    let Ok(mut uri) = format!("/?{query}").parse::<Uri>() else {
        return;
    };
    if flags & 8 != 0 {
        if let Some(signed) = signed_uri(&method, &uri, &headers, &body) {
            uri = signed;
        }
    }

    let alibaba = fresh_alibaba();
    let _ = alibaba.route_key(&method, &uri, &headers);
    let times = if flags & 16 == 0 { 1 } else { 2 };
    for _ in 0..times {
        let _ = alibaba.answer(&method, &uri, &headers, body.clone(), "fuzz");
    }
});

/// The URI with a correct `Signature` of the params as the gateway decodes them (query and body).
fn signed_uri(method: &Method, uri: &Uri, headers: &HeaderMap, body: &Bytes) -> Option<Uri> {
    let request = ApiRequest::parse(method, uri, headers, body.clone()).ok()?;
    let params: Vec<(String, String)> = request.query.into_iter().chain(request.form).collect();
    let signature = v1::sign(method.as_str(), &params, ALIBABA_SECRET);
    let query = uri.query().unwrap_or("");
    let separator = if query.is_empty() { "" } else { "&" };
    let signed = format!(
        "/?{query}{separator}{}={}",
        v1::SIGNATURE_PARAM,
        percent_encode(&signature)
    );
    signed.parse().ok()
}
