//! Alibaba Cloud OpenAPI calls as the official SDKs send them: `POST /?<params>`, an empty
//! body, and the V3 (`ACS3-HMAC-SHA256`) headers of [`crate::alibaba::v3::sign_request`].

use super::HttpRequest;
use crate::alibaba::v3;

/// RTC's API version, for the agent-task actions.
pub const RTC_VERSION: &str = "2018-01-11";
/// ICE's API version, for the AI-agent instance actions.
pub const ICE_VERSION: &str = "2020-11-09";

/// The API version of an action: RTC 2018-01-11 for the agent-task APIs, ICE 2020-11-09
/// otherwise.
pub fn api_version(action: &str) -> &'static str {
    match action {
        "StartAgent" | "StopAgent" | "UpdateAgent" | "GetAgent" => RTC_VERSION,
        _ => ICE_VERSION,
    }
}

/// Whether an action only reads (RTC `GetAgent`, ICE `DescribeAIAgentInstance`): sending it again,
/// re-signed with a fresh nonce, changes nothing on the platform. Every other action starts,
/// stops, changes or issues something.
pub fn is_read(action: &str) -> bool {
    matches!(action, "GetAgent" | "DescribeAIAgentInstance")
}

/// The route template an action is timed under: `alibaba <Action>`.
pub fn route(action: &str) -> String {
    format!("alibaba {action}")
}

/// One RPC call to sign. No `Debug`: it holds the secret.
#[derive(Clone, Copy)]
pub struct Call<'a> {
    /// HTTP method, `POST` as the SDKs send it.
    pub method: &'static str,
    /// `host` header value the target sees, e.g. `127.0.0.1:18601`.
    pub host: &'a str,
    /// API name, e.g. `StartAgent`.
    pub action: &'a str,
    /// API version; [`api_version`] of the action unless a test spoils it.
    pub version: &'a str,
    /// Query params, unencoded.
    pub params: &'a [(String, String)],
    /// AccessKey id.
    pub access_key_id: &'a str,
    /// AccessKey secret.
    pub secret: &'a str,
    /// `x-acs-date`, see [`crate::alibaba::timestamp::format_utc`].
    pub date: &'a str,
    /// `x-acs-signature-nonce`: fresh for every request ([`fresh_nonce`]).
    pub nonce: &'a str,
}

/// A nonce no earlier request used: 32 random hex digits, as the SDKs make them.
pub fn fresh_nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The signed request. Its headers are the signed ones (`authorization` last) less `host`,
/// which the HTTP client sends from the URL.
pub fn signed(call: Call<'_>) -> HttpRequest {
    let query = v3::canonical_query(call.params);
    let input = v3::SignInput {
        method: call.method,
        host: call.host,
        path: "/",
        params: call.params,
        body: b"",
        content_type: None,
        action: call.action,
        version: call.version,
        access_key_id: call.access_key_id,
        secret: call.secret,
        date: call.date,
        nonce: call.nonce,
    };
    let mut headers = v3::sign_request_with_query(input, &query);
    headers.retain(|(name, _)| name != "host");
    HttpRequest {
        method: call.method,
        path_and_query: format!("/?{query}"),
        headers,
        body: Vec::new(),
        route: route(call.action),
    }
}

/// The same call signed with V1 (HMAC-SHA1), as the older SDKs send it: the common parameters
/// (`Action`, `Version`, `Format=JSON`, `AccessKeyId`, `SignatureMethod`, `SignatureVersion`,
/// `SignatureNonce` from `nonce`, `Timestamp` from `date`) and `params`, all in the query, no
/// headers. `host` is not signed in V1.
pub fn signed_v1(call: Call<'_>) -> HttpRequest {
    let common = [
        ("Action", call.action),
        ("Version", call.version),
        ("Format", "JSON"),
        ("AccessKeyId", call.access_key_id),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", call.nonce),
        ("Timestamp", call.date),
    ];
    let mut params: Vec<(String, String)> = common
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    params.extend(call.params.iter().cloned());
    let query = crate::alibaba::v1::signed_query(call.method, &params, call.secret);
    HttpRequest {
        method: call.method,
        path_and_query: format!("/?{query}"),
        headers: Vec::new(),
        body: Vec::new(),
        route: route(call.action),
    }
}

