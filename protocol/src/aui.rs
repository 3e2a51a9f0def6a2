//! AUI Kits app server: the ARTC auth token (`rtc_auth_token`) and the ids it is built from.
//!
//! The token is what `getRtcAuthToken` returns and what the AppServer puts in ICE's
//! `RuntimeConfig.AuthToken` (PROTOCOLS.md §4.1): standard base64 of the compact JSON
//! `{"appid","channelid","userid","nonce","timestamp","token"}` where `token` is the lowercase hex
//! SHA-256 of `appId + appKey + channelId + userId + nonce + timestamp`. The nonce is empty and
//! `timestamp` is the expiry in unix seconds (client tokens: now + 24 h; agent tokens: now + 7 days).

use base64::{
    alphabet,
    engine::{general_purpose::STANDARD, DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig},
    Engine,
};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Lifetime of a client token (`getRtcAuthToken`).
pub const CLIENT_TOKEN_TTL_SECS: i64 = 24 * 60 * 60;
/// Lifetime of the agent token the AppServer passes to `StartAIAgentInstance`.
pub const AGENT_TOKEN_TTL_SECS: i64 = 7 * 24 * 60 * 60;

/// The JSON the token encodes; field order is the wire order.
#[derive(Serialize)]
struct TokenJson<'a> {
    appid: &'a str,
    channelid: &'a str,
    userid: &'a str,
    nonce: &'a str,
    timestamp: i64,
    token: &'a str,
}

/// The ARTC token for `user_id` in `channel_id`, valid until `timestamp` (unix seconds).
///
/// ```
/// let token = protocol::aui::rtc_token("abc", "abckey", "abcChannel", "abcUser", 1699423634);
/// assert!(token.starts_with("eyJhcHBpZCI6ImFiYyIs"));
/// ```
pub fn rtc_token(
    app_id: &str,
    app_key: &str,
    channel_id: &str,
    user_id: &str,
    timestamp: i64,
) -> String {
    let token = token_hash(app_id, app_key, channel_id, user_id, "", timestamp);
    let json = TokenJson {
        appid: app_id,
        channelid: channel_id,
        userid: user_id,
        nonce: "",
        timestamp,
        token: &token,
    };
    // Serializing a struct of strings and an integer cannot fail.
    let bytes = serde_json::to_vec(&json).expect("token JSON serializes");
    STANDARD.encode(bytes)
}

