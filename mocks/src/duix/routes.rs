//! The route table and the HTTP handlers: checkSig, the four management APIs under both of their
//! prefixes, the session WebSocket's entry, and the two `/__duix` routes for webhooks.

use super::auth::{authenticate, token_header, Caller};
use super::envelope::{success, ApiError};
use super::sessions::Ending;
use super::webhook::Target;
use super::{ws, Shared};
use axum::body::Bytes;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use protocol::duix::DuixError;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Validates a token and answers the session WebSocket's URL.
pub const CHECK_SIG: &str = "/duix-openapi-v2/sdk/checkSig";
/// The session WebSocket (DUIX-SESSION.md).
pub const SESSION_WS: &str = "/duix-openapi-v2/ws";
/// Both prefixes the management APIs live under (old `v1/`, newer `sdk/v2/`).
pub const MANAGEMENT_PREFIXES: [&str; 2] = ["/duix-openapi-v2/v1/", "/duix-openapi-v2/sdk/v2/"];
/// The management APIs' names, as the platform spells them.
pub const MANAGEMENT: [&str; 4] = [
    "getconcurrentNumber",
    "getconcurrentList",
    "distroyCallSessionsByAppId",
    "sessionStop",
];
/// Lists (GET) or sets (POST) the webhook of a dh-code.
pub const WEBHOOKS: &str = "/__duix/webhooks";
/// Latency and outcome statistics of webhook calls, per dh-code.
pub const WEBHOOK_STATS: &str = "/__duix/webhook-stats";

type St = State<Arc<Shared>>;

/// Whether `path` is one of this platform's routes (its own metric and journal key).
pub fn is_route(path: &str) -> bool {
    [CHECK_SIG, SESSION_WS, WEBHOOKS, WEBHOOK_STATS].contains(&path)
        || MANAGEMENT_PREFIXES.iter().any(|prefix| {
            path.strip_prefix(prefix)
                .is_some_and(|name| MANAGEMENT.contains(&name))
        })
}

/// The platform's routes, bound to its state.
pub fn router(shared: Arc<Shared>) -> Router {
    let mut router = Router::new()
        .route(CHECK_SIG, get(check_sig))
        .route(SESSION_WS, get(session_ws))
        .route(WEBHOOKS, get(webhooks_list).post(webhooks_set))
        .route(WEBHOOK_STATS, get(webhook_stats));
    for prefix in MANAGEMENT_PREFIXES {
        router = router
            .route(
                &format!("{prefix}getconcurrentNumber"),
                get(concurrent_number),
            )
            .route(&format!("{prefix}getconcurrentList"), get(concurrent_list))
            .route(
                &format!("{prefix}distroyCallSessionsByAppId"),
                get(destroy_sessions),
            )
            .route(&format!("{prefix}sessionStop"), get(session_stop));
    }
    router.with_state(shared)
}

/// The query parameter `name`, decoded as a form (`+` is a space, bad UTF-8 replaced); the last
/// one when it is given twice.
fn param(uri: &Uri, name: &str) -> Option<String> {
    form_urlencoded::parse(uri.query()?.as_bytes())
        .filter(|(key, _)| key == name)
        .last()
        .map(|(_, value)| value.into_owned())
}

/// A management call: the `token` header, then the required query parameter `name`.
fn managed(
    shared: &Shared,
    headers: &HeaderMap,
    uri: &Uri,
    name: &str,
) -> Result<(Caller, String), ApiError> {
    let token = token_header(headers);
    let caller = authenticate(
        &shared.apps,
        token.as_deref(),
        "header `token`",
        shared.clock.now_secs(),
    )?;
    let value = param(uri, name)
        .filter(|v| !v.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request(format!("query parameter `{name}` is required")))?;
    Ok((caller, value))
}

/// A management call about an app: the `appId` query must be the token's app.
fn managed_app(shared: &Shared, headers: &HeaderMap, uri: &Uri) -> Result<Caller, ApiError> {
    let (caller, app_id) = managed(shared, headers, uri, "appId")?;
    if app_id != caller.app.app_id {
        let detail = format!("appId {app_id:?} is not the app the token was signed for");
        return Err(ApiError::new(DuixError::INVALID_APP_CREDENTIALS, detail));
    }
    Ok(caller)
}

/// checkSig's `data`.
#[derive(Serialize)]
struct CheckSig<'a> {
    #[serde(rename = "appId")]
    app_id: &'a str,
    #[serde(rename = "wsService")]
    ws_service: String,
}

/// getconcurrentNumber's `data`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConcurrentNumber<'a> {
    crop_id: &'a str,
    total_concurrent_number: usize,
    user_concurrent_number: usize,
}

