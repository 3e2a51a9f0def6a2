//! JSON form of a [`LatencyTable`]: an object keyed by route template.
//!
//! Each route carries the numbers people read (the [`LatencySummary`] fields) and the
//! numbers machines merge: `histogram`, the HdrHistogram serialized in the V2 format
//! (deflate-compressed, the `HISTFAAA…` form HdrHistogram's own log and plotting tools read),
//! then base64 (standard alphabet, padded). Reading a report back restores the histogram from
//! that blob alone, so merging JSON reports from many workers is exact; the summary numbers
//! are derived and ignored on input.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use hdrhistogram::Histogram;
use serde::de::Error as _;
use serde::ser::{Error as _, SerializeMap};

use super::latency::{LatencySummary, LatencyTable};

#[derive(serde::Serialize)]
struct RouteOut<'a> {
    #[serde(flatten)]
    summary: LatencySummary,
    histogram: &'a str,
}

#[derive(serde::Deserialize)]
struct RouteIn {
    histogram: String,
}

/// Encodes one histogram as base64 of its compressed V2 serialization.
pub fn encode_histogram(h: &Histogram<u64>) -> Result<String, String> {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new()
        .serialize(h, &mut bytes)
        .map_err(|e| format!("cannot serialize histogram: {e:?}"))?;
    Ok(STANDARD.encode(bytes))
}

/// Decodes [`encode_histogram`]'s output (compressed or plain V2 both accepted).
pub fn decode_histogram(text: &str) -> Result<Histogram<u64>, String> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|e| format!("histogram is not base64: {e}"))?;
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("histogram is not an HdrHistogram V2 blob: {e:?}"))
}

impl serde::Serialize for LatencyTable {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (route, h) in self.iter() {
            let blob = encode_histogram(h).map_err(S::Error::custom)?;
            let entry = RouteOut {
                summary: LatencySummary::of(h),
                histogram: &blob,
            };
            map.serialize_entry(route, &entry)?;
        }
        map.end()
    }
}

impl<'de> serde::Deserialize<'de> for LatencyTable {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, RouteIn>::deserialize(deserializer)?;
        let mut table = LatencyTable::new();
        for (route, entry) in raw {
            let h = decode_histogram(&entry.histogram)
                .map_err(|e| D::Error::custom(format!("route {route:?}: {e}")))?;
            table.insert_histogram(&route, &h);
        }
        Ok(table)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn table_survives_a_json_round_trip_count_for_count() {
        let mut table = LatencyTable::new();
        for n in 0..500u64 {
            table.record("aui GET /a", Duration::from_micros(n * n * 37));
        }
        table.record("duix POST /b", Duration::from_secs(25));
        let json = serde_json::to_string(&table).unwrap();
        let back: LatencyTable = serde_json::from_str(&json).unwrap();
        assert_eq!(back, table);
    }

    #[test]
    fn serialized_route_carries_summary_and_blob() {
        let mut table = LatencyTable::new();
        table.record("r", Duration::from_millis(12));
        let value = serde_json::to_value(&table).unwrap();
        assert_eq!(value["r"]["count"], 1);
        assert!(value["r"]["histogram"]
            .as_str()
            .unwrap()
            .starts_with("HISTF"));
    }

    #[test]
    fn garbage_blob_is_a_deserialization_error_naming_the_route() {
        let err = serde_json::from_str::<LatencyTable>(r#"{"x y": {"histogram": "!!"}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"x y\""), "{err}");
    }
}
