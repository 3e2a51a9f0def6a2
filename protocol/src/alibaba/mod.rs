//! Alibaba Cloud OpenAPI: the wire rules the RTC (2018-01-11) and ICE (2020-11-09) gateways share.
//!
//! Split by concern, each file usable on its own by a client (harness, scenarios) or a server (mocks):
//! - [`encoding`]: RFC 3986 percent-encoding both signatures use, strict decoding, query parsing;
//! - [`v1`]: the RPC signature (HMAC-SHA1, `SignatureVersion=1.0`), params in query or form body;
//! - [`v3`]: `ACS3-HMAC-SHA256`, the `Authorization` header the current SDKs send;
//! - [`timestamp`]: the `Timestamp` / `x-acs-date` format, the clock-skew and nonce windows;
//! - [`errors`]: the gateway error catalog (code, HTTP status, message) as data;
//! - [`llm`]: the agent's calls to a third-party LLM (the OpenAI streaming chat completion).
//!
//! Facts and test vectors come from PROTOCOLS.md §1 and §2.

pub mod encoding;
pub mod errors;
pub mod llm;
pub mod timestamp;
pub mod v1;
pub mod v3;

pub use errors::ApiError;

use encoding::percent_encode;

/// Params sorted by raw key bytes, then percent-encoded; `keep` filters by raw key.
///
/// Every official SDK sorts the unencoded keys (Python `sorted`, Go `sort.Strings`, Java
/// `TreeMap`). The sort is stable so a repeated key keeps its values in request order, as Go's
/// `url.Values` does.
fn encoded_sorted(
    params: &[(String, String)],
    keep: impl Fn(&str) -> bool,
) -> impl Iterator<Item = (String, String)> + '_ {
    let mut sorted: Vec<&(String, String)> = params.iter().filter(|(k, _)| keep(k)).collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    sorted
        .into_iter()
        .map(|(k, v)| (percent_encode(k), percent_encode(v)))
}

/// `k=v` pairs joined with `&`: the canonical query both versions sign.
fn join_pairs(pairs: impl Iterator<Item = (String, String)>) -> String {
    pairs
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}
