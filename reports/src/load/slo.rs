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
//!
//! The error rule allows the rate itself (`errors<1%` passes one failure in a hundred), so
//! `errors<0%` means "no error at all". Quantiles are kept to the millionth, the precision
//! the verdict judges them at.
//!
//! # A route's own SLO
//!
//! A journey step may hold its route to stricter (or looser) rules than the run's:
//! [`LoadSlo::for_route`] applies a list of rules over the run's SLO, and
//! [`LoadRecorder::set_route_slo`](super::LoadRecorder::set_route_slo) judges that route by
//! the result. Every rule may differ per route except one: `max` may be lower than the run's,
//! never higher. The run's `max` is also the client timeout, one per run (goose has one
//! timeout), so every request is abandoned there; a route cannot wait longer than that, and a
//! `max<30s` on a route of a 20 s run would promise a measurement nobody makes. A lower `max`
//! is an exact rule of its own: no answer of that route took that long (a timed-out request
//! always did).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::verdict::Rule;

/// The accepted forms, shown in every parse error.
pub const ACCEPTED_FORMS: &str =
    "p95<2000ms, p99.9<1.5s (a quantile under a limit), max<20000ms (the timeout), errors<1%";

/// Limits of a load run. See the module docs for the rules that set them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoadSlo {
    /// Share of answers that must be under [`LoadSlo::limit_ms`], e.g. 0.95.
    pub quantile: f64,
    /// Answers must take strictly less than this, in milliseconds.
    pub limit_ms: u64,
    /// No answer may reach this; requests are abandoned (timed out) here. Milliseconds.
    pub timeout_ms: u64,
    /// Largest allowed share of failed or timed-out requests, e.g. 0.01 for 1 %.
    pub max_error_rate: f64,
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

    /// The SLO of one route: `rules` applied in order over `self`, the run's SLO, as
    /// [`LoadSlo::parse_rule`] applies them (no rules: the run's SLO itself). Refuses a `max`
    /// above the run's, which is the client timeout (see the module docs).
    ///
    /// ```
    /// use reports::load::LoadSlo;
    ///
    /// let run = LoadSlo::default();
    /// let login = run.for_route(&["p95<500ms", "errors<0.1%"]).unwrap();
    /// assert_eq!(login.describe(), "p95<500ms, max<20000ms, errors<0.1%");
    /// assert_eq!(login.differences_from(&run), "p95<500ms, errors<0.1%");
    /// assert!(run.for_route(&["max<5s"]).is_ok());
    /// let err = run.for_route(&["max<30s"]).unwrap_err();
    /// assert!(err.reason.contains("the run's 20000 ms timeout"), "{err}");
    /// ```
    pub fn for_route<S: AsRef<str>>(&self, rules: &[S]) -> Result<LoadSlo, SloParseError> {
        let mut slo = *self;
        for rule in rules {
            let rule = rule.as_ref();
            slo.parse_rule(rule)?;
            if slo.timeout_ms > self.timeout_ms {
                return Err(SloParseError {
                    rule: rule.to_owned(),
                    reason: format!(
                        "a route's max cannot be above the run's {} ms timeout, at which every \
                         request is abandoned; raise the run's timeout (--timeout-ms) or give \
                         the route a max at most that",
                        self.timeout_ms
                    ),
                });
            }
        }
        Ok(slo)
    }

    /// The rules of `self` that differ from `run`'s, in the rule syntax (`p95<500ms,
    /// errors<0.1%`); empty when they are the same. How reports name a route's own SLO.
    pub fn differences_from(&self, run: &LoadSlo) -> String {
        let rules: Vec<String> = [Rule::Quantile, Rule::Max, Rule::Errors]
            .into_iter()
            .map(|rule| (self.rule_text(rule), run.rule_text(rule)))
            .filter(|(own, theirs)| own != theirs)
            .map(|(own, _)| own)
            .collect();
        rules.join(", ")
    }

    /// One rule in the rule syntax: `p95<2000ms`, `max<20000ms` or `errors<1%`.
    pub fn rule_text(&self, rule: Rule) -> String {
        match rule {
            Rule::Quantile => format!("{}<{}ms", self.quantile_name(), self.limit_ms),
            Rule::Max => format!("max<{}ms", self.timeout_ms),
            Rule::Errors => format!("errors<{}%", self.error_percent()),
        }
    }

    /// The SLO in the rule syntax, e.g. `p95<2000ms, max<20000ms, errors<1%`.
    pub fn describe(&self) -> String {
        [Rule::Quantile, Rule::Max, Rule::Errors]
            .map(|rule| self.rule_text(rule))
            .join(", ")
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
    fn a_route_may_lower_the_max_but_never_raise_it() {
        let run = LoadSlo::default();
        assert_eq!(run.for_route(&["max<20s"]).unwrap(), run);
        assert_eq!(run.for_route(&["max<1s"]).unwrap().timeout_ms, 1000);
        let err = run.for_route(&["p99<1s", "max<20001ms"]).unwrap_err();
        assert_eq!(err.rule, "max<20001ms");
        assert!(run.for_route(&["p95<fast"]).is_err());
        assert_eq!(run.for_route::<&str>(&[]).unwrap(), run);
    }

    #[test]
    fn differences_name_only_the_rules_that_changed() {
        let run = LoadSlo::default();
        assert_eq!(run.differences_from(&run), "");
        let own = run.for_route(&["p99<2000ms", "max<5s"]).unwrap();
        assert_eq!(own.differences_from(&run), "p99<2000ms, max<5000ms");
    }

    #[test]
    fn a_bad_rule_leaves_the_slo_unchanged() {
        let mut slo = LoadSlo::default();
        assert!(slo.parse_rule("p99<fast").is_err());
        assert_eq!(slo, LoadSlo::default());
    }
}
