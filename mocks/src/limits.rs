//! The limits every mock server holds under abuse, loadable from the `[limits]` table of
//! `agentproof mock --config` (every key optional, the defaults below).
//!
//! They are shared by the three platforms: the connection loop ([`crate::server`]) applies the
//! header-read timeout, the head buffer and the connection cap; the edge ([`crate::edge`]) applies
//! the size limits, answering in the platform's own envelope; the journal takes its capacity from
//! here. Limits that only one platform has live in that platform's config: the Alibaba nonce store
//! (`[alibaba] nonce_capacity`) and the DUIX WebSocket send timeout (`[duix] ws_send_timeout_ms`).

use serde::Deserialize;
use std::time::Duration;

/// Default time a client has to send a whole request head.
pub const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 30_000;
/// Default largest header section (names, values and their separators) answered normally.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 1024 * 1024;
/// Default largest query string. Below the 64 KiB at which the `http` crate itself refuses a URI,
/// so that our edge answers first.
pub const DEFAULT_MAX_QUERY_BYTES: usize = 32 * 1024;
/// Largest `max_query_bytes` that can act: the `http` crate refuses a request target (path and
/// query) over 65,534 bytes while hyper parses it, with a bare 414 before any of our code runs;
/// this leaves 4 KiB of it for the path.
pub const MAX_HONOURED_QUERY_BYTES: usize = 60 * 1024;
/// Default largest request body.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;
/// Default number of journal entries kept.
pub const DEFAULT_JOURNAL_CAPACITY: usize = crate::journal::DEFAULT_CAPACITY;

/// Smallest read buffer hyper accepts (it panics below it).
const HYPER_MIN_BUFFER: usize = 8 * 1024;
/// Room in hyper's read buffer beyond the configured header and query sizes, for the request line
/// and a head somewhat over the limits: such a head still reaches the edge and gets the platform's
/// envelope; only one far over them is refused by hyper itself (a bare 431).
const HEAD_SLACK: usize = 16 * 1024;

/// The shared limits of one mock server.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// How long a client may take to send a request head, from the moment the server waits for
    /// one (a fresh connection, or an idle keep-alive one); past it the connection is closed.
    pub header_read_timeout_ms: u64,
    /// Largest header section; a larger one gets 431 in the platform's envelope.
    pub max_header_bytes: usize,
    /// Largest query string; a longer one gets 414 in the platform's envelope.
    pub max_query_bytes: usize,
    /// Largest request body; a larger one gets 413 in the platform's envelope.
    pub max_body_bytes: usize,
    /// Most connections served at once; further ones wait, unaccepted, until one closes.
    /// `None` (the default): no cap.
    pub max_connections: Option<usize>,
    /// Most requests kept in the journal (`/__admin/requests`); the oldest go first. `0` turns
    /// the journal off.
    pub journal_capacity: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout_ms: DEFAULT_HEADER_READ_TIMEOUT_MS,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            max_query_bytes: DEFAULT_MAX_QUERY_BYTES,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_connections: None,
            journal_capacity: DEFAULT_JOURNAL_CAPACITY,
        }
    }
}

impl Limits {
    /// Refuses limits that cannot act as configured, saying why and what to set instead.
    pub fn validate(&self) -> Result<(), String> {
        if self.max_query_bytes > MAX_HONOURED_QUERY_BYTES {
            return Err(format!(
                "[limits] max_query_bytes = {} cannot act: the HTTP stack itself refuses a request \
                 target over 65,534 bytes (a bare 414, without the platform's envelope); set at \
                 most {MAX_HONOURED_QUERY_BYTES}",
                self.max_query_bytes
            ));
        }
        Ok(())
    }

    /// The header-read timeout (at least 1 ms: zero would refuse every request).
    pub fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms.max(1))
    }

    /// The most bytes hyper buffers for one request head.
    pub fn head_buffer_bytes(&self) -> usize {
        self.max_header_bytes
            .saturating_add(self.max_query_bytes)
            .saturating_add(HEAD_SLACK)
            .max(HYPER_MIN_BUFFER)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_buffer_leaves_room_past_the_limits_and_never_goes_below_hypers_minimum() {
        let limits = Limits::default();
        assert!(limits.head_buffer_bytes() > limits.max_header_bytes + limits.max_query_bytes);
        let tiny = Limits {
            max_header_bytes: 0,
            max_query_bytes: 0,
            ..Limits::default()
        };
        assert!(tiny.head_buffer_bytes() >= HYPER_MIN_BUFFER);
        let huge = Limits {
            max_header_bytes: usize::MAX,
            ..Limits::default()
        };
        assert_eq!(huge.head_buffer_bytes(), usize::MAX);
    }

    #[test]
    fn a_query_limit_past_what_the_http_stack_parses_is_refused_by_name() {
        assert_eq!(Limits::default().validate(), Ok(()));
        let most = Limits {
            max_query_bytes: MAX_HONOURED_QUERY_BYTES,
            ..Limits::default()
        };
        assert_eq!(most.validate(), Ok(()));
        let past = Limits {
            max_query_bytes: MAX_HONOURED_QUERY_BYTES + 1,
            ..Limits::default()
        };
        let error = past.validate().unwrap_err();
        assert!(
            error.contains("max_query_bytes = 61441") && error.contains("61440"),
            "{error}"
        );
    }

    #[test]
    fn a_zero_timeout_is_raised_to_one_millisecond() {
        let limits = Limits {
            header_read_timeout_ms: 0,
            ..Limits::default()
        };
        assert_eq!(limits.header_read_timeout(), Duration::from_millis(1));
    }
}
