//! `load::merge`: worker reports of one distributed run merge into exactly what one recorder of
//! every sample gives (routes, quantiles, exact counters, verdict, errors), the series lines up
//! on wall-clock time, every mismatch is refused by name, and the interval log reads back.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};
use hdrhistogram::serialization::Deserializer;
use hdrhistogram::Histogram;
use proptest::prelude::*;
use reports::load::{
    interval_log_tag, merge, write_interval_log, write_worker_files, Distribution, LoadMergeError,
    LoadRecorder, LoadReport, LoadSlo, SampleOutcome, WorkerShare, INTERVAL_LOG_FILE,
    OTHER_REASONS,
};

use super::junit::{properties, property, render as junit};
use super::render::schema_errors;
use crate::common::load::{meta, Lcg, ALIBABA_ROUTE};
use crate::common::{FAST_ROUTE, NASTY, SLOW_ROUTE};

/// One request as a worker measured it.
#[derive(Debug, Clone)]
struct Sample {
    route: &'static str,
    at: Duration,
    sent: Duration,
    due: Duration,
    failed: Option<String>,
    timed_out: bool,
}

impl Sample {
    fn record(&self, recorder: &mut LoadRecorder) {
        let outcome = match (&self.failed, self.timed_out) {
            (_, true) => SampleOutcome::TimedOut,
            (Some(reason), _) => SampleOutcome::Failed(reason),
            (None, false) => SampleOutcome::Ok,
        };
        recorder.record(self.route, self.at, self.sent, Some(self.due), outcome);
    }
}

/// Ten seconds of a worker's samples in time order, its latency scaled by its index so every
/// worker's distribution differs; some near the 2000 ms limit, failures and a timeout or two.
fn worker_samples(index: u32, random: &mut Lcg) -> Vec<Sample> {
    let routes = [FAST_ROUTE, SLOW_ROUTE, ALIBABA_ROUTE];
    let scale = 1.0 + f64::from(index) * 0.35;
    let mut out = Vec::new();
    for i in 0..600u64 {
        let route = routes[(i % 3) as usize];
        let median = match route {
            r if r == SLOW_ROUTE => 1_500.0,
            r if r == FAST_ROUTE => 40.0,
            _ => 200.0,
        } * scale;
        let sent_ms = median * (0.6 * normal(random)).exp();
        let queued_ms = if (3..5).contains(&(i / 60)) {
            700.0
        } else {
            5.0
        };
        let roll = random.uniform();
        out.push(Sample {
            route,
            at: Duration::from_millis(i * 1000 / 60 + u64::from(index)),
            sent: micros(sent_ms),
            due: micros(sent_ms + queued_ms * random.uniform()),
            failed: (roll < 0.03).then(|| format!("HTTP 50{}", (i + u64::from(index)) % 4)),
            timed_out: roll > 0.998,
        });
    }
    out
}

fn normal(random: &mut Lcg) -> f64 {
    (-2.0 * random.uniform().ln()).sqrt() * (std::f64::consts::TAU * random.uniform()).cos()
}

fn micros(ms: f64) -> Duration {
    Duration::from_micros((ms * 1000.0).max(1.0) as u64)
}

fn worker_report(index: u32, count: u32, samples: &[Sample], started_at: &str) -> LoadReport {
    let mut recorder = LoadRecorder::new(LoadSlo::default(), true);
    for s in samples {
        s.record(&mut recorder);
    }
    let mut m = meta();
    m.users = 10 + u64::from(index);
    m.rate_per_sec = Some(50.0);
    m.increase_rate = 2.5;
    m.run_time_secs = 10 + u64::from(index % 2);
    m.seed = 1000 + u64::from(index);
    m.started_at = started_at.into();
    m.worker = Some(WorkerShare { index, count });
    recorder.finish(m, 10_000 + u64::from(index) * 10, None)
}

/// Four workers started at the same second, and one recorder that saw every sample in order.
fn four_workers_and_one_recorder(seed: u64) -> (Vec<LoadReport>, LoadReport) {
    let mut random = Lcg(seed);
    let samples: Vec<Vec<Sample>> = (0..4).map(|i| worker_samples(i, &mut random)).collect();
    let workers = samples
        .iter()
        .enumerate()
        .map(|(i, s)| worker_report(i as u32, 4, s, "2025-01-31T09:30:00Z"))
        .collect();
    let mut all: Vec<&Sample> = samples.iter().flatten().collect();
    all.sort_by_key(|s| s.at);
    let mut recorder = LoadRecorder::new(LoadSlo::default(), true);
    for s in all {
        s.record(&mut recorder);
    }
    (workers, recorder.finish(meta(), 10_030, None))
}

