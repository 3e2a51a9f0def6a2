//! The main routes of the three mocks in-process, each with its full router (edge, admin,
//! routes, handler, journal, metrics) and a way to make its next request, shared by the
//! criterion bench (`benches/request_path.rs`) and the instruction counter
//! (`examples/path_instructions.rs`, run under callgrind).

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use http_body_util::BodyExt;
use mocks::alibaba::AlibabaConfig;
use mocks::aui::AuiConfig;
use mocks::duix::DuixConfig;
use mocks::limits::Limits;
use mocks::{MockServer, VirtualClock};
use protocol::alibaba::timestamp::format_utc;
use protocol::request::{alibaba, aui, duix, HttpRequest};
use serde_json::{json, Value};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::runtime::Runtime;
use tower::ServiceExt;

const ALIBABA_HOST: &str = "127.0.0.1:18601";
const AUI_HOST: &str = "127.0.0.1:18602";
const DUIX_HOST: &str = "127.0.0.1:18603";

/// One main route: its mock's router and its request.
#[allow(dead_code)] // each of the two users reads its own part
pub struct Route {
    /// `aui getRtcAuthToken`, ... as `scripts/bench` names the route.
    pub name: &'static str,
    /// A short name for the command line: `aui-rtc`, `duix-checksig`, `alibaba-v3`, ...
    pub key: &'static str,
    pub router: Router,
    /// Each request needs its own signature (a second send would be a replay).
    pub signed: bool,
    make: Box<dyn Fn() -> Request<Body>>,
}

impl Route {
    /// The route's next request; a signed route's is freshly signed.
    pub fn request(&self) -> Request<Body> {
        (self.make)()
    }
}

/// Every main route, and the Alibaba mock that AUI's generateMessageChatToken calls upstream
/// (a real socket); [`Routes::shutdown`] stops it.
pub struct Routes {
    pub routes: Vec<Route>,
    upstream: MockServer,
}

impl Routes {
    pub fn shutdown(self, rt: &Runtime) {
        rt.block_on(self.upstream.shutdown());
    }
}

/// The mocks with their default limits, or these.
pub fn routes(rt: &Runtime, limits: &Limits) -> Routes {
    let (aui_routes, upstream) = aui_routes(rt, limits);
    let mut routes = aui_routes;
    routes.extend(duix_routes(rt, limits));
    routes.extend(alibaba_routes(rt, limits));
    // Last: in one bench process, the rows measured after ~100k in-process chat calls came out
    // ~25% slower (DUIX checkSig 5.8 -> 7.1 us, in that order only; a real server's checkSig after
    // a chat burst is unchanged), so it runs after every other row.
    let beside = routes.iter().position(|r| r.key == "aui-chat-beside");
    if let Some(beside) = beside {
        let route = routes.remove(beside);
        routes.push(route);
    }
    Routes { routes, upstream }
}

fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    since.as_millis() as i64
}

/// The request as an HTTP client would send it to `host`.
fn to_axum(request: &HttpRequest, host: &str) -> Request<Body> {
    let mut builder = Request::builder()
        .method(request.method)
        .uri(format!("http://{host}{}", request.path_and_query))
        .header("host", host);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    builder.body(Body::from(request.body.clone())).unwrap()
}

/// Sends through the router and reads the body, as hyper would; the status and body.
pub async fn call(router: &Router, request: Request<Body>) -> (u16, Vec<u8>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, body.to_vec())
}

