//! Login and the bearer token (PROTOCOLS.md §4.2).
//!
//! The AUIAICall Java server lets every request through; its sister AUI servers show the intended
//! scheme, which this one implements: `POST /api/v2/aiagent/login` with `{"username","password"}`
//! answers `{"code":200,"token":<JWT>,"expire":<unix seconds>}`. The token is an HS256 JWT
//! (`{"typ":"JWT","alg":"HS256"}`, claims `sub`, `iat`, `exp`) valid for `token_ttl_secs` (7 days by
//! default). With `auth` on, every other route needs `Authorization: Bearer <token>`; a missing,
//! malformed, forged or expired token gets HTTP 403 in the AUI envelope. Expiry reads the virtual
//! clock, so a test moves the clock instead of waiting a week. CORS preflights (`OPTIONS`) never
//! need a token: browsers do not send one with them.

use super::envelope::{self, AuiError};
use super::handlers::Fields;
use super::state::AuiState;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header::AUTHORIZATION, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// `POST /api/v2/aiagent/login`: checks the one configured user, answers a bearer token.
pub async fn login(State(state): State<Arc<AuiState>>, body: Bytes) -> Response {
    match try_login(&state, &body) {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

fn try_login(state: &AuiState, body: &[u8]) -> Result<Response, AuiError> {
    let fields = Fields::parse(body)?;
    let username = fields.req_str("username", 256)?;
    let password = fields.req_str("password", 256)?;
    if !state.accepts(username, password) {
        return Err(AuiError::forbidden("wrong username or password"));
    }
    let iat = state.now_secs();
    let ttl = i64::try_from(state.config.token_ttl_secs).unwrap_or(i64::MAX);
    let exp = iat.saturating_add(ttl);
    let token = sign(username, iat, exp, &state.jwt_key);
    Ok(envelope::success(json!({"token": token, "expire": exp})))
}

impl AuiState {
    /// Whether `user` may log in with `password`: the configured login user (both compared,
    /// always, so the time says nothing about which was wrong), or one of `[aui] users` (found
    /// by name, its password compared in constant time).
    pub fn accepts(&self, user: &str, password: &str) -> bool {
        let user_ok = same_secret(user, &self.config.login_user);
        let password_ok = same_secret(password, &self.config.login_password);
        if user_ok & password_ok {
            return true;
        }
        match self.users.get(user) {
            Some(expected) => {
                let given: [u8; 32] = Sha256::digest(password).into();
                given
                    .iter()
                    .zip(expected)
                    .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                    == 0
            }
            None => false,
        }
    }
}

/// Compares two strings in time independent of where they differ (hashes first, so also of length).
fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (Sha256::digest(given), Sha256::digest(expected));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// Middleware on the protected routes: lets the request through when auth is off, for a
/// preflight, or with a valid bearer token; answers 403 otherwise.
pub async fn require_bearer(
    State(state): State<Arc<AuiState>>,
    request: Request,
    next: Next,
) -> Response {
    if !state.config.auth || request.method() == Method::OPTIONS {
        return next.run(request).await;
    }
    // One header, no more: with two, a proxy and this server could each believe a different one.
    let mut headers = request.headers().get_all(AUTHORIZATION).iter();
    let checked = match (headers.next().map(|v| v.to_str()), headers.next()) {
        (None, _) => Err(AuiError::forbidden(
            "missing Authorization: Bearer <token>; get a token from POST /api/v2/aiagent/login",
        )),
        (Some(_), Some(_)) => Err(AuiError::forbidden(
            "send one Authorization header, not several",
        )),
        (Some(Err(_)), None) => Err(AuiError::forbidden(
            "Authorization header is not visible ASCII",
        )),
        (Some(Ok(value)), None) => check_bearer(value, &state.jwt_key, state.now_secs()),
    };
    match checked {
        Ok(()) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

/// `Bearer <jwt>` (scheme case-insensitive, as Spring compares it) with a valid, unexpired JWT.
pub fn check_bearer(value: &str, key: &[u8], now_secs: i64) -> Result<(), AuiError> {
    let value = value.trim();
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => {
            return Err(AuiError::forbidden(
                "Authorization must be 'Bearer <token>'",
            ))
        }
    };
    verify(token, key, now_secs).map(|_| ())
}

/// Signs an HS256 JWT for `subject`, issued at `iat`, expiring at `exp` (unix seconds).
pub fn sign(subject: &str, iat: i64, exp: i64, key: &[u8]) -> String {
    let claims = json!({"sub": subject, "iat": iat, "exp": exp});
    protocol::hs256::sign(claims.to_string().as_bytes(), key)
}

/// Checks algorithm, signature (constant time, by `protocol::hs256`) and expiry; answers the
/// subject.
pub fn verify(token: &str, key: &[u8], now_secs: i64) -> Result<String, AuiError> {
    let invalid = |why: &str| AuiError::forbidden(format!("bearer token is not valid: {why}"));
    let claims =
        protocol::hs256::verify_signature(token, key).map_err(|e| invalid(&e.to_string()))?;
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| invalid("no exp"))?;
    if now_secs >= exp {
        return Err(AuiError::forbidden(format!(
            "bearer token expired at {exp} (now {now_secs}); log in again"
        )));
    }
    Ok(claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};

    const KEY: &[u8] = b"k";

    #[test]
    fn a_signed_token_verifies_until_its_expiry() {
        let token = sign("demo", 1000, 2000, KEY);
        assert!(token.starts_with("eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."));
        assert_eq!(verify(&token, KEY, 1999).unwrap(), "demo");
        let expired = verify(&token, KEY, 2000).unwrap_err();
        assert!(expired.message.contains("expired at 2000"), "{expired}");
    }

    #[test]
    fn forged_or_malformed_tokens_are_refused_with_403() {
        let token = sign("demo", 1000, 2000, KEY);
        let other_key = verify(&token, b"other", 1500).unwrap_err();
        assert!(other_key.message.contains("signature"));
        assert_eq!(other_key.status.as_u16(), 403);
        let none_alg = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(r#"{"exp":9999999999}"#)
        );
        assert!(verify(&none_alg, KEY, 1500).is_err());
        for junk in ["", "a.b", "a.b.c.d", "!.!.!"] {
            assert!(verify(junk, KEY, 1500).is_err(), "{junk}");
        }
    }

    #[test]
    fn the_scheme_must_be_bearer_in_any_case() {
        let token = sign("demo", 1000, 2000, KEY);
        assert!(check_bearer(&format!("bearer {token}"), KEY, 1500).is_ok());
        assert!(check_bearer(&format!("Bearer  {token} "), KEY, 1500).is_ok());
        assert!(check_bearer(&token, KEY, 1500).is_err());
        assert!(check_bearer(&format!("Basic {token}"), KEY, 1500).is_err());
    }

    #[test]
    fn secrets_compare_equal_only_when_equal() {
        assert!(same_secret("demo", "demo"));
        assert!(!same_secret("demo", "dem"));
        assert!(!same_secret("", "demo"));
    }
}
