//! Small pieces `load`, `webhook` and `llm` share about the URLs they are given: a vendor's URL
//! checked as the platform takes it, a URL fit for output, a TCP probe before any traffic, the
//! time stamp reports carry.

use anyhow::{anyhow, bail, Result};
use std::time::Duration;

/// A vendor webhook URL, used exactly as given (its path, trailing slash and query are the
/// vendor's), as the DUIX platform takes it: http or https with a host, no user info. `flag`
/// names where it came from in errors; `credentials` says where credentials go instead.
pub fn webhook_url(url: &str, flag: &str, credentials: &str) -> Result<String> {
    vendor_url(url, flag, credentials, "https://vendor.example/duix-hook")
}

/// A vendor's URL (a webhook, an LLM base URL) as [`webhook_url`] checks it; `example` shows a
/// right one in the error.
pub fn vendor_url(url: &str, flag: &str, credentials: &str, example: &str) -> Result<String> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| anyhow!("{flag}: not a URL ({e}), e.g. {example}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        bail!("{flag}: the URL must be http:// or https:// with a host, e.g. {example}");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        bail!("{flag}: the URL carries credentials; give them with {credentials} instead");
    }
    Ok(url.to_string())
}

/// A URL for output and reports: its query (often a vendor's key) masked.
pub fn shown_url(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?***"),
        None => url.to_string(),
    }
}

/// A TCP connection to the URL's host and port within 5 s; otherwise why not, in words.
pub async fn tcp_reachable(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| e.to_string())?;
    // An IPv6 literal comes bracketed in a URL, not in a socket address.
    let host = parsed
        .host_str()
        .unwrap_or_default()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = parsed.port_or_known_default().unwrap_or(80);
    let connect = tokio::net::TcpStream::connect((host.as_str(), port));
    match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no TCP connection within 5 s".to_string()),
    }
}

/// Now, RFC 3339 in whole seconds, UTC.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_urls_are_taken_as_given_and_shown_without_their_query() {
        let url = webhook_url("https://v.example/hook/?k=1", "--url", "--header").unwrap();
        assert_eq!(url, "https://v.example/hook/?k=1");
        assert_eq!(shown_url(&url), "https://v.example/hook/?***");
        for bad in ["ftp://v", "v.example/hook", "https://u:p@v.example/"] {
            assert!(webhook_url(bad, "--url", "--header").is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn an_ipv6_loopback_url_is_probed() {
        let listener = tokio::net::TcpListener::bind("[::1]:0").await;
        let Ok(listener) = listener else { return }; // no IPv6 loopback on this machine
        let url = format!("http://[::1]:{}/", listener.local_addr().unwrap().port());
        assert_eq!(tcp_reachable(&url).await, Ok(()));
    }
}
