//! `agentproof proxy` and `agentproof replay`: live traffic judged against the contracts, kept
//! as fixtures, and the mocks held against what the real services answered.
//!
//! **The proxy** stands in front of upstreams (the three platforms and a DUIX vendor webhook,
//! [`platform`]), one listener each ([`server`]), and forwards every request and answer
//! unchanged but for what a hop owns ([`forward`]: hop-by-hop headers, `Host`, an Alibaba V3
//! signature made again for the upstream's host). Off the request path ([`pipeline`]) each
//! exchange is judged ([`judge`]: schemas, business codes, statuses, signatures), counted in
//! bounded memory ([`tally`]), shown on a live page ([`page`]), written as a fixture with
//! `--record` ([`record`], [`exchange::Fixture`]), and turned into `check`'s reports at the end
//! ([`report`]).
//!
//! **Replay** ([`replay`]) sends a recording's requests again to a target, signing Alibaba calls
//! afresh, logging in to AUI again and mapping the ids the recording captured to the target's,
//! and reports each difference a client would notice (status, business code, the envelope's
//! keys and types, the schema verdict) once, both answers side by side.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use proxy::{Config, Proxy};
//! use proxy::platform::Upstream;
//!
//! let config = Config::new(vec![Upstream::parse("aui=http://127.0.0.1:18602")?]);
//! let running = Proxy::start(config).await?;
//! println!("point the app at {}", running.listeners()[0].url());
//! let finished = running.stop().await?;
//! println!("{} exchanges, exit {}", finished.snapshot.exchanges(), finished.run.exit_code());
//! # Ok(()) }
//! ```

pub mod exchange;
pub mod forward;
pub mod judge;
pub mod page;
pub mod pipeline;
pub mod platform;
pub mod record;
pub mod replay;
pub mod report;
pub mod server;
pub mod tally;

use forward::Forwarder;
use judge::Judge;
use platform::Upstream;
use server::{Listener, Shared};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tally::{Snapshot, Tally};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The first listener's default address; each next upstream listens on the next port.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:18700";

/// What to proxy and how.
#[derive(Clone, Debug)]
pub struct Config {
    /// The upstreams, one listener each, in this order.
    pub upstreams: Vec<Upstream>,
    /// The first listener's address (port 0: every listener on a free port).
    pub listen: SocketAddr,
    /// `--record DIR`.
    pub record: Option<PathBuf>,
    /// The rules and the keys they verify with.
    pub judge: Judge,
    /// Per exchange: the answer's last byte within this (`--timeout-ms`).
    pub timeout: Duration,
    /// Texts masked wherever they would appear (the keys given on the command line).
    pub secrets: Vec<String>,
}

impl Config {
    /// Defaults for `upstreams`: listening from 127.0.0.1:18700, no recording, the 20000 ms
    /// timeout of the SLO.
    pub fn new(upstreams: Vec<Upstream>) -> Config {
        Config {
            upstreams,
            listen: DEFAULT_LISTEN.parse().expect("a valid address"),
            record: None,
            judge: Judge::default(),
            timeout: Duration::from_secs(20),
            secrets: Vec::new(),
        }
    }
}

/// The proxy.
pub struct Proxy;

/// A running proxy.
pub struct Running {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    judges: pipeline::Judges,
}

/// What a proxy session came to.
pub struct Finished {
    /// The check-style run: render it with `reports::write_all`.
    pub run: reports::Run,
    /// The tally at the end.
    pub snapshot: Snapshot,
    /// Fixtures written, with `--record`.
    pub recorded: u64,
}

impl Proxy {
    /// Binds every listener and starts forwarding.
    pub async fn start(config: Config) -> std::io::Result<Running> {
        let bound = server::bind(&config.upstreams, config.listen).await?;
        let recorder = match &config.record {
            Some(dir) => Some(record::Recorder::create(dir).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!("cannot record into {}: {e}", dir.display()),
                )
            })?),
            None => None,
        };
        let tally = Arc::new(Tally::default());
        let (pipeline, judges) = pipeline::start(
            config.judge.clone(),
            tally.clone(),
            recorder,
            config.secrets.clone(),
        );
        let shared = Arc::new(Shared {
            listeners: bound.iter().map(|(_, l)| l.clone()).collect(),
            tally,
            pipeline,
            seq: AtomicU64::new(0),
            started: Instant::now(),
            started_at: exchange::rfc3339_ms(exchange::now_ms()),
            recording: config.record.clone(),
        });
        let client = forward::client();
        let (stop, stopped) = watch::channel(false);
        let tasks = bound
            .into_iter()
            .map(|(listener, info)| {
                let forwarder = Arc::new(Forwarder {
                    upstream: info.upstream,
                    client: client.clone(),
                    timeout: config.timeout,
                    alibaba_key: config.judge.alibaba_key.clone(),
                });
                tokio::spawn(server::serve(
                    listener,
                    shared.clone(),
                    forwarder,
                    stopped.clone(),
                ))
            })
            .collect();
        Ok(Running {
            shared,
            stop,
            tasks,
            judges,
        })
    }
}

impl Running {
    /// The listeners, in the order of the upstreams.
    pub fn listeners(&self) -> &[Listener] {
        &self.shared.listeners
    }

    /// The tally now.
    pub fn snapshot(&self) -> Snapshot {
        self.shared.tally.snapshot()
    }

    /// Stops accepting, lets exchanges in flight finish (up to 5 s), judges what is queued,
    /// closes the recording and builds the run.
    pub async fn stop(self) -> std::io::Result<Finished> {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
        let recorded = self.judges.stop().await?;
        let snapshot = self.shared.tally.snapshot();
        let duration_ms = u64::try_from(self.shared.started.elapsed().as_millis()).unwrap_or(0);
        let run = report::run(
            &self.shared.listeners,
            &snapshot,
            &self.shared.started_at,
            duration_ms,
        );
        Ok(Finished {
            run,
            snapshot,
            recorded,
        })
    }
}
