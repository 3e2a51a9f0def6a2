//! V3 signature `ACS3-HMAC-SHA256`, sent in the `Authorization` header (PROTOCOLS.md §1.2).
//!
//! The current ICE and RTC SDKs sign this way. A verifier rebuilds the canonical request from the
//! headers named in the `Authorization`'s `SignedHeaders` (newer SDKs sign every header they send,
//! older ones only `host`, `content-type` and `x-acs-*`), so nothing here filters headers by name.
//! The key is the secret as is (no `&`, unlike V1).
//!
//! Server side: [`parse_authorization`], [`missing_required_signed`] (in [`authorization`]),
//! then [`canonical_request`] and [`verify`] here. Client side: [`sign_request`] (in [`client`])
//! gives every header to send.

pub mod authorization;
pub mod client;

pub use authorization::{
    missing_required_signed, parse_authorization, Authorization, AuthorizationError,
    REQUIRED_SIGNED_HEADERS,
};
pub use client::{sign_request, sign_request_with_query, SignInput};

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The only algorithm this module signs and verifies.
pub const ALGORITHM: &str = "ACS3-HMAC-SHA256";

/// Lowercase hex SHA-256 of an empty body, the payload hash of every query-only request.
pub const EMPTY_PAYLOAD_SHA256: &str =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Lowercase hex SHA-256 of the body, the value of `x-acs-content-sha256`.
pub fn hash_payload(body: &[u8]) -> String {
    if body.is_empty() {
        // Every query-only call: known without hashing.
        return EMPTY_PAYLOAD_SHA256.to_string();
    }
    hex::encode(Sha256::digest(body))
}

/// Params sorted by key bytes, `pe(k)=pe(v)` joined with `&`; an empty value gives `k=`.
pub fn canonical_query(params: &[(String, String)]) -> String {
    crate::alibaba::canonical_pairs(params, |_| true)
}

/// The old Python util's form, where an empty value gives a bare `k` (no `=`).
///
/// No current SDK sends it; a lenient verifier may try it after [`canonical_query`] fails.
pub fn canonical_query_legacy(params: &[(String, String)]) -> String {
    crate::alibaba::encoded_sorted(params, |_| true)
        .map(|(k, v)| if v.is_empty() { k } else { format!("{k}={v}") })
        .collect::<Vec<_>>()
        .join("&")
}

/// A header named in `SignedHeaders` is not in the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signed header {name:?} is not in the request")]
pub struct MissingSignedHeader {
    /// The signed header's name, lowercase.
    pub name: String,
}

/// Builds the canonical request a client signed.
///
/// - `method` is used as given (SDKs send it uppercase);
/// - `path` is the URI path as sent on the wire, already percent-encoded (`/` for RPC APIs); the
///   SDKs sign the same string they put in the request line, so it is not re-encoded;
/// - `headers` are all request headers, any case, repeats allowed; each name of
///   `signed_headers` is looked up case-insensitively, its values trimmed, repeats sorted and
///   joined with `,`;
/// - `payload_hash` is the `x-acs-content-sha256` value (hex SHA-256 of the body).
pub fn canonical_request(
    method: &str,
    path: &str,
    params: &[(String, String)],
    headers: &[(String, String)],
    signed_headers: &[String],
    payload_hash: &str,
) -> Result<String, MissingSignedHeader> {
    let query = canonical_query(params);
    with_query(method, path, &query, headers, signed_headers, payload_hash)
}

/// [`canonical_request`] with the legacy query of [`canonical_query_legacy`].
pub fn canonical_request_legacy(
    method: &str,
    path: &str,
    params: &[(String, String)],
    headers: &[(String, String)],
    signed_headers: &[String],
    payload_hash: &str,
) -> Result<String, MissingSignedHeader> {
    let query = canonical_query_legacy(params);
    with_query(method, path, &query, headers, signed_headers, payload_hash)
}

/// The canonical request around an already canonical query (current or legacy form).
fn with_query(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    signed_headers: &[String],
    payload_hash: &str,
) -> Result<String, MissingSignedHeader> {
    let lines = signed_header_lines(headers, signed_headers)?;
    Ok(assemble(method, path, query, &lines, payload_hash))
}

/// `(lowercase name, canonical value)` for each signed header, sorted and deduplicated by name.
fn signed_header_lines(
    headers: &[(String, String)],
    signed_headers: &[String],
) -> Result<Vec<(String, String)>, MissingSignedHeader> {
    let mut names: Vec<String> = signed_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let mut values: Vec<&str> = headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(&name))
                .map(|(_, v)| v.trim())
                .collect();
            if values.is_empty() {
                return Err(MissingSignedHeader { name });
            }
            values.sort_unstable();
            let joined = values.join(",");
            Ok((name, joined))
        })
        .collect()
}

