//! Holds idle keep-alive connections open against a server, for its memory with many clients
//! connected: each connection sends one request, reads the answer, then stays open and silent.
//! Prints `ready N` when all are open and answered, and holds them until stdin closes.

use anyhow::{bail, Context, Result};
use clap::Parser;
use std::io::{BufRead, BufReader, Read, Write};
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
        read_answer(&mut reader).with_context(|| format!("connection {i}'s answer"))?;
        held.push(reader);
    }
    println!("ready {}", held.len());
    std::io::stdout().flush()?;
    // Hold until whoever started us closes our stdin.
    std::io::copy(&mut std::io::stdin(), &mut std::io::sink())?;
    drop(held);
    Ok(())
}

fn read_answer(reader: &mut BufReader<TcpStream>) -> Result<()> {
    let mut line = String::new();
    let mut length = 0usize;
    let mut first = true;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            bail!("closed before the answer ended");
        }
        if first && !line.starts_with("HTTP/1.1 2") {
            bail!("not a 2xx answer: {}", line.trim_end());
        }
        first = false;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(())
}
