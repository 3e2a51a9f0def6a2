//! The whole request path of each main route in-process: the platform's full router (edge,
//! admin, routes, handler, journal, metrics) driven with `tower::ServiceExt::oneshot`, no socket.
//! A regression in routing, middleware, signature or token work shows up here without a load
//! tool; `scripts/bench` measures the same routes over real sockets against a bare hyper server.
//! Also the journal's append with every core pushing at once.

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use http_body_util::BodyExt;
use mocks::alibaba::AlibabaConfig;
use mocks::aui::AuiConfig;
use mocks::duix::DuixConfig;
use mocks::journal::{Entry, Journal};
use mocks::limits::Limits;
use mocks::VirtualClock;
use protocol::alibaba::timestamp::format_utc;
use protocol::request::{alibaba, aui, duix, HttpRequest};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::runtime::Runtime;
use tower::ServiceExt;

const HOST: &str = "127.0.0.1:18601";

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
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
async fn call(router: &Router, request: Request<Body>) -> (u16, Vec<u8>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, body.to_vec())
}

fn ok(rt: &Runtime, router: &Router, request: Request<Body>) -> Value {
    let (status, body) = rt.block_on(call(router, request));
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    serde_json::from_slice(&body).unwrap()
}

fn aui_routes(c: &mut Criterion) {
    let rt = runtime();
    let clock = VirtualClock::new();
    let credential = AlibabaConfig::default().credentials[0].clone();
    // generateMessageChatToken calls ICE upstream: the Alibaba mock on a real socket.
    let upstream = rt
        .block_on(mocks::alibaba::start(
            AlibabaConfig::default(),
            clock.clone(),
            "127.0.0.1:0".parse().unwrap(),
        ))
        .unwrap();
    let mut config = AuiConfig::default();
    config.upstream.endpoint = upstream.url();
    config.upstream.access_key_id = credential.access_key_id.clone();
    config.upstream.access_key_secret = credential.access_key_secret.clone();
    let (user, password) = (config.login_user.clone(), config.login_password.clone());
    let (_, router) = mocks::aui::build(config, clock, Limits::default());
    let host = "127.0.0.1:18602";
    let login = ok(&rt, &router, to_axum(&aui::login(&user, &password), host));
    let token = login["token"].as_str().unwrap().to_string();

    let rtc = aui::call(
        aui::GET_RTC_AUTH_TOKEN,
        &json!({"user_id": "bench_user", "channel_id": "bench_channel"}),
        &token,
    );
    ok(&rt, &router, to_axum(&rtc, host));
    c.bench_function("request path: aui getRtcAuthToken", |b| {
        b.iter(|| rt.block_on(call(&router, to_axum(&rtc, host))))
    });
    let chat = aui::call(
        aui::GENERATE_MESSAGE_CHAT_TOKEN,
        &json!({"ai_agent_id": "agent_load", "user_id": "bench_user", "role": "admin", "expire": 1800}),
        &token,
    );
    ok(&rt, &router, to_axum(&chat, host));
    c.bench_function(
        "request path: aui generateMessageChatToken (upstream hop)",
        |b| b.iter(|| rt.block_on(call(&router, to_axum(&chat, host)))),
    );
    rt.block_on(upstream.shutdown());
}

fn duix_routes(c: &mut Criterion) {
    let rt = runtime();
    let app = DuixConfig::default().apps[0].clone();
    let (_, router) = mocks::duix::build(
        DuixConfig::default(),
        VirtualClock::new(),
        Limits::default(),
    );
    let host = "127.0.0.1:18603";
    let now = now_ms() / 1000;
    let token = protocol::duix::sign_token(&app.app_id, &app.app_key, now, now + 86_400);
    let check_sig = duix::check_sig(&token);
    ok(&rt, &router, to_axum(&check_sig, host));
    c.bench_function("request path: duix checkSig", |b| {
        b.iter(|| rt.block_on(call(&router, to_axum(&check_sig, host))))
    });
    let query = [("appId".to_string(), app.app_id.clone())];
    let concurrent = duix::get(duix::GET_CONCURRENT_NUMBER, &query, Some(token));
    ok(&rt, &router, to_axum(&concurrent, host));
    c.bench_function("request path: duix getconcurrentNumber", |b| {
        b.iter(|| rt.block_on(call(&router, to_axum(&concurrent, host))))
    });
}

fn alibaba_routes(c: &mut Criterion) {
    let rt = runtime();
    let credential = AlibabaConfig::default().credentials[0].clone();
    let (_, router) = mocks::alibaba::build(
        AlibabaConfig::default(),
        VirtualClock::new(),
        Limits::default(),
    );
    let key: Vec<(String, String)> = [
        ("AppId", "bench_app"),
        ("ChannelId", "bench_ch"),
        ("TaskId", "bench_task"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let signed =
        |action: &str, params: &[(String, String)], sign: fn(alibaba::Call<'_>) -> HttpRequest| {
            sign(alibaba::Call {
                method: "POST",
                host: HOST,
                action,
                version: alibaba::api_version(action),
                params,
                access_key_id: &credential.access_key_id,
                secret: &credential.access_key_secret,
                date: &format_utc(now_ms()),
                nonce: &alibaba::fresh_nonce(),
            })
        };
    let mut start = key.clone();
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
    ok(
        &rt,
        &router,
        to_axum(&signed("StartAgent", &start, alibaba::signed), HOST),
    );
    // Each call needs its own nonce: signing happens in the untimed setup of each batch.
    c.bench_function("request path: alibaba GetAgent (V3)", |b| {
        b.iter_batched(
            || to_axum(&signed("GetAgent", &key, alibaba::signed), HOST),
            |request| rt.block_on(call(&router, request)),
            BatchSize::SmallInput,
        )
    });
    ok(
        &rt,
        &router,
        to_axum(&signed("GetAgent", &key, alibaba::signed_v1), HOST),
    );
    c.bench_function("request path: alibaba GetAgent (V1)", |b| {
        b.iter_batched(
            || to_axum(&signed("GetAgent", &key, alibaba::signed_v1), HOST),
            |request| rt.block_on(call(&router, request)),
            BatchSize::SmallInput,
        )
    });
}

fn entry(seq: u64) -> Entry {
    Entry {
        seq,
        received_at_ms: 0,
        method: "POST".into(),
        path: "/api/v2/aiagent/getRtcAuthToken".into(),
        query: String::new(),
        route: "aui POST /api/v2/aiagent/getRtcAuthToken".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: r#"{"user_id":"u","channel_id":"c"}"#.into(),
        body_truncated: false,
        status: 200,
        duration_ms: 0.1,
        request_id: "00000000-0000-0000-0000-000000000000".into(),
    }
}

/// Every core appending at once, as every connection's request does on a busy mock.
fn journal_contention(c: &mut Criterion) {
    let journal = Arc::new(Journal::with_capacity(1000));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    const PER_THREAD: u64 = 1000;
    c.bench_function(
        &format!("journal: {threads} threads x {PER_THREAD} appends"),
        |b| {
            b.iter(|| {
                std::thread::scope(|scope| {
                    for t in 0..threads as u64 {
                        let journal = &journal;
                        scope.spawn(move || {
                            for i in 0..PER_THREAD {
                                journal.push(entry(t * PER_THREAD + i));
                            }
                        });
                    }
                });
            })
        },
    );
}

criterion_group!(
    benches,
    aui_routes,
    duix_routes,
    alibaba_routes,
    journal_contention
);
criterion_main!(benches);
