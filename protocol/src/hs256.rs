//! Compact HS256 JWTs, the part every platform shares: signing under java-jwt's header, and
//! checking structure, algorithm and signature (in constant time). What the claims must say
//! (DUIX's `appId`, the AUI bearer's `sub`, expiry rules) is each platform's business:
//! [`crate::duix::jwt`] builds on this, and so does the AUI app server's bearer login.

use base64::{
    alphabet,
    engine::{
        general_purpose::URL_SAFE_NO_PAD, DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig,
    },
    Engine,
};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header com.auth0:java-jwt writes, byte for byte.
pub const HEADER_JSON: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

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

/// Signs `claims` (the JSON bytes of an object) with `key` under [`HEADER_JSON`].
pub fn sign(claims: &[u8], key: &[u8]) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER_JSON),
        URL_SAFE_NO_PAD.encode(claims)
    );
    let signature = URL_SAFE_NO_PAD.encode(hmac(&signing_input, key));
    format!("{signing_input}.{signature}")
}

/// The claims of a token whose algorithm is HS256 and whose signature is `key`'s; no claim is
/// checked here.
pub fn verify_signature(token: &str, key: &[u8]) -> Result<Map<String, Value>, JwtError> {
    let (header, claims, signature) = split(token)?;
    check_header_and_signature(header, claims, signature, key)?;
    decode_object(claims, "claims")
}

/// The claims, read without verifying anything (to learn which key to verify with).
pub fn peek_claims(token: &str) -> Result<Map<String, Value>, JwtError> {
    Ok(Unverified::read(token)?.claims)
}

/// A token whose claims were read but not yet trusted: they say which key to verify it with
/// ([`Unverified::claims`]), and [`Unverified::verify`] then checks it without reading them
/// again. [`peek_claims`] then [`verify_signature`], decoding the claims once.
#[derive(Debug, Clone)]
pub struct Unverified<'a> {
    header: &'a str,
    claims_part: &'a str,
    signature: &'a str,
    claims: Map<String, Value>,
}

impl<'a> Unverified<'a> {
    /// Splits the token and decodes its claims; errors as [`peek_claims`].
    pub fn read(token: &'a str) -> Result<Self, JwtError> {
        let (header, claims_part, signature) = split(token)?;
        let claims = decode_object(claims_part, "claims")?;
        Ok(Unverified {
            header,
            claims_part,
            signature,
            claims,
        })
    }

    /// The claims, not verified.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The claims once the algorithm is HS256 and the signature `key`'s; errors as
    /// [`verify_signature`].
    pub fn verify(self, key: &[u8]) -> Result<Map<String, Value>, JwtError> {
        check_header_and_signature(self.header, self.claims_part, self.signature, key)?;
        Ok(self.claims)
    }
}

/// The base64url of [`HEADER_JSON`]: the header nearly every token has, known without decoding.
const USUAL_HEADER: &str = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9";

/// The header says HS256 and the signature is `key`'s over `header.claims`.
fn check_header_and_signature(
    header: &str,
    claims: &str,
    signature: &str,
    key: &[u8],
) -> Result<(), JwtError> {
    if header != USUAL_HEADER {
        let header_json = decode_object(header, "header")?;
        if header_json.get("alg").and_then(Value::as_str) != Some("HS256") {
            return Err(JwtError::UnsupportedAlg);
        }
    }
    let signature = decode_signature(signature)?;
    let expected = hmac_parts(&[header.as_bytes(), b".", claims.as_bytes()], key);
    if !bool::from(expected.as_slice().ct_eq(&signature)) {
        return Err(JwtError::BadSignature);
    }
    Ok(())
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

/// The signature's bytes. java-jwt decodes with Apache Commons' lenient Base64, so padding and
/// the standard alphabet are tolerated; text that is no base64 at all is a malformed token, not
/// a token signed with another key.
fn decode_signature(part: &str) -> Result<Vec<u8>, JwtError> {
    LENIENT_URL_SAFE
        .decode(part)
        .or_else(|_| LENIENT_STANDARD.decode(part))
        .map_err(|_| JwtError::Malformed("signature is not base64url".into()))
}

fn decode_object(part: &str, what: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = LENIENT_URL_SAFE
        .decode(part)
        .map_err(|_| JwtError::Malformed(format!("{what} is not base64url")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(JwtError::Malformed(format!("{what} is not a JSON object"))),
    }
}

fn hmac(signing_input: &str, key: &[u8]) -> Vec<u8> {
    hmac_parts(&[signing_input.as_bytes()], key).to_vec()
}

/// HMAC-SHA256 of the parts one after the other.
fn hmac_parts(parts: &[&[u8]], key: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this never fails.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_token_verifies_under_its_key_only() {
        let token = sign(br#"{"sub":"alice","exp":10}"#, b"key");
        assert_eq!(verify_signature(&token, b"key").unwrap()["sub"], "alice");
        assert_eq!(
            verify_signature(&token, b"other"),
            Err(JwtError::BadSignature)
        );
        assert_eq!(peek_claims(&token).unwrap()["exp"], 10);
        assert!(token.starts_with(USUAL_HEADER));
        let read = Unverified::read(&token).unwrap();
        assert_eq!(read.claims()["sub"], "alice");
        assert_eq!(read.clone().verify(b"key").unwrap()["sub"], "alice");
        assert_eq!(read.verify(b"other"), Err(JwtError::BadSignature));
    }

    #[test]
    fn alg_none_and_broken_structure_are_refused() {
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"exp":1}"#)
        );
        assert_eq!(verify_signature(&none, b"k"), Err(JwtError::UnsupportedAlg));
        assert!(matches!(
            verify_signature("a.b", b"k"),
            Err(JwtError::Malformed(_))
        ));
    }
}
