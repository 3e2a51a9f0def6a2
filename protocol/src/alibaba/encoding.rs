//! Percent-encoding as Alibaba Cloud signs it, and strict decoding of what arrives.
//!
//! Both signature versions encode with the RFC 3986 unreserved set: `A-Z a-z 0-9 - _ . ~` stay,
//! every other UTF-8 byte becomes `%XX` with uppercase hex (PROTOCOLS.md §1.1). Decoding is the
//! server's side: it is strict, because a mock that guesses what a malformed escape meant would
//! accept requests the real gateway rejects.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Bytes left as they are: everything except the RFC 3986 unreserved set is encoded.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Why a percent-encoded string could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A `%` at byte `offset` of the input is not followed by two hex digits.
    #[error(
        "bad percent escape at byte {offset}: {found:?} is not '%' followed by two hex digits"
    )]
    BadEscape {
        /// Byte offset of the `%` in the encoded input.
        offset: usize,
        /// The `%` and up to two characters after it, as received.
        found: String,
    },
    /// The decoded bytes are not valid UTF-8.
    #[error("decoded bytes are not UTF-8 (first bad byte at decoded offset {offset})")]
    NotUtf8 {
        /// Offset of the first invalid byte in the decoded bytes.
        offset: usize,
    },
}

/// Encodes `s` the way Alibaba Cloud signs: unreserved ASCII kept, all else `%XX` uppercase.
///
/// ```
/// use protocol::alibaba::encoding::percent_encode;
/// assert_eq!(percent_encode(" ~/*-+"), "%20~%2F%2A-%2B");
/// ```
pub fn percent_encode(s: &str) -> String {
    utf8_percent_encode(s, UNRESERVED).to_string()
}

/// [`percent_encode`] appended to `out`.
pub(crate) fn percent_encode_into(out: &mut String, s: &str) {
    out.extend(utf8_percent_encode(s, UNRESERVED));
}

/// Decodes `%XX` escapes strictly; `+` stays `+` (use [`form_decode`] for form bodies and queries).
pub fn percent_decode(s: &str) -> Result<String, DecodeError> {
    decode(s, false)
}

/// Decodes as `application/x-www-form-urlencoded` does: like [`percent_decode`], and `+` is a space.
pub fn form_decode(s: &str) -> Result<String, DecodeError> {
    decode(s, true)
}

/// Splits a raw query string (the part after `?`) or form body into decoded pairs.
///
/// Pairs keep their order and duplicates; an empty input gives no pairs, empty segments
/// (`a=1&&b=2`) are skipped, and a segment without `=` is a key with an empty value. Keys and
/// values are decoded with [`form_decode`], as servlet containers and form parsers do, so a raw
/// `+` is a space: the SDKs always send `%2B` for a plus sign.
pub fn parse_query(query: &str) -> Result<Vec<(String, String)>, DecodeError> {
    let mut pairs = Vec::new();
    let mut offset = 0;
    for segment in query.split('&') {
        let start = offset;
        offset += segment.len() + 1;
        if segment.is_empty() {
            continue;
        }
        let (key, value, value_start) = match segment.split_once('=') {
            Some((k, v)) => (k, v, start + k.len() + 1),
            None => (segment, "", start + segment.len()),
        };
        let key = form_decode(key).map_err(|e| e.shifted(start))?;
        let value = form_decode(value).map_err(|e| e.shifted(value_start))?;
        pairs.push((key, value));
    }
    Ok(pairs)
}

impl DecodeError {
    /// Re-bases a bad-escape offset from a segment onto the whole input.
    fn shifted(self, by: usize) -> Self {
        match self {
            DecodeError::BadEscape { offset, found } => DecodeError::BadEscape {
                offset: offset + by,
                found,
            },
            other => other,
        }
    }
}

