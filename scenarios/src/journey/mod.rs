//! Journey files: load journeys a user writes in TOML, run by one engine that also runs the
//! built-in scenarios (each is a journey file embedded in the binary, [`builtin`]).
//!
//! ```toml
//! name = "my-agents"
//! [load]
//! users = 20
//! ramp = "10s"
//! duration = "1m"
//!
//! [feeders.users]
//! file = "users.csv"        # name,password
//! mode = "unique"
//!
//! [credentials]
//! aui_user = { id = "{{ users.name }}", secret = "{{ users.password }}" }
//!
//! [[journeys]]
//! name = "call"
//! [[journeys.on_start]]
//! op = "aui.login"
//! [[journeys.steps]]
//! op = "aui.startAIAgentInstance"
//! think = { uniform = ["1s", "3s"] }
//! [[journeys.steps]]
//! op = "aui.describeAIAgentInstance"
//! expect = { json = { "/status" = "Executing" } }
//! slo = ["p95<500ms"]
//! [[journeys.steps]]
//! op = "aui.stopAIAgentInstance"
//! ```
//!
//! The parts: [`spec`] reads the TOML as written; [`check`] compiles it (every op, field,
//! template, capture and feeder column checked, errors with the file's line and column);
//! [`template`] and [`feeder`] are the values a step's fields take; [`think`] the waits
//! between steps; [`run`] turns the journeys into goose scenarios; [`user`] is a user's state.

pub mod check;
pub mod feeder;
pub mod run;
pub mod spec;
pub mod template;
pub mod think;
pub mod user;

pub use check::JourneyError;
pub use run::scenarios;

use crate::ops::OpInfo;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;
use template::Template;
use think::Think;

/// A compiled journey file.
#[derive(Debug)]
pub struct Journeys {
    /// Its name (the file's `name`, else its stem): the scenario name in reports.
    pub name: String,
    /// What it does, in a line.
    pub description: String,
    /// The load shape the file asks for; the command line overrides each part it sets.
    pub load: LoadShape,
    /// SLO rules over the default, as `--slo` takes them.
    pub slo: Vec<String>,
    /// Base URLs per platform the file names; `--target` overrides.
    pub targets: Vec<(String, String)>,
    /// The feeders, loaded.
    pub feeders: Vec<feeder::Feeder>,
    /// Per-user credentials as templates; `None` takes the command line's.
    pub credentials: CredentialTemplates,
    /// The journeys, mixed by weight.
    pub journeys: Vec<Journey>,
    /// The platforms the steps send to, in the order first used.
    pub platforms: Vec<&'static str>,
    /// SLO rules of steps' rows: `(row, rules)`.
    pub route_slos: Vec<(String, Vec<String>)>,
    /// Every row the steps record under, in the order first met (a rule for some rows,
    /// `ttft p95<800ms`, picks among them).
    pub rows: Vec<String>,
}

/// A rule for some rows only: `ttft p95<800ms` is the rule `p95<800ms` for the rows whose name
/// contains `ttft`. `None` for a rule of the whole run.
///
/// ```
/// use scenarios::journey::row_rule;
/// assert_eq!(row_rule("ttft p95<800ms"), Some(("ttft".into(), "p95<800ms".into())));
/// assert_eq!(row_rule(" end  errors < 1%"), Some(("end".into(), "errors< 1%".into())));
/// assert_eq!(row_rule("p95<800ms"), None);
/// ```
pub fn row_rule(rule: &str) -> Option<(String, String)> {
    let (name, limit) = rule.split_once('<')?;
    let (word, measure) = name.trim().split_once(char::is_whitespace)?;
    Some((word.to_string(), format!("{}<{limit}", measure.trim())))
}

/// The load shape a file sets; what it leaves out the command line's defaults decide.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadShape {
    pub users: Option<u64>,
    pub increase_rate: Option<f64>,
    pub duration: Option<Duration>,
    pub rate: Option<f64>,
    /// `(users at the end, how long)` per stage.
    pub stages: Option<Vec<(u64, Duration)>>,
}

/// Per-user credentials as templates.
#[derive(Debug, Clone, Default)]
pub struct CredentialTemplates {
    pub alibaba: Option<(Template, Template)>,
    pub aui_user: Option<(Template, Template)>,
    pub duix_app: Option<(Template, Template)>,
}

/// One journey.
#[derive(Debug)]
pub struct Journey {
    pub name: String,
    pub weight: usize,
    /// A failed step ends the iteration (`false`, the default) or the next step runs.
    pub continue_on_error: bool,
    pub on_start: Vec<Step>,
    pub steps: Vec<Step>,
    pub on_stop: Vec<Step>,
}

/// A step: an operation, a loop, or values set for later steps.
#[derive(Debug)]
pub enum Step {
    Op(Box<OpStep>),
    Loop { times: u64, steps: Vec<Step> },
    Set(Vec<(String, Template)>),
}

/// A step running an operation.
#[derive(Debug)]
pub struct OpStep {
    pub op: &'static OpInfo,
    /// The row it is reported under, when the step names one.
    pub route: Option<String>,
    /// Every field sent, the step's and the defaults, as templates.
    pub fields: Vec<(String, Field)>,
    /// `(capture, JSON pointer)`.
    pub captures: Vec<(String, String)>,
    pub extra: Extra,
    pub think: Option<Think>,
    pub repeat: u64,
}

