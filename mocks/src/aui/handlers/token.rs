//! `getRtcAuthToken` (computed here) and `generateMessageChatToken` (ICE), field for field as seed
//! 001.

use super::{params, respond, AppState, Fields, MAX_ID_CHARS};
use crate::aui::envelope::{success_typed, AuiError, SUCCESS_CODE};
use crate::aui::state::AuiState;
use axum::body::Bytes;
use axum::response::Response;
use protocol::aui::{new_channel_id, rtc_token, CLIENT_TOKEN_TTL_SECS};
use serde::Serialize;
use serde_json::Value;

/// Java's `Integer` range, the type of every `expire` field; ICE checks the real bounds.
pub const EXPIRE_RANGE: std::ops::RangeInclusive<i64> = 0..=2_147_483_647;

/// `POST /api/v2/aiagent/getRtcAuthToken` `{user_id, channel_id?}` →
/// `{code, rtc_auth_token, channel_id, timestamp}`.
///
/// The token expires 24 hours from now by the virtual clock. Without a `channel_id` the server
/// makes one (32 lowercase hex) and, unlike the Java server's HEAD (which echoes the request's
/// `channel_id`, so null), answers the id it used: a client cannot join a channel it cannot name.
/// `user_id` is required here although §4.3 leaves it unmarked: a token is for one user, and a
/// token for the user "null" (what the Java server would sign) joins nobody's call.
pub async fn get_rtc_auth_token(state: AppState, body: Bytes) -> Response {
    respond(rtc_auth_token(&state, &body))
}

fn rtc_auth_token(state: &AuiState, body: &[u8]) -> Result<Response, AuiError> {
    let fields = Fields::parse(body)?;
    let user_id = fields.user_id(true)?.unwrap_or_default();
    let channel_id = match fields.channel_id(false)? {
        Some(id) => id.to_string(),
        None => new_channel_id(),
    };
    let timestamp = state.now_secs() + CLIENT_TOKEN_TTL_SECS;
    let token = rtc_token(
        &state.config.app_id,
        &state.config.app_key,
        &channel_id,
        user_id,
        timestamp,
    );
    Ok(success_typed(RtcAuthToken {
        channel_id,
        code: SUCCESS_CODE,
        rtc_auth_token: token,
        timestamp,
    }))
}

/// getRtcAuthToken's answer, fields sorted by name as [`crate::aui::envelope::success`] gives
/// them.
#[derive(Serialize)]
struct RtcAuthToken {
    channel_id: String,
    code: u16,
    rtc_auth_token: String,
    timestamp: i64,
}

/// `POST /api/v2/aiagent/generateMessageChatToken`
/// `{ai_agent_id, user_id, role?, expire?, region?}` → ICE `GenerateMessageChatToken` →
/// `{code, message, request_id, app_id, token, user_id, nonce, role, timestamp, app_sign}`.
pub async fn generate_message_chat_token(state: AppState, body: Bytes) -> Response {
    respond(message_chat_token(&state, &body).await)
}

async fn message_chat_token(state: &AuiState, body: &[u8]) -> Result<Response, AuiError> {
    let fields = Fields::parse(body)?;
    let agent_id = fields.id("ai_agent_id", MAX_ID_CHARS, true)?;
    let user_id = fields.user_id(true)?;
    let role = fields.opt_str("role", 64)?;
    let expire = fields.int("expire", EXPIRE_RANGE)?;
    let region = fields.region(false)?;
    let query = params([
        ("AIAgentId", agent_id.map(str::to_string)),
        ("UserId", user_id.map(str::to_string)),
        ("Role", role.map(str::to_string)),
        ("Expire", expire.map(|e| e.to_string())),
    ]);
    let answer = state
        .upstream
        .call("GenerateMessageChatToken", region, &query)
        .await?;
    let field = |name: &str| answer.0.get(name).cloned();
    Ok(success_typed(MessageChatToken {
        app_id: answer.str("AppId")?,
        app_sign: field("AppSign"),
        code: SUCCESS_CODE,
        message: "success",
        nonce: field("Nonce"),
        request_id: answer.request_id(),
        role: field("Role"),
        timestamp: field("TimeStamp"),
        token: answer.str("Token")?,
        user_id: field("UserId"),
    }))
}

/// generateMessageChatToken's answer, fields sorted by name and ICE's fields left out when
/// absent or null, as [`crate::aui::envelope::success`] gives them.
#[derive(Serialize)]
struct MessageChatToken {
    app_id: String,
    #[serde(skip_serializing_if = "is_absent")]
    app_sign: Option<Value>,
    code: u16,
    message: &'static str,
    #[serde(skip_serializing_if = "is_absent")]
    nonce: Option<Value>,
    request_id: String,
    #[serde(skip_serializing_if = "is_absent")]
    role: Option<Value>,
    #[serde(skip_serializing_if = "is_absent")]
    timestamp: Option<Value>,
    token: String,
    #[serde(skip_serializing_if = "is_absent")]
    user_id: Option<Value>,
}

fn is_absent(value: &Option<Value>) -> bool {
    value.as_ref().is_none_or(Value::is_null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aui::envelope::success;
    use axum::body::to_bytes;
    use serde_json::json;

    async fn body(response: Response) -> Bytes {
        to_bytes(response.into_body(), 1 << 20).await.unwrap()
    }

    #[tokio::test]
    async fn the_typed_answers_are_the_bytes_the_json_tree_gave() {
        let typed = success_typed(RtcAuthToken {
            channel_id: "c".into(),
            code: SUCCESS_CODE,
            rtc_auth_token: "t".into(),
            timestamp: 7,
        });
        let tree = success(json!({"rtc_auth_token": "t", "channel_id": "c", "timestamp": 7}));
        assert_eq!(body(typed).await, body(tree).await);
        let typed = success_typed(MessageChatToken {
            app_id: "a".into(),
            app_sign: Some(json!("s")),
            code: SUCCESS_CODE,
            message: "success",
            nonce: None,
            request_id: "r".into(),
            role: Some(Value::Null),
            timestamp: Some(json!(12)),
            token: "t".into(),
            user_id: Some(json!("u")),
        });
        let tree = success(json!({
            "message": "success", "request_id": "r", "app_id": "a", "token": "t",
            "user_id": "u", "nonce": null, "role": null, "timestamp": 12, "app_sign": "s",
        }));
        assert_eq!(body(typed).await, body(tree).await);
    }
}
