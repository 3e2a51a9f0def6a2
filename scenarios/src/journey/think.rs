//! Think time between steps, and the durations a journey file writes (`500ms`, `2s`, `1m30s`).

use super::spec::ThinkSpec;
use rand::Rng;
use std::time::Duration;

/// How long a user waits after a step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Think {
    /// Always this long.
    Fixed(Duration),
    /// Evenly between the two.
    Uniform(Duration, Duration),
    /// Log-normal: half the waits under `median`, spread by `sigma`; capped at 100 × median.
    Lognormal { median: Duration, sigma: f64 },
}

impl Think {
    /// The think time a spec describes, or what is wrong with it.
    pub fn from_spec(spec: &ThinkSpec) -> Result<Think, String> {
        match spec {
            ThinkSpec::Fixed(text) => Ok(Think::Fixed(parse_duration(text)?)),
            ThinkSpec::Shaped(shape) => match (&shape.uniform, &shape.lognormal) {
                (Some([low, high]), None) => {
                    let (low, high) = (parse_duration(low)?, parse_duration(high)?);
                    if low > high {
                        return Err(format!("uniform from {low:?} to {high:?}: the first must not be the larger"));
                    }
                    Ok(Think::Uniform(low, high))
                }
                (None, Some(l)) => {
                    if !(l.sigma.is_finite() && (0.0..=10.0).contains(&l.sigma)) {
                        return Err(format!("lognormal sigma {} must be from 0 to 10", l.sigma));
                    }
                    Ok(Think::Lognormal {
                        median: parse_duration(&l.median)?,
                        sigma: l.sigma,
                    })
                }
                _ => Err(
                    "think is \"1s\", { uniform = [\"1s\", \"3s\"] } or { lognormal = { median = \"1s\", sigma = 0.5 } }"
                        .into(),
                ),
            },
        }
    }

    /// One wait.
    pub fn sample(&self, rng: &mut impl Rng) -> Duration {
        match *self {
            Think::Fixed(d) => d,
            Think::Uniform(low, high) if low == high => low,
            Think::Uniform(low, high) => rng.gen_range(low..=high),
            Think::Lognormal { median, sigma } => {
                // Box-Muller: a standard normal from two uniforms.
                let (u1, u2): (f64, f64) = (rng.gen_range(f64::EPSILON..1.0), rng.gen());
                let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
                let secs = (median.as_secs_f64().ln() + sigma * z).exp();
                Duration::from_secs_f64(secs.min(median.as_secs_f64() * 100.0))
            }
        }
    }
}

/// `500ms`, `2s`, `1.5s`, `5m`, `1h`, `1m30s`; a plain number is seconds. At most a day.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration: use e.g. 500ms, 2s, 1m30s, 1h");
    let text = text.trim();
    if text.is_empty() {
        return Err(bad());
    }
    if let Ok(secs) = text.parse::<f64>() {
        return seconds(secs).ok_or_else(bad);
    }
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let (scale, unit) = if rest.starts_with("ms") {
            (0.001, 2)
        } else {
            match rest.chars().next() {
                Some('s') => (1.0, 1),
                Some('m') => (60.0, 1),
                Some('h') => (3600.0, 1),
                _ => return Err(bad()),
            }
        };
        total += number * scale;
        rest = &rest[unit..];
    }
    seconds(total).ok_or_else(bad)
}

fn seconds(secs: f64) -> Option<Duration> {
    (secs.is_finite() && (0.0..=86_400.0).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn durations_read_as_people_write_them() {
        let ms = |t: &str| parse_duration(t).map(|d| d.as_millis());
        assert_eq!(ms("500ms"), Ok(500));
        assert_eq!(ms("1m30s"), Ok(90_000));
        assert_eq!(ms("1.5s"), Ok(1500));
        assert_eq!(ms("2"), Ok(2000));
        assert_eq!(ms("1h"), Ok(3_600_000));
        for bad in ["", "fast", "5 minutes", "1d", "-1s", "2s3", "inf"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn think_times_stay_in_their_shape() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let uniform = Think::Uniform(Duration::from_millis(100), Duration::from_millis(200));
        for _ in 0..100 {
            let d = uniform.sample(&mut rng).as_millis();
            assert!((100..=200).contains(&d), "{d}");
        }
        let lognormal = Think::Lognormal {
            median: Duration::from_millis(100),
            sigma: 0.5,
        };
        let mut waits: Vec<u128> = (0..2001)
            .map(|_| lognormal.sample(&mut rng).as_millis())
            .collect();
        waits.sort_unstable();
        let median = waits[1000];
        assert!((85..=115).contains(&median), "median {median}");
    }
}
