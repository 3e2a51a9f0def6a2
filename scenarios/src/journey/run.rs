//! Journeys as goose scenarios: each journey is a goose `Scenario` with its weight, and three
//! transactions: its on-start steps (`set_on_start`), its steps as one iteration, and its
//! on-stop steps (`set_on_stop`, which goose runs when a user stops: at the run's end, at
//! Ctrl-C, or when a stage takes users away).
//!
//! Steps run in order; the first that fails ends the iteration (goose counts the failure,
//! our recorder has its reason). Whatever the iteration started and did not stop (an agent
//! task, an instance) is stopped then; what an on-start step started lives until the user
//! stops. On-stop steps and those stops are sent even as the run ends, outside any `--rate`
//! schedule (a real cloud bills running agents), each bounded by the request timeout.

use super::template::Scope;
use super::user::{self, UserCredentials, UserState};
use super::{Field, Journey, Journeys, OpStep, Step};
use crate::exchange::{Failure, Pace};
use crate::ops::{self, Call};
use crate::plan::Pair;
use crate::{user_rng, Plan, ScenarioError};
use goose::goose::{GooseUser, Scenario, Transaction, TransactionResult};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// The goose scenarios of `journeys`, driving `plan`'s targets.
pub fn scenarios(
    journeys: &Arc<Journeys>,
    plan: &Arc<Plan>,
) -> Result<Vec<Scenario>, ScenarioError> {
    for platform in &journeys.platforms {
        plan.target(platform)?;
    }
    journeys
        .journeys
        .iter()
        .enumerate()
        .map(|(index, journey)| scenario(journeys, plan, index, journey))
        .collect()
}

fn scenario(
    journeys: &Arc<Journeys>,
    plan: &Arc<Plan>,
    index: usize,
    journey: &Journey,
) -> Result<Scenario, ScenarioError> {
    let start = transaction(journeys, plan, index, Phase::Start).set_on_start();
    let iteration = transaction(journeys, plan, index, Phase::Iteration);
    let stop = transaction(journeys, plan, index, Phase::Stop).set_on_stop();
    Scenario::new(&journey.name)
        .set_weight(journey.weight)
        .map_err(|e| ScenarioError::Journey(format!("journey {:?}: {e}", journey.name)))
        .map(|s| {
            s.register_transaction(start)
                .register_transaction(iteration)
                .register_transaction(stop)
        })
}

/// Which of a journey's step lists a transaction runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Start,
    Iteration,
    Stop,
}

fn transaction(
    journeys: &Arc<Journeys>,
    plan: &Arc<Plan>,
    index: usize,
    phase: Phase,
) -> Transaction {
    let (journeys, plan) = (Arc::clone(journeys), Arc::clone(plan));
    let name = match phase {
        Phase::Start => "on start",
        Phase::Iteration => "steps",
        Phase::Stop => "on stop",
    };
    Transaction::new(Arc::new(move |user| {
        let (journeys, plan) = (Arc::clone(&journeys), Arc::clone(&plan));
        Box::pin(async move {
            let result = run_phase(user, &plan, &journeys, index, phase).await;
            if result.is_err() {
                // A step can fail without awaiting anything; goose starts the next one at
                // once, so yield or the user pins a worker thread.
                tokio::task::yield_now().await;
            }
            result
        })
    }))
    .set_name(name)
}

async fn run_phase(
    user: &mut GooseUser,
    plan: &Arc<Plan>,
    journeys: &Journeys,
    index: usize,
    phase: Phase,
) -> TransactionResult {
    let journey = &journeys.journeys[index];
    let mut state = match user::take(user) {
        Some(state) => state,
        None => {
            plan.sink.user_started();
            Box::new(new_state(user, plan, journeys).map_err(ops::custom)?)
        }
    };
    let mode = |pace| Mode {
        pace,
        continue_on_error: journey.continue_on_error,
    };
    let result = match phase {
        Phase::Start => {
            state.starting = true;
            let result = run_steps(
                user,
                plan,
                &mut state,
                &journey.on_start,
                mode(Pace::Scheduled),
            )
            .await;
            state.starting = false;
            result
        }
        Phase::Iteration => {
            let result = run_steps(
                user,
                plan,
                &mut state,
                &journey.steps,
                mode(Pace::Scheduled),
            )
            .await;
            stop_started(user, plan, &mut state, false).await;
            result
        }
        Phase::Stop => {
            let result = run_steps(user, plan, &mut state, &journey.on_stop, mode(Pace::Now)).await;
            stop_started(user, plan, &mut state, true).await;
            if let Some(mut socket) = state.socket.take() {
                let _ = futures_util::SinkExt::close(&mut socket).await;
            }
            plan.sink.user_stopped();
            result
        }
    };
    user::put(user, state);
    result
}

/// A user's state: its index, random source, feeder rows and credentials.
fn new_state(user: &GooseUser, plan: &Arc<Plan>, journeys: &Journeys) -> Result<UserState, String> {
    let local = user.weighted_users_index as u64;
    let mut rng = user_rng(plan, user);
    let user_id = crate::unique_id(&mut rng, "user");
    let mut rows = HashMap::new();
    for feeder in &journeys.feeders {
        let row = feeder.row(local, &mut rng);
        let named = feeder
            .columns
            .iter()
            .cloned()
            .zip(row.iter().cloned())
            .collect();
        rows.insert(feeder.name.clone(), named);
    }
    let defaults = &plan.credentials;
    let mut state = UserState {
        index: plan.first_user + local,
        user_id,
        rng,
        captures: HashMap::new(),
        rows,
        credentials: UserCredentials {
            alibaba: defaults.alibaba.clone(),
            aui_user: defaults.aui_user.clone(),
            duix_app: defaults.duix_app.clone(),
        },
        aui_token: None,
        socket: None,
        conversation: Default::default(),
        llm: Default::default(),
        started: Vec::new(),
        starting: false,
        plan: Arc::clone(plan),
    };
    let templates = &journeys.credentials;
    for (pair, slot) in [
        (&templates.alibaba, 0),
        (&templates.aui_user, 1),
        (&templates.duix_app, 2),
    ] {
        let Some((id, secret)) = pair else { continue };
        let pair = Pair::new(
            id.render_text(&mut state)
                .map_err(|e| format!("credentials: {e}"))?,
            secret
                .render_text(&mut state)
                .map_err(|e| format!("credentials: {e}"))?,
        );
        match slot {
            0 => state.credentials.alibaba = pair,
            1 => state.credentials.aui_user = pair,
            _ => state.credentials.duix_app = pair,
        }
    }
    Ok(state)
}

