//! What the fuzz targets share: the fixed "now" their seeds are dated at, a fresh Alibaba mock,
//! and the small text format the HTTP-shaped targets read their input in.

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use mocks::alibaba::{Alibaba, AlibabaConfig};
use mocks::VirtualClock;

/// The instant every seed is dated at: PROTOCOLS.md §1.2's V3 vector, `2025-07-18T06:39:08Z`.
pub const NOW_MS: i64 = 1_752_820_748_000;
/// [`NOW_MS`] in seconds.
pub const NOW_SECS: i64 = NOW_MS / 1000;

/// The Alibaba mock's demo AccessKey (`AlibabaConfig::default`).
pub const ALIBABA_KEY_ID: &str = "LTAI5tAgentproofDemoKey";
/// Its secret.
pub const ALIBABA_SECRET: &str = "AgentproofDemoSecret0123456789";

/// A mock with empty state and its clock at [`NOW_MS`]: each input starts from scratch, so a run
/// replays exactly.
pub fn fresh_alibaba() -> Alibaba {
    let clock = VirtualClock::new();
    clock.set_now_ms(NOW_MS);
    Alibaba::new(AlibabaConfig::default(), clock)
}

/// The bytes before the first `sep` and the bytes after it (all of `data` and nothing if none).
pub fn split_at_byte(data: &[u8], sep: u8) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == sep) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

/// An HTTP-shaped input: the request target, `name: value` header lines, a blank line, the body.
///
/// Lines whose name or value hyper would refuse are left out (hyper refuses the whole request;
/// leaving one line out keeps the rest of the input useful). Values are bytes: `obs-text`
/// (0x80-0xFF) is allowed, as hyper allows it.
pub struct HttpInput<'a> {
    pub target: &'a [u8],
    pub headers: HeaderMap,
    pub body: &'a [u8],
}

impl<'a> HttpInput<'a> {
    pub fn parse(data: &'a [u8]) -> HttpInput<'a> {
        let (target, mut rest) = split_at_byte(data, b'\n');
        let mut headers = HeaderMap::new();
        loop {
            if rest.is_empty() {
                break;
            }
            let (line, after) = split_at_byte(rest, b'\n');
            rest = after;
            if line.is_empty() {
                break;
            }
            let (name, value) = split_at_byte(line, b':');
            let Ok(name) = HeaderName::from_bytes(name.trim_ascii()) else {
                continue;
            };
            let Ok(value) = HeaderValue::from_bytes(value.trim_ascii()) else {
                continue;
            };
            headers.append(name, value);
        }
        HttpInput {
            target,
            headers,
            body: rest,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_is_the_vector_date() {
        let parsed = protocol::alibaba::timestamp::parse_utc("2025-07-18T06:39:08Z").unwrap();
        assert_eq!(parsed, NOW_MS);
    }
}
