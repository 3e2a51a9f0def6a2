//! From the file as written ([`super::spec`]) to the compiled [`Journeys`]: every op, field,
//! template, capture and feeder column is checked here, before any load, and each error names
//! the file, line and column (`journey.toml:12:7: no operation "aui.getRtcAuthTokn"; nearest:
//! aui.getRtcAuthToken`).

use super::feeder::{Feeder, Mode};
use super::spec::{FileSpec, JourneySpec, LoadSpec, PairSpec, StepSpec};
use super::template::{Hole, Template};
use super::think::{parse_duration, Think};
use super::{CredentialTemplates, Extra, Field, Journey, Journeys, LoadShape, OpStep, Step};
use crate::ops::{self, Kind, OpInfo};
use serde_json::Value;
use std::collections::BTreeSet;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// Why a journey file cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JourneyError {
    #[error("cannot read {path}: {why}")]
    Read { path: String, why: String },
    #[error("{origin}:{line}:{column}: {why}")]
    At {
        origin: String,
        line: usize,
        column: usize,
        why: String,
    },
}

/// The platforms a target may be given for.
const PLATFORMS: [&str; 6] = ["alibaba", "aui", "duix", "webhook", "llm", "http"];

/// Where errors point: the file's name and text.
struct Source<'a> {
    origin: &'a str,
    text: &'a str,
}

impl Source<'_> {
    /// An error at the start of `span`.
    fn at(&self, span: Range<usize>, why: impl Into<String>) -> JourneyError {
        let before = &self.text[..span.start.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        JourneyError::At {
            origin: self.origin.to_string(),
            line,
            column,
            why: why.into(),
        }
    }
}

/// Compiles `text` (named `origin` in errors; `stem` names it when it has no `name`), feeders
/// read relative to `base`.
pub fn compile(
    text: &str,
    origin: &str,
    stem: &str,
    base: &Path,
) -> Result<Journeys, JourneyError> {
    let source = Source { origin, text };
    let spec: FileSpec = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        source.at(span, e.message().trim_end().to_string())
    })?;
    let feeders = feeders(&source, &spec, base)?;
    let mut context = Context {
        source: &source,
        feeders: &feeders,
        platforms: Vec::new(),
        route_slos: Vec::new(),
        rows: Vec::new(),
    };
    let credentials = context.credentials(&spec)?;
    let mut journeys = Vec::new();
    let mut names = BTreeSet::new();
    for journey in &spec.journeys {
        if !names.insert(journey.get_ref().name.clone()) {
            let why = format!(
                "a second journey named {:?}: names must differ",
                journey.get_ref().name
            );
            return Err(source.at(journey.span(), why));
        }
        journeys.push(context.journey(journey)?);
    }
    if journeys.is_empty() {
        return Err(source.at(
            0..0,
            "no [[journeys]]: a file needs at least one, with steps",
        ));
    }
    let slo = spec
        .slo
        .iter()
        .map(|rule| check_slo(&source, rule))
        .collect::<Result<_, _>>()?;
    Ok(Journeys {
        name: spec.name.clone().unwrap_or_else(|| stem.to_string()),
        description: spec.description.clone().unwrap_or_default(),
        load: load_shape(&source, &spec.load)?,
        slo,
        targets: targets(&source, &spec)?,
        credentials,
        journeys,
        platforms: context.platforms,
        route_slos: context.route_slos,
        rows: context.rows,
        feeders,
    })
}

/// An SLO rule, checked as `--slo` checks it (a rule for some rows, `ttft p95<800ms`, too).
fn check_slo(source: &Source, rule: &Spanned<String>) -> Result<String, JourneyError> {
    let mut slo = reports::load::LoadSlo::default();
    let text = match super::row_rule(rule.get_ref()) {
        Some((_, own)) => own,
        None => rule.get_ref().clone(),
    };
    slo.parse_rule(&text)
        .map_err(|e| source.at(rule.span(), e.to_string()))?;
    Ok(rule.get_ref().clone())
}

