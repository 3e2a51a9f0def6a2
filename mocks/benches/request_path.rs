//! The whole request path of each main route in-process: the platform's full router (edge,
//! admin, routes, handler, journal, metrics) driven with `tower::ServiceExt::oneshot`, no socket.
//! A regression in routing, middleware, signature or token work shows up here without a load
//! tool; `scripts/bench` measures the same routes over real sockets against a bare hyper server.
//! Also the journal's append with every core pushing at once.

mod common;

use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use mocks::journal::{Body, Head, Journal, Record};
use mocks::limits::Limits;
use std::sync::Arc;
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// Every main route: a fixed request built in the loop (as a client would), a signed one
/// signed in the untimed setup of each batch (each call needs its own nonce).
fn request_paths(c: &mut Criterion) {
    let rt = runtime();
    let routes = common::routes(&rt, &Limits::default());
    for route in &routes.routes {
        common::ok(&rt, &route.router, route.request());
        let id = format!("request path: {}", route.name);
        if route.signed {
            c.bench_function(&id, |b| {
                b.iter_batched(
                    || route.request(),
                    |request| rt.block_on(common::call(&route.router, request)),
                    BatchSize::SmallInput,
                )
            });
        } else {
            c.bench_function(&id, |b| {
                b.iter(|| rt.block_on(common::call(&route.router, route.request())))
            });
        }
    }
    routes.shutdown(&rt);
}

fn entry(seq: u64) -> Record {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    let uri = Uri::from_static("/api/v2/aiagent/getRtcAuthToken");
    Record {
        received_at_ms: seq as i64,
        head: Head::of(&Method::POST, &uri, &headers),
        route: "aui POST /api/v2/aiagent/getRtcAuthToken".into(),
        body: Body::of(br#"{"user_id":"u","channel_id":"c"}"#),
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

criterion_group!(benches, request_paths, journal_contention);
criterion_main!(benches);
