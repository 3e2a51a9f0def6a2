//! What both checkers take from their command line the same way (`--requests`,
//! `--concurrency`, `--rate`, `--timeout-ms`, `--report-dir`, `--junit`), checked before any
//! traffic (every error a usage error, exit 2), and the HTTP client they send with.

use anyhow::{anyhow, bail, Context, Result};
use std::path::PathBuf;
use std::time::Duration;

/// The settings both checkers share.
pub struct Common {
    pub requests: usize,
    pub concurrency: usize,
    /// `--rate`: when each request is due.
    pub schedule: Option<scenarios::Schedule>,
    pub timeout: Duration,
    pub report_dir: PathBuf,
    pub junit: Option<PathBuf>,
}

/// The flags as clap parsed them.
pub struct CommonArgs<'a> {
    pub requests: u64,
    pub concurrency: u64,
    pub rate: Option<f64>,
    pub timeout_ms: u64,
    pub report_dir: &'a PathBuf,
    pub junit: Option<&'a PathBuf>,
}

impl Common {
    /// Checks the flags and creates `--report-dir`.
    pub fn from_args(args: CommonArgs<'_>) -> Result<Common> {
        if let Some(rate) = args.rate {
            if !(rate.is_finite() && rate > 0.0 && rate <= 100_000.0) {
                bail!("--rate {rate}: requests per second must be above 0 and at most 100000");
            }
        }
        std::fs::create_dir_all(args.report_dir)
            .with_context(|| format!("cannot create --report-dir {}", args.report_dir.display()))?;
        if let Some(junit) = args.junit {
            let parent = junit.parent().filter(|p| !p.as_os_str().is_empty());
            if parent.is_some_and(|p| !p.is_dir()) {
                bail!("--junit {}: its folder does not exist", junit.display());
            }
        }
        Ok(Common {
            requests: usize::try_from(args.requests).unwrap_or(usize::MAX),
            concurrency: usize::try_from(args.concurrency).unwrap_or(1),
            schedule: args.rate.map(|rate| scenarios::Schedule::new(rate, 1)),
            timeout: Duration::from_millis(args.timeout_ms),
            report_dir: args.report_dir.clone(),
            junit: args.junit.cloned(),
        })
    }

    /// The client: the timeout on every request, no redirect followed (the platform follows
    /// none).
    pub fn client(&self) -> Result<reqwest::Client> {
        Ok(reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .build()?)
    }

    /// Waits for this request's slot under `--rate`.
    pub async fn wait_turn(&self) {
        if let Some(schedule) = &self.schedule {
            schedule.wait_turn(0, || false).await;
        }
    }
}

/// The URL's host answers TCP within 5 s, or the connect error in words naming `what` (exit 2).
pub async fn reachable(url: &str, what: &str) -> Result<()> {
    crate::net::tcp_reachable(url).await.map_err(|why| {
        anyhow!(
            "cannot reach the {what} at {}: {why}",
            crate::net::shown_url(url)
        )
    })
}

/// `Name:value` of `--header`.
pub fn parse_header(text: &str) -> Result<(String, String)> {
    let (name, value) = text.split_once(':').ok_or_else(|| {
        anyhow!(
            "--header {:?}: expected NAME:VALUE, e.g. 'Authorization:Bearer <token>'",
            name_only(text)
        )
    })?;
    let name = name.trim().to_ascii_lowercase();
    reqwest::header::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| anyhow!("--header {name:?}: not a valid header name"))?;
    reqwest::header::HeaderValue::from_str(value.trim())
        .map_err(|_| anyhow!("--header {name}: the value is not a valid header value"))?;
    Ok((name, value.trim().to_string()))
}

/// What of a malformed `--header` may be shown: its first word, when it looks like a header
/// name, else nothing (without a colon the value is not told apart, and it may be a secret).
fn name_only(text: &str) -> &str {
    let word = text.split([':', ' ', '=', '\t']).next().unwrap_or_default();
    match !word.is_empty()
        && word.len() < text.len()
        && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        true => word,
        false => "…",
    }
}

/// Header names whose values are credentials: the auth rule withholds these.
pub fn is_credential(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "authorization"
        || name == "cookie"
        || ["key", "token", "secret", "auth"]
            .iter()
            .any(|w| name.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_name_colon_value_and_errors_hide_the_value() {
        assert_eq!(
            parse_header("Authorization: Bearer s3cret").unwrap(),
            ("authorization".into(), "Bearer s3cret".into())
        );
        let error = parse_header("Authorization Bearer s3cret")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("NAME:VALUE") && !error.contains("s3cret"),
            "{error}"
        );
        assert!(parse_header("bad name:x").is_err());
    }
}