fn load_shape(source: &Source, load: &LoadSpec) -> Result<LoadShape, JourneyError> {
    let duration = |text: &Spanned<String>| {
        parse_duration(text.get_ref()).map_err(|why| source.at(text.span(), why))
    };
    let mut shape = LoadShape {
        users: load.users.as_ref().map(|u| *u.get_ref()),
        increase_rate: load.increase_rate.as_ref().map(|r| *r.get_ref()),
        duration: load.duration.as_ref().map(duration).transpose()?,
        rate: load.rate.as_ref().map(|r| *r.get_ref()),
        stages: None,
    };
    if let Some(users) = &load.users {
        if !(1..=100_000).contains(users.get_ref()) {
            return Err(source.at(users.span(), "users must be from 1 to 100000"));
        }
    }
    if let Some(rate) = &load.rate {
        if !(rate.get_ref().is_finite() && *rate.get_ref() > 0.0) {
            return Err(source.at(rate.span(), "rate must be above 0 requests a second"));
        }
    }
    if let Some(ramp) = &load.ramp {
        if load.increase_rate.is_some() {
            return Err(source.at(
                ramp.span(),
                "ramp and increase_rate say the same thing: give one",
            ));
        }
        let users = shape
            .users
            .ok_or_else(|| source.at(ramp.span(), "ramp needs users"))?;
        let secs = duration(ramp)?.as_secs_f64().max(0.001);
        shape.increase_rate = Some(users as f64 / secs);
    }
    if let Some(stages) = &load.stages {
        let clash = load.users.is_some()
            || load.ramp.is_some()
            || load.duration.is_some()
            || load.increase_rate.is_some();
        if clash {
            return Err(source.at(
                stages.span(),
                "stages replace users, ramp, increase_rate and duration: give one or the other",
            ));
        }
        let mut steps = Vec::new();
        for stage in stages.get_ref() {
            let over = parse_duration(&stage.over).map_err(|why| source.at(stages.span(), why))?;
            if over.as_secs() == 0 || stage.users > 100_000 {
                return Err(source.at(
                    stages.span(),
                    "each stage lasts at least 1s and has at most 100000 users",
                ));
            }
            steps.push((stage.users, over));
        }
        if steps.is_empty() || steps.iter().all(|(u, _)| *u == 0) {
            return Err(source.at(stages.span(), "stages need at least one with users"));
        }
        shape.stages = Some(steps);
    }
    Ok(shape)
}

fn targets(source: &Source, spec: &FileSpec) -> Result<Vec<(String, String)>, JourneyError> {
    let mut targets = Vec::new();
    for (platform, url) in &spec.targets {
        if !PLATFORMS.contains(&platform.as_str()) {
            let why = format!(
                "no platform {platform:?}: targets are {}",
                PLATFORMS.join(", ")
            );
            return Err(source.at(url.span(), why));
        }
        let text = url.get_ref();
        if !(text.starts_with("http://") || text.starts_with("https://")) {
            return Err(source.at(
                url.span(),
                format!("{platform} = {text:?}: a target is an http:// or https:// URL"),
            ));
        }
        targets.push((platform.clone(), text.trim_end_matches('/').to_string()));
    }
    Ok(targets)
}

fn feeders(source: &Source, spec: &FileSpec, base: &Path) -> Result<Vec<Feeder>, JourneyError> {
    let mut feeders = Vec::new();
    for (name, feeder) in &spec.feeders {
        let spec = feeder.get_ref();
        let mode = match spec.mode.as_deref() {
            None => Mode::Cycle,
            Some(text) => Mode::parse(text).ok_or_else(|| {
                source.at(
                    feeder.span(),
                    format!("mode {text:?}: a feeder's mode is cycle, unique or random"),
                )
            })?,
        };
        let loaded = Feeder::load(name, &base.join(&spec.file), mode)
            .map_err(|e| source.at(feeder.span(), format!("feeder {name:?}: {e}")))?;
        feeders.push(loaded);
    }
    Ok(feeders)
}

