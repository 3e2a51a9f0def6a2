//! The load-run model: exact verdicts, the recorder's accounting, SLO rules (the run's and a
//! route's own), users over time, the baseline, and every report format. Fixtures in
//! `common::load`.

mod baseline;
mod files;
mod junit;
mod merge;
mod recorder;
mod render;
mod route_slo;
mod slo;
mod users;
mod verdict;
