//! What `check` drives: a [`Target`] per platform (its base URL, whether it has the mocks'
//! `/__admin` API) and the [`Credentials`] the suites sign with.
//!
//! Targets come from `--target PLATFORM=URL`, or from the embedded mocks when there is none.
//! Credentials come from flags or env (`--alibaba-key ID:SECRET`, ...) and default to the mocks'
//! demo credentials, so `check --target aui=http://127.0.0.1:18602` works against `agentproof mock`.
//! How the AUI target authenticates is the user's to name (`--aui-auth`, [`AuiAuth`]); it
//! defaults to the mock's bearer login.

use anyhow::{anyhow, bail, Result};
use protocol::request::aui::auth::AuiAuth;
use serde_json::{Map, Value};
use std::fmt;

/// The three platforms, named as everywhere in agentproof.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Platform {
    Alibaba,
    Aui,
    Duix,
}

impl Platform {
    pub const ALL: [Platform; 3] = [Platform::Alibaba, Platform::Aui, Platform::Duix];

    pub fn name(self) -> &'static str {
        match self {
            Platform::Alibaba => "alibaba",
            Platform::Aui => "aui",
            Platform::Duix => "duix",
        }
    }

    pub fn parse(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One platform at one base URL.
#[derive(Clone, Debug)]
pub struct Target {
    pub platform: Platform,
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:18602`.
    pub url: String,
    /// Whether `GET /__admin/clock` answers: clock-controlled expiry cases run only then.
    pub has_clock: bool,
    /// Whether `GET /__admin/faults` answers: server-failure error cases run only then.
    pub has_faults: bool,
    /// AUI: the routes it serves, when probed (`None`: not probed, every route is taken as
    /// served: the other platforms and the embedded mocks).
    pub served: Option<super::aui_target::Served>,
}

/// `PLATFORM=URL` from `--target`.
pub fn parse_target(spec: &str) -> Result<(Platform, String)> {
    let (name, url) = spec.split_once('=').ok_or_else(|| {
        anyhow!("--target {spec:?}: expected PLATFORM=URL, e.g. aui=http://127.0.0.1:18602")
    })?;
    let platform = Platform::parse(name.trim()).ok_or_else(|| {
        anyhow!("--target {spec:?}: unknown platform {name:?} (alibaba, aui, duix)")
    })?;
    let url = url.trim().trim_end_matches('/');
    let parsed = reqwest::Url::parse(url)
        .map_err(|e| anyhow!("--target {spec:?}: {url:?} is not a URL ({e})"))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        // Not echoed: the URL holds a secret, and target URLs go into every report.
        bail!(
            "--target {name}=...: the URL carries credentials, which would be printed in the output \
             and every report; pass them with --alibaba-key, --aui-user or --duix-app instead"
        );
    }
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        bail!("--target {spec:?}: the URL must be http:// or https:// with a host");
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        bail!("--target {spec:?}: a base URL takes no ?query or #fragment (a path prefix is fine)");
    }
    Ok((platform, url.to_string()))
}

/// A `NAME:SECRET` pair from a flag.
#[derive(Clone, PartialEq, Eq)]
pub struct Pair {
    pub id: String,
    pub secret: String,
}

impl fmt::Debug for Pair {
    /// Secrets never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:***", self.id)
    }
}

impl Pair {
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Pair {
            id: id.into(),
            secret: secret.into(),
        }
    }

    /// `ID:SECRET`, split at the first colon; `flag` names the source in errors.
    pub fn parse(flag: &str, value: &str) -> Result<Pair> {
        match value.split_once(':') {
            Some((id, secret)) if !id.is_empty() && !secret.is_empty() => Ok(Pair::new(id, secret)),
            _ => bail!("{flag}: expected ID:SECRET with both parts non-empty"),
        }
    }
}

/// What the suites sign and log in with.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub alibaba_key: Pair,
    pub aui_user: Pair,
    pub aui_app: Pair,
    pub duix_app: Pair,
    /// How requests to the AUI target authenticate (`--aui-auth`; the login uses `aui_user`).
    pub aui_auth: AuiAuth,
    /// The secrets given by flag or environment (not the demo ones): never shown or reported.
    pub given: Secrets,
}

/// Secret texts; their `Debug` shows only how many there are.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets(pub Vec<String>);

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secrets({} hidden)", self.0.len())
    }
}

impl Default for Credentials {
    /// The mocks' demo credentials.
    fn default() -> Self {
        let alibaba = mocks::alibaba::AlibabaConfig::default();
        let key = alibaba.credentials.first().cloned();
        let aui = mocks::aui::AuiConfig::default();
        Credentials {
            alibaba_key: key.map_or_else(
                || Pair::new("", ""),
                |k| Pair::new(k.access_key_id, k.access_key_secret),
            ),
            aui_user: Pair::new(aui.login_user, aui.login_password),
            aui_app: Pair::new(aui.app_id, aui.app_key),
            duix_app: Pair::new(mocks::duix::DEMO_APP_ID, mocks::duix::DEMO_APP_KEY),
            aui_auth: AuiAuth::default(),
            given: Secrets::default(),
        }
    }
}

impl Credentials {
    /// The credentials the embedded mocks print (`Embedded::info`), over the demo defaults.
    pub fn from_info(info: &Map<String, Value>) -> Self {
        let mut creds = Credentials::default();
        let field = |platform: &str, key: &str| {
            info.get(platform)
                .and_then(|p| p.get(key))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let set = |pair: &mut Pair, platform: &str, id: &str, secret: &str| {
            if let (Some(id), Some(secret)) = (field(platform, id), field(platform, secret)) {
                *pair = Pair::new(id, secret);
            }
        };
        set(
            &mut creds.alibaba_key,
            "alibaba",
            "access_key_id",
            "access_key_secret",
        );
        set(&mut creds.aui_user, "aui", "login_user", "login_password");
        set(&mut creds.aui_app, "aui", "app_id", "app_key");
        set(&mut creds.duix_app, "duix", "app_id", "app_key");
        creds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_spec_is_platform_equals_url() {
        let (platform, url) = parse_target("aui=http://127.0.0.1:8080/").unwrap();
        assert_eq!(platform, Platform::Aui);
        assert_eq!(url, "http://127.0.0.1:8080");
        let (_, url) = parse_target("duix=https://gw.example/duix/").unwrap();
        assert_eq!(url, "https://gw.example/duix", "a path prefix is kept");
    }

    #[test]
    fn bad_target_specs_name_the_problem() {
        for (spec, needle) in [
            ("aui", "PLATFORM=URL"),
            ("zoom=http://x", "unknown platform"),
            ("duix=not a url", "not a URL"),
            ("duix=ftp://host", "http://"),
            ("aui=http://host/gw?x=1", "?query"),
            ("aui=https://alice:Sup3rSecret@host", "carries credentials"),
        ] {
            let error = parse_target(spec).unwrap_err().to_string();
            assert!(error.contains(needle), "{spec}: {error}");
            assert!(
                !error.contains("Sup3rSecret"),
                "the secret is not echoed: {error}"
            );
        }
    }

    #[test]
    fn pairs_split_at_the_first_colon_and_hide_the_secret() {
        let pair = Pair::parse("--aui-user", "alice:pa:ss").unwrap();
        assert_eq!(pair, Pair::new("alice", "pa:ss"));
        assert_eq!(format!("{pair:?}"), "alice:***");
        assert!(Pair::parse("--aui-user", "alice").is_err());
        assert!(Pair::parse("--aui-user", ":x").is_err());
    }
}
