//! Data feeders: a file of rows, one row per user.
//!
//! A feeder is a CSV file with a header row (values are strings) or JSON lines (`.jsonl`,
//! `.ndjson`: one object a line, values keep their JSON type; the first line's keys are the
//! columns). A user takes its row when it starts:
//! - `cycle` (the default): user i takes row i mod rows;
//! - `unique`: user i takes row i, and a run with more users than rows is refused before it
//!   starts. Under `--worker I/N` each worker takes its own contiguous share of the rows, so
//!   no two users of the whole swarm share a row;
//! - `random`: a row from the user's seeded random source (replays with `--seed`).

use rand::Rng;
use serde_json::Value;
use std::path::Path;

/// How users take rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Cycle,
    Unique,
    Random,
}

impl Mode {
    /// `cycle`, `unique`, `random`.
    pub fn parse(text: &str) -> Option<Mode> {
        match text {
            "cycle" => Some(Mode::Cycle),
            "unique" => Some(Mode::Unique),
            "random" => Some(Mode::Random),
            _ => None,
        }
    }
}

/// A loaded feeder.
#[derive(Debug, Clone)]
pub struct Feeder {
    /// Its name in templates (`{{ users.name }}`).
    pub name: String,
    pub mode: Mode,
    /// The column names, in file order.
    pub columns: Vec<String>,
    /// Every row, its values in column order.
    rows: Vec<Vec<Value>>,
    /// The share of the rows this process takes (all of them unless a unique feeder is split
    /// across workers).
    first: usize,
    count: usize,
}

/// Why a feeder cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FeederError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {why}")]
    Bad { path: String, why: String },
}

impl Feeder {
    /// Reads `path` (CSV, or JSON lines by its extension).
    pub fn load(name: &str, path: &Path, mode: Mode) -> Result<Feeder, FeederError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| FeederError::Read {
            path: shown.clone(),
            source,
        })?;
        let bad = |why: String| FeederError::Bad {
            path: shown.clone(),
            why,
        };
        let json_lines = path
            .extension()
            .is_some_and(|e| e == "jsonl" || e == "ndjson");
        let (columns, rows) = match json_lines {
            true => json_rows(&text).map_err(bad)?,
            false => csv_rows(&text).map_err(bad)?,
        };
        if rows.is_empty() {
            return Err(FeederError::Bad {
                path: shown,
                why: "no rows".into(),
            });
        }
        let count = rows.len();
        Ok(Feeder {
            name: name.to_string(),
            mode,
            columns,
            rows,
            first: 0,
            count,
        })
    }

    /// Rows in this process's share.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether the share is empty (never, once loaded and split without error).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The position of `column`.
    pub fn column(&self, column: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == column)
    }

    /// Takes worker `index`'s share of `count` workers of a unique feeder (rows split in
    /// contiguous shares that add up exactly); other modes keep every row.
    pub fn split(&mut self, index: u32, count: u32) {
        if self.mode != Mode::Unique || count <= 1 {
            return;
        }
        let (total, count, index) = (self.rows.len(), count as usize, index as usize);
        let base = total / count;
        let extra = total % count;
        self.first = index * base + index.min(extra);
        self.count = base + usize::from(index < extra);
    }

    /// Why `users` users cannot each have their own row, if they cannot.
    pub fn check_users(&self, users: u64) -> Result<(), String> {
        if self.mode == Mode::Unique && users > self.count as u64 {
            return Err(format!(
                "feeder {:?} is unique and has {} rows{} for {users} users: give it more rows, or mode = \"cycle\"",
                self.name,
                self.count,
                if self.count == self.rows.len() { String::new() } else { format!(" in this worker's share (of {})", self.rows.len()) }
            ));
        }
        Ok(())
    }

    /// The row user `user` (its index in this process) takes.
    pub fn row(&self, user: u64, rng: &mut impl Rng) -> &[Value] {
        let count = self.count.max(1);
        let at = match self.mode {
            Mode::Random => rng.gen_range(0..count),
            // A unique feeder was checked to have a row per user; past it (users that goose
            // starts again in a later stage) the row is reused as a cycle would.
            Mode::Cycle | Mode::Unique => (user % count as u64) as usize,
        };
        &self.rows[self.first + at]
    }
}

/// A CSV file's header and rows, every value a string.
fn csv_rows(text: &str) -> Result<(Vec<String>, Vec<Vec<Value>>), String> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let columns: Vec<String> = reader
        .headers()
        .map_err(|e| format!("its header row: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    if columns.iter().any(String::is_empty) {
        return Err("a column of the header row has no name".into());
    }
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("row {}: {e}", n + 2))?;
        rows.push(
            record
                .iter()
                .map(|v| Value::String(v.to_string()))
                .collect(),
        );
    }
    Ok((columns, rows))
}

/// JSON lines: one object a line (blank lines skipped); the first object's keys are the columns.
fn json_rows(text: &str) -> Result<(Vec<String>, Vec<Vec<Value>>), String> {
    let mut columns: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let object = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(object)) => object,
            Ok(_) => return Err(format!("line {}: not a JSON object", n + 1)),
            Err(e) => return Err(format!("line {}: {e}", n + 1)),
        };
        if columns.is_empty() {
            columns = object.keys().cloned().collect();
        }
        let row = columns
            .iter()
            .map(|c| object.get(c).cloned().unwrap_or(Value::Null))
            .collect();
        rows.push(row);
    }
    Ok((columns, rows))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use std::collections::HashSet;

    /// A feeder of `rows` users, read from a file in a folder removed once it is loaded.
    fn feeder(rows: usize, mode: Mode) -> Feeder {
        let dir = tempfile::TempDir::with_prefix("agentproof-feeder-").unwrap();
        let path = dir.path().join("users.csv");
        let mut text = "name, password\n".to_string();
        for i in 0..rows {
            text.push_str(&format!("user{i}, pw{i}\n"));
        }
        std::fs::write(&path, text).unwrap();
        Feeder::load("users", &path, mode).unwrap()
    }

    #[test]
    fn csv_rows_are_read_with_their_header_and_trimmed() {
        let f = feeder(3, Mode::Cycle);
        assert_eq!(f.columns, ["name", "password"]);
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        assert_eq!(f.row(4, &mut rng)[0], "user1", "cycled");
    }

    #[test]
    fn a_unique_feeder_split_over_workers_never_hands_a_row_twice() {
        let mut seen = HashSet::new();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for worker in 0..3 {
            let mut f = feeder(10, Mode::Unique);
            f.split(worker, 3);
            f.check_users(f.len() as u64).unwrap();
            assert!(f.check_users(f.len() as u64 + 1).is_err());
            for user in 0..f.len() as u64 {
                let name = f.row(user, &mut rng)[0].clone();
                assert!(seen.insert(name.clone()), "{name} twice");
            }
        }
        assert_eq!(seen.len(), 10, "every row used once");
    }

    #[test]
    fn json_lines_keep_their_types() {
        let dir = tempfile::TempDir::with_prefix("agentproof-feeder-").unwrap();
        let path = dir.path().join("keys.jsonl");
        std::fs::write(&path, "{\"id\":\"a\",\"n\":1}\n\n{\"id\":\"b\",\"n\":2}\n").unwrap();
        let f = Feeder::load("keys", &path, Mode::Cycle).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f.columns, ["id", "n"]);
        std::fs::write(&path, "[1]\n").unwrap();
        let error = Feeder::load("keys", &path, Mode::Cycle).unwrap_err();
        assert!(
            error.to_string().contains("line 1: not a JSON object"),
            "{error}"
        );
    }
}
