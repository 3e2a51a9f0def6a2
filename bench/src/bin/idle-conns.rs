//! Holds idle keep-alive connections open against a server, for its memory with many clients
//! connected: each connection sends one request, reads the answer, then stays open and silent.
//! Prints `ready N` when all are open and answered, and holds them until stdin closes.

use anyhow::{bail, Context, Result};
use bench::wire::read_answer;
use clap::Parser;
use std::io::{BufReader, Write};
use std::net::TcpStream;

/// Opens idle keep-alive connections and holds them until stdin closes.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// `host:port` of the server (loopback).
    #[arg(long)]
    addr: String,
    /// How many connections (mind `ulimit -n`, here and in the server).
    #[arg(long, default_value_t = 10_000)]
    count: usize,
    /// The path each connection GETs once.
    #[arg(long, default_value = "/__admin/health")]
    path: String,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let request = format!("GET {} HTTP/1.1\r\nHost: {}\r\n\r\n", args.path, args.addr);
    let mut held = Vec::with_capacity(args.count);
    for i in 0..args.count {
        let mut stream = TcpStream::connect(&args.addr)
            .with_context(|| format!("connection {i} to {} (ulimit -n?)", args.addr))?;
        stream.write_all(request.as_bytes())?;
        let mut reader = BufReader::new(stream);
        let answer =
            read_answer(&mut reader).with_context(|| format!("connection {i}'s answer"))?;
        if !(200..300).contains(&answer.status) {
            bail!("connection {i}: not a 2xx answer: HTTP {}", answer.status);
        }
        held.push(reader);
    }
    println!("ready {}", held.len());
    std::io::stdout().flush()?;
    // Hold until whoever started us closes our stdin.
    std::io::copy(&mut std::io::stdin(), &mut std::io::sink())?;
    drop(held);
    Ok(())
}
