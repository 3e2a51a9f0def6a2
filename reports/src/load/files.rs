//! Writing a load run's reports into a directory, and reading one back as a baseline.
//!
//! The directory is shared: goose writes its own reports there too, so only our four files are
//! replaced and nothing else is touched. [`write_load_reports`] writes the four reports of any
//! run; [`write_worker_files`] writes them plus the HdrHistogram interval log
//! [`INTERVAL_LOG_FILE`] ([`super::write_interval_log`]), the folder of one worker of a
//! distributed run (`agentproof load --worker I/N`).

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::Value;

use super::report::LoadReport;
use crate::render;
use crate::schema::{LOAD_SCHEMA_ID, RUN_SCHEMA_ID};
use crate::Written;

/// Why [`read_load_report`] could not give a load report.
#[derive(Debug, thiserror::Error)]
pub enum LoadReadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not JSON.
    #[error("{path} is not JSON: {source}")]
    NotJson {
        /// The file.
        path: PathBuf,
        /// Where it broke.
        source: serde_json::Error,
    },
    /// The file is the report of `agentproof check`, not of `agentproof load`.
    #[error("{path} is an `agentproof check` report, not a load report; pass the directory of an `agentproof load` run")]
    CheckReport {
        /// The file.
        path: PathBuf,
    },
    /// JSON, but not an agentproof load report (or from an incompatible version).
    #[error("{path} is not an agentproof load report: {reason}")]
    NotLoadReport {
        /// The file.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
}

/// Writes `report.json` ([`crate::render::load::json`], valid against
/// [`crate::schema::LOAD_SCHEMA`]), `report.html`, `report.md` and `junit.xml`
/// ([`crate::render::load::junit`]) into `dir`, created if missing.
/// Other files in `dir` are left alone.
pub fn write_load_reports(report: &LoadReport, dir: &Path) -> io::Result<Written> {
    std::fs::create_dir_all(dir)?;
    let written = Written {
        json: dir.join("report.json"),
        junit: dir.join("junit.xml"),
        markdown: dir.join("report.md"),
        html: dir.join("report.html"),
    };
    std::fs::write(&written.json, render::load::json::render(report))?;
    std::fs::write(&written.junit, render::load::junit::render(report))?;
    std::fs::write(&written.markdown, render::load::markdown::render(report))?;
    std::fs::write(&written.html, render::load::html::render(report))?;
    Ok(written)
}

/// Name of the HdrHistogram interval log [`write_worker_files`] writes beside the reports.
pub const INTERVAL_LOG_FILE: &str = "latency.hlog";

/// Writes the four reports of [`write_load_reports`] and the interval log
/// ([`super::write_interval_log`] with `start`, the run's start instant) as
/// [`INTERVAL_LOG_FILE`] into `dir`: what a worker of a distributed run leaves for
/// `agentproof report merge`. Returns the reports' paths and the log's path.
pub fn write_worker_files(
    report: &LoadReport,
    start: SystemTime,
    dir: &Path,
) -> io::Result<(Written, PathBuf)> {
    let written = write_load_reports(report, dir)?;
    let log = dir.join(INTERVAL_LOG_FILE);
    let mut text = Vec::new();
    super::write_interval_log(report, start, &mut text)?;
    std::fs::write(&log, text)?;
    Ok((written, log))
}

/// Reads a load report from `dir_or_file`: a directory's `report.json`, or the file itself.
/// Says clearly when it is a check report or not agentproof JSON.
pub fn read_load_report(dir_or_file: &Path) -> Result<LoadReport, LoadReadError> {
    let path = if dir_or_file.is_dir() {
        dir_or_file.join("report.json")
    } else {
        dir_or_file.to_path_buf()
    };
    let text = std::fs::read_to_string(&path).map_err(|source| LoadReadError::Io {
        path: path.clone(),
        source,
    })?;
    let value: Value = serde_json::from_str(&text).map_err(|source| LoadReadError::NotJson {
        path: path.clone(),
        source,
    })?;
    let schema = value.get("$schema").and_then(Value::as_str);
    if schema == Some(RUN_SCHEMA_ID) || value.get("suites").is_some() {
        return Err(LoadReadError::CheckReport { path });
    }
    let not_load = |reason: String| LoadReadError::NotLoadReport {
        path: path.clone(),
        reason,
    };
    match schema {
        Some(LOAD_SCHEMA_ID) => {}
        Some(other) => return Err(not_load(format!("its $schema is {other:?}"))),
        None if value.get("meta").is_some() && value.get("routes").is_some() => {}
        None => return Err(not_load("it has no $schema, meta or routes".into())),
    }
    serde_json::from_value(value).map_err(|e| not_load(e.to_string()))
}
