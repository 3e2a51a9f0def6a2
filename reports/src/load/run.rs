//! A load report as a [`Run`], so the JUnit renderer gives CI one testcase per SLO rule
//! ([`crate::render::load::junit`] adds the suite time and the reproduction facts).
//!
//! One suite named after the scenario, on the first route's platform, with a case per route
//! per rule (`aui POST /x: 95% of answers under 2000 ms`; a route with its own SLO names its
//! own rules, and its detail says so), failed ones saying expected and got
//! in words. The suite's latency table stays empty on purpose: the [`Run`] model would judge its
//! histograms by bucket p95, and the load verdict is the exact count. A run with no request
//! gets one failed case saying so; a cut-short run a skipped case with the reason.

use crate::model::{Case, Run, Suite};

use super::report::LoadReport;
use super::verdict::grouped;

impl LoadReport {
    /// The run described in the module docs.
    pub fn to_run(&self) -> Run {
        let platform = self.routes.first().map_or("", |r| r.platform());
        let mut suite = Suite::new(&self.meta.scenario, platform);
        for (route, verdict) in self.routes.iter().zip(self.verdict().routes) {
            let mut detail = format!(
                "{} requests, {} errors, {} timeouts, judged {}",
                grouped(route.count),
                grouped(route.errors),
                grouped(route.timeouts),
                self.judged.words()
            );
            if let Some(own) = self.own_slo(route) {
                detail.push_str(&format!(
                    ", by its own SLO {}",
                    own.differences_from(&self.slo)
                ));
            }
            for rule in verdict.rules {
                let name = format!("{}: {}", route.route, rule.name);
                let case = if rule.passed {
                    Case::passed(name, self.duration_ms)
                } else {
                    Case::failed(name, rule.expected, rule.got, self.duration_ms)
                };
                suite.cases.push(case.with_detail(detail.clone()));
            }
        }
        if self.routes.is_empty() {
            suite.cases.push(Case::failed(
                "at least one request finished",
                "at least one request",
                "none",
                self.duration_ms,
            ));
        }
        if let Some(why) = &self.cut_short {
            suite.cases.push(Case::skipped(
                format!("the run lasted its planned {} s", self.meta.run_time_secs),
                format!("cut short: {why}"),
            ));
        }
        Run {
            tool_version: self.meta.tool_version.clone(),
            started_at: self.meta.started_at.clone(),
            duration_ms: self.duration_ms,
            target: self.meta.targets.clone(),
            seed: Some(self.meta.seed),
            suites: vec![suite],
        }
    }
}
