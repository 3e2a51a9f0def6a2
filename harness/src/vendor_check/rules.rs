//! The rules both rule sets judge the same way, each given its own words: malformed requests
//! (must refuse / may accept), authentication, a share of times under a limit counted exactly,
//! and the timeout.

use super::send::{Answer, Missing};
use super::verdict::{cut, fail, pass, Outcome, Verdict};
use std::time::Duration;

/// What the platform asks of the answer to a malformed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// A 4xx: the request breaks what the contract requires, or is not JSON at all.
    Refuse,
    /// HTTP 200 or a 4xx, either right; the text says why the contract leaves it open.
    MayAccept(&'static str),
}

/// One malformed request: its name in the report, its raw body, what its answer must be.
pub struct Probe {
    pub name: String,
    pub body: Vec<u8>,
    pub expect: Expectation,
}

/// A malformed-request rule's words: its title and who leaves a case open ("the seed").
pub struct MalformedWords {
    pub title: &'static str,
    pub leaves_open: &'static str,
}

/// The malformed-request probes: a must-refuse one gets a 4xx; a may-accept one 200 or a 4xx,
/// noted either way; none a 5xx or no answer.
pub fn malformed(probes: &[(Probe, Result<Answer, Missing>)], words: &MalformedWords) -> Verdict {
    let mut judged = 0;
    let mut wrong = Vec::new();
    let mut notes = Vec::new();
    for (probe, answer) in probes {
        let status = match answer {
            Ok(a) => a.status,
            Err(Missing::Failed(why)) => {
                judged += 1;
                wrong.push(format!("{}: no answer ({})", probe.name, cut(why, 80)));
                continue;
            }
            Err(Missing::TimedOut) => continue,
        };
        judged += 1;
        let refused = (400..500).contains(&status);
        match probe.expect {
            Expectation::Refuse if refused => {}
            Expectation::Refuse => wrong.push(format!("{}: HTTP {status}", probe.name)),
            Expectation::MayAccept(why) if refused || status == 200 => {
                let how = if refused { "refused" } else { "accepted" };
                notes.push(format!(
                    "{}: HTTP {status}, {how} (either is right: {why})",
                    probe.name
                ));
            }
            Expectation::MayAccept(_) => {
                wrong.push(format!("{}: HTTP {status} (200 or 4xx)", probe.name))
            }
        }
    }
    let must = probes
        .iter()
        .filter(|(p, a)| p.expect == Expectation::Refuse && !matches!(a, Err(Missing::TimedOut)))
        .count();
    let outcome = match wrong.len() {
        _ if judged == 0 => Outcome::Skip("no probe was answered (see timeout)".into()),
        0 => pass(format!(
            "{must} of {must} must-refuse requests got 4xx; {} {} leaves open got 200 or 4xx",
            notes.len(),
            words.leaves_open
        )),
        n => fail(
            "HTTP 4xx for each must-refuse request, 200 or 4xx for each may-accept one",
            format!("{n} of {judged} wrong: {}", wrong.join("; ")),
        ),
    };
    Verdict::new("malformed", words.title, outcome).with_notes(notes)
}

/// A valid request sent without the right credentials: `what` says how (`without
/// authorization`, `with a wrong key`).
pub struct Attempt<'a> {
    pub what: String,
    pub answer: &'a Result<Answer, Missing>,
}

/// Each attempt gets 401 or 403; `skip` says why there was none to make.
pub fn auth(title: &'static str, attempts: &[Attempt<'_>], skip: &str) -> Verdict {
    if attempts.is_empty() {
        return Verdict::new("auth", title, Outcome::Skip(skip.to_string()));
    }
    let mut seen = Vec::new();
    for attempt in attempts {
        let status = match attempt.answer {
            Err(_) => {
                let why = format!("the request {} got no answer (see timeout)", attempt.what);
                return Verdict::new("auth", title, Outcome::Skip(why));
            }
            Ok(a) => a.status,
        };
        if !matches!(status, 401 | 403) {
            let got = format!("HTTP {status} to a valid request {}", attempt.what);
            return Verdict::new("auth", title, fail("HTTP 401 or 403", got));
        }
        seen.push(format!("HTTP {status} {}", attempt.what));
    }
    Verdict::new("auth", title, pass(seen.join(", ")))
}

