//! One rule's verdict, in words a vendor can act on, and how it prints: a line in the terminal
//! (`  ok    name: what was seen`, `  FAIL  name: what was wrong`, `  skip  name: why`, then a
//! `note:` line per note) and a case in the reports.

use reports::Case;
use std::collections::BTreeMap;

/// One rule's verdict.
pub struct Verdict {
    pub rule: &'static str,
    pub title: &'static str,
    pub outcome: Outcome,
    /// What a vendor may want to know that is not a failure (a case the contract leaves open).
    pub notes: Vec<String>,
}

pub enum Outcome {
    Pass(String),
    Fail { expected: String, got: String },
    Skip(String),
}

impl Verdict {
    pub fn new(rule: &'static str, title: &'static str, outcome: Outcome) -> Verdict {
        Verdict {
            rule,
            title,
            outcome,
            notes: Vec::new(),
        }
    }

    pub fn with_notes(mut self, notes: Vec<String>) -> Verdict {
        self.notes = notes;
        self
    }

    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Fail { .. })
    }

    /// `  FAIL  conversation-id: sent 0513e935-…, got "abc" in 20 of 20 answers`, then a
    /// `          note: …` line per note.
    pub fn line(&self) -> String {
        let mut line = match &self.outcome {
            Outcome::Pass(seen) => format!("  ok    {}: {seen}", self.rule),
            Outcome::Fail { got, .. } => format!("  FAIL  {}: {got}", self.rule),
            Outcome::Skip(why) => format!("  skip  {}: {why}", self.rule),
        };
        for note in &self.notes {
            line.push_str("\n          note: ");
            line.push_str(note);
        }
        line
    }

    pub fn case(&self) -> Case {
        let name = format!("{}: {}", self.rule, self.title);
        let notes: String = self.notes.iter().map(|n| format!("; note: {n}")).collect();
        match &self.outcome {
            Outcome::Pass(seen) => Case::passed(name, 0).with_detail(format!("{seen}{notes}")),
            Outcome::Fail { expected, got } => {
                Case::failed(name, expected, format!("{got}{notes}"), 0)
            }
            Outcome::Skip(why) => Case::skipped(name, why.clone()),
        }
    }
}

pub fn pass(seen: impl Into<String>) -> Outcome {
    Outcome::Pass(seen.into())
}

pub fn fail(expected: impl Into<String>, got: impl Into<String>) -> Outcome {
    Outcome::Fail {
        expected: expected.into(),
        got: got.into(),
    }
}

/// At most `max` bytes of `text`, cut at a character boundary.
pub fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The most frequent text among `values`, with its count.
pub fn most_common(values: impl Iterator<Item = String>) -> (String, usize) {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .unwrap_or_default()
}

/// A rule broken by some of `total` answers: the commonest problem, how many had it and how many
/// had one; `None` when none had any.
pub fn worst_of(problems: &[String], total: usize, unit: &str) -> Option<String> {
    let (worst, n) = most_common(problems.iter().cloned());
    (n > 0).then(|| match problems.len() {
        all if all == n => format!("{worst} in {n} of {total} {unit}"),
        all => format!("{worst} in {n} of {total} {unit} ({all} with a problem)"),
    })
}
