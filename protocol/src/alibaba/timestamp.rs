//! Request timestamps: V1's `Timestamp` param and V3's `x-acs-date` header, and ICE's times.
//!
//! The SDKs send UTC `yyyy-MM-ddTHH:mm:ssZ` (`2016-02-23T12:46:24Z`). [`parse_utc`] accepts that
//! and what RFC 3339 adds to it (fractional seconds, an explicit offset such as `+00:00` or
//! `+08:00`, which name one instant just as well), and rejects anything else: no space instead of
//! `T`, no lowercase `t` or `z`, no missing seconds, no missing offset, no bare epoch numbers. A mock answers those with
//! `InvalidTimeStamp.Format`. All instants are unix milliseconds, like the mocks' virtual clock.

use time::{format_description::well_known::Rfc3339, OffsetDateTime};

/// The gateway rejects a timestamp further than this from its clock (`InvalidTimeStamp.Expired`).
pub const MAX_CLOCK_SKEW_MS: i64 = 15 * 60 * 1000;

/// How long the gateway remembers a `SignatureNonce` to reject its reuse (PROTOCOLS.md §2).
pub const NONCE_TTL_MS: i64 = 31 * 60 * 1000;

/// A timestamp that is not in the accepted format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("timestamp {value:?} is not yyyy-MM-ddTHH:mm:ssZ: {reason}")]
pub struct TimestampError {
    /// The value as received.
    pub value: String,
    /// What the parser found wrong.
    pub reason: String,
}

/// Parses a request timestamp into unix milliseconds (see the module doc for what is accepted).
pub fn parse_utc(value: &str) -> Result<i64, TimestampError> {
    let error = |reason: String| TimestampError {
        value: value.to_string(),
        reason,
    };
    // RFC 3339 lets parsers take a space or lowercase `t`/`z`; no SDK sends them, so neither do we.
    if value.as_bytes().get(10) != Some(&b'T') {
        return Err(error("date and time must be separated by 'T'".into()));
    }
    if value.ends_with('z') {
        return Err(error("the UTC designator must be 'Z'".into()));
    }
    let parsed = OffsetDateTime::parse(value, &Rfc3339).map_err(|e| error(e.to_string()))?;
    // RFC 3339 years stop at 9999, so milliseconds always fit an i64.
    Ok((parsed.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Whether `timestamp_ms` is within [`MAX_CLOCK_SKEW_MS`] of `now_ms`, either side.
pub fn within_skew(timestamp_ms: i64, now_ms: i64) -> bool {
    timestamp_ms.abs_diff(now_ms) <= MAX_CLOCK_SKEW_MS.unsigned_abs()
}

/// Formats unix milliseconds as the SDKs send them: `2016-02-23T12:46:24Z` (milliseconds dropped).
pub fn format_utc(unix_ms: i64) -> String {
    let t = to_datetime(unix_ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Formats unix milliseconds as ICE's `GmtCreate`: `2025-07-18T06:39:08.000+00:00`.
pub fn format_ice(unix_ms: i64) -> String {
    let t = to_datetime(unix_ms);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+00:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// UTC date-time of `unix_ms`, clamped to years -9999..=9999 (the range `time` represents).
fn to_datetime(unix_ms: i64) -> OffsetDateTime {
    let nanos = i128::from(unix_ms) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(if unix_ms < 0 {
        OffsetDateTime::new_utc(time::Date::MIN, time::Time::MIDNIGHT)
    } else {
        OffsetDateTime::new_utc(time::Date::MAX, time::Time::MAX)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR_MS: i64 = 1_456_231_584_000; // 2016-02-23T12:46:24Z, PROTOCOLS.md §1.1 vector 1

    #[test]
    fn parses_the_sdk_format() {
        assert_eq!(parse_utc("2016-02-23T12:46:24Z"), Ok(VECTOR_MS));
    }

    #[test]
    fn accepts_fractions_and_explicit_offsets() {
        assert_eq!(parse_utc("2016-02-23T12:46:24.250Z"), Ok(VECTOR_MS + 250));
        assert_eq!(parse_utc("2016-02-23T12:46:24+00:00"), Ok(VECTOR_MS));
        assert_eq!(parse_utc("2016-02-23T20:46:24+08:00"), Ok(VECTOR_MS));
    }

    #[test]
    fn rejects_other_shapes_keeping_the_value() {
        for bad in [
            "2016-02-23 12:46:24Z",
            "2016-02-23t12:46:24Z",
            "2016-02-23T12:46:24z",
            "2016-02-23T12:46Z",
            "2016-02-23T12:46:24",
            "1456231584",
            "2016-02-30T12:46:24Z",
            "",
        ] {
            let err = parse_utc(bad).unwrap_err();
            assert_eq!(err.value, bad);
        }
    }

    #[test]
    fn formats_sdk_and_ice_forms() {
        assert_eq!(format_utc(VECTOR_MS + 999), "2016-02-23T12:46:24Z");
        assert_eq!(
            format_ice(1_752_820_748_000),
            "2025-07-18T06:39:08.000+00:00"
        );
        assert_eq!(format_ice(VECTOR_MS + 7), "2016-02-23T12:46:24.007+00:00");
    }

    #[test]
    fn format_then_parse_round_trips_whole_seconds() {
        assert_eq!(parse_utc(&format_utc(VECTOR_MS)), Ok(VECTOR_MS));
        assert_eq!(parse_utc(&format_ice(VECTOR_MS + 7)), Ok(VECTOR_MS + 7));
    }

    #[test]
    fn formatting_extreme_instants_does_not_panic() {
        assert!(format_utc(i64::MAX).starts_with("9999-12-31"));
        assert!(format_ice(i64::MIN).contains("01-01T00:00:00.000"));
    }

    #[test]
    fn skew_window_is_fifteen_minutes_each_side() {
        assert!(within_skew(VECTOR_MS + MAX_CLOCK_SKEW_MS, VECTOR_MS));
        assert!(within_skew(VECTOR_MS - MAX_CLOCK_SKEW_MS, VECTOR_MS));
        assert!(!within_skew(VECTOR_MS + MAX_CLOCK_SKEW_MS + 1, VECTOR_MS));
        assert!(within_skew(i64::MIN, i64::MIN));
        assert!(!within_skew(i64::MIN, i64::MAX));
    }
}
