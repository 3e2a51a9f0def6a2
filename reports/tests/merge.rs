//! Merging is exact: tables and runs merged from parts equal the one recorded whole.

use std::time::Duration;

use proptest::prelude::*;
use reports::{LatencyTable, Run};

use crate::common::{lognormal_table, sample_run};

const ROUTES: [&str; 3] = ["aui GET /a", "aui POST /b", "duix GET /c"];

fn samples() -> impl Strategy<Value = Vec<(usize, u64)>> {
    // Up to 70 s, past the 60 s ceiling, so clamping is exercised too.
    prop::collection::vec((0..ROUTES.len(), 0u64..70_000_000), 0..400)
}

fn record(samples: &[(usize, u64)]) -> LatencyTable {
    let mut table = LatencyTable::new();
    for &(route, micros) in samples {
        table.record(ROUTES[route], Duration::from_micros(micros));
    }
    table
}

proptest! {
    #[test]
    fn two_tables_merged_equal_one_table_of_all_samples(all in samples(), cut in any::<prop::sample::Index>()) {
        let split = cut.index(all.len() + 1);
        let mut merged = record(&all[..split]);
        merged.merge(&record(&all[split..]));
        prop_assert_eq!(&merged, &record(&all));
        for route in ROUTES {
            prop_assert_eq!(merged.summary(route), record(&all).summary(route));
        }
    }

    #[test]
    fn tables_merged_through_json_equal_one_table_of_all_samples(all in samples(), cut in any::<prop::sample::Index>()) {
        let split = cut.index(all.len() + 1);
        let through_json = |t: LatencyTable| -> LatencyTable {
            serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap()
        };
        let mut merged = through_json(record(&all[..split]));
        merged.merge(&through_json(record(&all[split..])));
        prop_assert_eq!(merged, record(&all));
    }
}

#[test]
fn eight_worker_json_reports_merge_into_the_exact_single_run() {
    let workers: Vec<Run> = (0..8)
        .map(|w| {
            let mut run = sample_run();
            run.suites[1].latency = lognormal_table("aui GET /x", 50.0, 1_000, w);
            run
        })
        .collect();
    let from_json: Vec<Run> = workers
        .iter()
        .map(|r| serde_json::from_str(&reports::render::json::render(r)).unwrap())
        .collect();

    let merged = Run::merge(from_json).unwrap();

    let mut whole = LatencyTable::new();
    for w in 0..8 {
        whole.merge(&lognormal_table("aui GET /x", 50.0, 1_000, w));
    }
    assert_eq!(merged.suites[1].latency, whole);
    assert_eq!(
        merged.suites[1].cases.len(),
        8 * sample_run().suites[1].cases.len()
    );
    assert_eq!(merged.verdict().failed, 8 * sample_run().verdict().failed);
}
