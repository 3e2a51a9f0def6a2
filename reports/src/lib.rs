//! The agentproof run model and the reports rendered from it.
//!
//! A [`Run`] holds [`Suite`]s of [`Case`]s, each with an [`Outcome`] (passed, failed with
//! expected against got, skipped with a reason), and per suite a [`LatencyTable`]: one
//! HdrHistogram per route template, in microseconds. From one run come four reports
//! ([`render`]): JSON with its own schema ([`schema::RUN_SCHEMA`]), JUnit XML, Markdown for a
//! CI step summary, and one self-contained HTML page with SVG latency charts;
//! [`write_all`] writes them side by side.
//!
//! The latency SLO ([`slo`]: p95 under 2000 ms, no request reaching the 20000 ms timeout) is
//! evaluated from the histograms exactly, and [`Run::merge`] adds the runs of many load workers
//! into the one result a single machine would have measured, also through their JSON reports.
//!
//! A load run has its own model, [`load::LoadReport`], recorded in bounded memory by
//! [`load::LoadRecorder`], judged exactly against a [`load::LoadSlo`] and rendered by
//! [`render::load`]; [`load::write_load_reports`] writes its four reports.
//!
//! Exit codes ([`Run::exit_code`]): 0 when every case passed and the SLO held, 1 when a case
//! failed or the SLO broke; 2, a usage or configuration error, is the CLI's to return.
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::time::Duration;
//! use reports::{Case, Run, Suite};
//!
//! let mut suite = Suite::new("login", "aui");
//! suite.cases.push(Case::passed("login with demo credentials returns a bearer token", 12));
//! suite.cases.push(Case::failed("wrong password is refused", "HTTP 401", "HTTP 200", 9));
//! suite.latency.record("aui POST /api/v2/aiagent/getRtcAuthToken", Duration::from_millis(42));
//!
//! let run = Run {
//!     tool_version: "0.1.0".into(),
//!     started_at: "2025-01-31T09:30:00Z".into(),
//!     duration_ms: 1_250,
//!     target: BTreeMap::from([("aui".into(), "http://127.0.0.1:8081".into())]),
//!     seed: Some(7),
//!     suites: vec![suite],
//! };
//!
//! assert_eq!(run.verdict().failed, 1);
//! assert_eq!(run.exit_code(), 1);
//! let xml = reports::render::junit::render(&run);
//! assert!(xml.contains(r#"<failure message="expected HTTP 401, got HTTP 200""#));
//! let back: Run = serde_json::from_str(&reports::render::json::render(&run)).unwrap();
//! assert_eq!(back, run);
//! ```

#![warn(missing_docs)]

pub mod load;
pub mod model;
pub mod render;
pub mod schema;
pub mod slo;
mod write;

pub use model::{
    Case, LatencySummary, LatencyTable, MergeError, Outcome, Run, Suite, Verdict, EXIT_FAIL,
    EXIT_PASS, EXIT_USAGE,
};
pub use slo::{Slo, SloMetric, SloViolation};
pub use write::{write_all, Written};
