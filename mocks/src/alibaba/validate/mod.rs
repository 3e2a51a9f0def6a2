//! Parameter validation, table-driven: each nested parameter has a list of [`Field`]s, a dotted
//! path and a [`Rule`]; the first broken rule becomes `InvalidParameter` naming the full path
//! (`RtcConfig.UserInactivityTimeout`) and why. Fields not in a table are accepted as they are:
//! the real API ignores what it does not know, and so does the mock.
//!
//! [`rtc`] holds seed 002 (StartAgent), [`ice`] the AI-agent instance rules.

pub mod ice;
pub mod rtc;

use protocol::alibaba::ApiError;
use serde_json::{Map, Value};

/// What one field must be.
#[derive(Debug, Clone, Copy)]
pub enum Rule {
    /// An integer in `[min, max]`.
    Int(i64, i64),
    /// An integer from the list.
    IntOneOf(&'static [i64]),
    /// 0 (feature off) or an integer in `[min, max]`.
    ZeroOr(i64, i64),
    /// A number between `min` and `max`; `open_min`/`open_max` exclude the bound.
    Float {
        min: f64,
        max: f64,
        open_min: bool,
        open_max: bool,
    },
    /// A string from the list (the empty string too, when `empty_ok`).
    OneOf {
        values: &'static [&'static str],
        empty_ok: bool,
    },
    /// Any string.
    Str,
    /// `true` or `false`.
    Bool,
    /// A JSON object.
    Object,
    /// An array of at most `max` strings, each from `values` when given.
    Strings {
        max: usize,
        values: Option<&'static [&'static str]>,
    },
    /// An array of `min_len..=max_len` integers, each in `[lo, hi]`.
    Ints {
        min_len: usize,
        max_len: usize,
        lo: i64,
        hi: i64,
    },
}

/// A rule at a dotted path inside one parameter.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub path: &'static str,
    pub rule: Rule,
}

/// Shorthand for table rows.
pub const fn field(path: &'static str, rule: Rule) -> Field {
    Field { path, rule }
}

/// Checks every field of `table` present in `object` (the parameter `param`). List parents
/// before children: a parent that is not an object is reported as such.
pub fn check(param: &str, object: &Map<String, Value>, table: &[Field]) -> Result<(), ApiError> {
    for f in table {
        if let Some(value) = lookup(object, f.path) {
            let name = format!("{param}.{}", f.path);
            check_value(&name, value, f.rule)?;
        }
    }
    Ok(())
}

/// The value at a dotted path; `null` counts as absent.
pub fn lookup<'a>(object: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut current = object.get(parts.next()?)?;
    for part in parts {
        current = current.as_object()?.get(part)?;
    }
    (!current.is_null()).then_some(current)
}

/// `InvalidParameter` naming `name`.
pub fn invalid(name: &str, detail: impl AsRef<str>) -> ApiError {
    ApiError::invalid_parameter(name, detail.as_ref())
}

fn check_value(name: &str, value: &Value, rule: Rule) -> Result<(), ApiError> {
    match rule {
        Rule::Int(min, max) => int_in(name, value, min, max).map(drop),
        Rule::IntOneOf(allowed) => {
            let n = integer(name, value)?;
            if allowed.contains(&n) {
                Ok(())
            } else {
                Err(invalid(
                    name,
                    format!("must be one of {allowed:?}, got {n}"),
                ))
            }
        }
        Rule::ZeroOr(min, max) => match integer(name, value)? {
            0 => Ok(()),
            n if (min..=max).contains(&n) => Ok(()),
            n => Err(invalid(
                name,
                format!("must be 0 or in [{min},{max}], got {n}"),
            )),
        },
        Rule::Float {
            min,
            max,
            open_min,
            open_max,
        } => float_in(name, value, (min, open_min), (max, open_max)),
        Rule::OneOf { values, empty_ok } => one_of(name, value, values, empty_ok),
        Rule::Str => value
            .as_str()
            .map(drop)
            .ok_or_else(|| invalid(name, "must be a string")),
        Rule::Bool => value
            .as_bool()
            .map(drop)
            .ok_or_else(|| invalid(name, "must be true or false")),
        Rule::Object => value
            .as_object()
            .map(drop)
            .ok_or_else(|| invalid(name, "must be an object")),
        Rule::Strings { max, values } => strings(name, value, max, values),
        Rule::Ints {
            min_len,
            max_len,
            lo,
            hi,
        } => ints(name, value, (min_len, max_len), (lo, hi)),
    }
}

