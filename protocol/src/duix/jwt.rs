//! The DUIX token: an HS256 JWT as com.auth0:java-jwt 3.8.3 makes it (PROTOCOLS.md §5.1).
//!
//! Header `{"typ":"JWT","alg":"HS256"}` and claims `{"exp","iat","appId"}`, in that order, each
//! base64url without padding; the key is the app's appKey. Verifiers accept extra claims (some
//! integrations add `userId`, `timestamp`) and any key order, but only HS256. Structure, algorithm
//! and signature are checked by [`crate::hs256`]; the claims' rules are here.

use crate::hs256;
pub use crate::hs256::JwtError;
use serde::Serialize;
use serde_json::{Map, Value};

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
    hs256::sign(&claims, secret.as_bytes())
}

/// The `appId` claim, read without verifying: it says which app's key to verify with.
pub fn peek_app_id(token: &str) -> Result<String, JwtError> {
    Ok(read_token(token)?.app_id().to_string())
}

/// Verifies structure, algorithm, signature (constant time), `exp`, and `iat`/`nbf` not in the
/// future, at `now_secs` (unix seconds), as java-jwt does.
pub fn verify_token(token: &str, secret: &str, now_secs: i64) -> Result<Claims, JwtError> {
    check_claims(
        parse_claims(hs256::verify_signature(token, secret.as_bytes())?)?,
        now_secs,
    )
}

/// A token read once, not yet verified: [`peek_app_id`] and [`verify_token`] without decoding
/// it twice (the way a server checks every call: which app, then that app's key).
pub struct UnverifiedToken<'a> {
    token: hs256::Unverified<'a>,
    app_id: String,
}

/// Reads `token`; errors as [`peek_app_id`].
pub fn read_token(token: &str) -> Result<UnverifiedToken<'_>, JwtError> {
    let token = hs256::Unverified::read(token)?;
    let app_id = app_id(token.claims())?;
    Ok(UnverifiedToken { token, app_id })
}

impl UnverifiedToken<'_> {
    /// The `appId` claim, not verified.
    pub fn app_id(&self) -> &str {
        &self.app_id
    }

    /// [`verify_token`] of the token read.
    pub fn verify(self, secret: &str, now_secs: i64) -> Result<Claims, JwtError> {
        check_claims(
            parse_claims(self.token.verify(secret.as_bytes())?)?,
            now_secs,
        )
    }
}

/// `exp` passed, `iat`/`nbf` in the future.
fn check_claims(claims: Claims, now_secs: i64) -> Result<Claims, JwtError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hs256::HEADER_JSON;
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    use hmac::{Hmac, Mac};
    use proptest::prelude::*;

    fn hmac_b64(input: &str, secret: &str) -> String {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(input.as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

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
