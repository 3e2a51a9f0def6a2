//! Test helpers for the Alibaba mock: a server on a real socket, and clients that sign V1 and V3
//! requests with protocol's signers (or break them on purpose).

#![allow(dead_code)]

use mocks::alibaba::{start, AlibabaConfig, Credential};
use mocks::{MockServer, VirtualClock};
use protocol::alibaba::timestamp::format_utc;
use protocol::alibaba::{v1, v3};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

pub const KEY: &str = "LTAI5tAgentproofDemoKey";
pub const SECRET: &str = "AgentproofDemoSecret0123456789";
pub const RTC: &str = "2018-01-11";
pub const ICE: &str = "2020-11-09";

/// An answer, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// `Code` of an error envelope ("" when absent).
    pub fn code(&self) -> String {
        self.json()["Code"].as_str().unwrap_or("").to_string()
    }

    pub fn message(&self) -> String {
        self.json()["Message"].as_str().unwrap_or("").to_string()
    }

    /// Asserts an error envelope with this status and code, all five fields present.
    pub fn assert_error(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status, status, "{code}: {}", self.body);
        let json = self.json();
        assert_eq!(json["Code"], code, "{}", self.body);
        for field in ["RequestId", "HostId", "Message", "Recommend"] {
            assert!(json[field].is_string(), "{field} missing: {}", self.body);
        }
        let header = self
            .headers
            .get("x-acs-request-id")
            .and_then(|v| v.to_str().ok());
        assert_eq!(
            header,
            json["RequestId"].as_str(),
            "request id header and body agree"
        );
        self
    }

    pub fn assert_ok(&self) -> Value {
        assert_eq!(self.status, 200, "{}", self.body);
        let json = self.json();
        assert!(json["RequestId"].is_string(), "{}", self.body);
        json
    }
}

/// A V3 request before signing; change any part, then [`Mock::send_v3`].
#[derive(Clone, Debug)]
pub struct V3 {
    pub method: String,
    pub action: String,
    pub version: String,
    pub params: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub content_type: Option<String>,
    pub key: String,
    pub secret: String,
    pub date: String,
    pub nonce: String,
}

pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub fn nonce() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A running mock and a client.
pub struct Mock {
    pub server: MockServer,
    pub http: reqwest::Client,
}

impl Mock {
    pub async fn start() -> Mock {
        Mock::with(AlibabaConfig::default()).await
    }

    pub async fn with(config: AlibabaConfig) -> Mock {
        let server = start(config, VirtualClock::new(), "127.0.0.1:0".parse().unwrap())
            .await
            .expect("mock starts");
        Mock {
            server,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// The mock's virtual now, in ms.
    pub async fn now_ms(&self) -> i64 {
        let clock: Value = self
            .http
            .get(format!("{}/__admin/clock", self.url()))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        clock["now_ms"].as_i64().expect("now_ms")
    }

    pub async fn advance_clock(&self, ms: i64) {
        let reply = self
            .http
            .post(format!("{}/__admin/clock", self.url()))
            .json(&serde_json::json!({"advance_ms": ms}))
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success());
    }

    /// A V3 request with the demo key, the real-time date and a fresh nonce.
    pub fn v3(&self, action: &str, version: &str, params: &[(&str, &str)]) -> V3 {
        V3 {
            method: "POST".into(),
            action: action.into(),
            version: version.into(),
            params: pairs(params),
            body: Vec::new(),
            content_type: None,
            key: KEY.into(),
            secret: SECRET.into(),
            date: format_utc(now_real_ms()),
            nonce: nonce(),
        }
    }

    /// The headers [`v3::sign_request`] gives for `r` at this mock (host included).
    pub fn v3_headers(&self, r: &V3) -> Vec<(String, String)> {
        let host = self.server.addr().to_string();
        v3::sign_request(v3::SignInput {
            method: &r.method,
            host: &host,
            path: "/",
            params: &r.params,
            body: &r.body,
            content_type: r.content_type.as_deref(),
            action: &r.action,
            version: &r.version,
            access_key_id: &r.key,
            secret: &r.secret,
            date: &r.date,
            nonce: &r.nonce,
        })
    }

    pub async fn send_v3(&self, r: &V3) -> Reply {
        let headers = self.v3_headers(r);
        self.send_v3_headers(r, headers).await
    }

    /// Sends `r` with exactly these headers (reqwest adds `host` itself).
    pub async fn send_v3_headers(&self, r: &V3, headers: Vec<(String, String)>) -> Reply {
        let mut map = HeaderMap::new();
        for (name, value) in headers.iter().filter(|(n, _)| n != "host") {
            let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
            map.append(name, HeaderValue::from_str(value).unwrap());
        }
        let query = v3::canonical_query(&r.params);
        self.raw(&r.method, &query, map, r.body.clone()).await
    }

    pub async fn call_v3(&self, action: &str, version: &str, params: &[(&str, &str)]) -> Reply {
        self.send_v3(&self.v3(action, version, params)).await
    }

    /// V1 params: the common ones (demo key, real-time timestamp, fresh nonce) plus `params`,
    /// which override common ones of the same name.
    pub fn v1_params(
        action: &str,
        version: &str,
        params: &[(&str, &str)],
    ) -> Vec<(String, String)> {
        let (nonce, timestamp) = (nonce(), format_utc(now_real_ms()));
        let common = [
            ("Action", action),
            ("Version", version),
            ("Format", "JSON"),
            ("AccessKeyId", KEY),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("SignatureNonce", nonce.as_str()),
            ("Timestamp", timestamp.as_str()),
        ];
        let overridden = |key: &str| params.iter().any(|(k, _)| *k == key);
        let mut all: Vec<(String, String)> = pairs(&common)
            .into_iter()
            .filter(|(k, _)| !overridden(k))
            .collect();
        all.extend(pairs(params));
        all
    }

    /// Signs `params` with `secret` and sends them all in the query.
    pub async fn send_v1(&self, method: &str, params: &[(String, String)], secret: &str) -> Reply {
        let query = v1::signed_query(method, params, secret);
        self.raw(method, &query, HeaderMap::new(), Vec::new()).await
    }

    pub async fn call_v1(&self, action: &str, version: &str, params: &[(&str, &str)]) -> Reply {
        self.send_v1("POST", &Self::v1_params(action, version, params), SECRET)
            .await
    }

    /// Sends anything: method, raw query (after `?`), headers, body.
    pub async fn raw(&self, method: &str, query: &str, headers: HeaderMap, body: Vec<u8>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let url = format!("{}/?{query}", self.url());
        let response = self
            .http
            .request(method, url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .expect("request is answered");
        Reply {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: response.text().await.unwrap_or_default(),
        }
    }
}

pub fn now_real_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn credential(id: &str, secret: &str) -> Credential {
    Credential {
        access_key_id: id.into(),
        access_key_secret: secret.into(),
    }
}