/// `hex(sha256(appId + appKey + channelId + userId + nonce + timestamp))`.
fn token_hash(
    app_id: &str,
    app_key: &str,
    channel_id: &str,
    user_id: &str,
    nonce: &str,
    timestamp: i64,
) -> String {
    let input = format!("{app_id}{app_key}{channel_id}{user_id}{nonce}{timestamp}");
    hex::encode(Sha256::digest(input.as_bytes()))
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtcTokenClaims {
    /// `appid`.
    pub app_id: String,
    /// `channelid`.
    pub channel_id: String,
    /// `userid`.
    pub user_id: String,
    /// `nonce` (empty in every token the AppServer makes).
    pub nonce: String,
    /// `timestamp`: expiry, unix seconds.
    pub timestamp: i64,
    /// `gslb`, present in tokens from AppServer versions 1.0–2.2.0.
    pub gslb: Option<Vec<String>>,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtcTokenError {
    /// The token is not base64 (standard alphabet, padding optional).
    #[error("token is not base64")]
    NotBase64,
    /// The decoded token is not a JSON object.
    #[error("token is not a JSON object")]
    NotJson,
    /// A field is absent or not of its type (strings; `timestamp` an integer).
    #[error("token field {0:?} is missing or has the wrong type")]
    MissingField(&'static str),
    /// `appid` is not the expected app.
    #[error("token is for app {found:?}")]
    WrongAppId {
        /// The `appid` in the token.
        found: String,
    },
    /// `token` is not the hash of the other fields under this app key.
    #[error("token signature does not match")]
    BadSignature,
    /// The token's `timestamp` is not after `now`.
    #[error("token expired at {timestamp}, now is {now}")]
    Expired {
        /// Expiry in the token, unix seconds.
        timestamp: i64,
        /// The verifier's clock, unix seconds.
        now: i64,
    },
}

/// Decodes and checks a token: shape, app id, signature (constant time), then expiry.
///
/// A token is expired once `now_secs >= timestamp`.
pub fn verify_rtc_token(
    token: &str,
    app_id_expected: Option<&str>,
    app_key: &str,
    now_secs: i64,
) -> Result<RtcTokenClaims, RtcTokenError> {
    let (claims, given_hash) = parse(token)?;
    if let Some(expected) = app_id_expected {
        if claims.app_id != expected {
            return Err(RtcTokenError::WrongAppId {
                found: claims.app_id,
            });
        }
    }
    let expected_hash = token_hash(
        &claims.app_id,
        app_key,
        &claims.channel_id,
        &claims.user_id,
        &claims.nonce,
        claims.timestamp,
    );
    if !bool::from(expected_hash.as_bytes().ct_eq(given_hash.as_bytes())) {
        return Err(RtcTokenError::BadSignature);
    }
    if now_secs >= claims.timestamp {
        return Err(RtcTokenError::Expired {
            timestamp: claims.timestamp,
            now: now_secs,
        });
    }
    Ok(claims)
}

/// Reads the claims without checking anything but their shape.
pub fn decode_claims(token: &str) -> Result<RtcTokenClaims, RtcTokenError> {
    parse(token).map(|(claims, _)| claims)
}

/// The claims and the `token` (hash) field.
fn parse(token: &str) -> Result<(RtcTokenClaims, String), RtcTokenError> {
    let json = decode_json(token)?;
    let text = |name: &'static str| {
        json.get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or(RtcTokenError::MissingField(name))
    };
    let gslb = match json.get("gslb") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            serde_json::from_value(v.clone()).map_err(|_| RtcTokenError::MissingField("gslb"))?,
        ),
    };
    let claims = RtcTokenClaims {
        app_id: text("appid")?,
        channel_id: text("channelid")?,
        user_id: text("userid")?,
        nonce: text("nonce")?,
        timestamp: json
            .get("timestamp")
            .and_then(Value::as_i64)
            .ok_or(RtcTokenError::MissingField("timestamp"))?,
        gslb,
    };
    Ok((claims, text("token")?))
}

/// Standard alphabet; padding optional, since some clients strip it.
const LENIENT_STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn decode_json(token: &str) -> Result<serde_json::Map<String, Value>, RtcTokenError> {
    let bytes = LENIENT_STANDARD
        .decode(token.trim())
        .map_err(|_| RtcTokenError::NotBase64)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(RtcTokenError::NotJson),
    }
}

