//! The DUIX business error codes (seed 003, PROTOCOLS.md §5.2) as data.
//!
//! They travel in the envelope `{"code": "<code>", "message", "data", "success"}` with `code` a
//! string; `"0"` is success. Messages keep the platform's Chinese and add an English gloss.

use super::jwt::JwtError;

/// One DUIX business code and its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct DuixError {
    /// The envelope's `code`, e.g. `"1006"`.
    pub code: &'static str,
    /// The envelope's `message`.
    pub message: &'static str,
}

impl DuixError {
    /// `0`: success.
    pub const OK: DuixError = DuixError::new("0", "正常 (success)");
    /// `-1`: unexpected server failure.
    pub const SYSTEM_ERROR: DuixError = DuixError::new("-1", "系统异常 (system error)");
    /// `1005`: no `token` header (or `sig` query).
    pub const TOKEN_REQUIRED: DuixError =
        DuixError::new("1005", "token不能为空 (token is required)");
    /// `1006`: the token is malformed, expired, not yet valid or not HS256.
    pub const TOKEN_INVALID: DuixError =
        DuixError::new("1006", "token失效 (token is invalid or expired)");
    /// `1007`: the conversation (dialogue script) does not exist.
    pub const DIALOGUE_NOT_FOUND: DuixError =
        DuixError::new("1007", "话术信息不存在 (dialogue info does not exist)");
    /// `1009`: the app has no remaining sessions (concurrency quota used up).
    pub const QUOTA_EXHAUSTED: DuixError =
        DuixError::new("1009", "用户可用次数不足 (not enough remaining uses)");
    /// `2002`: the session does not exist.
    pub const SESSION_NOT_FOUND: DuixError =
        DuixError::new("2002", "会话信息不存在 (session does not exist)");
    /// `40001`: unknown appId, or a token signed with a key other than the app's appKey.
    pub const INVALID_APP_CREDENTIALS: DuixError = DuixError::new(
        "40001",
        "appid或者appsecret无效 (appId or appSecret is invalid)",
    );
    /// `40002`: internal error.
    pub const INTERNAL_ERROR: DuixError = DuixError::new("40002", "内部错误 (internal error)");

    /// Every code of the catalog, success first.
    pub const ALL: [DuixError; 9] = [
        Self::OK,
        Self::SYSTEM_ERROR,
        Self::TOKEN_REQUIRED,
        Self::TOKEN_INVALID,
        Self::DIALOGUE_NOT_FOUND,
        Self::QUOTA_EXHAUSTED,
        Self::SESSION_NOT_FOUND,
        Self::INVALID_APP_CREDENTIALS,
        Self::INTERNAL_ERROR,
    ];

    const fn new(code: &'static str, message: &'static str) -> Self {
        DuixError { code, message }
    }

    /// The catalog entry for an envelope `code`, if it is one.
    pub fn from_code(code: &str) -> Option<DuixError> {
        Self::ALL.into_iter().find(|e| e.code == code)
    }

    /// Whether the code refuses the caller's credentials (no token, a token that does not
    /// verify or has expired, an unknown app or wrong key) rather than the request.
    pub fn is_credential_refusal(&self) -> bool {
        [
            Self::TOKEN_REQUIRED,
            Self::TOKEN_INVALID,
            Self::INVALID_APP_CREDENTIALS,
        ]
        .contains(self)
    }

    /// Whether this is the success code (the envelope's `success: true`).
    pub fn is_success(&self) -> bool {
        self.code == Self::OK.code
    }

    /// The HTTP status the mocks answer this code with: 200 for success, 401 for the token and
    /// app refusals, 404 for what does not exist, 429 for the quota, 500 for the server's own
    /// failures. DUIX documents no statuses (the real platform is believed to answer 200 with the
    /// code in the envelope), so a judge accepts this status or 200; a malformed request is
    /// `-1` with 400.
    pub fn status(&self) -> u16 {
        match self.code {
            "0" => 200,
            "1005" | "1006" | "40001" => 401,
            "1007" | "2002" => 404,
            "1009" => 429,
            _ => 500,
        }
    }
}

impl From<&JwtError> for DuixError {
    /// A signature made with another key means the appId/appSecret pair is wrong: `40001`, as for
    /// an unknown appId. Every other refusal is about the token itself: `1006` (the platform does
    /// not say which). The match names each kind so that a new one has to be placed here.
    fn from(error: &JwtError) -> Self {
        match error {
            JwtError::BadSignature => DuixError::INVALID_APP_CREDENTIALS,
            JwtError::Malformed(_)
            | JwtError::Expired { .. }
            | JwtError::UnsupportedAlg
            | JwtError::NotYetValid { .. } => DuixError::TOKEN_INVALID,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_codes_are_unique_and_found_by_code() {
        for e in DuixError::ALL {
            assert_eq!(DuixError::from_code(e.code), Some(e));
        }
        assert_eq!(DuixError::from_code("1234"), None);
        assert!(DuixError::OK.is_success());
        assert!(!DuixError::TOKEN_INVALID.is_success());
        assert!(DuixError::INVALID_APP_CREDENTIALS.is_credential_refusal());
        assert!(!DuixError::QUOTA_EXHAUSTED.is_credential_refusal());
    }

    #[test]
    fn a_signature_made_with_another_key_maps_to_40001() {
        assert_eq!(
            DuixError::from(&JwtError::BadSignature),
            DuixError::INVALID_APP_CREDENTIALS
        );
    }

    #[test]
    fn every_other_token_refusal_maps_to_1006() {
        let refusals = [
            JwtError::Malformed("not three parts".into()),
            JwtError::Expired { exp: 1, now: 2 },
            JwtError::UnsupportedAlg,
            JwtError::NotYetValid { at: 3, now: 2 },
        ];
        for refusal in &refusals {
            assert_eq!(DuixError::from(refusal).code, "1006", "{refusal}");
        }
    }
}