/// Joins the six parts; `lines` are sorted `(lowercase name, value)` pairs. Written into one
/// string: it is built for every signed and every verified call.
fn assemble(
    method: &str,
    path: &str,
    query: &str,
    lines: &[(String, String)],
    payload_hash: &str,
) -> String {
    let header_bytes: usize = lines.iter().map(|(n, v)| 2 * n.len() + v.len() + 3).sum();
    let mut out = String::with_capacity(
        method.len() + path.len() + query.len() + header_bytes + payload_hash.len() + 5,
    );
    for part in [method, "\n", path, "\n", query, "\n"] {
        out.push_str(part);
    }
    for (name, value) in lines {
        out.push_str(name);
        out.push(':');
        out.push_str(value);
        out.push('\n');
    }
    out.push('\n');
    for (i, (name, _)) in lines.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// `ACS3-HMAC-SHA256\n` + lowercase hex SHA-256 of the canonical request.
pub fn string_to_sign(canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{}",
        hash_payload(canonical_request.as_bytes())
    )
}

/// Lowercase hex HMAC-SHA256 of the string to sign, keyed with the secret.
pub fn sign(canonical_request: &str, secret: &str) -> String {
    hmac_sha256_hex(&string_to_sign(canonical_request), secret)
}

/// The signature a request carried differs from the one computed here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signature does not match; server canonical request is: {canonical_request:?}")]
pub struct SignatureMismatch {
    /// What the server rebuilt from the request.
    pub canonical_request: String,
    /// `ACS3-HMAC-SHA256\n<hash>` the server signed.
    pub string_to_sign: String,
}

/// Checks `signature` (the `Authorization`'s `Signature` part) in constant time.
///
/// Hex case matters: the SDKs send lowercase and so does [`sign`].
pub fn verify(
    canonical_request: &str,
    secret: &str,
    signature: &str,
) -> Result<(), SignatureMismatch> {
    let string_to_sign = string_to_sign(canonical_request);
    let expected = hmac_sha256_hex(&string_to_sign, secret);
    if bool::from(expected.as_bytes().ct_eq(signature.as_bytes())) {
        Ok(())
    } else {
        Err(SignatureMismatch {
            canonical_request: canonical_request.to_string(),
            string_to_sign,
        })
    }
}

/// Why a received request's V3 signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestSignatureError {
    /// A header named in `SignedHeaders` is not in the request.
    #[error(transparent)]
    MissingSignedHeader(#[from] MissingSignedHeader),
    /// The signature is not the one the request's parts give with this secret.
    #[error("signature does not match")]
    Mismatch,
}

/// A received V3 request as its signature covers it. No `Debug` needed: it holds no secret.
#[derive(Clone, Copy)]
pub struct Received<'a> {
    /// HTTP method as sent.
    pub method: &'a str,
    /// URI path as sent (percent-encoded).
    pub path: &'a str,
    /// The decoded query params.
    pub params: &'a [(String, String)],
    /// Every request header, any case.
    pub headers: &'a [(String, String)],
    /// The request's `x-acs-content-sha256`.
    pub payload_hash: &'a str,
}

impl Received<'_> {
    fn canonical(
        &self,
        headers: &[(String, String)],
        signed: &[String],
        legacy: bool,
    ) -> Result<String, MissingSignedHeader> {
        let build = if legacy {
            canonical_request_legacy
        } else {
            canonical_request
        };
        build(
            self.method,
            self.path,
            self.params,
            headers,
            signed,
            self.payload_hash,
        )
    }
}

/// Verifies a received request's signature: the canonical request rebuilt from its parts and
/// `auth`'s `SignedHeaders`, with today's canonical query, then with the old Python util's form
/// (`k` instead of `k=` for empty values), which only differs when some value is empty.
pub fn verify_request(
    request: &Received<'_>,
    auth: &Authorization,
    secret: &str,
) -> Result<(), RequestSignatureError> {
    let signed = &auth.signed_headers;
    let current = request.canonical(request.headers, signed, false)?;
    if verify(&current, secret, &auth.signature).is_ok() {
        return Ok(());
    }
    if request.params.iter().any(|(_, v)| v.is_empty()) {
        let legacy = request.canonical(request.headers, signed, true)?;
        if verify(&legacy, secret, &auth.signature).is_ok() {
            return Ok(());
        }
    }
    Err(RequestSignatureError::Mismatch)
}

/// The `Authorization` for the same request sent with `host` as its `host` header: the same
/// signed headers (their other values as received), signed again with `secret`. What a proxy
/// forwarding to another host does when the client signed `host`.
pub fn resign_for_host(
    request: &Received<'_>,
    auth: &Authorization,
    host: &str,
    secret: &str,
) -> Result<String, MissingSignedHeader> {
    let moved: Vec<(String, String)> = request
        .headers
        .iter()
        .filter(|(name, _)| !name.eq_ignore_ascii_case("host"))
        .cloned()
        .chain([("host".to_string(), host.to_string())])
        .collect();
    let canonical = request.canonical(&moved, &auth.signed_headers, false)?;
    let resigned = Authorization {
        signature: sign(&canonical, secret),
        ..auth.clone()
    };
    Ok(resigned.to_string())
}

