//! The running mocks, as `agentproof mock --info-file` describes them: URLs, credentials, and the
//! requests only a client holding those can make (DUIX app tokens, signed Alibaba calls).

use anyhow::{bail, Context, Result};
use protocol::alibaba::timestamp::format_utc;
use protocol::request::{alibaba, HttpRequest};
use serde_json::Value;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

/// A StartAgent's `RtcConfig` and `VoiceChatConfig`: an agent joining one user's channel.
pub const RTC_CONFIG: &str =
    r#"{"UserId":"agent_1","TargetUserIds":["user_1"],"UserInactivityTimeout":30}"#;
pub const VOICE_CHAT_CONFIG: &str = r#"{"ChatMode":1,"InterruptMode":1,"Greeting":"hello"}"#;

/// Alibaba's two signatures: V3 (`ACS3-HMAC-SHA256`, headers) or V1 (HMAC-SHA1, the query).
pub type Signer = fn(alibaba::Call<'_>) -> HttpRequest;

/// The running mocks and their credentials, from the info file.
pub struct Mocks {
    info: Value,
    /// The Alibaba mock's `host` header value (signed by V3).
    alibaba_host: String,
}

impl Mocks {
    /// The info of `platforms` (each must be present).
    pub fn from_info(info: &Value, platforms: &[&str]) -> Result<Self> {
        for platform in platforms {
            if info.get(platform).is_none() {
                bail!("the info file names no {platform} mock");
            }
        }
        let alibaba_host = info["alibaba"]["url"]
            .as_str()
            .map(alibaba::host_of)
            .unwrap_or_default();
        Ok(Mocks {
            info: info.clone(),
            alibaba_host,
        })
    }

    /// [`Mocks::from_info`] of a file.
    pub fn read(path: &Path, platforms: &[&str]) -> Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let info: Value = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        Self::from_info(&info, platforms)
    }

    /// The whole info, as read.
    pub fn info(&self) -> &Value {
        &self.info
    }

    /// A string field of a platform's info.
    pub fn field(&self, platform: &str, name: &str) -> Result<&str> {
        self.info[platform][name]
            .as_str()
            .with_context(|| format!("the info file has no {platform}.{name}"))
    }

    /// A platform's base URL, e.g. `http://127.0.0.1:18601`.
    pub fn url(&self, platform: &str) -> Result<&str> {
        self.field(platform, "url")
    }

    /// A platform's `host:port`, for a raw connection.
    pub fn addr(&self, platform: &str) -> Result<String> {
        Ok(alibaba::host_of(self.url(platform)?))
    }

    /// A DUIX app token valid for a day from now.
    pub fn duix_token(&self) -> String {
        let now = now_ms() / 1000;
        protocol::duix::sign_token(
            self.field("duix", "app_id").unwrap_or_default(),
            self.field("duix", "app_key").unwrap_or_default(),
            now,
            now + 86_400,
        )
    }

    /// `action` signed by `sign` (V3 or V1) with the mock's key, now's date and a fresh nonce.
    pub fn call(&self, action: &str, params: &[(String, String)], sign: Signer) -> HttpRequest {
        sign(alibaba::Call {
            method: "POST",
            host: &self.alibaba_host,
            action,
            version: alibaba::api_version(action),
            params,
            access_key_id: self.field("alibaba", "access_key_id").unwrap_or_default(),
            secret: self
                .field("alibaba", "access_key_secret")
                .unwrap_or_default(),
            date: &format_utc(now_ms()),
            nonce: &alibaba::fresh_nonce(),
        })
    }

    /// [`Mocks::call`] as raw bytes for the Alibaba mock's connection.
    pub fn raw_call(&self, action: &str, params: &[(String, String)], sign: Signer) -> Vec<u8> {
        crate::wire::raw(&self.call(action, params, sign), &self.alibaba_host)
    }
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// `[(k, v)]` pairs as the signers take them.
pub fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::alibaba::v3;
    use serde_json::json;

    fn mocks() -> Mocks {
        let info = json!({"alibaba": {"url": "http://127.0.0.1:18601", "access_key_id": "id",
                                      "access_key_secret": "secret"}});
        Mocks::from_info(&info, &["alibaba"]).unwrap()
    }

    #[test]
    fn a_platform_missing_from_the_info_is_named() {
        let error = Mocks::from_info(&json!({}), &["duix"]).err().unwrap();
        assert!(error.to_string().contains("duix"), "{error}");
    }

    #[test]
    fn each_signed_call_has_its_own_nonce_and_verifies_with_the_mocks_secret() {
        let mocks = mocks();
        let key = params(&[("InstanceId", "i-1")]);
        let one = mocks.call("DescribeAIAgentInstance", &key, alibaba::signed);
        let two = mocks.call("DescribeAIAgentInstance", &key, alibaba::signed);
        let nonce = |r: &HttpRequest| r.header("x-acs-signature-nonce").unwrap().to_string();
        assert_ne!(nonce(&one), nonce(&two));
        let auth = v3::parse_authorization(one.header("authorization").unwrap()).unwrap();
        let mut headers = one.headers.clone();
        headers.push(("host".into(), "127.0.0.1:18601".into()));
        let canonical = v3::canonical_request(
            "POST",
            "/",
            &key,
            &headers,
            &auth.signed_headers,
            v3::EMPTY_PAYLOAD_SHA256,
        )
        .unwrap();
        assert!(v3::verify(&canonical, "secret", &auth.signature).is_ok());
        let raw = String::from_utf8(mocks.raw_call("GetAgent", &key, alibaba::signed_v1)).unwrap();
        assert!(raw.starts_with("POST /?") && raw.contains("Host: 127.0.0.1:18601\r\n"));
        assert!(raw.contains("SignatureNonce="));
    }
}