type StepsFuture<'a> = Pin<Box<dyn Future<Output = TransactionResult> + Send + 'a>>;

/// How a list of steps runs: its pace, and whether a failure ends it.
#[derive(Clone, Copy)]
struct Mode {
    pace: Pace,
    continue_on_error: bool,
}

/// Runs `steps` in order; the first failure ends them, unless the journey continues on errors
/// (then the first failure is returned at the end, so goose still counts it). The run ending
/// ends them either way.
fn run_steps<'a>(
    user: &'a mut GooseUser,
    plan: &'a Plan,
    state: &'a mut UserState,
    steps: &'a [Step],
    mode: Mode,
) -> StepsFuture<'a> {
    Box::pin(async move {
        let mut first_failure = None;
        for step in steps {
            let result = match step {
                Step::Op(step) => run_repeated(user, plan, state, step, mode).await,
                Step::Loop { times, steps } => {
                    let mut result = Ok(());
                    for _ in 0..*times {
                        result = run_steps(&mut *user, plan, &mut *state, steps, mode).await;
                        if result.is_err() && !mode.continue_on_error {
                            break;
                        }
                    }
                    result
                }
                Step::Set(values) => set(state, values),
            };
            if let Err(failure) = result {
                if !mode.continue_on_error || (mode.pace == Pace::Scheduled && plan.stopping()) {
                    return Err(failure);
                }
                first_failure.get_or_insert(failure);
            }
        }
        first_failure.map_or(Ok(()), Err)
    })
}

async fn run_repeated(
    user: &mut GooseUser,
    plan: &Plan,
    state: &mut UserState,
    step: &OpStep,
    mode: Mode,
) -> TransactionResult {
    for _ in 0..step.repeat {
        let result = run_op(user, plan, state, step, mode.pace).await;
        think(plan, state, step).await;
        result?;
    }
    Ok(())
}

fn set(state: &mut UserState, values: &[(String, super::template::Template)]) -> TransactionResult {
    for (name, template) in values {
        let value = template.render(state).map_err(ops::custom)?;
        state.captures.insert(name.clone(), value);
    }
    Ok(())
}

async fn run_op(
    user: &mut GooseUser,
    plan: &Plan,
    state: &mut UserState,
    step: &OpStep,
    pace: Pace,
) -> Result<(), Failure> {
    if pace == Pace::Scheduled && plan.stopping() {
        return Err(crate::exchange::stopped());
    }
    let mut fields = Map::new();
    for (name, field) in &step.fields {
        let value = render(field, state)
            .map_err(|e| ops::custom(format!("{}: {name}: {e}", step.op.name)))?;
        fields.insert(name.clone(), value);
    }
    let mut call = Call {
        user,
        plan,
        state,
        route: step.route.as_deref(),
        extra: &step.extra,
        pace,
    };
    let answer = ops::run(step.op, &mut call, fields).await?;
    for (name, pointer) in &step.captures {
        // The pointer was checked with the answer (Extra::required), so it is there.
        let value = answer.pointer(pointer).cloned().unwrap_or(Value::Null);
        state.captures.insert(name.clone(), value);
    }
    Ok(())
}

/// A field's value for this request.
fn render(field: &Field, scope: &mut dyn Scope) -> Result<Value, super::template::TemplateError> {
    Ok(match field {
        Field::Text(template) => template.render(scope)?,
        Field::Plain(value) => value.clone(),
        Field::List(items) => Value::Array(
            items
                .iter()
                .map(|f| render(f, scope))
                .collect::<Result<_, _>>()?,
        ),
        Field::Table(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, f)| Ok((k.clone(), render(f, scope)?)))
                .collect::<Result<_, super::template::TemplateError>>()?,
        ),
    })
}

/// The step's think time, cut short when the run ends.
async fn think(plan: &Plan, state: &mut UserState, step: &OpStep) {
    let Some(think) = step.think else { return };
    let wait = think.sample(&mut state.rng);
    let until = tokio::time::Instant::now() + wait;
    while tokio::time::Instant::now() < until && !plan.stopping() {
        let left = until - tokio::time::Instant::now();
        tokio::time::sleep(left.min(Duration::from_millis(100))).await;
    }
}

/// Stops what the iteration started (`all`: also what on-start steps started), newest first.
async fn stop_started(user: &mut GooseUser, plan: &Plan, state: &mut UserState, all: bool) {
    let mut keep = Vec::new();
    while let Some(started) = state.started.pop() {
        if started.for_life && !all {
            keep.push(started);
            continue;
        }
        let extra = super::Extra::default();
        let mut call = Call {
            user,
            plan,
            state,
            route: None,
            extra: &extra,
            pace: Pace::Now,
        };
        // A failed stop is recorded with its reason; nothing more can be done about it here.
        let _ = ops::run(started.op, &mut call, started.fields).await;
    }
    keep.reverse();
    state.started = keep;
}