/// The `host` header value of a base URL, as an HTTP client sends it: `host[:port]`, lowercase,
/// without user info and without the scheme's default port (what the server sees and
/// verifies). Hosts are taken as ASCII: an internationalised name must be given in punycode.
pub fn host_of(base_url: &str) -> String {
    let (scheme, rest) = base_url.split_once("://").unwrap_or(("http", base_url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" => ":443",
        _ => ":80",
    };
    host.strip_suffix(default_port)
        .unwrap_or(host)
        .to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> Vec<(String, String)> {
        vec![("InstanceId".to_string(), "39f8e0bc005e4f30".to_string())]
    }

    fn call<'a>(params: &'a [(String, String)], nonce: &'a str) -> Call<'a> {
        Call {
            method: "POST",
            host: "127.0.0.1:18601",
            action: "DescribeAIAgentInstance",
            version: api_version("DescribeAIAgentInstance"),
            params,
            access_key_id: "testid",
            secret: "testsecret",
            date: "2025-07-18T06:39:08Z",
            nonce,
        }
    }

    #[test]
    fn only_get_and_describe_are_reads() {
        assert!(is_read("GetAgent") && is_read("DescribeAIAgentInstance"));
        for action in [
            "StartAgent",
            "StartAIAgentInstance",
            "StopAgent",
            "GenerateAIAgentCall",
        ] {
            assert!(!is_read(action), "{action}");
        }
    }

    #[test]
    fn a_v1_call_carries_every_param_in_a_query_that_verifies() {
        let params = params();
        let request = signed_v1(call(&params, "3156853299f313e23d1673dc12e1703d"));
        assert!(request.headers.is_empty());
        let query = request.path_and_query.strip_prefix("/?").unwrap();
        let pairs: Vec<(String, String)> = query
            .split('&')
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap();
                let decode = |s: &str| {
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8()
                        .unwrap()
                        .to_string()
                };
                (decode(k), decode(v))
            })
            .collect();
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(
            get("SignatureNonce"),
            Some("3156853299f313e23d1673dc12e1703d")
        );
        assert_eq!(get("InstanceId"), Some("39f8e0bc005e4f30"));
        let signature = get("Signature").unwrap();
        let v1 = crate::alibaba::v1::verify;
        assert!(v1("POST", &pairs, "testsecret", signature).is_ok());
        assert!(v1("POST", &pairs, "othersecret", signature).is_err());
    }

    #[test]
    fn versions_follow_the_product() {
        assert_eq!(api_version("GetAgent"), RTC_VERSION);
        assert_eq!(api_version("DescribeAIAgentInstance"), ICE_VERSION);
    }

    #[test]
    fn a_signed_call_verifies_as_the_gateway_checks_it() {
        let params = params();
        let request = signed(call(&params, "3156853299f313e23d1673dc12e1703d"));
        assert_eq!(request.path_and_query, "/?InstanceId=39f8e0bc005e4f30");
        assert_eq!(request.route, "alibaba DescribeAIAgentInstance");
        assert_eq!(request.header("host"), None);
        let auth = v3::parse_authorization(request.header("authorization").unwrap()).unwrap();
        let mut headers = request.headers.clone();
        headers.push(("host".into(), "127.0.0.1:18601".into()));
        let canonical = v3::canonical_request(
            "POST",
            "/",
            &params,
            &headers,
            &auth.signed_headers,
            v3::EMPTY_PAYLOAD_SHA256,
        )
        .unwrap();
        assert!(v3::verify(&canonical, "testsecret", &auth.signature).is_ok());
        assert!(v3::verify(&canonical, "othersecret", &auth.signature).is_err());
    }

    #[test]
    fn fresh_nonces_differ() {
        assert_ne!(fresh_nonce(), fresh_nonce());
        assert_eq!(fresh_nonce().len(), 32);
    }

    #[test]
    fn host_of_strips_scheme_userinfo_and_path() {
        assert_eq!(host_of("http://127.0.0.1:18601"), "127.0.0.1:18601");
        assert_eq!(
            host_of("https://ice.cn-shanghai.aliyuncs.com/"),
            "ice.cn-shanghai.aliyuncs.com"
        );
        assert_eq!(
            host_of("http://gw.example:8080/alibaba?x"),
            "gw.example:8080"
        );
        assert_eq!(host_of("http://u:p@h:1/x"), "h:1");
        assert_eq!(host_of("http://h:80/"), "h");
        assert_eq!(host_of("https://h:443"), "h");
        assert_eq!(host_of("https://h:80"), "h:80");
        assert_eq!(host_of("http://Gw.Example:8080"), "gw.example:8080");
    }
}
