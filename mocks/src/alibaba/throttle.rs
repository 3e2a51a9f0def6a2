//! `Throttling.User`: an optional per-AccessKey rate limit (a token bucket on the virtual clock).
//!
//! Keys are only ever AccessKey ids that passed the credential check, so the map is bounded by the
//! configured credentials.

use std::collections::HashMap;

/// Token buckets, one per AccessKey id.
#[derive(Debug)]
pub struct Throttle {
    per_sec: Option<u32>,
    buckets: HashMap<String, Bucket>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated_ms: i64,
}

impl Throttle {
    /// `None` lets everything through; `Some(n)` allows bursts of `n` and `n` per second.
    pub fn new(per_sec: Option<u32>) -> Self {
        Self {
            per_sec: per_sec.filter(|n| *n > 0),
            buckets: HashMap::new(),
        }
    }

    /// Takes one token for `key` at `now_ms`; when none is left, how many whole seconds to wait
    /// (at least 1, the `x-acs-retry-after` value).
    pub fn admit(&mut self, key: &str, now_ms: i64) -> Result<(), u64> {
        let Some(rate) = self.per_sec else {
            return Ok(());
        };
        let rate = f64::from(rate);
        let bucket = self.buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: rate,
            updated_ms: now_ms,
        });
        // A clock moved backwards refills nothing rather than draining the bucket.
        let elapsed = now_ms.saturating_sub(bucket.updated_ms).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.updated_ms = now_ms;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait = ((1.0 - bucket.tokens) / rate).ceil() as u64;
        Err(wait.max(1))
    }

    /// Refills every bucket.
    pub fn clear(&mut self) {
        self.buckets.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_past_the_rate_is_refused_with_a_wait() {
        let mut throttle = Throttle::new(Some(2));
        assert!(throttle.admit("k", 0).is_ok());
        assert!(throttle.admit("k", 0).is_ok());
        assert_eq!(throttle.admit("k", 0), Err(1));
        assert!(throttle.admit("other", 0).is_ok());
        assert!(throttle.admit("k", 1000).is_ok());
    }

    #[test]
    fn no_limit_admits_everything() {
        let mut throttle = Throttle::new(None);
        for _ in 0..1000 {
            assert!(throttle.admit("k", 0).is_ok());
        }
    }
}
