//! The SLO of a load run, [`LoadSlo`], and its command-line form.
//!
//! `agentproof load --slo` takes rules one at a time, each replacing one limit of the default
//! (`p95<2000ms, max<20000ms, errors<1%`):
//!
//! | rule | sets | meaning |
//! | --- | --- | --- |
//! | `p95<2000ms`, `p99.9<1.5s` | `quantile`, `limit_ms` | that share of answers took strictly less than the limit |
//! | `max<20000ms`, `max<20s` | `timeout_ms` | no answer reached it; it is also the client timeout |
//! | `errors<1%`, `errors<0.5%` | `max_error_rate` | at most that share failed or timed out |
//! | `ttft p95<800ms` | a [`RowQuantile`] in `rows` | the quantile rule for the rows whose name contains `ttft` (e.g. `alibaba POST llm /chat/completions ttft`); the other rows keep theirs |
//!
//! The error rule allows the rate itself (`errors<1%` passes one failure in a hundred), so
//! `errors<0%` means "no error at all". Quantiles are kept to the millionth, the precision
//! the verdict judges them at.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The accepted forms, shown in every parse error.
pub const ACCEPTED_FORMS: &str =
    "p95<2000ms, p99.9<1.5s (a quantile under a limit), max<20000ms (the timeout), errors<1%";

/// Limits of a load run. See the module docs for the rules that set them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadSlo {
    /// Share of answers that must be under [`LoadSlo::limit_ms`], e.g. 0.95.
    pub quantile: f64,
    /// Answers must take strictly less than this, in milliseconds.
    pub limit_ms: u64,
    /// No answer may reach this; requests are abandoned (timed out) here. Milliseconds.
    pub timeout_ms: u64,
    /// Largest allowed share of failed or timed-out requests, e.g. 0.01 for 1 %.
    pub max_error_rate: f64,
    /// Quantile rules for some rows only, in the order given (the last that matches a row wins).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<RowQuantile>,
}

/// A quantile rule for the rows whose name contains `rows` (`ttft p95<800ms`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowQuantile {
    /// A word of the row names it applies to, e.g. `ttft`.
    pub rows: String,
    /// Share of those rows' answers that must be under `limit_ms`.
    pub quantile: f64,
    /// Milliseconds.
    pub limit_ms: u64,
}

/// A rule `agentproof load --slo` could not read; carries the rule and says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad SLO rule {rule:?}: {reason}; accepted forms: {ACCEPTED_FORMS}")]
pub struct SloParseError {
    /// The rule as given.
    pub rule: String,
    /// What is wrong with it.
    pub reason: String,
}

impl Default for LoadSlo {
    /// `p95<2000ms, max<20000ms, errors<1%`, the SLO `agentproof check` also uses.
    fn default() -> Self {
        Self {
            quantile: 0.95,
            limit_ms: 2000,
            timeout_ms: 20_000,
            max_error_rate: 0.01,
            rows: Vec::new(),
        }
    }
}

impl LoadSlo {
    /// Applies one rule (`p95<2000ms`, `p99<1.5s`, `max<20000ms`, `errors<1%`), leaving the
    /// other limits as they were. Spaces around the parts are allowed; case is not ignored.
    pub fn parse_rule(&mut self, rule: &str) -> Result<(), SloParseError> {
        let bad = |reason: String| SloParseError {
            rule: rule.to_owned(),
            reason,
        };
        let (name, value) = rule
            .split_once('<')
            .ok_or_else(|| bad("no `<` between the measure and its limit".into()))?;
        let (name, value) = (name.trim(), value.trim());
        if value.starts_with('=') {
            return Err(bad("use `<`, not `<=`".into()));
        }
        if let Some((rows, measure)) = name.split_once(char::is_whitespace) {
            let measure = measure.trim();
            if !measure.starts_with('p') {
                return Err(bad(format!(
                    "only a quantile rule can name rows (`{rows} p95<800ms`), not {measure:?}"
                )));
            }
            let row = RowQuantile {
                rows: rows.to_string(),
                quantile: quantile(&measure[1..]).map_err(bad)?,
                limit_ms: duration_ms(value).map_err(bad)?,
            };
            self.rows.retain(|r| r.rows != row.rows);
            self.rows.push(row);
            return Ok(());
        }
        match name {
            "max" => self.timeout_ms = duration_ms(value).map_err(bad)?,
            "errors" => self.max_error_rate = percent(value).map_err(bad)?,
            _ if name.starts_with('p') => {
                let quantile = quantile(&name[1..]).map_err(bad)?;
                self.limit_ms = duration_ms(value).map_err(bad)?;
                self.quantile = quantile;
            }
            _ => {
                return Err(bad(format!(
                    "unknown measure {name:?} (use pNN, max or errors)"
                )))
            }
        }
        Ok(())
    }

    /// The SLO in the rule syntax, e.g. `p95<2000ms, max<20000ms, errors<1%, ttft p95<800ms`.
    pub fn describe(&self) -> String {
        let rows: String = self
            .rows
            .iter()
            .map(|r| {
                format!(
                    ", {} p{}<{}ms",
                    r.rows,
                    trimmed(r.quantile * 100.0),
                    r.limit_ms
                )
            })
            .collect();
        format!(
            "{}<{}ms, max<{}ms, errors<{}%{rows}",
            self.quantile_name(),
            self.limit_ms,
            self.timeout_ms,
            trimmed(self.max_error_rate * 100.0)
        )
    }

