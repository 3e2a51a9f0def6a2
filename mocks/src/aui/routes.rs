//! The route table: which path runs which handler, which need a bearer token, and the route keys
//! faults, metrics and the journal use (the path itself).

use super::auth;
use super::envelope;
use super::handlers::{call, instance, start, token};
use super::state::AuiState;
use axum::handler::Handler;
use axum::routing::{post, MethodRouter};
use axum::Router;
use std::sync::Arc;

/// Where the login route is: beside the others, so one reverse-proxy rule for
/// `/api/v2/aiagent/` covers the whole server.
pub const LOGIN: &str = "/api/v2/aiagent/login";
pub const GET_RTC_AUTH_TOKEN: &str = "/api/v2/aiagent/getRtcAuthToken";
pub const GENERATE_MESSAGE_CHAT_TOKEN: &str = "/api/v2/aiagent/generateMessageChatToken";
pub const DESCRIBE_AI_AGENT_INSTANCE: &str = "/api/v2/aiagent/describeAIAgentInstance";
pub const START_AI_AGENT_INSTANCE: &str = "/api/v2/aiagent/startAIAgentInstance";
pub const START_AI_AGENT_INSTANCE_WITH_CHANNEL: &str =
    "/api/v2/aiagent/startAIAgentInstanceWithChannel";
pub const STOP_AI_AGENT_INSTANCE: &str = "/api/v2/aiagent/stopAIAgentInstance";
pub const UPDATE_AI_AGENT_INSTANCE: &str = "/api/v2/aiagent/updateAIAgentInstance";
pub const GENERATE_AI_AGENT_CALL: &str = "/api/v2/aiagent/generateAIAgentCall";

/// Every route this server answers (all `POST`, plus `OPTIONS` for CORS).
pub const ROUTES: [&str; 9] = [
    LOGIN,
    GET_RTC_AUTH_TOKEN,
    GENERATE_MESSAGE_CHAT_TOKEN,
    DESCRIBE_AI_AGENT_INSTANCE,
    START_AI_AGENT_INSTANCE,
    START_AI_AGENT_INSTANCE_WITH_CHANNEL,
    STOP_AI_AGENT_INSTANCE,
    UPDATE_AI_AGENT_INSTANCE,
    GENERATE_AI_AGENT_CALL,
];

/// The key for a path: the path when it is one of [`ROUTES`], else `unknown`.
pub fn route_key(path: &str) -> &'static str {
    ROUTES
        .into_iter()
        .find(|route| *route == path)
        .unwrap_or("unknown")
}

/// The AUI routes; every one but login sits behind the bearer check.
pub fn router(state: Arc<AuiState>) -> Router {
    let protected = Router::new()
        .route(GET_RTC_AUTH_TOKEN, post_json(token::get_rtc_auth_token))
        .route(
            GENERATE_MESSAGE_CHAT_TOKEN,
            post_json(token::generate_message_chat_token),
        )
        .route(
            DESCRIBE_AI_AGENT_INSTANCE,
            post_json(instance::describe_ai_agent_instance),
        )
        .route(
            START_AI_AGENT_INSTANCE,
            post_json(start::start_ai_agent_instance),
        )
        .route(
            START_AI_AGENT_INSTANCE_WITH_CHANNEL,
            post_json(start::start_ai_agent_instance_with_channel),
        )
        .route(
            STOP_AI_AGENT_INSTANCE,
            post_json(instance::stop_ai_agent_instance),
        )
        .route(
            UPDATE_AI_AGENT_INSTANCE,
            post_json(instance::update_ai_agent_instance),
        )
        .route(
            GENERATE_AI_AGENT_CALL,
            post_json(call::generate_ai_agent_call),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_bearer,
        ));
    Router::new()
        .route(LOGIN, post_json(auth::login))
        .merge(protected)
        .with_state(state)
}

/// `POST handler`, and `OPTIONS` answered as a CORS preflight.
fn post_json<H, T>(handler: H) -> MethodRouter<Arc<AuiState>>
where
    H: Handler<T, Arc<AuiState>>,
    T: 'static,
{
    post(handler).options(|| async { envelope::preflight() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_are_their_own_key_and_the_rest_share_one() {
        for route in ROUTES {
            assert_eq!(route_key(route), route);
        }
        assert_eq!(route_key("/api/v2/aiagent/nope"), "unknown");
        assert_eq!(route_key("/api/v2/aiagent/login/"), "unknown");
    }
}