/// A share-under-a-limit rule's words.
pub struct ShareWords {
    pub rule: &'static str,
    pub title: &'static str,
    /// Why there is nothing to judge.
    pub nothing: &'static str,
}

/// `percent`% of `times` strictly under `limit`, counted exactly; `None` is a request that timed
/// out (never under). `figures` are the distribution's percentiles for the line.
pub fn share_under(
    words: &ShareWords,
    times: &[Option<Duration>],
    limit: Duration,
    percent: usize,
    figures: Option<reports::LatencySummary>,
) -> Verdict {
    let total = times.len();
    let under = times.iter().flatten().filter(|t| **t < limit).count();
    let figures = figures.map_or(String::new(), |s| {
        format!(
            ": p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms
        )
    });
    let limit_ms = limit.as_millis();
    let seen = format!("{under} of {total} under {limit_ms} ms{figures}");
    let outcome = match total {
        0 => Outcome::Skip(words.nothing.into()),
        _ if under * 100 >= total * percent => pass(seen),
        _ => fail(format!("at least {percent}% under {limit_ms} ms"), seen),
    };
    Verdict::new(words.rule, words.title, outcome)
}

/// No request reached the timeout.
pub fn timeout(all: &[&Result<Answer, Missing>], timeout: Duration) -> Verdict {
    let title = "no request reaches the timeout";
    let timed_out = all
        .iter()
        .filter(|a| matches!(a, Err(Missing::TimedOut)))
        .count();
    let outcome = match timed_out {
        0 => pass(format!(
            "{} requests, none timed out after {} ms",
            all.len(),
            timeout.as_millis()
        )),
        n => fail(
            format!("an answer within {} ms", timeout.as_millis()),
            format!(
                "{n} of {} requests timed out after {} ms",
                all.len(),
                timeout.as_millis()
            ),
        ),
    };
    Verdict::new("timeout", title, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16) -> Result<Answer, Missing> {
        Ok(Answer {
            status,
            is_sse: false,
            body: Vec::new(),
            elapsed: Duration::from_millis(1),
            first_event: None,
        })
    }

    #[test]
    fn the_share_is_counted_exactly_and_a_timeout_is_never_under() {
        let words = ShareWords {
            rule: "ttft",
            title: "t",
            nothing: "none",
        };
        let limit = Duration::from_millis(1000);
        let mut times = vec![Some(Duration::from_millis(10)); 19];
        times.push(Some(limit));
        assert!(
            !share_under(&words, &times, limit, 95, None).failed(),
            "19 of 20"
        );
        times.push(None);
        assert!(
            share_under(&words, &times, limit, 95, None).failed(),
            "19 of 21"
        );
        let nothing = share_under(&words, &[], limit, 95, None);
        assert!(matches!(nothing.outcome, Outcome::Skip(_)));
    }

    #[test]
    fn auth_needs_every_attempt_refused() {
        let (refused, accepted) = (answer(401), answer(200));
        let attempts = |second| {
            vec![
                Attempt {
                    what: "without the key".into(),
                    answer: &refused,
                },
                Attempt {
                    what: "with a wrong key".into(),
                    answer: second,
                },
            ]
        };
        let ok = auth("t", &attempts(&refused), "");
        assert_eq!(
            ok.line(),
            "  ok    auth: HTTP 401 without the key, HTTP 401 with a wrong key"
        );
        let broken = auth("t", &attempts(&accepted), "");
        assert_eq!(
            broken.line(),
            "  FAIL  auth: HTTP 200 to a valid request with a wrong key"
        );
        assert!(matches!(auth("t", &[], "no key").outcome, Outcome::Skip(_)));
    }
}
