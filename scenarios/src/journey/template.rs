//! Templates in a journey's fields: `{{ ... }}` holes in text, compiled once when the file is
//! read and rendered per request.
//!
//! | hole | value |
//! | --- | --- |
//! | `{{ name }}` | what an earlier step captured as `name` (its JSON value) |
//! | `{{ feeder.column }}` | the user's row of a feeder |
//! | `{{ uuid }}` | a random UUID (v4, from the user's seeded random source) |
//! | `{{ hex(N) }}` | N random hex digits |
//! | `{{ id(prefix) }}` | `prefix_` and 12 random hex digits: a valid id on every platform |
//! | `{{ int(A, B) }}` | a random integer from A to B |
//! | `{{ user }}` | the user's index (0, 1, ...; a worker's users continue its share) |
//! | `{{ user_id }}` | an id fixed for the user's life, `user_` and 12 hex digits |
//! | `{{ now_ms }}`, `{{ now }}` | the time, in ms since 1970 or RFC 3339 |
//! | `{{ target.PLATFORM }}` | the platform's base URL |
//!
//! A field that is one hole and nothing else takes the hole's JSON value (a captured number
//! stays a number); any other text is a string.
//!
//! ```
//! use scenarios::journey::template::Template;
//! let t = Template::parse("ch-{{ user }}-{{ hex(4) }}").unwrap();
//! assert_eq!(t.holes().count(), 2);
//! assert!(Template::parse("{{ nope(").is_err());
//! ```

use rand::rngs::StdRng;
use rand::Rng;
use serde_json::Value;

/// A compiled template: literal text and holes.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Hole(Hole),
}

/// What a hole stands for.
#[derive(Debug, Clone, PartialEq)]
pub enum Hole {
    /// A value an earlier step captured.
    Capture(String),
    /// A feeder's column in the user's row.
    Feeder {
        feeder: String,
        column: String,
    },
    /// A platform's base URL.
    Target(String),
    Uuid,
    Hex(usize),
    Id(String),
    Int(i64, i64),
    User,
    UserId,
    NowMs,
    Now,
}

/// What a template is rendered against: one user's state.
pub trait Scope {
    /// A captured value.
    fn capture(&self, name: &str) -> Option<&Value>;
    /// A column of the user's row of a feeder.
    fn feeder(&self, feeder: &str, column: &str) -> Option<&Value>;
    /// A platform's base URL.
    fn target(&self, platform: &str) -> Option<&str>;
    /// The user's index.
    fn user(&self) -> u64;
    /// The user's fixed id.
    fn user_id(&self) -> &str;
    /// The user's random source.
    fn rng(&mut self) -> &mut StdRng;
}

/// Why a template does not compile, or cannot be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    #[error("`{{{{` without its `}}}}`")]
    Unclosed,
    #[error("an empty `{{{{ }}}}`")]
    Empty,
    #[error("{0}")]
    Bad(String),
    #[error("nothing captured as {0:?} yet")]
    NoCapture(String),
    #[error("the user's row of feeder {0:?} has no column {1:?}")]
    NoColumn(String, String),
    #[error("no {0} target")]
    NoTarget(String),
}

/// The built-in names and functions, for errors and suggestions.
pub const BUILTINS: &[&str] = &[
    "uuid",
    "hex(N)",
    "id(prefix)",
    "int(A, B)",
    "user",
    "user_id",
    "now_ms",
    "now",
];

impl Template {
    /// Compiles `text`.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or(TemplateError::Unclosed)?;
            parts.push(Part::Hole(hole(after[..close].trim())?));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() || parts.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template {
            source: text.to_string(),
            parts,
        })
    }

    /// The text it was compiled from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The holes, in order.
    pub fn holes(&self) -> impl Iterator<Item = &Hole> {
        self.parts.iter().filter_map(|p| match p {
            Part::Hole(h) => Some(h),
            Part::Text(_) => None,
        })
    }

    /// Whether the template is plain text.
    pub fn is_literal(&self) -> bool {
        self.holes().next().is_none()
    }

    /// The value: a lone hole's own JSON value, any other template as a string.
    pub fn render(&self, scope: &mut dyn Scope) -> Result<Value, TemplateError> {
        if let [Part::Hole(hole)] = self.parts.as_slice() {
            return value(hole, scope);
        }
        let mut text = String::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => text.push_str(t),
                Part::Hole(hole) => match value(hole, scope)? {
                    Value::String(s) => text.push_str(&s),
                    other => text.push_str(&other.to_string()),
                },
            }
        }
        Ok(Value::String(text))
    }

    /// The value as text (a JSON string's content, any other value as JSON).
    pub fn render_text(&self, scope: &mut dyn Scope) -> Result<String, TemplateError> {
        Ok(match self.render(scope)? {
            Value::String(s) => s,
            other => other.to_string(),
        })
    }
}

