//! What the proxy stands in front of: a [`Platform`] (the three of agentproof and the DUIX vendor
//! webhook) at an [`Upstream`] URL, from `--upstream PLATFORM=URL`.

use std::fmt;

/// The platforms a proxy listener judges traffic for, named as everywhere in agentproof.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    /// Alibaba Cloud OpenAPI (RTC 2018-01-11, ICE 2020-11-09), V1 or V3 signed.
    Alibaba,
    /// The AUI Kits app server.
    Aui,
    /// DUIX openapi-v2.
    Duix,
    /// A DUIX vendor's dialogue webhook (`dh-question` POSTs).
    Webhook,
}

impl Platform {
    /// Every platform, in the order listeners and reports show them.
    pub const ALL: [Platform; 4] = [
        Platform::Alibaba,
        Platform::Aui,
        Platform::Duix,
        Platform::Webhook,
    ];

    /// `alibaba`, `aui`, `duix` or `webhook`.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Alibaba => "alibaba",
            Platform::Aui => "aui",
            Platform::Duix => "duix",
            Platform::Webhook => "webhook",
        }
    }

    /// The platform named `name`, if any.
    pub fn parse(name: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why `--upstream` or `--target` could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    /// Not `PLATFORM=URL`.
    #[error("{0:?}: expected PLATFORM=URL, e.g. aui=http://127.0.0.1:18602")]
    Shape(String),
    /// The platform is none of the four.
    #[error("{name}=...: unknown platform {name:?} (alibaba, aui, duix, webhook)")]
    Platform {
        /// The platform part.
        name: String,
    },
    /// The URL is not `http(s)://host[:port][/path]`.
    #[error("{platform}=...: {why}")]
    Url {
        /// The platform part.
        platform: Platform,
        /// What is wrong, without the URL when it may carry credentials.
        why: String,
    },
}

/// One upstream: a platform at a base URL (scheme, authority, optional path prefix).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Upstream {
    /// The platform its traffic is judged as.
    pub platform: Platform,
    /// The URL as given, without a trailing slash.
    pub url: String,
    /// `http` or `https`.
    pub scheme: String,
    /// `host[:port]` as a client sends it in `Host` (no default port).
    pub host: String,
    /// The path prefix, `""` or `/gw/aui` (no trailing slash).
    pub base_path: String,
}

impl Upstream {
    /// Parses `PLATFORM=URL`.
    pub fn parse(spec: &str) -> Result<Upstream, UpstreamError> {
        // Not echoed when it may hold a URL with credentials.
        let shown = if spec.contains('@') { "…" } else { spec };
        let (name, url) = spec
            .split_once('=')
            .ok_or_else(|| UpstreamError::Shape(shown.to_string()))?;
        let platform = Platform::parse(name.trim()).ok_or_else(|| UpstreamError::Platform {
            name: name.to_string(),
        })?;
        Upstream::new(platform, url.trim())
    }

    /// An upstream of `platform` at `url`.
    pub fn new(platform: Platform, url: &str) -> Result<Upstream, UpstreamError> {
        let bad = |why: &str| UpstreamError::Url {
            platform,
            why: why.to_string(),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| bad("the URL must start with http:// or https://"))?;
        let rest = rest.trim_end_matches('/');
        let url = &url[..scheme.len() + 3 + rest.len()];
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(bad("the URL must start with http:// or https://"));
        }
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(at) => rest.split_at(at),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err(bad(
                "the URL carries credentials, which would be printed in the output and every \
                 report; give them with --alibaba-key, --aui-user or --duix-app instead",
            ));
        }
        if path.contains(['?', '#']) {
            return Err(bad(
                "a base URL takes no ?query or #fragment (a path prefix is fine)",
            ));
        }
        if authority.is_empty() {
            return Err(bad("the URL has no host"));
        }
        let host = protocol::request::alibaba::host_of(url);
        authority
            .parse::<hyper::http::uri::Authority>()
            .map_err(|e| bad(&format!("{authority:?} is not a host[:port] ({e})")))?;
        Ok(Upstream {
            platform,
            url: url.to_string(),
            scheme,
            host,
            base_path: path.to_string(),
        })
    }

    /// The upstream URI of a request the proxy received for `path_and_query`: the base path,
    /// then the request's own path. A webhook URL with a path of its own takes a request to `/`
    /// as is (the DUIX platform posts to the URL it was given).
    pub fn uri_for(&self, path_and_query: &str) -> String {
        let (path, query) = match path_and_query.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (path_and_query, None),
        };
        let path = if path == "/" && !self.base_path.is_empty() {
            self.base_path.clone()
        } else {
            format!("{}{path}", self.base_path)
        };
        let path = if path.is_empty() { "/".into() } else { path };
        let authority = authority_of(&self.url);
        match query {
            Some(query) => format!("{}://{authority}{path}?{query}", self.scheme),
            None => format!("{}://{authority}{path}", self.scheme),
        }
    }
}

/// The `host[:port]` of a URL as written.
fn authority_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upstream_is_platform_equals_url_with_an_optional_path_prefix() {
        let up = Upstream::parse("aui=https://gw.example/aui/").unwrap();
        assert_eq!(up.platform, Platform::Aui);
        assert_eq!(up.host, "gw.example");
        assert_eq!(up.base_path, "/aui");
        assert_eq!(
            up.uri_for("/api/v2/aiagent/login?x=1"),
            "https://gw.example/aui/api/v2/aiagent/login?x=1"
        );
        let up = Upstream::parse("alibaba=http://127.0.0.1:18601").unwrap();
        assert_eq!(up.host, "127.0.0.1:18601");
        assert_eq!(
            up.uri_for("/?Action=GetAgent"),
            "http://127.0.0.1:18601/?Action=GetAgent"
        );
    }

    #[test]
    fn a_webhook_url_with_a_path_takes_posts_to_the_root_as_is() {
        let up = Upstream::parse("webhook=https://vendor.example/duix-hook").unwrap();
        assert_eq!(up.uri_for("/"), "https://vendor.example/duix-hook");
        assert_eq!(up.uri_for("/x"), "https://vendor.example/duix-hook/x");
    }

    #[test]
    fn bad_upstreams_name_the_problem_and_never_echo_credentials() {
        for (spec, needle) in [
            ("aui", "PLATFORM=URL"),
            ("zoom=http://x", "unknown platform"),
            ("aui=ftp://x", "http://"),
            ("aui=http://x/?q=1", "?query"),
            ("aui=http://alice:Sup3rSecret@x", "credentials"),
            ("aui=http://", "no host"),
        ] {
            let error = Upstream::parse(spec).unwrap_err().to_string();
            assert!(error.contains(needle), "{spec}: {error}");
            assert!(!error.contains("Sup3rSecret"), "{error}");
        }
    }
}
