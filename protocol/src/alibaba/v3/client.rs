//! The client side of V3: every header to send for one signed request.
//!
//! The harness and the AUI reference server call upstream with it, as tea-openapi's `callApi`
//! does: `POST /?<params>`, empty body, six `x-acs-*`/`host` headers, all signed.

use super::{assemble, canonical_query, hash_payload, sign, Authorization};

/// What a client needs to sign one V3 request.
///
/// The client sends `method` to `path?{canonical_query(params)}` with `body` and the headers
/// [`sign_request`] returns. No `Debug`: it holds the secret.
#[derive(Clone, Copy)]
pub struct SignInput<'a> {
    /// HTTP method, uppercase (`POST` for RPC APIs).
    pub method: &'a str,
    /// Value of the `host` header, e.g. `ice.cn-shanghai.aliyuncs.com` or `127.0.0.1:8080`.
    pub host: &'a str,
    /// URI path as sent, percent-encoded (`/` for RPC APIs).
    pub path: &'a str,
    /// Query params (unencoded).
    pub params: &'a [(String, String)],
    /// Request body; empty for query-only RPC calls.
    pub body: &'a [u8],
    /// `content-type` to send and sign, if the request has a body.
    pub content_type: Option<&'a str>,
    /// API name, e.g. `StartAIAgentInstance`.
    pub action: &'a str,
    /// API version, e.g. `2020-11-09`.
    pub version: &'a str,
    /// AccessKey id, the `Credential`.
    pub access_key_id: &'a str,
    /// AccessKey secret, the HMAC key.
    pub secret: &'a str,
    /// `x-acs-date`, UTC `yyyy-MM-ddTHH:mm:ssZ` (see [`crate::alibaba::timestamp::format_utc`]).
    pub date: &'a str,
    /// `x-acs-signature-nonce`, unique per request.
    pub nonce: &'a str,
}

/// Every header to send, lowercase names, `authorization` last; all but it are signed.
pub fn sign_request(input: SignInput<'_>) -> Vec<(String, String)> {
    sign_request_with_query(input, &canonical_query(input.params))
}

/// [`sign_request`] for a client that already holds `query`, the [`canonical_query`] of
/// `input.params` it sends: the query is not built twice.
pub fn sign_request_with_query(input: SignInput<'_>, query: &str) -> Vec<(String, String)> {
    let payload_hash = hash_payload(input.body);
    let mut headers: Vec<(String, String)> = [
        ("host", input.host.to_string()),
        ("x-acs-action", input.action.to_string()),
        ("x-acs-version", input.version.to_string()),
        ("x-acs-date", input.date.to_string()),
        ("x-acs-signature-nonce", input.nonce.to_string()),
        ("x-acs-content-sha256", payload_hash.clone()),
    ]
    .into_iter()
    .chain(input.content_type.map(|c| ("content-type", c.to_string())))
    .map(|(n, v)| (n.to_string(), v.trim().to_string()))
    .collect();
    headers.sort();
    let canonical = assemble(input.method, input.path, query, &headers, &payload_hash);
    let authorization = Authorization {
        access_key_id: input.access_key_id.to_string(),
        signed_headers: headers.iter().map(|(n, _)| n.clone()).collect(),
        signature: sign(&canonical, input.secret),
    };
    headers.push(("authorization".to_string(), authorization.to_string()));
    headers
}

#[cfg(test)]
mod tests {
    use super::super::*;
    use proptest::prelude::*;

    fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
        items
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn names(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    const DOC_CANONICAL: &str = "POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-shanghai\nhost:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\nx-acs-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-acs-date:2023-10-26T10:22:32Z\nx-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\nx-acs-version:2014-05-26\n\nhost;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const DOC_SIGNATURE: &str = "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0";

    fn doc_params() -> Vec<(String, String)> {
        pairs(&[
            ("RegionId", "cn-shanghai"),
            (
                "ImageId",
                "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd",
            ),
        ])
    }

    fn doc_input(params: &[(String, String)]) -> SignInput<'_> {
        SignInput {
            method: "POST",
            host: "ecs.cn-shanghai.aliyuncs.com",
            path: "/",
            params,
            body: b"",
            content_type: None,
            action: "RunInstances",
            version: "2014-05-26",
            access_key_id: "YourAccessKeyId",
            secret: "YourAccessKeySecret",
            date: "2023-10-26T10:22:32Z",
            nonce: "3156853299f313e23d1673dc12e1703d",
        }
    }

