//! Bad input, generated with proptest strategies from the run's seed: missing fields, wrong types,
//! out-of-range numbers, oversize strings, broken JSON, bad signatures.
//!
//! Each platform module gives one strategy per [`Category`]; [`generate`] draws from them with a
//! `TestRunner` seeded by `--seed`, so a run replays exactly. Every input must get the platform's
//! error envelope with a fitting code and never a 5xx; the suite reports one case per category
//! (the first failing inputs in its detail) and ends by checking the target is still healthy.

pub mod alibaba;
pub mod aui;
pub mod duix;

use super::case::{broken, ensure, CaseResult, SuiteRun};
use super::client::{truncate, Alibaba, Aui, Duix, Http, Reply};
use super::suites::aui as suites_aui;
use super::target::Platform;
use super::Ctx;
use futures_util::StreamExt;
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reports::Case;
use std::fmt::Debug;
use std::future::Future;

/// Kinds of bad input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Missing,
    WrongType,
    OutOfRange,
    Oversize,
    BrokenJson,
    BadSignature,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Missing,
        Category::WrongType,
        Category::OutOfRange,
        Category::Oversize,
        Category::BrokenJson,
        Category::BadSignature,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::Missing => "missing fields",
            Category::WrongType => "wrong types",
            Category::OutOfRange => "out-of-range values",
            Category::Oversize => "oversize strings",
            Category::BrokenJson => "broken JSON",
            Category::BadSignature => "bad signatures and tokens",
        }
    }
}

/// One generated request and the codes that fit it (`Missing*` matches by prefix).
#[derive(Clone, Debug)]
pub struct Generated<R> {
    pub category: Category,
    /// What is wrong with it, for the report.
    pub what: String,
    pub request: R,
    pub accept: Vec<&'static str>,
}

impl<R> Generated<R> {
    pub fn new(
        category: Category,
        what: impl Into<String>,
        request: R,
        accept: &[&'static str],
    ) -> Self {
        Generated {
            category,
            what: what.into(),
            request,
            accept: accept.to_vec(),
        }
    }

    /// Whether `code` is one of the fitting codes.
    pub fn fits(&self, code: &str) -> bool {
        self.accept
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => code.starts_with(prefix),
                None => code == *pattern,
            })
    }
}

/// `n` inputs per category... in total at least `total`, drawn from the seeded runner.
pub fn generate<R: Clone + Debug>(
    seed: u64,
    total: usize,
    strategy: impl Fn(Category) -> BoxedStrategy<Generated<R>>,
) -> Vec<Generated<R>> {
    let mut runner = runner(seed);
    let per_category = total.div_ceil(Category::ALL.len());
    let mut inputs = Vec::with_capacity(per_category * Category::ALL.len());
    for category in Category::ALL {
        let strategy = strategy(category);
        for _ in 0..per_category {
            match strategy.new_tree(&mut runner) {
                Ok(tree) => inputs.push(tree.current()),
                Err(e) => tracing::warn!("bad-input strategy for {:?} gave up: {e}", category),
            }
        }
    }
    inputs
}

/// A proptest runner whose RNG is seeded from `seed` alone.
pub fn runner(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(
            &seed
                .wrapping_add(i as u64)
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .to_le_bytes(),
        );
    }
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

/// Runs the platform's bad input, then the health probe.
pub async fn run(ctx: &Ctx, run: &mut SuiteRun) {
    match ctx.platform() {
        Platform::Alibaba => alibaba::run(ctx, run).await,
        Platform::Aui => aui::run(ctx, run).await,
        Platform::Duix => duix::run(ctx, run).await,
    }
    let http = run.http();
    run.case(
        "the target still answers its health probe after the bad input",
        health(ctx, http),
    )
    .await;
}

