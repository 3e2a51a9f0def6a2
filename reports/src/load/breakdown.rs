//! The error breakdown of a load run: how often each route failed for each reason.
//!
//! Reasons come from remote servers (status lines, error codes, bodies) and a broken target can
//! make each one unique, so the breakdown is bounded twice: a reason is cut to
//! [`MAX_REASON_BYTES`] at a character boundary, and once [`MAX_PAIRS`] distinct
//! (route, reason) pairs are known, new reasons are counted under [`OTHER_REASONS`] for their
//! route. Counting never allocates for a pair already known.

use std::collections::HashMap;
use std::mem::size_of;

use serde::{Deserialize, Serialize};

/// Distinct (route, reason) pairs kept before new reasons are pooled.
pub const MAX_PAIRS: usize = 200;
/// Longest reason kept, in bytes; longer ones are cut at a character boundary.
pub const MAX_REASON_BYTES: usize = 300;
/// The reason new reasons are counted under once the breakdown is full.
pub const OTHER_REASONS: &str = "other reasons (breakdown capped at 200)";

/// How many requests of one route failed for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCount {
    /// Route template.
    pub route: String,
    /// Why they failed, e.g. `HTTP 503` or `timed out after 20000 ms`.
    pub reason: String,
    /// How many.
    pub count: u64,
}

/// Counts errors per route and reason, bounded as the module docs say.
#[derive(Debug, Default)]
pub(crate) struct Breakdown {
    routes: HashMap<String, HashMap<String, u64>>,
    pairs: usize,
}

impl Breakdown {
    pub(crate) fn count(&mut self, route: &str, reason: &str) {
        self.count_n(route, reason, 1);
    }

    /// Counts `n` errors of `route` for `reason` at once (merging worker breakdowns). A reason
    /// already pooled under [`OTHER_REASONS`] is added to the pool and takes no pair.
    pub(crate) fn count_n(&mut self, route: &str, reason: &str, n: u64) {
        let reason = cut(reason, MAX_REASON_BYTES);
        let full = self.pairs >= MAX_PAIRS || reason == OTHER_REASONS;
        if !self.routes.contains_key(route) {
            self.routes.insert(route.to_owned(), HashMap::new());
        }
        let reasons = self.routes.get_mut(route).expect("inserted above");
        if let Some(count) = reasons.get_mut(reason) {
            *count += n;
            return;
        }
        let key = if full { OTHER_REASONS } else { reason };
        match reasons.get_mut(key) {
            Some(count) => *count += n,
            None => {
                reasons.insert(key.to_owned(), n);
                if !full {
                    self.pairs += 1;
                }
            }
        }
    }

    /// Sorted by count, most frequent first, then by route and reason.
    pub(crate) fn into_sorted(self) -> Vec<ErrorCount> {
        let mut out: Vec<ErrorCount> = self
            .routes
            .into_iter()
            .flat_map(|(route, reasons)| {
                reasons.into_iter().map(move |(reason, count)| ErrorCount {
                    route: route.clone(),
                    reason,
                    count,
                })
            })
            .collect();
        sort(&mut out);
        out
    }

    /// Heap bytes held, roughly: keys, counters and hash-table slots.
    pub(crate) fn approx_bytes(&self) -> usize {
        let slot = size_of::<(String, u64)>() + 1;
        self.routes
            .iter()
            .map(|(route, reasons)| {
                route.capacity()
                    + size_of::<(String, HashMap<String, u64>)>()
                    + reasons.capacity() * slot
                    + reasons.keys().map(String::capacity).sum::<usize>()
            })
            .sum()
    }
}

/// Most frequent first, then by route and reason, so equal counts read in a stable order.
pub(crate) fn sort(errors: &mut [ErrorCount]) {
    errors.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.route.cmp(&b.route))
            .then_with(|| a.reason.cmp(&b.reason))
    });
}

/// `text` cut to at most `max` bytes, at a character boundary.
pub(crate) fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_reasons_are_cut_at_a_character_boundary() {
        let reason = "é".repeat(400);
        let cut = cut(&reason, MAX_REASON_BYTES);
        assert_eq!(cut.len(), 300);
        assert_eq!(super::cut("aé", 2), "a");
    }

    #[test]
    fn known_pairs_keep_counting_after_the_cap() {
        let mut b = Breakdown::default();
        for i in 0..MAX_PAIRS {
            b.count("r", &format!("reason {i}"));
        }
        b.count("r", "reason 0");
        b.count("r", "new");
        b.count("other route", "new");
        let errors = b.into_sorted();
        assert_eq!(errors[0].count, 2);
        assert_eq!(errors[0].reason, "reason 0");
        assert!(errors.contains(&ErrorCount {
            route: "other route".into(),
            reason: OTHER_REASONS.into(),
            count: 1
        }));
    }
}
