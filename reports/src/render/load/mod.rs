//! Renderers of a [`LoadReport`](crate::load::LoadReport), one `fn render(&LoadReport) -> String`
//! per module, in the order every report reads: the verdict, how to reproduce the run, latency
//! over time, the percentile curve, the route table, the error breakdown, the baseline.
//!
//! * [`json`]: the report itself, valid against [`crate::schema::LOAD_SCHEMA`];
//! * [`markdown`]: GitHub-flavoured, for a CI step summary;
//! * [`html`]: one self-contained page, the check report's style and rules (inline CSS, inline
//!   SVG from `chart.rs`, a CSP that forbids every fetch, all text escaped);
//! * [`junit`]: [`LoadReport::to_run`](crate::load::LoadReport::to_run) through the check
//!   report's JUnit writer, with the run's duration as the suite time and the reproduction
//!   facts as properties.

mod chart;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
