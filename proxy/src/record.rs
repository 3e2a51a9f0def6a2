//! `--record DIR`: every judged exchange as a fixture, one JSON line each, in
//! `DIR/exchanges.jsonl` (in order of completion; `seq` is the order of arrival), with the
//! format's schema beside it (`DIR/fixture.schema.json`). A write error is kept and reported
//! when the recording closes; the proxy keeps forwarding meanwhile.

use crate::exchange::{Fixture, FIXTURE_SCHEMA};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The fixtures' file in a recording folder.
pub const EXCHANGES: &str = "exchanges.jsonl";
/// The schema's file in a recording folder.
pub const SCHEMA: &str = "fixture.schema.json";

/// An open recording.
pub struct Recorder {
    path: PathBuf,
    out: BufWriter<File>,
    written: u64,
    error: Option<std::io::Error>,
}

impl Recorder {
    /// Creates `dir` and starts `dir/exchanges.jsonl` afresh.
    pub fn create(dir: &Path) -> std::io::Result<Recorder> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join(SCHEMA), FIXTURE_SCHEMA)?;
        let path = dir.join(EXCHANGES);
        let out = BufWriter::new(File::create(&path)?);
        Ok(Recorder {
            path,
            out,
            written: 0,
            error: None,
        })
    }

    /// Appends one fixture.
    pub fn write(&mut self, fixture: &Fixture) {
        if self.error.is_some() {
            return;
        }
        let written = serde_json::to_writer(&mut self.out, fixture)
            .map_err(std::io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        match written {
            Ok(()) => self.written += 1,
            Err(e) => self.error = Some(e),
        }
    }

    /// Flushes and closes; the number of fixtures written.
    pub fn finish(&mut self) -> std::io::Result<u64> {
        if let Some(e) = self.error.take() {
            return Err(std::io::Error::new(
                e.kind(),
                format!("writing {}: {e}", self.path.display()),
            ));
        }
        self.out.flush()?;
        Ok(self.written)
    }
}

/// Reads a recording: `DIR/exchanges.jsonl` (or a `.jsonl` file given directly), sorted by
/// `seq`. A line that is not a fixture is an error naming its line number.
pub fn read(path: &Path) -> Result<Vec<Fixture>, String> {
    let file = if path.is_dir() {
        path.join(EXCHANGES)
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut fixtures = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fixture: Fixture = serde_json::from_str(line).map_err(|e| {
            format!(
                "{} line {}: not a fixture ({e}); see fixture.schema.json",
                file.display(),
                index + 1
            )
        })?;
        fixtures.push(fixture);
    }
    fixtures.sort_by_key(|f| f.seq);
    Ok(fixtures)
}