/// Whether `user_id` is allowed by ICE and the AUI server: `A-Z a-z 0-9 _`, 1 to 64 bytes.
pub fn is_valid_user_id(user_id: &str) -> bool {
    (1..=64).contains(&user_id.len())
        && user_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A fresh channel id as the AppServer makes one: a v4 UUID without hyphens (32 lowercase hex).
pub fn new_channel_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OFFICIAL_TOKEN: &str = "eyJhcHBpZCI6ImFiYyIsImNoYW5uZWxpZCI6ImFiY0NoYW5uZWwiLCJ1c2VyaWQiOiJhYmNVc2VyIiwibm9uY2UiOiIiLCJ0aW1lc3RhbXAiOjE2OTk0MjM2MzQsInRva2VuIjoiM2M5ZWU4ZDlmODczNGYwYjc1NjBlZDgwMjJhMDU5MDY1OTExMzk1NTgxOTcyNGZjOTM0NWFiOGVlZGY4NGYzMSJ9";

    #[test]
    fn official_vector_hash_matches() {
        let hash = token_hash("abc", "abckey", "abcChannel", "abcUser", "", 1699423634);
        assert_eq!(
            hash,
            "3c9ee8d9f8734f0b7560ed8022a0590659113955819724fc9345ab8eedf84f31"
        );
    }

    #[test]
    fn official_vector_token_matches_byte_for_byte() {
        let token = rtc_token("abc", "abckey", "abcChannel", "abcUser", 1699423634);
        assert_eq!(token, OFFICIAL_TOKEN);
    }

    #[test]
    fn official_token_verifies_before_expiry_and_expires_at_its_timestamp() {
        let claims = verify_rtc_token(OFFICIAL_TOKEN, Some("abc"), "abckey", 1699423633).unwrap();
        assert_eq!(claims.user_id, "abcUser");
        assert_eq!(claims.gslb, None);
        let expired = verify_rtc_token(OFFICIAL_TOKEN, Some("abc"), "abckey", 1699423634);
        assert_eq!(
            expired,
            Err(RtcTokenError::Expired {
                timestamp: 1699423634,
                now: 1699423634
            })
        );
    }

    #[test]
    fn wrong_key_app_or_shape_is_refused() {
        let now = 1699423000;
        let bad_key = verify_rtc_token(OFFICIAL_TOKEN, None, "otherkey", now);
        assert_eq!(bad_key, Err(RtcTokenError::BadSignature));
        let bad_app = verify_rtc_token(OFFICIAL_TOKEN, Some("xyz"), "abckey", now);
        assert_eq!(
            bad_app,
            Err(RtcTokenError::WrongAppId {
                found: "abc".into()
            })
        );
        assert_eq!(
            verify_rtc_token("!!", None, "k", now),
            Err(RtcTokenError::NotBase64)
        );
        let not_json = STANDARD.encode("[1]");
        assert_eq!(
            verify_rtc_token(&not_json, None, "k", now),
            Err(RtcTokenError::NotJson)
        );
        let no_user = STANDARD.encode(r#"{"appid":"a","channelid":"c","nonce":"","timestamp":1}"#);
        assert_eq!(
            verify_rtc_token(&no_user, None, "k", now),
            Err(RtcTokenError::MissingField("userid"))
        );
    }

    #[test]
    fn legacy_tokens_with_gslb_verify() {
        let hash = token_hash("a", "k", "c", "u", "", 100);
        let json = format!(
            r#"{{"gslb":["https://gw.rtn.aliyuncs.com"],"appid":"a","channelid":"c","userid":"u","nonce":"","timestamp":100,"token":"{hash}"}}"#
        );
        let claims = verify_rtc_token(&STANDARD.encode(json), Some("a"), "k", 50).unwrap();
        assert_eq!(
            claims.gslb,
            Some(vec!["https://gw.rtn.aliyuncs.com".to_string()])
        );
    }

    #[test]
    fn user_ids_are_word_characters_up_to_64_bytes() {
        assert!(is_valid_user_id("user_01"));
        assert!(is_valid_user_id(&"a".repeat(64)));
        assert!(!is_valid_user_id(&"a".repeat(65)));
        assert!(!is_valid_user_id(""));
        assert!(!is_valid_user_id("user-1"));
        assert!(!is_valid_user_id("用户"));
    }

    #[test]
    fn channel_ids_are_32_lowercase_hex() {
        let id = new_channel_id();
        assert_eq!(id.len(), 32);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_ne!(id, new_channel_id());
    }

    proptest! {
        #[test]
        fn token_round_trips(
            app in "[a-z0-9]{1,12}", key in any::<String>(), channel in "[a-f0-9]{32}",
            user in "[A-Za-z0-9_]{1,64}", expiry in 1i64..4_000_000_000, before in 1i64..100_000
        ) {
            let token = rtc_token(&app, &key, &channel, &user, expiry);
            let claims = verify_rtc_token(&token, Some(&app), &key, expiry - before).unwrap();
            prop_assert_eq!(claims.channel_id, channel);
            prop_assert_eq!(claims.user_id, user);
            prop_assert_eq!(claims.timestamp, expiry);
        }

        #[test]
        fn verify_never_panics(token in any::<String>()) {
            let _ = verify_rtc_token(&token, None, "k", 0);
        }
    }
}