fn decode(s: &str, plus_is_space: bool) -> Result<String, DecodeError> {
    let special = |b: &u8| *b == b'%' || (plus_is_space && *b == b'+');
    let bytes = s.as_bytes();
    let Some(first) = bytes.iter().position(special) else {
        // Nothing to decode (most keys and values): already UTF-8 as it is.
        return Ok(s.to_string());
    };
    let mut out = Vec::with_capacity(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    let mut i = first;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let byte = bytes
                    .get(i + 1..i + 3)
                    .and_then(|pair| Some((hex_value(pair[0])? << 4) | hex_value(pair[1])?))
                    .ok_or_else(|| bad_escape(s, i))?;
                out.push(byte);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                // The run up to the next escape, copied at once.
                let end = bytes[i..]
                    .iter()
                    .position(special)
                    .map_or(bytes.len(), |n| i + n);
                out.extend_from_slice(&bytes[i..end]);
                i = end;
            }
        }
    }
    String::from_utf8(out).map_err(|e| DecodeError::NotUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })
}

fn hex_value(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|v| v as u8)
}

fn bad_escape(s: &str, offset: usize) -> DecodeError {
    let found = s[offset..].chars().take(3).collect();
    DecodeError::BadEscape { offset, found }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn encoding_keeps_unreserved_and_uppercases_the_rest() {
        // PROTOCOLS.md §1.2 vector 4 (python test {'test': ' ~/*-+'}).
        assert_eq!(percent_encode(" ~/*-+"), "%20~%2F%2A-%2B");
        assert_eq!(percent_encode("AZaz09-_.~"), "AZaz09-_.~");
        assert_eq!(percent_encode("12:46:24"), "12%3A46%3A24");
        assert_eq!(percent_encode("阿"), "%E9%98%BF");
    }

    #[test]
    fn percent_decode_keeps_plus_and_form_decode_makes_it_a_space() {
        assert_eq!(percent_decode("a+b%20c").unwrap(), "a+b c");
        assert_eq!(form_decode("a+b%20c").unwrap(), "a b c");
        assert_eq!(percent_decode("%e9%98%bf").unwrap(), "阿");
    }

    #[test]
    fn decode_rejects_truncated_or_non_hex_escapes_naming_the_spot() {
        let err = percent_decode("ab%2").unwrap_err();
        assert_eq!(
            err,
            DecodeError::BadEscape {
                offset: 2,
                found: "%2".into()
            }
        );
        assert!(percent_decode("%zz").is_err());
        assert!(percent_decode("%").is_err());
        assert!(percent_decode("%é1").is_err());
    }

    #[test]
    fn decode_rejects_bytes_that_are_not_utf8() {
        assert_eq!(
            percent_decode("ok%FF").unwrap_err(),
            DecodeError::NotUtf8 { offset: 2 }
        );
    }

    #[test]
    fn parse_query_keeps_order_duplicates_and_bare_keys() {
        let pairs = parse_query("b=2&a&a=%20x+y&&c=").unwrap();
        let expected = [("b", "2"), ("a", ""), ("a", " x y"), ("c", "")];
        let expected: Vec<_> = expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(pairs, expected);
        assert!(parse_query("").unwrap().is_empty());
    }

    #[test]
    fn parse_query_reports_offsets_in_the_whole_query() {
        let err = parse_query("a=1&b=%G1").unwrap_err();
        assert!(matches!(err, DecodeError::BadEscape { offset: 6, .. }));
    }

    proptest! {
        #[test]
        fn percent_encoding_round_trips_any_string(s in any::<String>()) {
            let encoded = percent_encode(&s);
            prop_assert_eq!(percent_decode(&encoded).unwrap(), s.clone());
            prop_assert_eq!(form_decode(&encoded).unwrap(), s);
        }

        #[test]
        fn parse_query_never_panics(s in any::<String>()) {
            let _ = parse_query(&s);
        }

        #[test]
        fn parse_query_never_panics_on_escape_heavy_input(s in "[%a-f0-9=&+G\u{e9}]{0,40}") {
            let _ = parse_query(&s);
        }
    }
}
