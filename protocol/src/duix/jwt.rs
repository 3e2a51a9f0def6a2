//! The DUIX token: an HS256 JWT as com.auth0:java-jwt 3.8.3 makes it (PROTOCOLS.md §5.1).
//!
//! Header `{"typ":"JWT","alg":"HS256"}` and claims `{"exp","iat","appId"}`, in that order, each
//! base64url without padding; the key is the app's appKey. Verifiers accept extra claims (some
//! integrations add `userId`, `timestamp`) and any key order, but only HS256.

use base64::{
    alphabet,
    engine::{
        general_purpose::URL_SAFE_NO_PAD, DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig,
    },
    Engine,
};
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header java-jwt writes, byte for byte.
const HEADER_JSON: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

/// Claims in java-jwt's order.
#[derive(Serialize)]
struct SignedClaims<'a> {
    exp: i64,
    iat: i64,
    #[serde(rename = "appId")]
    app_id: &'a str,
}

/// What a verified token says.
#[derive(Debug, Clone, PartialEq)]
pub struct Claims {
    /// `appId`: which app's key signed the token.
    pub app_id: String,
    /// `iat`, unix seconds, if present.
    pub iat: Option<i64>,
    /// `exp`, unix seconds.
    pub exp: i64,
    /// Every other claim, e.g. `userId`, `timestamp`.
    pub extra: Map<String, Value>,
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Not three base64url parts of JSON objects, or a required claim is missing.
    #[error("malformed token: {0}")]
    Malformed(String),
    /// The signature is not HMAC-SHA256 of the token under this key.
    #[error("token signature does not match")]
    BadSignature,
    /// `now >= exp`.
    #[error("token expired at {exp}, now is {now}")]
    Expired {
        /// The token's `exp`, unix seconds.
        exp: i64,
        /// The verifier's clock, unix seconds.
        now: i64,
    },
    /// The header's `alg` is not `HS256` (including `none`).
    #[error("token algorithm is not HS256")]
    UnsupportedAlg,
    /// `iat` or `nbf` is after `now`: java-jwt, which DUIX uses, refuses such tokens.
    #[error("token is not valid before {at}, now is {now}")]
    NotYetValid {
        /// The token's `iat` or `nbf`, unix seconds.
        at: i64,
        /// The verifier's clock, unix seconds.
        now: i64,
    },
}

/// Signs a token for `app_id`, issued at `iat` and expiring at `exp` (unix seconds).
///
/// ```
/// let token = protocol::duix::sign_token("1234567890", "test-app-key", 1700000000, 1700001800);
/// assert!(token.starts_with("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."));
/// ```
pub fn sign_token(app_id: &str, secret: &str, iat: i64, exp: i64) -> String {
    let claims = SignedClaims { exp, iat, app_id };
    // A struct of integers and a string always serializes.
    let claims = serde_json::to_vec(&claims).expect("claims serialize");
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER_JSON),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = hmac_b64(&signing_input, secret);
    format!("{signing_input}.{signature}")
}

/// The `appId` claim, read without verifying: it says which app's key to verify with.
pub fn peek_app_id(token: &str) -> Result<String, JwtError> {
    let (_, claims, _) = split(token)?;
    let claims = decode_object(claims, "claims")?;
    app_id(&claims)
}

/// Verifies the token's algorithm, signature (constant time) and expiry, and returns its claims.
pub fn verify_token(token: &str, secret: &str, now_secs: i64) -> Result<Claims, JwtError> {
    let (header, claims_part, signature) = split(token)?;
    let header_json = decode_object(header, "header")?;
    if header_json.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err(JwtError::UnsupportedAlg);
    }
    let signature = decode_signature(signature)?;
    let expected = hmac(&format!("{header}.{claims_part}"), secret);
    if !bool::from(expected.as_slice().ct_eq(&signature)) {
        return Err(JwtError::BadSignature);
    }
    let claims = parse_claims(decode_object(claims_part, "claims")?)?;
    if now_secs >= claims.exp {
        return Err(JwtError::Expired {
            exp: claims.exp,
            now: now_secs,
        });
    }
    let nbf = claims.extra.get("nbf").and_then(Value::as_i64);
    if let Some(at) = claims.iat.into_iter().chain(nbf).find(|&at| at > now_secs) {
        return Err(JwtError::NotYetValid { at, now: now_secs });
    }
    Ok(claims)
}