#[test]
fn four_workers_merge_into_exactly_what_one_recorder_of_every_sample_gives() {
    let (workers, single) = four_workers_and_one_recorder(11);
    let sum: u64 = workers.iter().map(LoadReport::total_requests).sum();
    let under: u64 = workers
        .iter()
        .map(|w| w.routes[0].due.as_ref().unwrap().under_limit)
        .sum();
    // Workers in any order.
    let mut shuffled = workers.clone();
    shuffled.rotate_left(2);
    let merged = merge(shuffled, false).unwrap();

    assert_eq!(merged.total_requests(), sum);
    assert_eq!(merged.total_requests(), single.total_requests());
    assert_eq!(merged.routes.len(), 3);
    assert_eq!(merged.routes[0].due.as_ref().unwrap().under_limit, under);
    for (m, s) in merged.routes.iter().zip(&single.routes) {
        assert_eq!(m.route, s.route);
        for which in [Distribution::AsSent, Distribution::AsDue] {
            let (ml, sl) = (m.latency(which), s.latency(which));
            assert_eq!(ml.summary, sl.summary, "{} {which:?}", m.route);
            assert_eq!(ml.under_limit, sl.under_limit);
            assert_eq!(ml.reached_timeout, sl.reached_timeout);
            assert_eq!(ml.histogram, sl.histogram);
        }
    }
    // Whole routes, histograms and all, are one recorder's.
    assert_eq!(merged.routes, single.routes);
    assert_eq!(merged.verdict(), single.verdict());
    assert_eq!(merged.verdict_line(), single.verdict_line());
    assert!(!merged.verdict().is_pass(), "the slow route breaks the p95");
    assert_eq!(merged.errors, single.errors);
    assert_eq!(merged.judged, Distribution::AsDue);
    // Same start, same clock: per second, requests and errors are the single recorder's.
    let counts = |r: &LoadReport| -> Vec<(u64, u64, u64)> {
        r.series
            .iter()
            .map(|s| (s.second, s.requests, s.errors))
            .collect()
    };
    assert_eq!(counts(&merged), counts(&single));
    for (m, s) in merged.series.iter().zip(&single.series) {
        assert_eq!(m.max_ms, s.max_ms, "second {}", m.second);
        assert!(m.p95_ms <= s.max_ms && m.p95_ms >= m.p50_ms.min(m.p95_ms));
    }

    let meta = &merged.meta;
    assert_eq!(meta.users, 10 + 11 + 12 + 13);
    assert_eq!(meta.rate_per_sec, Some(200.0));
    assert_eq!(meta.increase_rate, 10.0);
    assert_eq!(meta.run_time_secs, 11);
    assert_eq!(meta.seed, 1000, "the first worker's seed");
    assert_eq!(meta.started_at, "2025-01-31T09:30:00Z");
    assert_eq!((meta.worker, meta.partial.as_deref()), (None, None));
    assert!(meta.merged_from.is_empty(), "the caller names the folders");
    assert_eq!(merged.duration_ms, 10_030);
    assert_eq!(
        (merged.cut_short.as_deref(), merged.baseline.as_ref()),
        (None, None)
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Any samples split any way over any number of workers merge into one recorder's routes.
    #[test]
    fn any_split_merges_exactly(
        samples in proptest::collection::vec((0u8..3, 1u64..25_000_000, 0u64..3_000_000, 0u8..40), 1..300),
        count in 1u32..6,
        seed in any::<u64>(),
    ) {
        let routes = [FAST_ROUTE, SLOW_ROUTE, ALIBABA_ROUTE];
        let mut random = Lcg(seed);
        let mut per_worker: Vec<Vec<Sample>> = vec![Vec::new(); count as usize];
        let mut single = LoadRecorder::new(LoadSlo::default(), true);
        for (i, &(route, sent, queued, roll)) in samples.iter().enumerate() {
            let s = Sample {
                route: routes[route as usize],
                at: Duration::from_millis(i as u64 * 20),
                sent: Duration::from_micros(sent),
                due: Duration::from_micros(sent + queued),
                failed: (roll < 3).then(|| format!("HTTP 50{roll}")),
                timed_out: roll == 39,
            };
            s.record(&mut single);
            let worker = (random.uniform() * f64::from(count)) as usize;
            per_worker[worker.min(count as usize - 1)].push(s);
        }
        let workers: Vec<LoadReport> = per_worker
            .iter()
            .enumerate()
            .map(|(i, s)| worker_report(i as u32, count, s, "2025-01-31T09:30:00Z"))
            .collect();
        let single = single.finish(meta(), 10_000, None);
        let merged = merge(workers, false).unwrap();
        prop_assert_eq!(&merged.routes, &single.routes);
        prop_assert_eq!(merged.verdict(), single.verdict());
        prop_assert_eq!(&merged.errors, &single.errors);
        let requests: Vec<u64> = merged.series.iter().map(|s| s.requests).collect();
        let expected: Vec<u64> = single.series.iter().map(|s| s.requests).collect();
        prop_assert_eq!(requests, expected);
    }
}

#[test]
fn the_series_lines_up_on_wall_clock_time() {
    let sample = |at_ms: u64, sent_ms: u64, failed: bool| Sample {
        route: FAST_ROUTE,
        at: Duration::from_millis(at_ms),
        sent: Duration::from_millis(sent_ms),
        due: Duration::from_millis(sent_ms),
        failed: failed.then(|| "HTTP 503".to_owned()),
        timed_out: false,
    };
    // Worker 0 starts at :00 and answers in its seconds 0 and 1; worker 1 starts 2 s later,
    // worker 2 1.4 s later (rounded to 1 s), each answering in their own seconds 0 to 2.
    let w0 = worker_report(
        0,
        3,
        &[sample(100, 10, false), sample(1_500, 30, true)],
        "2025-01-31T09:30:00Z",
    );
    let w1 = worker_report(
        1,
        3,
        &[
            sample(200, 100, false),
            sample(1_200, 200, false),
            sample(2_900, 300, true),
        ],
        "2025-01-31T09:30:02Z",
    );
    let w2 = worker_report(2, 3, &[sample(2_100, 50, false)], "2025-01-31T09:30:01.4Z");
    let (w1_second_1, w2_second_2) = (w1.series[1], w2.series[2]);
    let merged = merge(vec![w2, w0, w1], false).unwrap();
    let rows: Vec<(u64, u64, u64)> = merged
        .series
        .iter()
        .map(|s| (s.second, s.requests, s.errors))
        .collect();
    assert_eq!(
        rows,
        [(0, 1, 0), (1, 1, 1), (2, 1, 0), (3, 2, 0), (4, 1, 1)],
        "worker 1's seconds 0..2 are the merge's 2..4, worker 2's second 2 is the merge's 3"
    );
    let (third, from_w1, from_w2) = (merged.series[3], w1_second_1, w2_second_2);
    assert_eq!(
        third.max_ms,
        from_w1.max_ms.max(from_w2.max_ms),
        "the max of the second"
    );
    // One request each: p95 is the larger one (worker 1's ~200 ms), p50 their mean (~125 ms).
    assert_eq!(third.p95_ms, from_w1.p95_ms);
    assert_eq!(third.p50_ms, (from_w1.p50_ms + from_w2.p50_ms) / 2.0);
    assert!((third.p50_ms - 125.0).abs() < 0.2, "{}", third.p50_ms);
    assert_eq!(merged.meta.started_at, "2025-01-31T09:30:00Z");
    // Worker 1 ends last: 2 s after the earliest start plus its own 10 010 ms.
    assert_eq!(merged.duration_ms, 12_010);
}

#[test]
fn cut_short_workers_are_named_with_their_reasons() {
    let (mut workers, _) = four_workers_and_one_recorder(3);
    workers[1].cut_short = Some("interrupted (Ctrl-C)".into());
    workers[3].cut_short = Some("target went away".into());
    let merged = merge(workers, false).unwrap();
    assert_eq!(
        merged.cut_short.as_deref(),
        Some("worker 1: interrupted (Ctrl-C); worker 3: target went away")
    );
}

#[test]
fn missing_workers_are_refused_unless_partial_is_allowed() {
    let (mut workers, _) = four_workers_and_one_recorder(5);
    workers.remove(2);
    let present: u64 = workers.iter().map(LoadReport::total_requests).sum();
    let err = merge(workers.clone(), false).unwrap_err();
    assert_eq!(err.to_string(), "3 of 4 workers: worker 2 missing");
    assert!(
        matches!(err, LoadMergeError::Missing { ref missing, count: 4, .. } if missing == &[2])
    );

    let merged = merge(workers, true).unwrap();
    assert_eq!(
        merged.meta.partial.as_deref(),
        Some("3 of 4 workers: worker 2 missing")
    );
    assert_eq!(merged.total_requests(), present);
    assert_eq!(merged.meta.users, 10 + 11 + 13);

    let (mut workers, _) = four_workers_and_one_recorder(5);
    workers.retain(|w| w.meta.worker.unwrap().index == 1);
    assert_eq!(
        merge(workers, false).unwrap_err().to_string(),
        "1 of 4 workers: workers 0, 2 and 3 missing"
    );
}

/// The refusal for `workers` after `spoil`, as text.
fn refusal(spoil: impl FnOnce(&mut Vec<LoadReport>)) -> String {
    let (mut workers, _) = four_workers_and_one_recorder(9);
    spoil(&mut workers);
    match merge(workers, true) {
        Ok(_) => panic!("the spoiled set merged"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn reports_that_do_not_belong_together_are_refused_by_name() {
    assert_eq!(
        merge(Vec::new(), true).unwrap_err(),
        LoadMergeError::NoReports
    );
    let (workers, _) = four_workers_and_one_recorder(9);
    assert!(merge(workers, false).is_ok(), "the unspoiled set merges");

    let duplicate = refusal(|w| w[3].meta.worker = Some(WorkerShare { index: 1, count: 4 }));
    assert_eq!(
        duplicate,
        "worker 1 of 4 is given twice: two reports of the same worker, or of two runs"
    );

    let scenario = refusal(|w| w[2].meta.scenario = "duix-session-churn".into());
    assert_eq!(
        scenario,
        "worker 0 ran scenario \"aui-token-storm\" but worker 2 ran \"duix-session-churn\": reports of different runs"
    );

    let slo = refusal(|w| w[1].slo.limit_ms = 1_500);
    assert_eq!(
        slo,
        "worker 0 was judged against p95<2000ms, max<20000ms, errors<1% but worker 1 against p95<1500ms, max<20000ms, errors<1%: the merged run could not be judged once"
    );
    // Compared exactly, not as printed.
    let close = refusal(|w| w[1].slo.quantile = 0.950_000_1);
    assert!(close.starts_with("worker 0 was judged against"), "{close}");

    let whole = refusal(|w| w[2].meta.worker = None);
    assert!(
        whole.starts_with("report 3 of those given (scenario \"aui-token-storm\", started 2025-01-31T09:30:00Z) is not a worker report"),
        "{whole}"
    );

    let counts = refusal(|w| w[1].meta.worker = Some(WorkerShare { index: 1, count: 5 }));
    assert_eq!(
        counts,
        "worker 0 says the run had 4 workers, worker 1 says 5: reports of different runs"
    );

    let range = refusal(|w| {
        for r in w.iter_mut() {
            r.meta.worker.as_mut().unwrap().count = 3;
        }
        w[3].meta.worker.as_mut().unwrap().index = 3;
    });
    assert_eq!(
        range,
        "worker 3 of 3 cannot exist: worker indices run from 0 to 2"
    );

    let schedule = refusal(|w| {
        let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
        recorder.record(
            FAST_ROUTE,
            Duration::ZERO,
            Duration::from_millis(5),
            None,
            SampleOutcome::Ok,
        );
        let meta = w[2].meta.clone();
        w[2] = recorder.finish(meta, 1_000, None);
    });
    assert_eq!(
        schedule,
        "worker 0 ran a --rate schedule (judged as due) but worker 2 ran closed-loop users (judged as sent): reports of different runs"
    );

    let time = refusal(|w| w[1].meta.started_at = "yesterday".into());
    assert!(
        time.starts_with("worker 1 has started_at \"yesterday\""),
        "{time}"
    );
}

#[test]
fn the_error_breakdown_adds_up_and_keeps_its_cap() {
    let mut workers = Vec::new();
    for index in 0..2u32 {
        let mut recorder = LoadRecorder::new(LoadSlo::default(), false);
        for i in 0..150u64 {
            let reason = format!("code {} {i}", if i < 50 { 0 } else { index });
            for _ in 0..=(i % 3) {
                recorder.record(
                    FAST_ROUTE,
                    Duration::ZERO,
                    Duration::from_millis(5),
                    None,
                    SampleOutcome::Failed(&reason),
                );
            }
        }
        let mut m = meta();
        m.worker = Some(WorkerShare { index, count: 2 });
        workers.push(recorder.finish(m, 1_000, None));
    }
    let merged = merge(workers, false).unwrap();
    let total: u64 = merged.errors.iter().map(|e| e.count).sum();
    assert_eq!(total, merged.total_errors());
    // 50 shared reasons, 100 of worker 0 and 100 of worker 1: 250 distinct, so the last 50 are
    // pooled.
    assert_eq!(merged.errors.len(), 201);
    let pooled = merged
        .errors
        .iter()
        .find(|e| e.reason == OTHER_REASONS)
        .unwrap();
    assert!(pooled.count >= 50);
    let shared = merged
        .errors
        .iter()
        .find(|e| e.reason == "code 0 2")
        .unwrap();
    assert_eq!(shared.count, 6, "3 per worker");
    let mut sorted = merged.errors.clone();
    sorted.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.route.cmp(&b.route))
            .then(a.reason.cmp(&b.reason))
    });
    assert_eq!(sorted, merged.errors);
}

fn start() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_738_315_800)
}

