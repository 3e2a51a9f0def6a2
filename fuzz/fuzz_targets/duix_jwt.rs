//! The HS256 JWTs: the DUIX token as the DUIX mock authenticates it (`token` header or `sig`
//! query: `mocks::duix::auth::authenticate`, over `protocol::duix::{peek_app_id, verify_token}`
//! and `protocol::hs256`), and the AUI app server's bearer token (`Authorization: Bearer`,
//! `check_bearer` over the same `protocol::hs256`).
//!
//! Input: one flag byte, then the token text (bytes read lossily, as the `token` header is).
//! Flag bit 0: the rest is instead the *claims* JSON, signed here with the demo key, so that inputs
//! get past the signature into the claim checks (`appId`, `exp`, `iat`, `nbf`).

#![no_main]

use agentproof_fuzz::NOW_SECS;
use libfuzzer_sys::fuzz_target;
use mocks::aui::fuzzing::{check_bearer, verify_bearer};
use mocks::duix::auth::{authenticate, Apps};
use mocks::duix::{DuixApp, DEMO_APP_KEY};
use protocol::{duix, hs256};
use std::sync::OnceLock;

/// The AUI server's default JWT key, as `AuiConfig::default` sets it.
const AUI_JWT_KEY: &[u8] = b"agentproof-aui-fuzz-jwt-key";

fn apps() -> &'static Apps {
    static APPS: OnceLock<Apps> = OnceLock::new();
    APPS.get_or_init(|| {
        let app = DuixApp::default();
        [(app.app_id.clone(), std::sync::Arc::new(app))]
            .into_iter()
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (duix_token, aui_token) = if flags & 1 == 0 {
        let text = String::from_utf8_lossy(rest).into_owned();
        (text.clone(), text)
    } else {
        (
            hs256::sign(rest, DEMO_APP_KEY.as_bytes()),
            hs256::sign(rest, AUI_JWT_KEY),
        )
    };

    let peeked = duix::peek_app_id(&duix_token);
    let verified = duix::verify_token(&duix_token, DEMO_APP_KEY, NOW_SECS);
    if let Ok(claims) = &verified {
        assert_eq!(
            peeked.as_ref(),
            Ok(&claims.app_id),
            "a verified token peeks its app"
        );
    }
    let _ = hs256::peek_claims(&duix_token);
    let _ = authenticate(apps(), Some(&duix_token), "header `token`", NOW_SECS);

    let _ = verify_bearer(&aui_token, AUI_JWT_KEY, NOW_SECS);
    let _ = check_bearer(&format!("Bearer {aui_token}"), AUI_JWT_KEY, NOW_SECS);
    if flags & 1 == 0 {
        // The whole text as the header value, scheme and all.
        let _ = check_bearer(&aui_token, AUI_JWT_KEY, NOW_SECS);
    }
});