fn hmac_sha256_hex(string_to_sign: &str, secret: &str) -> String {
    // HMAC accepts keys of any length, so this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(string_to_sign.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn names(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn util_headers() -> Vec<(String, String)> {
        pairs(&[("x-acs-test", "http"), ("x-acs-TEST", "https")])
    }

    const UTIL_PAYLOAD: &str = "55e12e91650d2fec56ec74e1d3e4ddbfce2ef3a65890c2a19ecf88a307e76a23";

    #[test]
    fn vector_2_go_util_joins_repeated_headers_and_signs_empty_values_with_equals() {
        let params = pairs(&[("test", "ok"), ("empty", "")]);
        assert_eq!(canonical_query(&params), "empty=&test=ok");
        let signed = names(&["x-acs-test"]);
        // The Go test leaves the pathname empty; the current util signs it as "/".
        let canonical =
            canonical_request("", "/", &params, &util_headers(), &signed, UTIL_PAYLOAD).unwrap();
        assert!(canonical.contains("\nx-acs-test:http,https\n"));
        assert_eq!(
            sign(&canonical, "secret"),
            "4ab59fffe3c5738ff8a2729f90cc04fe18b02a4b15b2102cbaf92f9ff3df2ea3"
        );
    }

    #[test]
    fn vector_3_legacy_python_form_omits_equals_for_empty_values() {
        let params = pairs(&[("test", "ok"), ("empty", "")]);
        assert_eq!(canonical_query_legacy(&params), "empty&test=ok");
        let signed = names(&["x-acs-test"]);
        let canonical =
            canonical_request_legacy("GET", "", &params, &util_headers(), &signed, UTIL_PAYLOAD)
                .unwrap();
        assert_eq!(
            sign(&canonical, "secret"),
            "da772425f29289d3460d5fc961455d40c5e8c6afd0888b78a910c991e6a14846"
        );
    }

    #[test]
    fn vector_4_query_values_are_percent_encoded() {
        assert_eq!(
            canonical_query(&pairs(&[("test", " ~/*-+")])),
            "test=%20~%2F%2A-%2B"
        );
    }

    #[test]
    fn empty_payload_hash_is_sha256_of_nothing() {
        assert_eq!(hash_payload(b""), EMPTY_PAYLOAD_SHA256);
    }

    #[test]
    fn a_signed_header_absent_from_the_request_is_reported() {
        let err = canonical_request(
            "POST",
            "/",
            &[],
            &[],
            &names(&["Host"]),
            EMPTY_PAYLOAD_SHA256,
        );
        assert_eq!(
            err,
            Err(MissingSignedHeader {
                name: "host".into()
            })
        );
    }

    #[test]
    fn a_request_resigned_for_another_host_verifies_there_and_not_at_the_first() {
        let params = pairs(&[("InstanceId", "i-1"), ("Empty", "")]);
        let headers = sign_request(SignInput {
            method: "POST",
            host: "127.0.0.1:18700",
            path: "/",
            params: &params,
            body: b"",
            content_type: None,
            action: "DescribeAIAgentInstance",
            version: "2020-11-09",
            access_key_id: "testid",
            secret: "testsecret",
            date: "2025-07-18T06:39:08Z",
            nonce: "0123456789abcdef0123456789abcdef",
        });
        let auth = parse_authorization(&headers.last().unwrap().1).unwrap();
        let received = |headers| Received {
            method: "POST",
            path: "/",
            params: &params,
            headers,
            payload_hash: EMPTY_PAYLOAD_SHA256,
        };
        let check =
            |headers, auth: &Authorization| verify_request(&received(headers), auth, "testsecret");
        assert_eq!(check(&headers, &auth), Ok(()));
        let host = "ice.cn-shanghai.aliyuncs.com";
        let resigned = resign_for_host(&received(&headers), &auth, host, "testsecret").unwrap();
        let resigned = parse_authorization(&resigned).unwrap();
        assert_eq!(resigned.signed_headers, auth.signed_headers);
        let mut moved = headers.clone();
        moved.retain(|(n, _)| n != "host");
        moved.push(("host".into(), host.into()));
        assert_eq!(check(&moved, &resigned), Ok(()));
        assert_eq!(
            check(&headers, &resigned),
            Err(RequestSignatureError::Mismatch)
        );
        assert_eq!(check(&moved, &auth), Err(RequestSignatureError::Mismatch));
    }

    #[test]
    fn headers_are_matched_case_insensitively_and_trimmed() {
        let headers = pairs(&[("HOST", "  h.example  "), ("Accept", "application/json")]);
        let canonical = canonical_request(
            "POST",
            "/",
            &[],
            &headers,
            &names(&["host"]),
            EMPTY_PAYLOAD_SHA256,
        )
        .unwrap();
        assert_eq!(
            canonical,
            format!("POST\n/\n\nhost:h.example\n\nhost\n{EMPTY_PAYLOAD_SHA256}")
        );
    }
}