fn decode(encoded: &str) -> Histogram<u64> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap();
    Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .unwrap()
}

#[test]
fn the_interval_log_reads_back_with_the_reports_counts_per_tag() {
    let (workers, _) = four_workers_and_one_recorder(21);
    let mut report = merge(workers, false).unwrap();
    report.routes[0].route = format!("aui POST /odd, route {NASTY}");
    let mut log = Vec::new();
    write_interval_log(&report, start(), &mut log).unwrap();
    let text = String::from_utf8(log.clone()).unwrap();
    assert!(text.starts_with("#agentproof load aui-token-storm: HdrHistogram V2 interval log. Values are microseconds"), "{text}");
    assert!(text.contains("#[StartTime: 1738315800.000 (seconds since epoch)]"));
    assert!(text.contains("#[BaseTime: 1738315800.000 (seconds since epoch)]"));

    let mut seen = Vec::new();
    let mut start_times = Vec::new();
    for entry in IntervalLogIterator::new(&log) {
        match entry.unwrap() {
            LogEntry::StartTime(t) | LogEntry::BaseTime(t) => start_times.push(t),
            LogEntry::Interval(h) => {
                let tag = h
                    .tag()
                    .expect("every interval is tagged")
                    .as_str()
                    .to_owned();
                assert_eq!(h.start_timestamp(), Duration::ZERO);
                assert_eq!(h.duration(), Duration::from_millis(report.duration_ms));
                let histogram = decode(h.encoded_histogram());
                assert!(
                    (h.max() - histogram.max() as f64 / 1000.0).abs() < 0.001,
                    "max in ms"
                );
                seen.push((tag, histogram));
            }
        }
    }
    assert_eq!(start_times, [Duration::from_secs(1_738_315_800); 2]);
    assert_eq!(seen.len(), 2 * report.routes.len());
    for route in &report.routes {
        for which in [Distribution::AsSent, Distribution::AsDue] {
            let tag = interval_log_tag(&route.route, which);
            let (_, h) = seen
                .iter()
                .find(|(t, _)| *t == tag)
                .unwrap_or_else(|| panic!("{tag}"));
            assert_eq!(h.len(), route.count);
            assert_eq!(h, &route.latency(which).histogram);
        }
    }
    assert!(
        seen[0].0.starts_with("sent:aui_POST_/odd__route_"),
        "{}",
        seen[0].0
    );
}