    #[test]
    fn vector_1_doc_example_canonical_request_hash_and_signature() {
        let params = doc_params();
        let headers = sign_request(doc_input(&params));
        let auth = headers.last().map(|(_, v)| v.as_str());
        assert_eq!(
            auth,
            Some("ACS3-HMAC-SHA256 Credential=YourAccessKeyId,SignedHeaders=host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,Signature=06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0")
        );
        let signed = names(&REQUIRED_SIGNED_HEADERS);
        let canonical = canonical_request(
            "POST",
            "/",
            &params,
            &headers,
            &signed,
            EMPTY_PAYLOAD_SHA256,
        )
        .unwrap();
        assert_eq!(canonical, DOC_CANONICAL);
        assert_eq!(
            string_to_sign(&canonical),
            "ACS3-HMAC-SHA256\n7ea06492da5221eba5297e897ce16e55f964061054b7695beedaac1145b1e259"
        );
        assert_eq!(sign(&canonical, "YourAccessKeySecret"), DOC_SIGNATURE);
        assert!(verify(&canonical, "YourAccessKeySecret", DOC_SIGNATURE).is_ok());
    }
    /// Replaces the char at `index % len` with another one; inserts if empty.
    fn tamper(s: &str, index: usize) -> String {
        let mut chars: Vec<char> = s.chars().collect();
        if chars.is_empty() {
            return "x".into();
        }
        let i = index % chars.len();
        chars[i] = if chars[i] == 'a' { 'b' } else { 'a' };
        chars.into_iter().collect()
    }

    /// A request as a client signs it and a server receives it.
    #[derive(Debug, Clone)]
    struct Case {
        method: String,
        path: String,
        params: Vec<(String, String)>,
        action: String,
        body: Vec<u8>,
        secret: String,
    }

    fn arb_case() -> impl Strategy<Value = Case> {
        (
            "[A-Z]{1,7}",
            "/[a-zA-Z0-9%/]{0,12}",
            proptest::collection::vec(("[A-Za-z][A-Za-z.]{0,8}", any::<String>()), 0..5),
            "[A-Za-z]{1,20}",
            proptest::collection::vec(any::<u8>(), 0..64),
            any::<String>(),
        )
            .prop_map(|(method, path, params, action, body, secret)| Case {
                method,
                path,
                params,
                action,
                body,
                secret,
            })
    }

    /// Signs `c` as a client would: the headers sent, with the authorization header last.
    fn client_headers(c: &Case) -> Vec<(String, String)> {
        sign_request(SignInput {
            method: &c.method,
            host: "127.0.0.1:9000",
            path: &c.path,
            params: &c.params,
            body: &c.body,
            content_type: Some("application/json; charset=utf-8"),
            action: &c.action,
            version: "2020-11-09",
            access_key_id: "testid",
            secret: &c.secret,
            date: "2025-07-18T06:39:08Z",
            nonce: "n1",
        })
    }

    /// Verifies `c` as a server would, from the headers it received.
    fn server_verify(c: &Case, headers: &[(String, String)]) -> Result<(), SignatureMismatch> {
        let auth_value = headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .map(|(_, v)| v);
        let auth = parse_authorization(auth_value.expect("client sends authorization"))
            .expect("client authorization parses");
        assert_eq!(missing_required_signed(&auth), None);
        let payload_hash = hash_payload(&c.body);
        let canonical = canonical_request(
            &c.method,
            &c.path,
            &c.params,
            headers,
            &auth.signed_headers,
            &payload_hash,
        )
        .expect("client signs only headers it sends");
        verify(&canonical, &c.secret, &auth.signature)
    }

    proptest! {
        #[test]
        fn sign_then_verify_passes(c in arb_case()) {
            let headers = client_headers(&c);
            prop_assert!(server_verify(&c, &headers).is_ok());
        }

        #[test]
        fn changing_any_signed_part_fails(
            c in arb_case(), which in 0..6usize, at in any::<usize>(), row in any::<usize>()
        ) {
            let mut headers = client_headers(&c);
            let mut server = c.clone();
            match which {
                0 => server.method = tamper(&c.method, at),
                1 => server.path = tamper(&c.path, at),
                2 if !c.params.is_empty() => {
                    let r = row % c.params.len();
                    server.params[r].1 = tamper(&c.params[r].1, at);
                }
                2 => server.params.push(("x".into(), "y".into())),
                3 => {
                    let r = row % (headers.len() - 1);
                    headers[r].1 = tamper(&headers[r].1, at);
                }
                4 if !c.body.is_empty() => server.body[at % c.body.len()] ^= 1,
                4 => server.body.push(0),
                _ => server.secret = tamper(&c.secret, at),
            }
            let result = server_verify(&server, &headers);
            prop_assert!(matches!(result, Err(SignatureMismatch { .. })), "{:?}", result);
        }
    }
}
