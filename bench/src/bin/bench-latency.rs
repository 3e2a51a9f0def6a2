//! Latency at a fixed rate, corrected for coordinated omission (wrk2's semantics): the schedule
//! of [`bench::openloop`], each request's latency from when it was due. It sends the same
//! record files as the wrk runs (`bench/wrk/requests.lua`), so the signed Alibaba calls, each
//! with its own nonce, are measured as the others are.

use anyhow::{bail, Result};
use bench::openloop::{self, Exchange, Failure, Pace, Plan};
use bench::wire::{self, Conn};
use clap::Parser;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Sends record files at a fixed rate and prints p50/p99/max from each request's due time.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// `host:port` of the server (loopback).
    #[arg(long)]
    addr: String,
    /// The record file (`<length>\n<raw request>` records, as bench-requests writes them).
    #[arg(long)]
    file: PathBuf,
    /// `static`: the first record again and again; `once`: each record once, in order.
    #[arg(long, default_value = "static")]
    mode: String,
    /// Requests per second, over all connections.
    #[arg(long)]
    rate: f64,
    /// Seconds to send for.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Keep-alive connections (each one request at a time).
    #[arg(long, default_value_t = 16)]
    connections: usize,
}

/// A record file's requests on one connection; a 2xx answer is good.
struct Records {
    conn: Conn,
    records: Arc<Vec<Vec<u8>>>,
    once: bool,
}

impl Exchange for Records {
    fn exchange(&mut self, slot: u64) -> Result<(), Failure> {
        let index = if self.once { slot as usize } else { 0 };
        let answer = self
            .conn
            .send(&self.records[index])
            .map_err(|e| Failure::io("request", &e))?;
        if (200..300).contains(&answer.status) {
            Ok(())
        } else {
            Err(Failure::Answer(format!("HTTP {}", answer.status)))
        }
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if !(args.rate > 0.0 && args.duration > 0.0 && args.connections > 0) {
        bail!("--rate, --duration and --connections must be positive");
    }
    if !matches!(args.mode.as_str(), "static" | "once") {
        bail!("--mode is static or once, not {:?}", args.mode);
    }
    let records = Arc::new(wire::read_records(&args.file)?);
    let total = (args.rate * args.duration) as u64;
    let once = args.mode == "once";
    if once && (records.len() as u64) < total {
        bail!(
            "{} holds {} records, {total} are needed: write more (bench-requests --records)",
            args.file.display(),
            records.len()
        );
    }
    let mut connections = Vec::new();
    for _ in 0..args.connections {
        let mut conn = Conn::new(&args.addr, Duration::from_secs(20));
        conn.connect()
            .map_err(|e| anyhow::anyhow!("cannot connect to {}: {e}", args.addr))?;
        connections.push(Records {
            conn,
            records: Arc::clone(&records),
            once,
        });
    }
    let pace = Pace::Fixed {
        rate: args.rate,
        total,
    };
    // Past a server's capacity on purpose (scripts/bench's rate): the queue is the figure, so
    // every request is sent however far behind the run falls.
    let plan = Plan::new(pace, Duration::ZERO, Duration::from_millis(50));
    let plan = Arc::new(plan.with_slack(Duration::from_secs(3600)));
    let tally = openloop::spawn(plan, connections).join()?;
    println!(
        "LATENCY {{\"sent\":{},\"ok\":{},\"failed\":{},\"p50_us\":{},\"p99_us\":{},\"max_us\":{}}}",
        tally.sent(),
        tally.ok,
        tally.errors(),
        tally.latency.value_at_quantile(0.50),
        tally.latency.value_at_quantile(0.99),
        tally.latency.max()
    );
    for sample in &tally.samples {
        eprintln!("bench-latency: {sample}");
    }
    Ok(())
}
