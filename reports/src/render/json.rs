//! The JSON report: the [`Run`] itself plus what a CI job wants without recomputing it.
//!
//! Top level: `$schema` (the [`RUN_SCHEMA_ID`]), every [`Run`] field, then `verdict`, `slo`
//! and `slo_violations` (each naming its suite), derived on output and ignored when a report is read back with
//! `serde_json::from_str::<Run>`. Latency tables carry their histograms, so reports from
//! many workers merge exactly with [`Run::merge`].

use serde::Serialize;

use crate::model::{Run, Verdict};
use crate::schema::RUN_SCHEMA_ID;
use crate::slo::{Slo, SloViolation};

#[derive(Serialize)]
struct JsonReport<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    #[serde(flatten)]
    run: &'a Run,
    verdict: Verdict,
    slo: Slo,
    slo_violations: Vec<SuiteViolation<'a>>,
}

#[derive(Serialize)]
struct SuiteViolation<'a> {
    suite: &'a str,
    #[serde(flatten)]
    violation: SloViolation,
}

/// Pretty-printed JSON report of `run` against the default SLO.
pub fn render(run: &Run) -> String {
    let slo = Slo::default();
    let report = JsonReport {
        schema: RUN_SCHEMA_ID,
        run,
        verdict: run.verdict_with(&slo),
        slo,
        slo_violations: run
            .suites
            .iter()
            .flat_map(|suite| {
                let violations = slo.evaluate(&suite.latency);
                violations.into_iter().map(|violation| SuiteViolation {
                    suite: &suite.name,
                    violation,
                })
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&report).expect("a run always serializes");
    text.push('\n');
    text
}
