//! The instructions of the mocks' request path, counted by callgrind: a repeatable figure on a
//! machine shared with other work, where wall-clock benchmarks wander. Drives the same routes
//! as `cargo bench -p mocks` (in-process, full router, no socket but AUI's upstream hop) on a
//! single-threaded runtime; only `drive` is counted, so building and signing the requests is not.
//!
//! ```sh
//! cargo build --release -p mocks --example path_instructions
//! valgrind --tool=callgrind --toggle-collect='*path_instructions::drive*' \
//!     target/release/examples/path_instructions duix-checksig 2000
//! # instructions per request: callgrind's "Collected" / 2000
//! ```
//!
//! Routes: aui-rtc, aui-chat, aui-chat-beside, duix-checksig, duix-concurrent, alibaba-v3, alibaba-v1, or `all`.
//! `--journal-capacity N` sets the mocks' `[limits] journal_capacity` (0: the journal off).

#[path = "../benches/common/mod.rs"]
mod common;

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use mocks::limits::Limits;
use tokio::runtime::Runtime;

/// The allocator `agentproof` runs the mocks with: allocation is a large share of the path.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut limits = Limits::default();
    if let Some(at) = args.iter().position(|a| a == "--journal-capacity") {
        let value = args.get(at + 1).and_then(|v| v.parse().ok());
        limits.journal_capacity = value.expect("--journal-capacity takes a number");
        args.drain(at..at + 2);
    }
    let which = args.first().map_or("all", String::as_str).to_string();
    let count: usize = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(2000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let routes = common::routes(&rt, &limits);
    let chosen: Vec<_> = routes
        .routes
        .iter()
        .filter(|r| which == "all" || r.key == which)
        .collect();
    assert!(!chosen.is_empty(), "no route {which:?}");
    for route in chosen {
        common::ok(&rt, &route.router, route.request());
        let requests: Vec<_> = (0..count).map(|_| route.request()).collect();
        drive(&rt, &route.router, requests);
        println!("{}: {count} requests", route.key);
    }
    routes.shutdown(&rt);
}

/// The counted part: every request through the router, each answer read whole.
#[inline(never)]
fn drive(rt: &Runtime, router: &Router, requests: Vec<Request<Body>>) {
    rt.block_on(async {
        for request in requests {
            let (status, body) = common::call(router, request).await;
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        }
    });
}
