//! The `SignatureNonce` replay store: a nonce may be used once within the replay window.
//!
//! A map answers "seen?" in O(1); a queue in arrival order lets the oldest entries go first.
//! Entries expire after the window ([`protocol::alibaba::timestamp::NONCE_TTL_MS`], 31 minutes,
//! more than twice the 15-minute skew, so a replay with a still-valid timestamp is always caught
//! while the store is below capacity). Memory is bounded by a hard capacity: when a new nonce
//! arrives at capacity, the oldest one is forgotten even if its window has not ended.
//!
//! Trade-off of the hard cap: under a sustained rate above `capacity / 31 min` distinct nonces,
//! a nonce can be replayed once it has been pushed out. The skew check still refuses any request
//! whose timestamp is more than 15 minutes off, so the exposure is limited to that window; the
//! alternative (refusing new requests when full) would turn a load test into an outage.

use std::collections::{HashMap, VecDeque};

/// Nonces seen recently, bounded in time and in count.
#[derive(Debug)]
pub struct NonceStore {
    window_ms: i64,
    capacity: usize,
    /// nonce -> when it was recorded.
    seen: HashMap<String, i64>,
    /// (recorded at, nonce) in arrival order.
    order: VecDeque<(i64, String)>,
}

impl NonceStore {
    /// A store that remembers nonces for `window_ms`, at most `capacity` of them (at least 1).
    pub fn new(window_ms: i64, capacity: usize) -> Self {
        Self {
            window_ms,
            capacity: capacity.max(1),
            seen: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// Records `nonce` at `now_ms`; false when it was already used within the window.
    pub fn check_and_record(&mut self, nonce: &str, now_ms: i64) -> bool {
        self.evict_expired(now_ms);
        if let Some(&at) = self.seen.get(nonce) {
            if !self.expired(at, now_ms) {
                return false;
            }
        }
        while self.seen.len() >= self.capacity {
            if !self.pop_oldest() {
                break;
            }
        }
        self.seen.insert(nonce.to_string(), now_ms);
        self.order.push_back((now_ms, nonce.to_string()));
        true
    }

    /// How many nonces are remembered now.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether no nonce is remembered.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        self.seen.clear();
        self.order.clear();
    }

    fn expired(&self, recorded_at: i64, now_ms: i64) -> bool {
        now_ms.saturating_sub(recorded_at) >= self.window_ms
    }

    fn evict_expired(&mut self, now_ms: i64) {
        while let Some(&(at, _)) = self.order.front() {
            if !self.expired(at, now_ms) {
                break;
            }
            self.pop_oldest();
        }
    }

    /// Drops the front of the queue; its map entry only if it is that same recording (a nonce
    /// re-recorded after expiry has a newer entry further back).
    fn pop_oldest(&mut self) -> bool {
        let Some((at, nonce)) = self.order.pop_front() else {
            return false;
        };
        if self.seen.get(&nonce) == Some(&at) {
            self.seen.remove(&nonce);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: i64 = 31 * 60 * 1000;

    #[test]
    fn a_nonce_is_refused_within_the_window_and_accepted_after_it() {
        let mut store = NonceStore::new(WINDOW, 10);
        assert!(store.check_and_record("n1", 0));
        assert!(!store.check_and_record("n1", WINDOW - 1));
        assert!(store.check_and_record("n1", WINDOW));
    }

    #[test]
    fn memory_stays_bounded_under_200k_distinct_nonces() {
        let capacity = 10_000;
        let mut store = NonceStore::new(WINDOW, capacity);
        for i in 0..200_000 {
            assert!(store.check_and_record(&format!("nonce-{i}"), i));
            assert!(store.len() <= capacity);
            assert!(store.order.len() <= capacity);
        }
        // The newest are still refused, the oldest were pushed out.
        assert!(!store.check_and_record("nonce-199999", 200_000));
        assert!(store.check_and_record("nonce-0", 200_001));
    }

    #[test]
    fn expired_nonces_leave_the_store() {
        let mut store = NonceStore::new(1000, 100);
        for i in 0..50 {
            store.check_and_record(&format!("n{i}"), 0);
        }
        store.check_and_record("late", 5000);
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn a_clock_moved_back_does_not_break_the_store() {
        let mut store = NonceStore::new(WINDOW, 3);
        assert!(store.check_and_record("a", 10_000_000));
        assert!(store.check_and_record("b", 0));
        assert!(!store.check_and_record("a", 1));
        for n in ["c", "d", "e", "f"] {
            assert!(store.check_and_record(n, 2));
        }
        assert!(store.len() <= 3);
    }
}
