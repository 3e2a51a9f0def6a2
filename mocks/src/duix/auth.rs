//! Who is calling: the HS256 token of seed 003, read from the `token` header (management APIs) or
//! the `sig` query (checkSig, the session WebSocket), checked against the app it names.
//!
//! The order matters for which code a client sees: no token → 1005; not a JWT with a string
//! `appId` → 1006; an `appId` this mock does not know → 40001; a signature made with another key →
//! 40001 (the appId/appSecret pair is wrong); any other refusal (expired on the virtual clock,
//! `alg` other than HS256, `exp` missing) → 1006.

use super::config::DuixApp;
use super::envelope::ApiError;
use axum::http::HeaderMap;
use protocol::duix::{read_token, DuixError, JwtError};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The apps a mock knows, by app id (shared with each caller, not copied).
pub type Apps = BTreeMap<String, Arc<DuixApp>>;

/// A caller whose token verified.
#[derive(Debug, Clone)]
pub struct Caller {
    pub app: Arc<DuixApp>,
    /// The token's `exp`, unix seconds: sessions end when the virtual clock passes it.
    pub exp: i64,
}

/// The `token` header, lossily decoded (a non-UTF-8 value then fails as a malformed token).
pub fn token_header(headers: &HeaderMap) -> Option<String> {
    headers
        .get("token")
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
}

/// Checks `token` (where it came from is named by `source`, e.g. "header `token`").
pub fn authenticate(
    apps: &Apps,
    token: Option<&str>,
    source: &str,
    now_secs: i64,
) -> Result<Caller, ApiError> {
    let token = match token.map(str::trim) {
        Some(token) if !token.is_empty() => token,
        _ => {
            return Err(ApiError::new(
                DuixError::TOKEN_REQUIRED,
                format!("{source} is missing"),
            ))
        }
    };
    // Read once: the appId it names says which key verifies it.
    let token = read_token(token).map_err(|e| refused(&e, source))?;
    let Some(app) = apps.get(token.app_id()) else {
        let detail = format!(
            "{source} names appId {:?}, which is not a known app",
            token.app_id()
        );
        return Err(ApiError::new(DuixError::INVALID_APP_CREDENTIALS, detail));
    };
    match token.verify(&app.app_key, now_secs) {
        Ok(claims) => Ok(Caller {
            app: app.clone(),
            exp: claims.exp,
        }),
        Err(e) => Err(refused(&e, source)),
    }
}

/// The catalog says which code each refusal gets (`40001` for another key, else `1006`).
fn refused(error: &JwtError, source: &str) -> ApiError {
    ApiError::new(DuixError::from(error), format!("{source}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::duix::sign_token;

    fn apps() -> Apps {
        let app = DuixApp::default();
        [(app.app_id.clone(), Arc::new(app))].into_iter().collect()
    }

    fn code(result: Result<Caller, ApiError>) -> &'static str {
        match result {
            Ok(_) => "0",
            Err(e) => e.error.code,
        }
    }

    #[test]
    fn each_kind_of_bad_token_gets_its_code() {
        let apps = apps();
        let good = sign_token("1234567890", "agentproof-duix-demo-key", 100, 200);
        let other_key = sign_token("1234567890", "another-key", 100, 200);
        let other_app = sign_token("999", "agentproof-duix-demo-key", 100, 200);
        assert_eq!(code(authenticate(&apps, Some(&good), "sig", 150)), "0");
        assert_eq!(code(authenticate(&apps, Some(&good), "sig", 200)), "1006");
        assert_eq!(code(authenticate(&apps, None, "sig", 150)), "1005");
        assert_eq!(code(authenticate(&apps, Some("  "), "sig", 150)), "1005");
        assert_eq!(
            code(authenticate(&apps, Some("garbage"), "sig", 150)),
            "1006"
        );
        assert_eq!(
            code(authenticate(&apps, Some(&other_key), "sig", 150)),
            "40001"
        );
        assert_eq!(
            code(authenticate(&apps, Some(&other_app), "sig", 150)),
            "40001"
        );
    }
}