/// One hole's expression.
fn hole(expr: &str) -> Result<Hole, TemplateError> {
    if expr.is_empty() {
        return Err(TemplateError::Empty);
    }
    if let Some((name, args)) = expr.split_once('(') {
        let args = args
            .strip_suffix(')')
            .ok_or_else(|| TemplateError::Bad(format!("{expr:?}: a call needs its `)`")))?;
        return call(name.trim(), args, expr);
    }
    Ok(match expr {
        "uuid" => Hole::Uuid,
        "user" => Hole::User,
        "user_id" => Hole::UserId,
        "now_ms" => Hole::NowMs,
        "now" => Hole::Now,
        _ => match expr.split_once('.') {
            Some(("target", platform)) => Hole::Target(platform.to_string()),
            Some((feeder, column)) if is_name(feeder) && is_name(column) => Hole::Feeder {
                feeder: feeder.to_string(),
                column: column.to_string(),
            },
            None if is_name(expr) => Hole::Capture(expr.to_string()),
            _ => {
                return Err(TemplateError::Bad(format!(
                    "{expr:?} is neither a capture, feeder.column, target.PLATFORM nor one of {}",
                    BUILTINS.join(", ")
                )))
            }
        },
    })
}

/// `hex(16)`, `id(ch)`, `int(1, 9)`.
fn call(name: &str, args: &str, expr: &str) -> Result<Hole, TemplateError> {
    let bad = |why: &str| TemplateError::Bad(format!("{expr:?}: {why}"));
    let args: Vec<&str> = args.split(',').map(str::trim).collect();
    match (name, args.as_slice()) {
        ("hex", [n]) => match n.parse::<usize>() {
            Ok(n) if (1..=256).contains(&n) => Ok(Hole::Hex(n)),
            _ => Err(bad("hex(N) takes N from 1 to 256")),
        },
        ("id", [prefix]) if is_name(prefix) => Ok(Hole::Id(prefix.to_string())),
        ("id", _) => Err(bad("id(prefix) takes a prefix of letters, digits, _ or -")),
        ("int", [a, b]) => match (a.parse::<i64>(), b.parse::<i64>()) {
            (Ok(a), Ok(b)) if a <= b => Ok(Hole::Int(a, b)),
            _ => Err(bad("int(A, B) takes two integers, A <= B")),
        },
        _ => Err(bad(&format!(
            "no function {name}({}) ; the built-ins are {}",
            args.join(", "),
            BUILTINS.join(", ")
        ))),
    }
}

