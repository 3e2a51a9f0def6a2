//! Renderers of a [`LoadReport`](crate::load::LoadReport), one `fn render(&LoadReport) -> String`
//! per module, in the order every report reads: the verdict, how to reproduce the run, latency
//! over time, the percentile curve, the route table, the error breakdown, the baseline.
//!
//! * [`json`]: the report itself, valid against [`crate::schema::LOAD_SCHEMA`];
//! * [`markdown`]: GitHub-flavoured, for a CI step summary;
//! * [`html`]: one self-contained page, the check report's style and rules (inline CSS, inline
//!   SVG from `chart.rs`, a CSP that forbids every fetch, all text escaped).
//!
//! JUnit comes from [`LoadReport::to_run`](crate::load::LoadReport::to_run) and the check
//! report's renderer.

mod chart;
pub mod html;
pub mod json;
pub mod markdown;