/// What compiling the journeys keeps track of.
struct Context<'a> {
    source: &'a Source<'a>,
    feeders: &'a [Feeder],
    platforms: Vec<&'static str>,
    route_slos: Vec<(String, Vec<String>)>,
    rows: Vec<String>,
}

impl Context<'_> {
    fn credentials(&self, spec: &FileSpec) -> Result<CredentialTemplates, JourneyError> {
        let pair = |pair: &Option<Spanned<PairSpec>>| -> Result<Option<(Template, Template)>, JourneyError> {
            let Some(pair) = pair else { return Ok(None) };
            let none = BTreeSet::new();
            let id = self.template(&pair.get_ref().id, &none)?;
            let secret = self.template(&pair.get_ref().secret, &none)?;
            Ok(Some((id, secret)))
        };
        Ok(CredentialTemplates {
            alibaba: pair(&spec.credentials.alibaba)?,
            aui_user: pair(&spec.credentials.aui_user)?,
            duix_app: pair(&spec.credentials.duix_app)?,
        })
    }

    fn journey(&mut self, spanned: &Spanned<JourneySpec>) -> Result<Journey, JourneyError> {
        let spec = spanned.get_ref();
        let weight = match &spec.weight {
            Some(w) if !(1..=1000).contains(w.get_ref()) => {
                return Err(self.source.at(w.span(), "weight must be from 1 to 1000"))
            }
            Some(w) => *w.get_ref() as usize,
            None => 1,
        };
        let think = spec
            .think
            .as_ref()
            .map(|t| Think::from_spec(t.get_ref()).map_err(|why| self.source.at(t.span(), why)))
            .transpose()?;
        if spec.steps.is_empty() {
            let why = format!(
                "journey {:?} has no steps: give [[journeys.steps]]",
                spec.name
            );
            return Err(self.source.at(spanned.span(), why));
        }
        let continue_on_error = match &spec.on_error {
            None => false,
            Some(e) if e.get_ref() == "stop" => false,
            Some(e) if e.get_ref() == "continue" => true,
            Some(e) => {
                return Err(self.source.at(
                    e.span(),
                    format!("on_error {:?}: stop (the default) or continue", e.get_ref()),
                ))
            }
        };
        let mut known = BTreeSet::new();
        let on_start = self.steps(&spec.on_start, &mut known, think)?;
        let steps = self.steps(&spec.steps, &mut known, think)?;
        let on_stop = self.steps(&spec.on_stop, &mut known, think)?;
        Ok(Journey {
            name: spec.name.clone(),
            weight,
            continue_on_error,
            on_start,
            steps,
            on_stop,
        })
    }

    fn steps(
        &mut self,
        specs: &[Spanned<StepSpec>],
        known: &mut BTreeSet<String>,
        think: Option<Think>,
    ) -> Result<Vec<Step>, JourneyError> {
        specs.iter().map(|s| self.step(s, known, think)).collect()
    }

    fn step(
        &mut self,
        spanned: &Spanned<StepSpec>,
        known: &mut BTreeSet<String>,
        think: Option<Think>,
    ) -> Result<Step, JourneyError> {
        let spec = spanned.get_ref();
        if let Some(times) = &spec.loop_times {
            if spec.op.is_some() || spec.steps.is_empty() {
                return Err(self.source.at(
                    times.span(),
                    "a loop has steps (its [[...steps]]) and no op of its own",
                ));
            }
            if !(1..=1_000_000).contains(times.get_ref()) {
                return Err(self
                    .source
                    .at(times.span(), "loop runs from 1 to 1000000 times"));
            }
            let steps = self.steps(&spec.steps, known, think)?;
            return Ok(Step::Loop {
                times: *times.get_ref(),
                steps,
            });
        }
        if !spec.set.is_empty() {
            if spec.op.is_some() {
                return Err(self
                    .source
                    .at(spanned.span(), "a step sets values or runs an op, not both"));
            }
            let mut set = Vec::new();
            for (name, value) in &spec.set {
                let template = self.template(value, known)?;
                known.insert(name.get_ref().clone());
                set.push((name.get_ref().clone(), template));
            }
            return Ok(Step::Set(set));
        }
        let Some(op_name) = &spec.op else {
            return Err(self.source.at(
                spanned.span(),
                "a step needs an op (agentproof load --ops lists them), a loop or set",
            ));
        };
        if !spec.steps.is_empty() {
            return Err(self.source.at(
                op_name.span(),
                "steps inside a step belong to a loop: give loop = N and no op",
            ));
        }
        let op = ops::find(op_name.get_ref()).ok_or_else(|| {
            let nearest = ops::suggest(op_name.get_ref());
            let hint = match nearest.is_empty() {
                true => "agentproof load --ops lists them".to_string(),
                false => format!("nearest: {}", nearest.join(", ")),
            };
            self.source.at(
                op_name.span(),
                format!("no operation {:?}; {hint}", op_name.get_ref()),
            )
        })?;
        self.op_step(spec, op, op_name, known, think)
    }

    fn op_step(
        &mut self,
        spec: &StepSpec,
        op: &'static OpInfo,
        op_name: &Spanned<String>,
        known: &mut BTreeSet<String>,
        think: Option<Think>,
    ) -> Result<Step, JourneyError> {
        let mut fields = Vec::new();
        for (name, value) in &spec.fields {
            if !op.has_field(name.get_ref()) {
                let all: Vec<String> = op.fields().into_iter().map(|(f, _)| f).collect();
                let why = format!(
                    "{} has no field {:?}; its fields are {}",
                    op.name,
                    name.get_ref(),
                    all.join(", ")
                );
                return Err(self.source.at(name.span(), why));
            }
            fields.push((name.get_ref().clone(), self.field(value, known)?));
        }
        for (field, default) in op.defaults {
            if spec.fields.keys().any(|k| k.get_ref() == field) {
                continue;
            }
            let template = Template::parse(default).expect("the catalogue's defaults parse");
            if let Some(missing) = self.unknown_capture(&template, known) {
                let why = format!(
                    "{}'s {field} defaults to {default:?}, but no earlier step captures {missing:?}: give {field}, or a step before that captures it",
                    op.name
                );
                return Err(self.source.at(op_name.span(), why));
            }
            fields.push((field.to_string(), Field::Text(template)));
        }
        let mut captures = Vec::new();
        for (name, pointer) in &spec.capture {
            if !(pointer.get_ref().is_empty() || pointer.get_ref().starts_with('/')) {
                let why = format!(
                    "capture {:?} = {:?}: a JSON pointer starts with / (e.g. \"/data/id\")",
                    name.get_ref(),
                    pointer.get_ref()
                );
                return Err(self.source.at(pointer.span(), why));
            }
            captures.push((name.get_ref().clone(), pointer.get_ref().clone()));
        }
        known.extend(op.captures.iter().map(|(c, _)| c.to_string()));
        known.extend(captures.iter().map(|(c, _)| c.clone()));
        let route = spec.name.as_ref().map(|n| n.get_ref().clone());
        let mut extra = self.extra(spec)?;
        extra.required = captures.iter().map(|(_, p)| p.clone()).collect();
        let think = match &spec.think {
            Some(t) => {
                Some(Think::from_spec(t.get_ref()).map_err(|why| self.source.at(t.span(), why))?)
            }
            None => think,
        };
        let repeat = match &spec.repeat {
            Some(r) if !(1..=1_000_000).contains(r.get_ref()) => {
                return Err(self
                    .source
                    .at(r.span(), "repeat runs from 1 to 1000000 times"))
            }
            Some(r) => *r.get_ref(),
            None => 1,
        };
        if !self.platforms.contains(&op.platform) {
            self.platforms.push(op.platform);
        }
        let mut step = OpStep {
            op,
            route,
            fields,
            captures,
            extra,
            think,
            repeat,
        };
        if step.op.kind == Kind::HttpRequest && step.route.is_none() {
            // Its row comes from the URL as written, never as rendered (no ids, no secrets).
            step.route = default_rows(op, &step.fields).pop();
        }
        self.step_slo(spec, &step)?;
        for row in step.rows() {
            if !self.rows.contains(&row) {
                self.rows.push(row);
            }
        }
        Ok(Step::Op(Box::new(step)))
    }

    /// Registers the step's SLO rules under its rows; two steps of one row agree.
    fn step_slo(&mut self, spec: &StepSpec, step: &OpStep) -> Result<(), JourneyError> {
        let Some(first) = spec.slo.first() else {
            return Ok(());
        };
        let rules: Vec<String> = spec
            .slo
            .iter()
            .map(|r| check_slo(self.source, r))
            .collect::<Result<_, _>>()?;
        for row in step.rows() {
            match self.route_slos.iter().find(|(r, _)| *r == row) {
                Some((_, other)) if *other != rules => {
                    let why = format!("{row:?} already has slo {other:?} from another step: one row, one SLO (give this step its own name)");
                    return Err(self.source.at(first.span(), why));
                }
                Some(_) => {}
                None => self.route_slos.push((row, rules.clone())),
            }
        }
        Ok(())
    }

    fn extra(&self, spec: &StepSpec) -> Result<Extra, JourneyError> {
        let Some(expect) = &spec.expect else {
            return Ok(Extra::default());
        };
        let e = expect.get_ref();
        if let Some(status) = e.status {
            if !(100..=599).contains(&status) {
                return Err(self.source.at(
                    expect.span(),
                    format!("status {status} is not an HTTP status"),
                ));
            }
        }
        let mut json = Vec::new();
        for (pointer, value) in &e.json {
            if !(pointer.is_empty() || pointer.starts_with('/')) {
                let why = format!(
                    "expect.json {pointer:?}: a JSON pointer starts with / (e.g. \"/status\")"
                );
                return Err(self.source.at(expect.span(), why));
            }
            json.push((pointer.clone(), to_json(value)));
        }
        Ok(Extra {
            status: e.status,
            code: e.code.as_ref().map(|c| crate::ops::text(&to_json(c))),
            json,
            required: Vec::new(),
        })
    }

    fn field(
        &self,
        value: &Spanned<toml::Value>,
        known: &BTreeSet<String>,
    ) -> Result<Field, JourneyError> {
        self.field_of(value.get_ref(), value.span(), known)
    }

    fn field_of(
        &self,
        value: &toml::Value,
        span: Range<usize>,
        known: &BTreeSet<String>,
    ) -> Result<Field, JourneyError> {
        Ok(match value {
            toml::Value::String(text) => {
                let template = Template::parse(text)
                    .map_err(|e| self.source.at(span.clone(), e.to_string()))?;
                self.check_holes(&template, known, span)?;
                Field::Text(template)
            }
            toml::Value::Array(items) => Field::List(
                items
                    .iter()
                    .map(|v| self.field_of(v, span.clone(), known))
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Table(table) => Field::Table(
                table
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), self.field_of(v, span.clone(), known)?)))
                    .collect::<Result<_, JourneyError>>()?,
            ),
            other => Field::Plain(to_json(other)),
        })
    }

    fn template(
        &self,
        text: &Spanned<String>,
        known: &BTreeSet<String>,
    ) -> Result<Template, JourneyError> {
        let template = Template::parse(text.get_ref())
            .map_err(|e| self.source.at(text.span(), e.to_string()))?;
        self.check_holes(&template, known, text.span())?;
        Ok(template)
    }

    /// Every hole names a capture made earlier, a feeder's column, or a platform.
    fn check_holes(
        &self,
        template: &Template,
        known: &BTreeSet<String>,
        span: Range<usize>,
    ) -> Result<(), JourneyError> {
        if let Some(missing) = self.unknown_capture(template, known) {
            let why = match known.is_empty() {
                true => format!("{{{{ {missing} }}}}: nothing is captured before this step (capture = {{ {missing} = \"/pointer\" }} on an earlier one)"),
                false => format!("{{{{ {missing} }}}}: no earlier step captures it; captured so far: {}", known.iter().cloned().collect::<Vec<_>>().join(", ")),
            };
            return Err(self.source.at(span, why));
        }
        for hole in template.holes() {
            match hole {
                Hole::Feeder { feeder, column } => {
                    let Some(f) = self.feeders.iter().find(|f| f.name == *feeder) else {
                        let names: Vec<&str> =
                            self.feeders.iter().map(|f| f.name.as_str()).collect();
                        let why = format!(
                            "{{{{ {feeder}.{column} }}}}: no feeder {feeder:?} (feeders: {})",
                            if names.is_empty() {
                                "none".into()
                            } else {
                                names.join(", ")
                            }
                        );
                        return Err(self.source.at(span, why));
                    };
                    if f.column(column).is_none() {
                        let why = format!("{{{{ {feeder}.{column} }}}}: feeder {feeder:?} has no column {column:?}; its columns are {}", f.columns.join(", "));
                        return Err(self.source.at(span, why));
                    }
                }
                Hole::Target(platform) if !PLATFORMS.contains(&platform.as_str()) => {
                    let why = format!(
                        "{{{{ target.{platform} }}}}: targets are {}",
                        PLATFORMS.join(", ")
                    );
                    return Err(self.source.at(span, why));
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The first capture `template` uses that is not known yet.
    fn unknown_capture(&self, template: &Template, known: &BTreeSet<String>) -> Option<String> {
        template.holes().find_map(|hole| match hole {
            Hole::Capture(name) if !known.contains(name) => Some(name.clone()),
            _ => None,
        })
    }
}

impl OpStep {
    /// The rows its answers are recorded under.
    pub fn rows(&self) -> Vec<String> {
        match &self.route {
            // A streamed answer has two rows: its first token and its end.
            Some(route) if self.op.kind == Kind::LlmChat => {
                vec![format!("{route} ttft"), format!("{route} end")]
            }
            Some(route) => vec![route.clone()],
            None => default_rows(self.op, &self.fields),
        }
    }
}

/// The rows of an operation's answers when the step names none.
pub(crate) fn default_rows(op: &OpInfo, fields: &[(String, Field)]) -> Vec<String> {
    use protocol::request::{alibaba, aui, duix};
    match op.kind {
        Kind::Alibaba(action) => vec![alibaba::route(action)],
        Kind::AuiLogin => vec![aui::route(aui::LOGIN)],
        Kind::Aui(path) => vec![aui::route(path)],
        Kind::DuixCheckSig => vec![duix::route(duix::CHECK_SIG)],
        Kind::DuixGet(path) => vec![duix::route(path)],
        Kind::DuixWs(step) => crate::duix::ws_row(step)
            .map(str::to_string)
            .into_iter()
            .collect(),
        Kind::DuixSession => crate::duix::SESSION_ROWS
            .iter()
            .map(|r| r.to_string())
            .collect(),
        Kind::WebhookQuestion => vec![duix::WEBHOOK_ROUTE.to_string()],
        Kind::LlmChat => vec![
            protocol::alibaba::llm::TTFT_ROUTE.to_string(),
            protocol::alibaba::llm::END_ROUTE.to_string(),
        ],
        Kind::HttpRequest => {
            let text = |name: &str| match fields.iter().find(|(f, _)| f == name) {
                Some((_, Field::Text(t))) => t.source().to_string(),
                Some((_, Field::Plain(v))) => crate::ops::text(v),
                _ => String::new(),
            };
            vec![format!(
                "http {} {}",
                text("method").to_uppercase(),
                text("url")
            )]
        }
    }
}

/// A TOML value as JSON (dates as their text).
fn to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(s) => Value::String(s.clone()),
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
        }
        toml::Value::Boolean(b) => Value::Bool(*b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(items.iter().map(to_json).collect()),
        toml::Value::Table(table) => {
            Value::Object(table.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}
