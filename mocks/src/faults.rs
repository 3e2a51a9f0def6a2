//! Fault injection, configured per route through `/__admin/faults`.
//!
//! A rule names a route key (an Alibaba action such as `StartAgent`, or a path such as
//! `/api/v2/aiagent/getRtcAuthToken`, or `*` for every route) and any of: added latency drawn from a
//! fixed, uniform or lognormal distribution; an error rate answered with a given status and code in the
//! platform's own envelope; a connection-reset rate. Rules are evaluated in the order they were added;
//! the first matching rule applies. The rule set is bounded ([`MAX_RULES`]).

use rand::Rng;
use serde::{Deserialize, Serialize};
use std::sync::RwLock;
use std::time::Duration;

/// Most rules kept at once; adding more is refused with a clear error.
pub const MAX_RULES: usize = 256;

/// Added latency.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Latency {
    /// Always `ms`.
    Fixed { ms: u64 },
    /// Uniform in `[min_ms, max_ms]`.
    Uniform { min_ms: u64, max_ms: u64 },
    /// Lognormal with the given median and shape (sigma of the underlying normal), capped at `max_ms`.
    Lognormal {
        median_ms: f64,
        sigma: f64,
        #[serde(default = "default_cap_ms")]
        max_ms: u64,
    },
}

fn default_cap_ms() -> u64 {
    60_000
}

/// The error answered for the injected share of requests.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InjectedError {
    /// HTTP status, 400..=599.
    pub status: u16,
    /// The platform's error code (e.g. `ServiceUnavailable`, `-1`, `500`).
    pub code: String,
    #[serde(default)]
    pub message: Option<String>,
}

/// One fault rule, as posted to `/__admin/faults`.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Assigned by the server.
    #[serde(default)]
    pub id: u64,
    /// Route key or `*`.
    pub route: String,
    #[serde(default)]
    pub latency: Option<Latency>,
    /// Share of requests answered with `error`, 0.0..=1.0.
    #[serde(default)]
    pub error_rate: f64,
    #[serde(default)]
    pub error: Option<InjectedError>,
    /// Share of requests whose connection is dropped without an answer, 0.0..=1.0.
    #[serde(default)]
    pub reset_rate: f64,
}

/// What the edge should do to one request.
#[derive(Debug, Default, PartialEq)]
pub struct FaultDecision {
    pub delay: Option<Duration>,
    pub error: Option<InjectedError>,
    pub reset: bool,
}

/// Why a rule was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RuleError {
    #[error("route must not be empty (use \"*\" for every route)")]
    EmptyRoute,
    #[error("{field} must be between 0.0 and 1.0, got {value}")]
    RateOutOfRange { field: &'static str, value: f64 },
    #[error("error_rate > 0 needs an \"error\": {{\"status\": 503, \"code\": \"...\"}}")]
    ErrorMissing,
    #[error("error.status must be 400..=599, got {0}")]
    BadStatus(u16),
    #[error("latency: {0}")]
    BadLatency(String),
    #[error("too many fault rules (at most {MAX_RULES}); DELETE /__admin/faults first")]
    TooMany,
}

/// The live rule set.
#[derive(Debug, Default)]
pub struct Faults {
    inner: RwLock<(u64, Vec<FaultRule>)>,
}

impl FaultRule {
    fn validate(&self) -> Result<(), RuleError> {
        if self.route.trim().is_empty() {
            return Err(RuleError::EmptyRoute);
        }
        for (field, value) in [
            ("error_rate", self.error_rate),
            ("reset_rate", self.reset_rate),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(RuleError::RateOutOfRange { field, value });
            }
        }
        match &self.error {
            None if self.error_rate > 0.0 => return Err(RuleError::ErrorMissing),
            Some(e) if !(400..=599).contains(&e.status) => {
                return Err(RuleError::BadStatus(e.status))
            }
            _ => {}
        }
        match &self.latency {
            Some(Latency::Uniform { min_ms, max_ms }) if min_ms > max_ms => Err(
                RuleError::BadLatency(format!("min_ms {min_ms} is above max_ms {max_ms}")),
            ),
            Some(Latency::Lognormal {
                median_ms, sigma, ..
            }) if !(median_ms.is_finite()
                && *median_ms > 0.0
                && sigma.is_finite()
                && *sigma >= 0.0) =>
            {
                Err(RuleError::BadLatency(
                    "lognormal needs median_ms > 0 and sigma >= 0".into(),
                ))
            }
            _ => Ok(()),
        }
    }

    fn matches(&self, route: &str, path: &str) -> bool {
        self.route == "*" || self.route == route || self.route == path
    }
}