/// The signature's bytes. java-jwt decodes with Apache Commons' lenient Base64, so padding and
/// the standard alphabet are tolerated; text that is no base64 at all is a malformed token, not
/// a token signed with another key.
fn decode_signature(part: &str) -> Result<Vec<u8>, JwtError> {
    LENIENT_URL_SAFE
        .decode(part)
        .or_else(|_| LENIENT_STANDARD.decode(part))
        .map_err(|_| JwtError::Malformed("signature is not base64url".into()))
}

fn split(token: &str) -> Result<(&str, &str, &str), JwtError> {
    let mut parts = token.trim().split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(h), Some(c), Some(s), None) => Ok((h, c, s)),
        _ => Err(JwtError::Malformed(
            "expected three dot-separated parts".into(),
        )),
    }
}

/// base64url, padding tolerated: some hand-rolled signers keep it.
const LENIENT_URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The standard alphabet, padding tolerated (see [`decode_signature`]).
const LENIENT_STANDARD: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn decode_object(part: &str, what: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = LENIENT_URL_SAFE
        .decode(part)
        .map_err(|_| JwtError::Malformed(format!("{what} is not base64url")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::Malformed(format!("{what} is not a JSON object"))),
    }
}

fn app_id(claims: &Map<String, Value>) -> Result<String, JwtError> {
    claims
        .get("appId")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| JwtError::Malformed("claim appId is missing or not a string".into()))
}

fn parse_claims(mut map: Map<String, Value>) -> Result<Claims, JwtError> {
    let app_id = app_id(&map)?;
    let exp = map
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| JwtError::Malformed("claim exp is missing or not an integer".into()))?;
    let iat = map.get("iat").and_then(Value::as_i64);
    for known in ["appId", "exp", "iat"] {
        map.remove(known);
    }
    Ok(Claims {
        app_id,
        iat,
        exp,
        extra: map,
    })
}