#[test]
fn an_unscheduled_report_logs_only_the_sent_distribution() {
    let report = crate::common::load::one_route_report(&[5_000; 10]);
    let mut log = Vec::new();
    write_interval_log(&report, start(), &mut log).unwrap();
    let tags: Vec<String> = IntervalLogIterator::new(&log)
        .filter_map(|e| match e.unwrap() {
            LogEntry::Interval(h) => Some(h.tag().unwrap().as_str().to_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(tags, ["sent:aui_POST_/api/v2/aiagent/getRtcAuthToken"]);
}

#[test]
fn worker_files_are_the_four_reports_and_the_interval_log() {
    let (workers, _) = four_workers_and_one_recorder(2);
    // The worker's folder is made by `write_worker_files`, inside one removed when the test ends.
    let tmp =
        tempfile::TempDir::with_prefix("agentproof-worker-files-").expect("a temporary folder");
    let dir = tmp.path().join("worker");
    let (written, log) = write_worker_files(&workers[1], start(), &dir).unwrap();
    assert_eq!(log, dir.join(INTERVAL_LOG_FILE));
    assert!(written.json.exists() && written.html.exists());
    let back = reports::load::read_load_report(&dir).unwrap();
    assert_eq!(back, workers[1]);
    let bytes = std::fs::read(&log).unwrap();
    let intervals = IntervalLogIterator::new(&bytes)
        .filter(|e| matches!(e, Ok(LogEntry::Interval(_))))
        .count();
    assert_eq!(intervals, 6);
}

fn merged_with_folders(partial: bool) -> LoadReport {
    let (mut workers, _) = four_workers_and_one_recorder(13);
    if partial {
        workers.remove(2);
    }
    let mut merged = merge(workers, partial).unwrap();
    merged.meta.merged_from = ["w0", "w1", "w2", "w3"]
        .iter()
        .filter(|w| !partial || **w != "w2")
        .map(|w| format!("runs/{w}"))
        .collect();
    merged
}

#[test]
fn worker_and_merged_reports_validate_against_the_schema_and_round_trip() {
    let (workers, _) = four_workers_and_one_recorder(13);
    for report in [
        workers[2].clone(),
        merged_with_folders(false),
        merged_with_folders(true),
    ] {
        let json = reports::render::load::json::render(&report);
        let errors = schema_errors(&json);
        assert!(
            errors.is_empty(),
            "breaks the schema:\n{}",
            errors.join("\n")
        );
        let back: LoadReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, report);
    }
    // A whole run keeps its old JSON: no worker, merged_from or partial keys.
    let json = reports::render::load::json::render(&crate::common::load::realistic_report());
    for key in ["\"worker\"", "\"merged_from\"", "\"partial\""] {
        assert!(!json.contains(key), "{key} in {json:.300}");
    }
    // And the schema refuses a malformed share.
    let mut value: serde_json::Value =
        serde_json::from_str(&reports::render::load::json::render(&workers[0])).unwrap();
    value["meta"]["worker"]["extra"] = 1.into();
    assert!(!super::render::validator().is_valid(&value));
}

#[test]
fn renderers_say_worker_merged_and_partial() {
    let (workers, _) = four_workers_and_one_recorder(13);
    let worker = &workers[2];
    let html = reports::render::load::html::render(worker);
    assert!(
        html.contains("<dt>worker</dt><dd>worker 2 of 4 (--worker 2/4)</dd>"),
        "worker fact"
    );
    let md = reports::render::load::markdown::render(worker);
    assert!(
        md.contains("| worker | worker 2 of 4 (--worker 2/4) |"),
        "{md}"
    );
    let props = properties(&junit(worker));
    assert_eq!(property(&props, "worker"), Some("2/4"));
    assert_eq!(property(&props, "merged_from"), None);
    assert_eq!(property(&props, "partial"), None);
    assert!(!html.contains("PARTIAL"));

    let merged = merged_with_folders(true);
    let html = reports::render::load::html::render(&merged);
    assert!(html.contains("<span class=\"badge cut partial\">PARTIAL</span>"));
    assert!(html.contains("Partial merge: 3 of 4 workers: worker 2 missing."));
    assert!(html.contains("<dd>merged from 3 workers (runs/w0, runs/w1, runs/w3)</dd>"));
    assert!(html.contains("<dt>partial</dt><dd>3 of 4 workers: worker 2 missing</dd>"));
    let md = reports::render::load::markdown::render(&merged);
    assert!(md.lines().next().unwrap().ends_with("(PARTIAL)"), "{md}");
    assert!(md.contains("Partial merge: 3 of 4 workers: worker 2 missing."));
    assert!(md.contains("| merged | merged from 3 workers (runs/w0, runs/w1, runs/w3) |"));
    assert!(!md.contains("| worker |"));
    let props = properties(&junit(&merged));
    assert_eq!(property(&props, "worker"), None);
    assert_eq!(
        property(&props, "merged_from"),
        Some("runs/w0, runs/w1, runs/w3")
    );
    assert_eq!(
        property(&props, "partial"),
        Some("3 of 4 workers: worker 2 missing")
    );
}
