//! `getRtcAuthToken` (computed here) and `generateMessageChatToken` (ICE), field for field as seed
//! 001.

use super::{params, respond, AppState, Fields, MAX_ID_CHARS};
use crate::aui::envelope::{success, AuiError};
use crate::aui::state::AuiState;
use axum::body::Bytes;
use axum::response::Response;
use protocol::aui::{new_channel_id, rtc_token, CLIENT_TOKEN_TTL_SECS};
use serde_json::json;

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
    Ok(success(json!({
        "rtc_auth_token": token,
        "channel_id": channel_id,
        "timestamp": timestamp,
    })))
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
    Ok(success(json!({
        "message": "success",
        "request_id": answer.request_id(),
        "app_id": answer.str("AppId")?,
        "token": answer.str("Token")?,
        "user_id": field("UserId"),
        "nonce": field("Nonce"),
        "role": field("Role"),
        "timestamp": field("TimeStamp"),
        "app_sign": field("AppSign"),
    })))
}
