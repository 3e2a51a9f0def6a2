//! "Did you mean" for unknown schema names.
//!
//! A name that contains the query (case-insensitively) ranks first, so `getRtcAuthToken` finds
//! both `aui/getRtcAuthToken.request` and `.response`; otherwise names within a small edit
//! distance (a typo, a wrong platform prefix) follow, closest first.

/// At most this many suggestions.
const MAX_SUGGESTIONS: usize = 5;

/// The names closest to `query`, best first; empty when nothing is close.
pub(crate) fn suggestions<'a>(query: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let query = query.to_lowercase();
    if query.is_empty() {
        return Vec::new();
    }
    let limit = (query.chars().count() / 3).max(2);
    let mut ranked: Vec<(usize, usize, &str)> = names
        .filter_map(|name| {
            let lower = name.to_lowercase();
            if lower.contains(&query) {
                Some((0, lower.len() - query.len(), name))
            } else {
                let distance = levenshtein(&query, &lower);
                (distance <= limit).then_some((1, distance, name))
            }
        })
        .collect();
    ranked.sort();
    ranked
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, _, name)| name.to_owned())
        .collect()
}

/// Edit distance in characters (insertions, deletions, substitutions).
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &[
        "aui/getRtcAuthToken.request",
        "aui/getRtcAuthToken.response",
        "aui/login.request",
        "duix/error",
        "alibaba/error",
    ];

    #[test]
    fn a_name_without_its_kind_suggests_both_kinds() {
        assert_eq!(
            suggestions("aui/getRtcAuthToken", NAMES.iter().copied()),
            [
                "aui/getRtcAuthToken.request",
                "aui/getRtcAuthToken.response"
            ]
        );
    }

    #[test]
    fn a_typo_suggests_the_closest_names() {
        assert_eq!(
            suggestions("duix/eror", NAMES.iter().copied()),
            ["duix/error"]
        );
        assert_eq!(
            suggestions("AUI/LOGIN.REQUEST", NAMES.iter().copied()),
            ["aui/login.request"]
        );
    }

    #[test]
    fn nothing_close_suggests_nothing() {
        assert!(suggestions("completely-unrelated", NAMES.iter().copied()).is_empty());
        assert!(suggestions("", NAMES.iter().copied()).is_empty());
    }

    #[test]
    fn levenshtein_counts_edits() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }
}