fn hmac(signing_input: &str, secret: &str) -> Vec<u8> {
    // HMAC accepts keys of any length, so this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(signing_input.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn hmac_b64(signing_input: &str, secret: &str) -> String {
    URL_SAFE_NO_PAD.encode(hmac(signing_input, secret))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EXAMPLE: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDE4MDAsImlhdCI6MTcwMDAwMDAwMCwiYXBwSWQiOiIxMjM0NTY3ODkwIn0.8s3WMTmFNqmMMr6Rh14Xpm5asU1P5uj9QdYzVAvkK3w";

    #[test]
    fn a_signature_with_padding_or_the_standard_alphabet_is_read_as_java_jwt_reads_it() {
        let (head, signature) = EXAMPLE.rsplit_once('.').unwrap();
        let bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        let padded = format!("{head}.{signature}=");
        let standard = format!(
            "{head}.{}",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        );
        for token in [padded, standard] {
            assert!(
                verify_token(&token, "test-app-key", 1700000001).is_ok(),
                "{token}"
            );
        }
        let garbage = format!("{head}.!!not-base64!!");
        assert!(matches!(
            verify_token(&garbage, "test-app-key", 1700000001),
            Err(JwtError::Malformed(_))
        ));
    }

    #[test]
    fn a_token_from_the_future_is_not_yet_valid() {
        // iat 1700000000: one second before it, java-jwt refuses the token.
        assert_eq!(
            verify_token(EXAMPLE, "test-app-key", 1699999999).unwrap_err(),
            JwtError::NotYetValid {
                at: 1700000000,
                now: 1699999999
            }
        );
        assert!(verify_token(EXAMPLE, "test-app-key", 1700000000).is_ok());
    }

    #[test]
    fn protocols_example_comes_out_byte_for_byte() {
        let token = sign_token("1234567890", "test-app-key", 1700000000, 1700001800);
        assert_eq!(token, EXAMPLE);
    }

    #[test]
    fn example_verifies_until_exp() {
        let claims = verify_token(EXAMPLE, "test-app-key", 1700001799).unwrap();
        assert_eq!(claims.app_id, "1234567890");
        assert_eq!(claims.iat, Some(1700000000));
        assert_eq!(claims.exp, 1700001800);
        assert!(claims.extra.is_empty());
        let expired = verify_token(EXAMPLE, "test-app-key", 1700001800);
        assert_eq!(
            expired,
            Err(JwtError::Expired {
                exp: 1700001800,
                now: 1700001800
            })
        );
    }

    #[test]
    fn peek_reads_the_app_id_without_a_key() {
        assert_eq!(peek_app_id(EXAMPLE), Ok("1234567890".to_string()));
        assert!(matches!(peek_app_id("abc"), Err(JwtError::Malformed(_))));
    }

    /// Signs arbitrary header and claims JSON, as other libraries might.
    fn forge(header: &str, claims: &str, secret: &str) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims)
        );
        format!("{input}.{}", hmac_b64(&input, secret))
    }

    #[test]
    fn extra_claims_and_other_key_orders_are_tolerated() {
        let token = forge(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"appId":"a","userId":"u1","timestamp":5,"iat":1,"exp":100}"#,
            "k",
        );
        let claims = verify_token(&token, "k", 50).unwrap();
        assert_eq!(claims.extra.get("userId"), Some(&Value::from("u1")));
        assert_eq!(claims.extra.len(), 2);
    }

    #[test]
    fn other_algorithms_and_none_are_refused() {
        let none = forge(r#"{"alg":"none"}"#, r#"{"appId":"a","exp":100}"#, "k");
        assert_eq!(verify_token(&none, "k", 0), Err(JwtError::UnsupportedAlg));
        let hs512 = forge(r#"{"alg":"HS512"}"#, r#"{"appId":"a","exp":100}"#, "k");
        assert_eq!(verify_token(&hs512, "k", 0), Err(JwtError::UnsupportedAlg));
    }

    #[test]
    fn wrong_key_and_missing_claims_are_refused() {
        assert_eq!(
            verify_token(EXAMPLE, "other", 0),
            Err(JwtError::BadSignature)
        );
        let no_exp = forge(HEADER_JSON, r#"{"appId":"a"}"#, "k");
        assert!(matches!(
            verify_token(&no_exp, "k", 0),
            Err(JwtError::Malformed(_))
        ));
        assert!(matches!(
            verify_token("a.b", "k", 0),
            Err(JwtError::Malformed(_))
        ));
        assert!(matches!(
            verify_token("a.b.c.d", "k", 0),
            Err(JwtError::Malformed(_))
        ));
    }

    proptest! {
        #[test]
        fn sign_then_verify_round_trips(
            app in any::<String>(), secret in any::<String>(),
            iat in 0i64..4_000_000_000, ttl in 1i64..1_000_000, age in 0i64..1_000_000
        ) {
            let token = sign_token(&app, &secret, iat, iat + ttl);
            let now = iat + age % ttl;
            let claims = verify_token(&token, &secret, now).unwrap();
            prop_assert_eq!(&claims.app_id, &app);
            prop_assert_eq!(peek_app_id(&token).unwrap(), app);
        }

        #[test]
        fn changing_any_one_byte_fails(
            app in "[a-zA-Z0-9]{1,16}", secret in any::<String>(), at in any::<usize>(),
            replacement in "[A-Za-z0-9_.-]"
        ) {
            let token = sign_token(&app, &secret, 1_700_000_000, 1_700_001_800);
            let i = at % token.len();
            prop_assume!(token[i..i + 1] != replacement);
            let tampered = format!("{}{}{}", &token[..i], replacement, &token[i + 1..]);
            prop_assert!(verify_token(&tampered, &secret, 1_700_000_000).is_err());
        }

        #[test]
        fn verify_never_panics(token in any::<String>()) {
            let _ = verify_token(&token, "k", 0);
            let _ = peek_app_id(&token);
        }
    }
}
