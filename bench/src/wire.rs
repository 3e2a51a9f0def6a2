//! HTTP/1.1 as the load tools put it on the wire: requests as raw bytes, answers read off a
//! blocking keep-alive connection (the mocks always send `Content-Length`), record files.

use anyhow::{bail, Context, Result};
use protocol::request::HttpRequest;
use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Duration;

/// Largest answer body read: more is an error, not an allocation.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The request as it goes on the wire, `Host` included (V3 signs it).
pub fn raw(request: &HttpRequest, host: &str) -> Vec<u8> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {host}\r\n",
        request.method, request.path_and_query
    );
    for (name, value) in &request.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", request.body.len()));
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&request.body);
    bytes
}

/// One answer: its status and body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as text (lossy), for markers and error messages.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Reads one answer (status line, headers, `Content-Length` body). Protocol errors are
/// `InvalidData`; a read timeout keeps its own kind (`WouldBlock` or `TimedOut`).
pub fn read_answer<R: BufRead>(reader: &mut R) -> io::Result<Answer> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the server closed the connection before answering",
        ));
    }
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid(format!("not an HTTP status line: {line:?}")))?;
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection mid-answer",
            ));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value
                    .trim()
                    .parse()
                    .map_err(|_| invalid(format!("bad Content-Length {value:?}")))?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                return Err(invalid(
                    "chunked answers are not read here: the mocks send Content-Length".into(),
                ));
            }
        }
    }
    if length > MAX_BODY_BYTES {
        return Err(invalid(format!(
            "a {length}-byte body, over {MAX_BODY_BYTES}"
        )));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Answer { status, body })
}

/// A keep-alive connection that reconnects on the next request after any error (an answer
/// half-read leaves the stream unusable).
pub struct Conn {
    addr: String,
    timeout: Duration,
    stream: Option<(TcpStream, BufReader<TcpStream>)>,
}

impl Conn {
    /// Not connected yet: the first [`Conn::send`] connects. Reads, writes and connects each
    /// give up after `timeout`.
    pub fn new(addr: &str, timeout: Duration) -> Self {
        Conn {
            addr: addr.to_string(),
            timeout,
            stream: None,
        }
    }

    /// `host:port` it talks to.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Connects now (so a run does not start with every connect at once).
    pub fn connect(&mut self) -> io::Result<()> {
        if self.stream.is_none() {
            let stream = connect(&self.addr, self.timeout)?;
            let reader = BufReader::new(stream.try_clone()?);
            self.stream = Some((stream, reader));
        }
        Ok(())
    }

    /// Sends `request` and reads its answer; after an error the connection is dropped.
    pub fn send(&mut self, request: &[u8]) -> io::Result<Answer> {
        self.connect()?;
        let Some((writer, reader)) = self.stream.as_mut() else {
            return Err(io::Error::other("not connected"));
        };
        let result = writer.write_all(request).and_then(|()| read_answer(reader));
        if result.is_err() {
            self.stream = None;
        }
        result
    }
}

/// A TCP connection to `addr` (`host:port`) with `timeout` on connect, reads and writes, no
/// Nagle delay.
pub fn connect(addr: &str, timeout: Duration) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::InvalidInput, format!("no address in {addr}"));
    for socket in std::net::ToSocketAddrs::to_socket_addrs(addr)? {
        match TcpStream::connect_timeout(&socket, timeout) {
            Ok(stream) => {
                stream.set_nodelay(true)?;
                stream.set_read_timeout(Some(timeout))?;
                stream.set_write_timeout(Some(timeout))?;
                return Ok(stream);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Whether an I/O error is a timeout (a blocking socket's read timeout is `WouldBlock`).
pub fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Every record of a `bench-requests` file (`<length>\n<raw request>` records).
pub fn read_records(path: &Path) -> Result<Vec<Vec<u8>>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let records = parse_records(&bytes).with_context(|| format!("in {}", path.display()))?;
    if records.is_empty() {
        bail!("{} holds no record", path.display());
    }
    Ok(records)
}

/// The records of a record file's bytes.
pub fn parse_records(bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
    let mut records = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let newline = rest
            .iter()
            .position(|&b| b == b'\n')
            .context("a record without its length line")?;
        let length: usize = std::str::from_utf8(&rest[..newline])?.trim().parse()?;
        let end = newline + 1 + length;
        if end > rest.len() {
            bail!("the file ends inside a record");
        }
        records.push(rest[newline + 1..end].to_vec());
        rest = &rest[end..];
    }
    Ok(records)
}

/// Writes `count` records, the `i`th from `record(i)`.
pub fn write_records(
    path: &Path,
    count: usize,
    mut record: impl FnMut(usize) -> Vec<u8>,
) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = io::BufWriter::new(file);
    for i in 0..count {
        let bytes = record(i);
        writeln!(out, "{}", bytes.len())?;
        out.write_all(&bytes)?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::request::aui;

    #[test]
    fn a_raw_request_carries_host_headers_and_length() {
        let request = aui::post("/p", b"{}".to_vec(), Some("Bearer t".into()));
        let text = String::from_utf8(raw(&request, "127.0.0.1:9")).unwrap();
        assert!(text.starts_with("POST /p HTTP/1.1\r\nHost: 127.0.0.1:9\r\n"));
        assert!(text.contains("authorization: Bearer t\r\n"));
        assert!(text.ends_with("Content-Length: 2\r\n\r\n{}"));
    }

    #[test]
    fn answers_are_read_one_after_another_off_one_stream() {
        let wire = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}\
                     HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
        let mut reader = BufReader::new(&wire[..]);
        let first = read_answer(&mut reader).unwrap();
        assert_eq!((first.status, first.body.as_slice()), (200, &b"{}"[..]));
        assert_eq!(read_answer(&mut reader).unwrap().status, 404);
        let end = read_answer(&mut reader).unwrap_err();
        assert_eq!(end.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_broken_answer_is_invalid_data_not_a_panic() {
        for wire in [
            &b"garbage\r\n\r\n"[..],
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
        ] {
            let error = read_answer(&mut BufReader::new(wire)).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidData, "{error}");
        }
    }

    #[test]
    fn records_round_trip_through_a_file() {
        let dir = tempfile::TempDir::with_prefix("bench-wire-").unwrap();
        let path = dir.path().join("r.req");
        write_records(&path, 3, |i| format!("GET /{i}\n").into_bytes()).unwrap();
        let records = read_records(&path).unwrap();
        assert_eq!(
            records,
            vec![
                b"GET /0\n".to_vec(),
                b"GET /1\n".to_vec(),
                b"GET /2\n".to_vec()
            ]
        );
        assert!(parse_records(b"5\nabc").is_err());
    }
}