/// A field's value: a template, or TOML's own numbers, booleans, arrays and tables.
#[derive(Debug, Clone)]
pub enum Field {
    Text(Template),
    Plain(Value),
    List(Vec<Field>),
    Table(Vec<(String, Field)>),
}

/// What a step's answer must show beyond the operation's own checks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extra {
    /// A status of its own (the operation's schema is then not applied).
    pub status: Option<u16>,
    /// The envelope's business code (`code` or `Code`), as text.
    pub code: Option<String>,
    /// JSON pointers and the values they must hold.
    pub json: Vec<(String, Value)>,
    /// JSON pointers the answer must have: what the step captures.
    pub required: Vec<String>,
}

impl Extra {
    /// The operation's expectation with the step's added: a status of the step's own replaces
    /// the operation's, and the answer is then judged only by what the step says.
    pub fn expect<'e>(
        &self,
        status: u16,
        schema: &'static str,
        rule: crate::exchange::Rule<'e>,
    ) -> crate::exchange::Expect<'e> {
        let status_of_its_own = self.status.filter(|s| *s != status);
        crate::exchange::Expect {
            status: status_of_its_own.unwrap_or(status),
            schema: match status_of_its_own {
                Some(_) => crate::exchange::ANY_JSON,
                None => schema,
            },
            success: rule,
            sse_event: None,
        }
    }

    /// The operation's success rule `op_rule` (unless the step has a status of its own), then
    /// what the step expects.
    pub fn judge(
        &self,
        body: &Value,
        status: u16,
        op_rule: impl Fn(&Value) -> Result<(), String>,
    ) -> Result<(), String> {
        if self.status.is_none_or(|s| s == status) {
            op_rule(body)?;
        }
        self.check(body)
    }

    /// Whether `body` shows what the step expects; what it shows instead.
    pub fn check(&self, body: &Value) -> Result<(), String> {
        if let Some(code) = &self.code {
            let got = body.get("code").or_else(|| body.get("Code"));
            let text = got.map(crate::ops::text);
            if text.as_deref() != Some(code.as_str()) {
                return Err(format!("code {got:?}, expected {code}"));
            }
        }
        for (pointer, want) in &self.json {
            let got = body.pointer(pointer);
            if got != Some(want) && got.map(crate::ops::text) != Some(crate::ops::text(want)) {
                return Err(format!("{pointer} is {got:?}, expected {want}"));
            }
        }
        if let Some(missing) = self.required.iter().find(|p| body.pointer(p).is_none()) {
            return Err(format!("nothing at {missing} to capture"));
        }
        Ok(())
    }
}

/// One built-in scenario: a journey file embedded in the binary.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    pub name: &'static str,
    pub text: &'static str,
}

/// The built-in scenarios, as `agentproof load --list` shows them.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "aui-token-storm",
        text: include_str!("../../journeys/aui-token-storm.toml"),
    },
    Builtin {
        name: "aui-call-lifecycle",
        text: include_str!("../../journeys/aui-call-lifecycle.toml"),
    },
    Builtin {
        name: "alibaba-openapi",
        text: include_str!("../../journeys/alibaba-openapi.toml"),
    },
    Builtin {
        name: "duix-session-churn",
        text: include_str!("../../journeys/duix-session-churn.toml"),
    },
    Builtin {
        name: "duix-webhook",
        text: include_str!("../../journeys/duix-webhook.toml"),
    },
    Builtin {
        name: "alibaba-llm",
        text: include_str!("../../journeys/alibaba-llm.toml"),
    },
    Builtin {
        name: "http-get",
        text: include_str!("../../journeys/http-get.toml"),
    },
];

/// The built-in scenario `name`.
pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

impl Journeys {
    /// Reads and compiles the journey file at `path` (feeders relative to it).
    pub fn load(path: &Path) -> Result<Journeys, JourneyError> {
        let text = std::fs::read_to_string(path).map_err(|e| JourneyError::Read {
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let stem = path
            .file_stem()
            .map_or("journeys".into(), |s| s.to_string_lossy().into_owned());
        check::compile(&text, &path.display().to_string(), &stem, base)
    }

    /// Compiles journey-file text named `name` (feeders relative to the working folder): for a
    /// goose binary of your own ([`crate::library`]).
    pub fn from_toml(text: &str, name: &str) -> Result<Journeys, JourneyError> {
        check::compile(text, name, name, Path::new("."))
    }

    /// Compiles a built-in scenario.
    pub fn builtin(builtin: &Builtin) -> Result<Journeys, JourneyError> {
        let origin = format!("built-in scenario {}", builtin.name);
        check::compile(builtin.text, &origin, builtin.name, Path::new("."))
    }

    /// Takes worker `index`'s share of `count` workers' unique feeder rows.
    pub fn split_feeders(&mut self, index: u32, count: u32) {
        for feeder in &mut self.feeders {
            feeder.split(index, count);
        }
    }

    /// Why `users` users cannot run (a unique feeder with fewer rows), before any load.
    pub fn check_users(&self, users: u64) -> Result<(), String> {
        self.feeders.iter().try_for_each(|f| f.check_users(users))
    }
}