/// Sends every input (8 at a time), judges each reply, and records one case per category.
pub async fn drive<R, S, Fut>(
    ctx: &Ctx,
    run: &mut SuiteRun,
    inputs: Vec<Generated<R>>,
    send: S,
    judge: fn(&Reply, &Generated<R>) -> Result<(), String>,
) where
    R: Clone + Debug,
    S: Fn(Generated<R>) -> Fut,
    Fut: Future<Output = (Generated<R>, Reply)>,
{
    let results: Vec<(Generated<R>, Reply)> =
        futures_util::stream::iter(inputs.into_iter().map(send))
            .buffered(8)
            .collect()
            .await;
    for category in Category::ALL {
        let mine: Vec<&(Generated<R>, Reply)> = results
            .iter()
            .filter(|(g, _)| g.category == category)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let failures: Vec<String> = mine
            .iter()
            .filter_map(|(g, reply)| {
                judge(reply, g)
                    .err()
                    .map(|why| format!("{}: {why}", g.what))
            })
            .collect();
        let codes: Vec<&str> = mine
            .first()
            .map(|(g, _)| g.accept.clone())
            .unwrap_or_default();
        let name = format!("{}: {} generated requests each get the error envelope with a fitting code, never a 5xx", category.name(), mine.len());
        let case = if failures.is_empty() {
            Case::passed(name, 0)
        } else {
            let first = truncate(&failures[0], 400);
            let detail = format!(
                "{} of {} failed (replay with --seed {}):\n{}",
                failures.len(),
                mine.len(),
                ctx.seed,
                failures
                    .iter()
                    .take(5)
                    .map(|f| truncate(f, 600))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            Case::failed(
                name,
                format!(
                    "a 4xx error envelope with a code like {}",
                    codes.join(" / ")
                ),
                first,
                0,
            )
            .with_detail(detail)
        };
        run.push(case);
    }
}

/// The reply is an answer below 500 whose body validates against `schema`; answers its code.
pub fn envelope(reply: &Reply, schema: &str) -> Result<String, String> {
    if reply.failure.is_some() || reply.status >= 500 || reply.status == 0 {
        return Err(reply.describe());
    }
    let Some(json) = &reply.json else {
        return Err(format!("not JSON: {}", reply.describe()));
    };
    schemas::registry().validate(schema, json).map_err(|e| {
        format!(
            "not a valid {schema} ({}): {}",
            truncate(&e.to_string().replace('\n', " "), 200),
            truncate(&reply.body, 200)
        )
    })?;
    super::case::business_code(reply.platform, Some(json))
        .ok_or_else(|| format!("no code: {}", reply.describe()))
}

/// `/__admin/health` where the target has the admin API, else a cheap platform request.
async fn health(ctx: &Ctx, http: Http) -> CaseResult {
    if ctx.target.has_clock {
        let url = format!("{}/__admin/health", ctx.url());
        let reply = http
            .send(
                ctx.platform(),
                &format!("{} GET /__admin/health", ctx.platform()),
                http.client().get(url),
            )
            .await;
        return ensure(
            reply.status == 200,
            "HTTP 200 from /__admin/health",
            reply.describe(),
        );
    }
    let url = ctx.url().to_string();
    let reply = match ctx.platform() {
        Platform::Alibaba => {
            let ab = Alibaba {
                http,
                url,
                key: ctx.creds.alibaba_key.clone(),
                clock: ctx.clock.clone(),
            };
            ab.call("DescribeAIAgentInstance", &[("InstanceId", "health-probe")])
                .await
        }
        Platform::Aui => {
            let auth = std::sync::Arc::new(ctx.creds.aui_auth.clone());
            let mut aui = Aui::new(http, &url, &auth);
            match aui.login(&ctx.creds.aui_user).await {
                Some(login) => login,
                None => {
                    let body = serde_json::json!({"user_id": "health_probe"});
                    aui.post(suites_aui::GET_RTC_AUTH_TOKEN, &body).await
                }
            }
        }
        Platform::Duix => {
            let duix = Duix {
                http,
                url,
                app: ctx.creds.duix_app.clone(),
                clock: ctx.clock.clone(),
            };
            duix.check_sig(&duix.token(600)).await
        }
    };
    if reply.failure.is_some() || reply.status >= 500 {
        return Err(broken("an answer below HTTP 500", reply.describe()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_fit_exactly_or_by_prefix() {
        let g = Generated::new(
            Category::Missing,
            "x",
            (),
            &["Missing*", "InvalidParameter"],
        );
        assert!(g.fits("MissingTaskId"));
        assert!(g.fits("InvalidParameter"));
        assert!(!g.fits("InvalidParameter.Format"));
        assert!(!g.fits("NotFound"));
    }

    #[test]
    fn the_same_seed_replays_every_platforms_inputs_exactly() {
        let app = crate::check::target::Pair::new("1234567890", "key");
        let replay = |seed: u64| {
            [
                format!("{:?}", generate(seed, 500, alibaba::strategy)),
                format!("{:?}", generate(seed, 500, aui::strategy)),
                format!(
                    "{:?}",
                    generate(seed, 500, |c| duix::strategy(c, &app, 1_700_000_000))
                ),
            ]
        };
        let (first, again, other) = (replay(42), replay(42), replay(43));
        for i in 0..3 {
            assert_eq!(first[i], again[i], "platform {i} replays");
            assert_ne!(first[i], other[i], "platform {i} depends on the seed");
        }
    }

    #[test]
    fn the_same_seed_generates_the_same_inputs() {
        let strategy = |c: Category| {
            (0u32..1_000_000)
                .prop_map(move |n| Generated::new(c, n.to_string(), n, &["x"]))
                .boxed()
        };
        let a: Vec<u32> = generate(42, 60, strategy)
            .into_iter()
            .map(|g| g.request)
            .collect();
        let b: Vec<u32> = generate(42, 60, strategy)
            .into_iter()
            .map(|g| g.request)
            .collect();
        let c: Vec<u32> = generate(43, 60, strategy)
            .into_iter()
            .map(|g| g.request)
            .collect();
        assert_eq!(a.len(), 60);
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