/// An integer JSON number (not `30.0`, not `"30"`).
pub fn integer(name: &str, value: &Value) -> Result<i64, ApiError> {
    value
        .as_i64()
        .ok_or_else(|| invalid(name, format!("must be an integer, got {value}")))
}

fn int_in(name: &str, value: &Value, min: i64, max: i64) -> Result<i64, ApiError> {
    let n = integer(name, value)?;
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(invalid(name, format!("must be in [{min},{max}], got {n}")))
    }
}

fn float_in(
    name: &str,
    value: &Value,
    (min, open_min): (f64, bool),
    (max, open_max): (f64, bool),
) -> Result<(), ApiError> {
    let x = value
        .as_f64()
        .ok_or_else(|| invalid(name, format!("must be a number, got {value}")))?;
    let above = if open_min { x > min } else { x >= min };
    let below = if open_max { x < max } else { x <= max };
    if above && below {
        return Ok(());
    }
    let (l, r) = (
        if open_min { '(' } else { '[' },
        if open_max { ')' } else { ']' },
    );
    Err(invalid(
        name,
        format!("must be in {l}{min},{max}{r}, got {x}"),
    ))
}

fn one_of(name: &str, value: &Value, values: &[&str], empty_ok: bool) -> Result<(), ApiError> {
    let s = value
        .as_str()
        .ok_or_else(|| invalid(name, "must be a string"))?;
    if values.contains(&s) || (empty_ok && s.is_empty()) {
        Ok(())
    } else {
        Err(invalid(
            name,
            format!("must be one of {values:?}, got {s:?}"),
        ))
    }
}

fn strings(name: &str, value: &Value, max: usize, values: Option<&[&str]>) -> Result<(), ApiError> {
    let items = value
        .as_array()
        .ok_or_else(|| invalid(name, "must be an array of strings"))?;
    if items.len() > max {
        return Err(invalid(
            name,
            format!("must have at most {max} item(s), got {}", items.len()),
        ));
    }
    for item in items {
        let s = item
            .as_str()
            .ok_or_else(|| invalid(name, "must be an array of strings"))?;
        if let Some(allowed) = values.filter(|a| !a.contains(&s)) {
            return Err(invalid(
                name,
                format!("items must be among {allowed:?}, got {s:?}"),
            ));
        }
    }
    Ok(())
}

fn ints(
    name: &str,
    value: &Value,
    (min_len, max_len): (usize, usize),
    (lo, hi): (i64, i64),
) -> Result<(), ApiError> {
    let items = value
        .as_array()
        .ok_or_else(|| invalid(name, "must be an array of integers"))?;
    if !(min_len..=max_len).contains(&items.len()) {
        let detail = format!(
            "must have {min_len} to {max_len} items, got {}",
            items.len()
        );
        return Err(invalid(name, detail));
    }
    for item in items {
        int_in(name, item, lo, hi)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    const TABLE: &[Field] = &[
        field("A", Rule::Object),
        field("A.N", Rule::Int(5, 180)),
        field(
            "T",
            Rule::Float {
                min: 0.0,
                max: 2.0,
                open_min: false,
                open_max: true,
            },
        ),
    ];

    #[test]
    fn the_message_names_the_full_path_and_the_range() {
        let err = check("Cfg", &obj(json!({"A": {"N": 4}})), TABLE).unwrap_err();
        assert_eq!(err.code, "InvalidParameter");
        assert!(err.message.contains("Cfg.A.N"), "{}", err.message);
        assert!(err.message.contains("[5,180]"), "{}", err.message);
        assert!(check("Cfg", &obj(json!({"A": {"N": 5}})), TABLE).is_ok());
    }

    #[test]
    fn a_parent_of_the_wrong_type_is_named() {
        let err = check("Cfg", &obj(json!({"A": 3})), TABLE).unwrap_err();
        assert!(
            err.message
                .contains("Cfg.A is not valid: must be an object"),
            "{}",
            err.message
        );
    }

    #[test]
    fn open_bounds_exclude_the_bound() {
        assert!(check("C", &obj(json!({"T": 2.0})), TABLE).is_err());
        assert!(check("C", &obj(json!({"T": 1.99})), TABLE).is_ok());
        assert!(check("C", &obj(json!({"T": null})), TABLE).is_ok());
    }
}
