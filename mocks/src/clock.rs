//! The virtual clock every mock reads: real time plus an offset that `/__admin/clock` sets.
//!
//! Tokens that expire in 24 hours are tested in milliseconds by moving this clock, not by waiting.
//! One clock is shared by all three platforms of a process, so an AUI bearer token, the RTC token it
//! signs and the Alibaba gateway's 15-minute skew window all agree on what "now" is.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Latest instant the clock shows: 9999-12-31T23:59:59.999Z, the end of what RFC 3339 (and so every
/// timestamp the platforms parse) can name. Keeping "now" in `0..=MAX_NOW_MS` also leaves room for
/// `now + expiry` sums everywhere downstream, which would overflow near `i64::MAX`.
pub const MAX_NOW_MS: i64 = 253_402_300_799_999;

/// Real time plus an adjustable offset, cheap to clone (an `Arc` inside).
#[derive(Clone, Debug, Default)]
pub struct VirtualClock {
    offset_ms: Arc<AtomicI64>,
}

impl VirtualClock {
    /// A clock that starts at real time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Milliseconds since the Unix epoch, as the mocks see them.
    /// Clamped to `0..=MAX_NOW_MS` whatever the offset (the admin API takes any i64).
    pub fn now_ms(&self) -> i64 {
        real_now_ms()
            .saturating_add(self.offset_ms.load(Ordering::Relaxed))
            .clamp(0, MAX_NOW_MS)
    }

    /// Seconds since the Unix epoch, as the mocks see them.
    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// How far the virtual clock runs ahead of (positive) or behind (negative) real time.
    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Makes "now" the given instant; the clock keeps running from there.
    pub fn set_now_ms(&self, now_ms: i64) {
        self.offset_ms
            .store(now_ms.saturating_sub(real_now_ms()), Ordering::Relaxed);
    }

    /// Sets the offset from real time directly.
    pub fn set_offset_ms(&self, offset_ms: i64) {
        self.offset_ms.store(offset_ms, Ordering::Relaxed);
    }

    /// Moves the clock forward (or back, with a negative value).
    /// Saturates rather than wrapping: a huge step lands at the end of time, not before 1970.
    pub fn advance_ms(&self, by_ms: i64) {
        let _ = self
            .offset_ms
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |offset| {
                Some(offset.saturating_add(by_ms))
            });
    }

    /// Back to real time.
    pub fn reset(&self) {
        self.set_offset_ms(0);
    }
}

/// Formats ms since the epoch as RFC 3339 UTC with milliseconds, e.g. `2026-11-21T06:37:06.123Z`.
pub fn rfc3339(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
            ))
            .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

fn real_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_by_the_given_amount() {
        let clock = VirtualClock::new();
        let before = clock.now_ms();
        clock.advance_ms(24 * 3600 * 1000);
        let after = clock.now_ms();
        assert!(after - before >= 24 * 3600 * 1000);
        assert!(after - before < 24 * 3600 * 1000 + 5_000);
    }

    #[test]
    fn extreme_offsets_clamp_instead_of_overflowing() {
        let clock = VirtualClock::new();
        clock.set_offset_ms(i64::MAX);
        assert_eq!(clock.now_ms(), MAX_NOW_MS);
        clock.advance_ms(i64::MAX);
        assert_eq!(clock.now_ms(), MAX_NOW_MS);
        clock.set_now_ms(i64::MIN);
        assert_eq!(clock.now_ms(), 0);
        clock.set_offset_ms(i64::MIN);
        clock.advance_ms(i64::MIN);
        assert_eq!(clock.now_ms(), 0);
        assert_eq!(rfc3339(clock.now_ms()), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn clones_share_one_offset() {
        let clock = VirtualClock::new();
        let other = clock.clone();
        clock.set_now_ms(1_700_000_000_000);
        assert!((other.now_ms() - 1_700_000_000_000).abs() < 5_000);
        other.reset();
        assert_eq!(clock.offset_ms(), 0);
    }
}
