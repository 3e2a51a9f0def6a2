//! Latency at a fixed rate, corrected for coordinated omission (wrk2's semantics).
//!
//! Request `i` is due at `start + i / rate`. Whichever connection is free takes the next due
//! request, waits for its time and sends it; its latency runs from when it was *due*, not from
//! when it went out, so a stall of the server counts for every request it held back instead of
//! for one. It sends the same record files as the wrk runs (`bench/wrk/requests.lua`), so the
//! signed Alibaba calls, each with its own nonce, are measured as the others are.
//!
//! Blocking sockets on OS threads: `std::thread::sleep` wakes within tens of microseconds,
//! where a millisecond timer wheel would add its own lateness to every figure.

use anyhow::{bail, Context, Result};
use clap::Parser;
use hdrhistogram::Histogram;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

fn main() -> Result<()> {
    let args = Args::parse();
    if !(args.rate > 0.0 && args.duration > 0.0 && args.connections > 0) {
        bail!("--rate, --duration and --connections must be positive");
    }
    let records = Arc::new(read_records(&args.file)?);
    let total = (args.rate * args.duration) as u64;
    if args.mode == "once" && (records.len() as u64) < total {
        bail!(
            "{} holds {} records, {total} are needed: write more (bench-requests --records)",
            args.file.display(),
            records.len()
        );
    }
    let plan = Arc::new(Plan {
        start: Instant::now() + Duration::from_millis(50),
        interval: Duration::from_secs_f64(1.0 / args.rate),
        total,
        next: AtomicU64::new(0),
        once: args.mode == "once",
    });
    let mut workers = Vec::new();
    for _ in 0..args.connections {
        let stream = TcpStream::connect(&args.addr)
            .with_context(|| format!("cannot connect to {}", args.addr))?;
        stream.set_nodelay(true)?;
        let (plan, records) = (Arc::clone(&plan), Arc::clone(&records));
        workers.push(std::thread::spawn(move || {
            connection(stream, &plan, &records)
        }));
    }
    let mut latency = Histogram::<u64>::new(3)?;
    let (mut ok, mut failed) = (0u64, 0u64);
    for worker in workers {
        let result = worker
            .join()
            .map_err(|_| anyhow::anyhow!("a connection thread panicked"))??;
        latency.add(&result.latency)?;
        ok += result.ok;
        failed += result.failed;
    }
    println!(
        "LATENCY {{\"sent\":{},\"ok\":{ok},\"failed\":{failed},\"p50_us\":{},\"p99_us\":{},\"max_us\":{}}}",
        ok + failed,
        latency.value_at_quantile(0.50),
        latency.value_at_quantile(0.99),
        latency.max()
    );
    Ok(())
}

/// The schedule every connection takes requests from.
struct Plan {
    start: Instant,
    interval: Duration,
    total: u64,
    next: AtomicU64,
    once: bool,
}

/// One connection's share of the run.
struct Tally {
    latency: Histogram<u64>,
    ok: u64,
    failed: u64,
}

fn connection(stream: TcpStream, plan: &Plan, records: &[Vec<u8>]) -> Result<Tally> {
    let mut tally = Tally {
        latency: Histogram::new(3)?,
        ok: 0,
        failed: 0,
    };
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let i = plan.next.fetch_add(1, Ordering::Relaxed);
        if i >= plan.total {
            return Ok(tally);
        }
        let due = plan.start + plan.interval.mul_f64(i as f64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let record = if plan.once {
            &records[i as usize]
        } else {
            &records[0]
        };
        writer.write_all(record)?;
        let status = read_answer(&mut reader)?;
        let micros = due.elapsed().as_micros() as u64;
        tally.latency.record(micros.max(1))?;
        if (200..300).contains(&status) {
            tally.ok += 1;
        } else {
            tally.failed += 1;
        }
    }
}

/// Reads one answer (head and `Content-Length` body); its status.
fn read_answer(reader: &mut BufReader<TcpStream>) -> Result<u16> {
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("not an HTTP status line: {line:?}"))?;
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            bail!("the server closed the connection mid-answer");
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().context("bad Content-Length")?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                bail!("chunked answers are not read here: the mocks send Content-Length");
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(status)
}

/// Every record of a bench-requests file.
fn read_records(path: &PathBuf) -> Result<Vec<Vec<u8>>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut records = Vec::new();
    let mut rest = &bytes[..];
    while !rest.is_empty() {
        let newline = rest
            .iter()
            .position(|&b| b == b'\n')
            .context("a record without its length line")?;
        let length: usize = std::str::from_utf8(&rest[..newline])?.trim().parse()?;
        let end = newline + 1 + length;
        if end > rest.len() {
            bail!("{} ends inside a record", path.display());
        }
        records.push(rest[newline + 1..end].to_vec());
        rest = &rest[end..];
    }
    if records.is_empty() {
        bail!("{} holds no record", path.display());
    }
    Ok(records)
}