/// Sends and insists on a 200; the JSON answer.
pub fn ok(rt: &Runtime, router: &Router, request: Request<Body>) -> Value {
    let (status, body) = rt.block_on(call(router, request));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

/// The demo user's bearer token from `router`'s login.
fn login(rt: &Runtime, router: &Router) -> String {
    let config = AuiConfig::default();
    let request = aui::login(&config.login_user, &config.login_password);
    let answer = ok(rt, router, to_axum(&request, AUI_HOST));
    answer["token"].as_str().unwrap().to_string()
}

fn fixed(
    name: &'static str,
    key: &'static str,
    router: &Router,
    request: HttpRequest,
    host: &'static str,
) -> Route {
    Route {
        name,
        key,
        router: router.clone(),
        signed: false,
        make: Box::new(move || to_axum(&request, host)),
    }
}

fn aui_routes(rt: &Runtime, limits: &Limits) -> (Vec<Route>, MockServer) {
    let clock = VirtualClock::new();
    let credential = AlibabaConfig::default().credentials[0].clone();
    // generateMessageChatToken calls ICE upstream: the Alibaba mock on a real socket, or the
    // same application called in-process (as `agentproof mock` runs the two).
    let (_, alibaba_app) =
        mocks::alibaba::build(AlibabaConfig::default(), clock.clone(), Limits::default());
    let upstream = rt
        .block_on(MockServer::start(
            alibaba_app.clone(),
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let mut config = AuiConfig::default();
    config.upstream.endpoint = upstream.url();
    config.upstream.access_key_id = credential.access_key_id.clone();
    config.upstream.access_key_secret = credential.access_key_secret.clone();
    let (_, beside) = mocks::aui::build_beside_alibaba(
        config.clone(),
        clock.clone(),
        limits.clone(),
        alibaba_app,
    );
    let (_, router) = mocks::aui::build(config, clock, limits.clone());
    let token = login(rt, &router);
    let rtc = aui::call(
        aui::GET_RTC_AUTH_TOKEN,
        &json!({"user_id": "bench_user", "channel_id": "bench_channel"}),
        &token,
    );
    let chat = |token: &str| {
        aui::call(
            aui::GENERATE_MESSAGE_CHAT_TOKEN,
            &json!({"ai_agent_id": "agent_load", "user_id": "bench_user", "role": "admin", "expire": 1800}),
            token,
        )
    };
    let routes = vec![
        fixed("aui getRtcAuthToken", "aui-rtc", &router, rtc, AUI_HOST),
        fixed(
            "aui generateMessageChatToken (upstream hop)",
            "aui-chat",
            &router,
            chat(&token),
            AUI_HOST,
        ),
        fixed(
            "aui generateMessageChatToken (upstream in-process)",
            "aui-chat-beside",
            &beside,
            chat(&login(rt, &beside)),
            AUI_HOST,
        ),
    ];
    (routes, upstream)
}

fn duix_routes(_rt: &Runtime, limits: &Limits) -> Vec<Route> {
    let app = DuixConfig::default().apps[0].clone();
    let (_, router) =
        mocks::duix::build(DuixConfig::default(), VirtualClock::new(), limits.clone());
    let now = now_ms() / 1000;
    let token = protocol::duix::sign_token(&app.app_id, &app.app_key, now, now + 86_400);
    let query = [("appId".to_string(), app.app_id.clone())];
    vec![
        fixed(
            "duix checkSig",
            "duix-checksig",
            &router,
            duix::check_sig(&token),
            DUIX_HOST,
        ),
        fixed(
            "duix getconcurrentNumber",
            "duix-concurrent",
            &router,
            duix::get(duix::GET_CONCURRENT_NUMBER, &query, Some(token)),
            DUIX_HOST,
        ),
    ]
}

/// A GetAgent signed as `sign` does, with a fresh nonce and date: each is sent once.
fn get_agent(sign: fn(alibaba::Call<'_>) -> HttpRequest) -> HttpRequest {
    let credential = AlibabaConfig::default().credentials[0].clone();
    sign(alibaba::Call {
        method: "POST",
        host: ALIBABA_HOST,
        action: "GetAgent",
        version: alibaba::api_version("GetAgent"),
        params: &task_key(),
        access_key_id: &credential.access_key_id,
        secret: &credential.access_key_secret,
        date: &format_utc(now_ms()),
        nonce: &alibaba::fresh_nonce(),
    })
}

fn task_key() -> Vec<(String, String)> {
    [
        ("AppId", "bench_app"),
        ("ChannelId", "bench_ch"),
        ("TaskId", "bench_task"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn alibaba_routes(rt: &Runtime, limits: &Limits) -> Vec<Route> {
    let credential = AlibabaConfig::default().credentials[0].clone();
    let (_, router) = mocks::alibaba::build(
        AlibabaConfig::default(),
        VirtualClock::new(),
        limits.clone(),
    );
    let mut start = task_key();
    start.extend([
        ("TemplateId".to_string(), "tpl_1".to_string()),
        (
            "RtcConfig".to_string(),
            r#"{"UserId":"agent_1","TargetUserIds":["user_1"]}"#.to_string(),
        ),
        (
            "VoiceChatConfig".to_string(),
            r#"{"ChatMode":1}"#.to_string(),
        ),
    ]);
    let start_agent = alibaba::signed(alibaba::Call {
        method: "POST",
        host: ALIBABA_HOST,
        action: "StartAgent",
        version: alibaba::api_version("StartAgent"),
        params: &start,
        access_key_id: &credential.access_key_id,
        secret: &credential.access_key_secret,
        date: &format_utc(now_ms()),
        nonce: &alibaba::fresh_nonce(),
    });
    ok(rt, &router, to_axum(&start_agent, ALIBABA_HOST));
    let signed = |name, key, sign: fn(alibaba::Call<'_>) -> HttpRequest| Route {
        name,
        key,
        router: router.clone(),
        signed: true,
        make: Box::new(move || to_axum(&get_agent(sign), ALIBABA_HOST)),
    };
    vec![
        signed("alibaba GetAgent (V3)", "alibaba-v3", alibaba::signed),
        signed("alibaba GetAgent (V1)", "alibaba-v1", alibaba::signed_v1),
    ]
}