    /// The SLO one row is judged by: the last row rule whose word its name contains sets the
    /// quantile and its limit; the timeout and the error budget are everyone's.
    pub fn for_route(&self, route: &str) -> LoadSlo {
        let mut slo = LoadSlo {
            rows: Vec::new(),
            ..self.clone()
        };
        if let Some(row) = self.rows.iter().rev().find(|r| route.contains(&r.rows)) {
            slo.quantile = row.quantile;
            slo.limit_ms = row.limit_ms;
        }
        slo
    }

    /// `p95`, `p99.9`: the quantile as a percentile name.
    pub fn quantile_name(&self) -> String {
        format!("p{}", self.quantile_percent())
    }

    /// `95`, `99.9`: the quantile in percent, without float noise.
    pub fn quantile_percent(&self) -> String {
        trimmed(self.quantile * 100.0)
    }

    /// `1`, `0.5`: the error limit in percent, without float noise.
    pub fn error_percent(&self) -> String {
        trimmed(self.max_error_rate * 100.0)
    }

    /// The quantile in millionths, as the verdict compares it: 0.95 is 950 000.
    pub fn quantile_ppm(&self) -> u64 {
        ppm(self.quantile)
    }

    /// The error limit in millionths: 1 % is 10 000.
    pub fn error_ppm(&self) -> u64 {
        ppm(self.max_error_rate)
    }
}

impl fmt::Display for LoadSlo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// A share in millionths, rounded, clamped to 0..=1 000 000.
pub(crate) fn ppm(share: f64) -> u64 {
    (share.clamp(0.0, 1.0) * 1_000_000.0).round() as u64
}

/// A number printed with at most four decimals and no trailing zeros.
fn trimmed(value: f64) -> String {
    format!("{}", (value * 10_000.0).round() / 10_000.0)
}

fn number(text: &str, what: &str) -> Result<f64, String> {
    let ok = !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || c == '.');
    match text.parse::<f64>() {
        Ok(v) if ok && v.is_finite() => Ok(v),
        _ => Err(format!("{what} {text:?} is not a number")),
    }
}

/// `95` → 0.95, `99.9` → 0.999; strictly between 0 and 100.
fn quantile(text: &str) -> Result<f64, String> {
    let percent = number(text, "percentile")?;
    if percent <= 0.0 || percent >= 100.0 {
        return Err(format!("percentile p{text} must be above 0 and below 100"));
    }
    let q = percent / 100.0;
    if ppm(q) == 0 || ppm(q) == 1_000_000 {
        return Err(format!("percentile p{text} is finer than a millionth"));
    }
    Ok(q)
}

/// `2000ms` or `1.5s` → whole milliseconds, at least 1.
fn duration_ms(text: &str) -> Result<u64, String> {
    let (digits, scale) = if let Some(d) = text.strip_suffix("ms") {
        (d, 1.0)
    } else if let Some(d) = text.strip_suffix('s') {
        (d, 1000.0)
    } else {
        return Err(format!("limit {text:?} needs a unit, ms or s"));
    };
    let ms = (number(digits.trim(), "limit")? * scale).round();
    if !(1.0..=u64::MAX as f64).contains(&ms) {
        return Err(format!("limit {text:?} must be at least 1 ms"));
    }
    Ok(ms as u64)
}

/// `1%` → 0.01; 0 to 100.
fn percent(text: &str) -> Result<f64, String> {
    let digits = text
        .strip_suffix('%')
        .ok_or_else(|| format!("error limit {text:?} needs a % sign"))?;
    let value = number(digits.trim(), "error limit")?;
    if value > 100.0 {
        return Err(format!("error limit {text:?} is above 100%"));
    }
    Ok(value / 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_describes_itself_in_the_rule_syntax() {
        assert_eq!(
            LoadSlo::default().describe(),
            "p95<2000ms, max<20000ms, errors<1%"
        );
    }

    #[test]
    fn each_rule_replaces_only_its_own_limit() {
        let mut slo = LoadSlo::default();
        slo.parse_rule("p99.9<1.5s").unwrap();
        assert_eq!((slo.quantile_ppm(), slo.limit_ms), (999_000, 1500));
        assert_eq!(slo.timeout_ms, 20_000);
        slo.parse_rule(" errors < 0.5% ").unwrap();
        slo.parse_rule("max<30s").unwrap();
        assert_eq!(slo.describe(), "p99.9<1500ms, max<30000ms, errors<0.5%");
    }

    #[test]
    fn a_row_rule_sets_the_quantile_of_the_rows_it_names_only() {
        let mut slo = LoadSlo::default();
        slo.parse_rule("ttft p95<800ms").unwrap();
        slo.parse_rule("ttft p99 < 1s").unwrap();
        assert_eq!(
            slo.describe(),
            "p95<2000ms, max<20000ms, errors<1%, ttft p99<1000ms"
        );
        let ttft = slo.for_route("alibaba POST llm /chat/completions ttft");
        assert_eq!((ttft.quantile_ppm(), ttft.limit_ms), (990_000, 1000));
        let end = slo.for_route("alibaba POST llm /chat/completions end");
        assert_eq!((end.quantile_ppm(), end.limit_ms), (950_000, 2000));
        assert!(
            slo.parse_rule("ttft max<1s").is_err(),
            "only quantiles name rows"
        );
        assert!(slo.parse_rule("ttft p95<soon").is_err());
    }

    #[test]
    fn a_bad_rule_leaves_the_slo_unchanged() {
        let mut slo = LoadSlo::default();
        assert!(slo.parse_rule("p99<fast").is_err());
        assert_eq!(slo, LoadSlo::default());
    }
}
