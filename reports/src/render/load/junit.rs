//! JUnit XML of a load run: [`LoadReport::to_run`] through the check report's JUnit writer,
//! with the two things a [`Run`](crate::model::Run) cannot say.
//!
//! * The suite's `time` is the run's duration. Every case of a load run is judged over the
//!   whole run and carries its duration, so the writer's default, the sum of the cases, would
//!   say 54 s for a 6 s run of 9 cases.
//! * After the standard properties (platform, target, seed, tool_version) come the facts that
//!   reproduce the run, as in the "How to reproduce" section of the HTML and Markdown reports:
//!   `scenario`, `command_line`, `goose_version`, `load_shape`, `slo`, one `route_slo` per
//!   route judged by its own SLO (`aui POST /x: p95<500ms`, the rules that differ), `judged`
//!   (`as sent` or `as due`), `peak_users` when the run counted its users, when the run
//!   stopped early `cut_short`, and for a distributed run
//!   `worker` (`2/4`, as `--worker` takes it), `merged_from` (the worker folders, `, `-separated)
//!   and `partial` (which workers a partial merge lacks), each only when set.
//!
//! Testcases, counts and escaping are exactly the check report's.

use super::html::load_shape;
use crate::load::LoadReport;
use crate::render::junit::{render_with, SuiteExtras};

/// The JUnit XML document for `report`, as described in the module docs.
pub fn render(report: &LoadReport) -> String {
    let m = &report.meta;
    let mut properties = vec![
        ("scenario", m.scenario.clone()),
        ("command_line", m.command_line.clone()),
        ("goose_version", m.goose_version.clone()),
        ("load_shape", load_shape(report)),
        ("slo", report.slo.describe()),
    ];
    properties.extend(
        report
            .own_slos()
            .map(|(route, rules)| ("route_slo", format!("{}: {rules}", route.route))),
    );
    properties.push(("judged", report.judged.words().to_owned()));
    if report.peak_users() > 0 {
        properties.push(("peak_users", report.peak_users().to_string()));
    }
    if let Some(why) = &report.cut_short {
        properties.push(("cut_short", why.clone()));
    }
    if let Some(w) = m.worker {
        properties.push(("worker", format!("{}/{}", w.index, w.count)));
    }
    if !m.merged_from.is_empty() {
        properties.push(("merged_from", m.merged_from.join(", ")));
    }
    if let Some(note) = &m.partial {
        properties.push(("partial", note.clone()));
    }
    let extras = SuiteExtras {
        time_ms: Some(report.duration_ms),
        properties,
    };
    render_with(&report.to_run(), &extras)
}
