//! Writing every report format of a run into one directory.

use std::io;
use std::path::{Path, PathBuf};

use crate::model::Run;
use crate::render;

/// Where [`write_all`] (or [`crate::load::write_load_reports`]) put each report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// `report.json`, valid against [`crate::schema::RUN_SCHEMA`] (a load run's against
    /// [`crate::schema::LOAD_SCHEMA`]).
    pub json: PathBuf,
    /// `junit.xml`.
    pub junit: PathBuf,
    /// `report.md`.
    pub markdown: PathBuf,
    /// `report.html`, self-contained.
    pub html: PathBuf,
}

/// Renders `run` in all four formats into `dir` (created if missing), replacing
/// `report.json`, `junit.xml`, `report.md` and `report.html`.
pub fn write_all(run: &Run, dir: &Path) -> io::Result<Written> {
    std::fs::create_dir_all(dir)?;
    let written = Written {
        json: dir.join("report.json"),
        junit: dir.join("junit.xml"),
        markdown: dir.join("report.md"),
        html: dir.join("report.html"),
    };
    std::fs::write(&written.json, render::json::render(run))?;
    std::fs::write(&written.junit, render::junit::render(run))?;
    std::fs::write(&written.markdown, render::markdown::render(run))?;
    std::fs::write(&written.html, render::html::render(run))?;
    Ok(written)
}
