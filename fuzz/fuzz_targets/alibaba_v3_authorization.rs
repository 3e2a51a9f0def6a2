//! The Alibaba mock's V3 path (`ACS3-HMAC-SHA256`): the `Authorization` header parsed by
//! `protocol::alibaba::v3::parse_authorization` (and printed back: it must parse to the same
//! parts), then a whole request as the server receives it through `Alibaba::answer`: the
//! gateway's header decoding (repeats, non-UTF-8 values, `x-acs-*`), the canonical request rebuilt
//! from the raw headers and query (`v3::canonical_request` and its legacy form), the date, hash,
//! nonce and action checks, the action, the envelope.
//!
//! Input: one flag byte, then an HTTP-shaped text: the request target (`/?query`), `name: value`
//! header lines, a blank line, the body.
//! Flags: bit 0 POST (else GET); bit 1 set `x-acs-content-sha256` to the body's real hash; bit 2
//! sign the request with the demo secret over the headers its `Authorization` names (a correct
//! `Signature` part is appended), so that inputs get past the HMAC; bit 3 send it twice.

#![no_main]

use agentproof_fuzz::{fresh_alibaba, HttpInput, ALIBABA_SECRET};
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use libfuzzer_sys::fuzz_target;
use mocks::alibaba::gateway::ApiRequest;
use mocks::Platform;
use protocol::alibaba::v3;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let input = HttpInput::parse(rest);
    let mut headers = input.headers;
    if let Some(value) = headers.get("authorization") {
        if let Ok(text) = std::str::from_utf8(value.as_bytes()) {
            parse_and_print_back(text);
        }
    }
    let Ok(uri) = Uri::try_from(input.target) else {
        return;
    };
    let method = if flags & 1 == 0 {
        Method::GET
    } else {
        Method::POST
    };
    let body = Bytes::copy_from_slice(input.body);
    if flags & 2 != 0 {
        let hash = v3::hash_payload(&body);
        headers.insert(
            "x-acs-content-sha256",
            HeaderValue::from_str(&hash).expect("hex is a header value"),
        );
    }
    if flags & 4 != 0 {
        sign(&method, &uri, &mut headers, &body);
    }

    let alibaba = fresh_alibaba();
    let _ = alibaba.route_key(&method, &uri, &headers);
    let times = if flags & 8 == 0 { 1 } else { 2 };
    for _ in 0..times {
        let _ = alibaba.answer(&method, &uri, &headers, body.clone(), "fuzz");
    }
});

/// A parsed header prints back as the SDKs send it, and that text parses to the same parts.
fn parse_and_print_back(text: &str) {
    let Ok(auth) = v3::parse_authorization(text) else {
        return;
    };
    let _ = v3::missing_required_signed(&auth);
    let printed = auth.to_string();
    let again = v3::parse_authorization(&printed);
    assert_eq!(again.as_ref(), Ok(&auth), "{text:?} printed as {printed:?}");
}

/// Appends a correct `Signature` part to the `Authorization` header, computed as the gateway
/// will: over its decoded query and headers, with the declared payload hash.
fn sign(method: &Method, uri: &Uri, headers: &mut HeaderMap, body: &Bytes) {
    let Some(Ok(text)) = headers.get("authorization").map(|v| v.to_str()) else {
        return;
    };
    let text = text.to_string();
    let Ok(auth) = v3::parse_authorization(&text) else {
        return;
    };
    // Signing the header that carries the signature cannot be done; the gateway refuses it.
    if auth
        .signed_headers
        .iter()
        .any(|h| h.eq_ignore_ascii_case("authorization"))
    {
        return;
    }
    let Ok(request) = ApiRequest::parse(method, uri, headers, body.clone()) else {
        return;
    };
    let hash = request
        .header("x-acs-content-sha256")
        .unwrap_or(v3::EMPTY_PAYLOAD_SHA256);
    let Ok(canonical) = v3::canonical_request(
        &request.method,
        &request.path,
        &request.query,
        &request.headers,
        &auth.signed_headers,
        hash,
    ) else {
        return;
    };
    let signed = format!("{text},Signature={}", v3::sign(&canonical, ALIBABA_SECRET));
    if let Ok(value) = HeaderValue::from_str(&signed) {
        headers.insert("authorization", value);
    }
}