fn reply(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn check_sig(State(shared): St, headers: HeaderMap, uri: Uri) -> Response {
    reply((|| {
        let sig = param(&uri, "sig");
        let caller = authenticate(
            &shared.apps,
            sig.as_deref(),
            "query `sig`",
            shared.clock.now_secs(),
        )?;
        let sig = sig.unwrap_or_default();
        let ws = ws_service(shared.public_ws_base.as_deref(), &headers, &uri, sig.trim());
        Ok(success(CheckSig {
            app_id: &caller.app.app_id,
            ws_service: ws,
        }))
    })())
}

/// Characters a JWT may not carry unescaped in a query (base64url and `.` stay as they are).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// `wsService`: `<base>/duix-openapi-v2/ws?sig=<sig>`, the base being `public_ws_base` or
/// `ws://<Host header>` (HTTP/2: the URI's authority; a host with unexpected characters falls
/// back to `127.0.0.1`, so nothing a client sends is echoed unchecked).
fn ws_service(public_base: Option<&str>, headers: &HeaderMap, uri: &Uri, sig: &str) -> String {
    let base = match public_base {
        Some(base) => base.trim_end_matches('/').to_string(),
        None => {
            let host = headers
                .get("host")
                .and_then(|v| v.to_str().ok())
                .or_else(|| uri.authority().map(|a| a.as_str()))
                .filter(|h| is_plain_host(h))
                .unwrap_or("127.0.0.1");
            format!("ws://{host}")
        }
    };
    let sig = utf8_percent_encode(sig, QUERY_VALUE);
    format!("{base}{SESSION_WS}?sig={sig}")
}

fn is_plain_host(host: &str) -> bool {
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
}

async fn concurrent_number(State(shared): St, headers: HeaderMap, uri: Uri) -> Response {
    reply(managed_app(&shared, &headers, &uri).map(|caller| {
        let (mine, total) = shared.sessions.counts(&caller.app.app_id);
        success(ConcurrentNumber {
            crop_id: caller.app.crop(),
            total_concurrent_number: total,
            user_concurrent_number: mine,
        })
    }))
}

async fn concurrent_list(State(shared): St, headers: HeaderMap, uri: Uri) -> Response {
    reply(
        managed_app(&shared, &headers, &uri)
            .map(|caller| success(shared.sessions.list(&caller.app.app_id))),
    )
}

async fn destroy_sessions(State(shared): St, headers: HeaderMap, uri: Uri) -> Response {
    reply(managed_app(&shared, &headers, &uri).map(|caller| {
        shared
            .sessions
            .stop_all(Some(&caller.app.app_id), Ending::Destroyed);
        success("")
    }))
}

async fn session_stop(State(shared): St, headers: HeaderMap, uri: Uri) -> Response {
    reply((|| {
        let (caller, uuid) = managed(&shared, &headers, &uri, "uuid")?;
        if !shared
            .sessions
            .stop(&caller.app.app_id, &uuid, Ending::SessionStop)
        {
            let detail = format!("app {} has no session {uuid:?}", caller.app.app_id);
            return Err(ApiError::new(DuixError::SESSION_NOT_FOUND, detail));
        }
        Ok(success(""))
    })())
}

/// The sig is checked after the upgrade, so that a browser client can read why it was refused
/// (an `error` message; a refused upgrade's body is invisible to browser WebSockets).
async fn session_ws(
    State(shared): St,
    uri: Uri,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(e) => {
            let detail =
                format!("this is the session WebSocket; connect with a WebSocket client ({e})");
            return ApiError::bad_request(detail).into_response();
        }
    };
    let sig = param(&uri, "sig");
    let caller = authenticate(
        &shared.apps,
        sig.as_deref(),
        "query `sig`",
        shared.clock.now_secs(),
    );
    ws::accept(shared, upgrade, caller)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookChange {
    dh_code: String,
    /// `null` removes the dh-code's webhook.
    url: Option<String>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    bearer: Option<String>,
}

async fn webhooks_list(State(shared): St) -> Response {
    Json(shared.webhooks.to_json()).into_response()
}

async fn webhooks_set(State(shared): St, body: Bytes) -> Response {
    let change: WebhookChange = match serde_json::from_slice(&body) {
        Ok(change) => change,
        Err(e) => return ApiError::bad_request(format!("body: {e}")).into_response(),
    };
    let target = change.url.map(|url| Target {
        url,
        stream: change.stream,
        bearer: change.bearer,
    });
    match shared.webhooks.set(&change.dh_code, target) {
        Ok(()) => Json(shared.webhooks.to_json()).into_response(),
        Err(why) => ApiError::bad_request(why).into_response(),
    }
}

async fn webhook_stats(State(shared): St) -> Response {
    Json(shared.webhooks.stats.to_json()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_keys_cover_both_prefixes_and_nothing_else() {
        assert!(is_route("/duix-openapi-v2/v1/sessionStop"));
        assert!(is_route("/duix-openapi-v2/sdk/v2/getconcurrentList"));
        assert!(!is_route("/duix-openapi-v2/v1/closeSession"));
        assert!(!is_route("/duix-openapi-v2/v1/"));
    }

    #[test]
    fn ws_service_uses_the_host_or_the_configured_base() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "127.0.0.1:9300".parse().unwrap());
        assert_eq!(
            ws_service(None, &headers, &Uri::from_static("/"), "a.b.c"),
            "ws://127.0.0.1:9300/duix-openapi-v2/ws?sig=a.b.c"
        );
        headers.insert("host", "evil\"host".parse().unwrap());
        assert!(
            ws_service(None, &headers, &Uri::from_static("/"), "x").starts_with("ws://127.0.0.1/")
        );
        assert_eq!(
            ws_service(
                Some("wss://d.example/"),
                &headers,
                &Uri::from_static("/"),
                "a b"
            ),
            "wss://d.example/duix-openapi-v2/ws?sig=a%20b"
        );
    }
}
