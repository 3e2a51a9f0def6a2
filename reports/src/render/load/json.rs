//! `report.json` of a load run: `$schema` ([`LOAD_SCHEMA_ID`]) then every [`LoadReport`] field.
//!
//! Reading it back with `serde_json::from_str::<LoadReport>` ignores `$schema`;
//! [`crate::load::read_load_report`] uses it to tell a load report from a check report.

use serde::Serialize;

use crate::load::LoadReport;
use crate::schema::LOAD_SCHEMA_ID;

#[derive(Serialize)]
struct JsonReport<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    #[serde(flatten)]
    report: &'a LoadReport,
}

/// Pretty-printed JSON of `report`, ending in a newline.
pub fn render(report: &LoadReport) -> String {
    let json = JsonReport {
        schema: LOAD_SCHEMA_ID,
        report,
    };
    let mut text = serde_json::to_string_pretty(&json).expect("a load report always serializes");
    text.push('\n');
    text
}