impl Faults {
    /// Adds a rule after checking it; returns its id.
    pub fn add(&self, mut rule: FaultRule) -> Result<u64, RuleError> {
        rule.validate()?;
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if guard.1.len() >= MAX_RULES {
            return Err(RuleError::TooMany);
        }
        guard.0 += 1;
        rule.id = guard.0;
        guard.1.push(rule);
        Ok(guard.0)
    }

    /// Every rule, in evaluation order.
    pub fn list(&self) -> Vec<FaultRule> {
        self.inner.read().map(|g| g.1.clone()).unwrap_or_default()
    }

    /// Removes one rule; false when no rule had that id.
    pub fn remove(&self, id: u64) -> bool {
        let mut guard = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let before = guard.1.len();
        guard.1.retain(|r| r.id != id);
        guard.1.len() != before
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.inner
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clear();
    }

    /// Draws what happens to a request on `route` (or `path`) now. The lock is released before the
    /// caller sleeps.
    pub fn decide(&self, route: &str, path: &str) -> FaultDecision {
        let rule = {
            let guard = self.inner.read().unwrap_or_else(|e| e.into_inner());
            if guard.1.is_empty() {
                return FaultDecision::default();
            }
            match guard.1.iter().find(|r| r.matches(route, path)) {
                Some(rule) => rule.clone(),
                None => return FaultDecision::default(),
            }
        };
        let mut rng = rand::thread_rng();
        FaultDecision {
            delay: rule.latency.as_ref().map(|l| sample(l, &mut rng)),
            reset: rule.reset_rate > 0.0 && rng.gen_bool(rule.reset_rate),
            error: (rule.error_rate > 0.0 && rng.gen_bool(rule.error_rate))
                .then(|| rule.error.clone())
                .flatten(),
        }
    }
}

fn sample(latency: &Latency, rng: &mut impl Rng) -> Duration {
    let ms = match *latency {
        Latency::Fixed { ms } => ms as f64,
        Latency::Uniform { min_ms, max_ms } => rng.gen_range(min_ms..=max_ms) as f64,
        Latency::Lognormal {
            median_ms,
            sigma,
            max_ms,
        } => {
            // Box-Muller: one standard normal draw, then exp(mu + sigma * z) with mu = ln(median).
            let u1: f64 = rng.gen_range(f64::EPSILON..1.0);
            let u2: f64 = rng.gen();
            let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            (median_ms.ln() + sigma * z).exp().min(max_ms as f64)
        }
    };
    Duration::from_micros((ms * 1000.0) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: &str) -> FaultRule {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn an_always_failing_rule_always_fails_its_route_only() {
        let faults = Faults::default();
        faults
            .add(rule(r#"{"route":"StartAgent","error_rate":1.0,"error":{"status":503,"code":"ServiceUnavailable"}}"#))
            .unwrap();
        assert_eq!(faults.decide("StartAgent", "/").error.unwrap().status, 503);
        assert_eq!(faults.decide("GetAgent", "/"), FaultDecision::default());
    }

    #[test]
    fn bad_rules_are_refused_with_the_reason() {
        let faults = Faults::default();
        assert_eq!(
            faults.add(rule(r#"{"route":"*","error_rate":0.5}"#)),
            Err(RuleError::ErrorMissing)
        );
        assert!(matches!(
            faults.add(rule(r#"{"route":"*","reset_rate":1.5}"#)),
            Err(RuleError::RateOutOfRange { .. })
        ));
        assert!(faults
            .add(rule(
                r#"{"route":"*","latency":{"kind":"uniform","min_ms":5,"max_ms":1}}"#
            ))
            .is_err());
    }

    #[test]
    fn latency_samples_stay_in_their_bounds() {
        let mut rng = rand::thread_rng();
        for _ in 0..1000 {
            let d = sample(
                &Latency::Uniform {
                    min_ms: 10,
                    max_ms: 20,
                },
                &mut rng,
            );
            assert!((10..=20).contains(&(d.as_millis() as u64)));
            let d = sample(
                &Latency::Lognormal {
                    median_ms: 50.0,
                    sigma: 2.0,
                    max_ms: 500,
                },
                &mut rng,
            );
            assert!(d.as_millis() <= 500);
        }
        assert_eq!(
            sample(&Latency::Fixed { ms: 7 }, &mut rng),
            Duration::from_millis(7)
        );
    }

    #[test]
    fn removing_a_rule_stops_it() {
        let faults = Faults::default();
        let id = faults
            .add(rule(r#"{"route":"*","reset_rate":1.0}"#))
            .unwrap();
        assert!(faults.decide("x", "/x").reset);
        assert!(faults.remove(id));
        assert!(!faults.decide("x", "/x").reset);
    }
}
