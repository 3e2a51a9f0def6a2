//! The load-run model: exact verdicts, the recorder's accounting, SLO rules, the baseline,
//! and every report format. Fixtures in `common::load`.

mod baseline;
mod files;
mod junit;
mod merge;
mod recorder;
mod render;
mod slo;
mod verdict;