fn is_name(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn value(hole: &Hole, scope: &mut dyn Scope) -> Result<Value, TemplateError> {
    Ok(match hole {
        Hole::Capture(name) => scope
            .capture(name)
            .cloned()
            .ok_or_else(|| TemplateError::NoCapture(name.clone()))?,
        Hole::Feeder { feeder, column } => scope
            .feeder(feeder, column)
            .cloned()
            .ok_or_else(|| TemplateError::NoColumn(feeder.clone(), column.clone()))?,
        Hole::Target(platform) => Value::String(
            scope
                .target(platform)
                .ok_or_else(|| TemplateError::NoTarget(platform.clone()))?
                .to_string(),
        ),
        Hole::Uuid => Value::String(uuid::Uuid::from_u128(scope.rng().gen()).to_string()),
        Hole::Hex(n) => Value::String(hex_digits(scope.rng(), *n)),
        Hole::Id(prefix) => Value::String(format!("{prefix}_{}", hex_digits(scope.rng(), 12))),
        Hole::Int(a, b) => Value::from(scope.rng().gen_range(*a..=*b)),
        Hole::User => Value::from(scope.user()),
        Hole::UserId => Value::String(scope.user_id().to_string()),
        Hole::NowMs => Value::from(now_ms()),
        Hole::Now => Value::String(now_rfc3339()),
    })
}

fn hex_digits(rng: &mut StdRng, n: usize) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    (0..n)
        .map(|_| char::from(DIGITS[rng.gen_range(0..16)]))
        .collect()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn now_rfc3339() -> String {
    protocol::alibaba::timestamp::format_utc(i64::try_from(now_ms()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use serde_json::json;
    use std::collections::HashMap;

    struct TestScope {
        captures: HashMap<String, Value>,
        rng: StdRng,
    }

    impl Scope for TestScope {
        fn capture(&self, name: &str) -> Option<&Value> {
            self.captures.get(name)
        }
        fn feeder(&self, feeder: &str, column: &str) -> Option<&Value> {
            (feeder == "users" && column == "name").then_some(&self.captures["feeder"])
        }
        fn target(&self, platform: &str) -> Option<&str> {
            (platform == "aui").then_some("http://127.0.0.1:1")
        }
        fn user(&self) -> u64 {
            7
        }
        fn user_id(&self) -> &str {
            "user_abc"
        }
        fn rng(&mut self) -> &mut StdRng {
            &mut self.rng
        }
    }

    fn scope() -> TestScope {
        TestScope {
            captures: HashMap::from([
                ("n".to_string(), json!(42)),
                ("feeder".to_string(), json!("alice")),
            ]),
            rng: StdRng::seed_from_u64(1),
        }
    }

    #[test]
    fn a_lone_hole_keeps_its_type_and_text_joins_as_a_string() {
        let mut s = scope();
        assert_eq!(
            Template::parse("{{ n }}").unwrap().render(&mut s),
            Ok(json!(42))
        );
        let joined = Template::parse("n={{n}}, {{ users.name }}@{{ target.aui }}, #{{ user }}")
            .unwrap()
            .render(&mut s)
            .unwrap();
        assert_eq!(joined, json!("n=42, alice@http://127.0.0.1:1, #7"));
        assert_eq!(
            Template::parse("plain").unwrap().render(&mut s),
            Ok(json!("plain"))
        );
        assert_eq!(Template::parse("").unwrap().render(&mut s), Ok(json!("")));
    }

    #[test]
    fn built_ins_give_fresh_values_of_their_shape() {
        let mut s = scope();
        let id = Template::parse("{{ id(ch) }}").unwrap();
        let (a, b) = (
            id.render_text(&mut s).unwrap(),
            id.render_text(&mut s).unwrap(),
        );
        assert!(a.starts_with("ch_") && a.len() == 15 && a != b, "{a} {b}");
        let hex = Template::parse("{{ hex(8) }}")
            .unwrap()
            .render_text(&mut s)
            .unwrap();
        assert!(hex.len() == 8 && hex.chars().all(|c| c.is_ascii_hexdigit()));
        let n = Template::parse("{{ int(3, 5) }}")
            .unwrap()
            .render(&mut s)
            .unwrap();
        assert!((3..=5).contains(&n.as_i64().unwrap()));
        let uuid = Template::parse("{{ uuid }}")
            .unwrap()
            .render_text(&mut s)
            .unwrap();
        assert!(uuid::Uuid::parse_str(&uuid).is_ok());
        assert_eq!(
            Template::parse("{{user_id}}").unwrap().render(&mut s),
            Ok(json!("user_abc"))
        );
    }

    #[test]
    fn bad_templates_say_what_is_wrong() {
        assert_eq!(Template::parse("a {{ b"), Err(TemplateError::Unclosed));
        assert_eq!(Template::parse("{{ }}"), Err(TemplateError::Empty));
        for bad in [
            "{{ hex(0) }}",
            "{{ int(5, 1) }}",
            "{{ rand(3) }}",
            "{{ a b }}",
            "{{ id() }}",
        ] {
            assert!(Template::parse(bad).is_err(), "{bad}");
        }
        let mut s = scope();
        let missing = Template::parse("{{ later }}").unwrap().render(&mut s);
        assert_eq!(missing, Err(TemplateError::NoCapture("later".into())));
    }
}
