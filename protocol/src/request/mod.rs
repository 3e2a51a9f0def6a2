//! Requests as clients send them, built once for every client: `check`, the load scenarios and
//! the AUI server's upstream calls all build a platform's requests here, so a request shape is
//! written once.
//!
//! An [`HttpRequest`] is plain data (method, path and query, headers, body) plus the route
//! template it is timed under. Nothing here does I/O or reads a clock: the caller passes the
//! date and nonce of a signature and the tokens, and turns the result into its HTTP client's
//! request with [`HttpRequest::url`] and the header list.
//!
//! - [`alibaba`]: an OpenAPI RPC call signed with V3 (`POST /?<params>`, as the official SDKs
//!   send it), the API version of each action, its route name;
//! - [`aui`]: the AUI app server's JSON POSTs, authenticated as the user says ([`aui::auth`]: our
//!   bearer login, a given bearer token, fixed headers, or nothing);
//! - [`duix`]: the DUIX openapi-v2 GETs with the app's JWT in the `token` header or `sig` query.
//!
//! ```
//! use protocol::request::aui;
//!
//! let login = aui::login("demo", "demo");
//! assert_eq!(login.route, "aui POST /api/v2/aiagent/login");
//! assert_eq!(login.url("http://127.0.0.1:18602"), "http://127.0.0.1:18602/api/v2/aiagent/login");
//! ```

pub mod alibaba;
pub mod aui;
pub mod duix;

/// One HTTP request, ready to send to a base URL.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// HTTP method, uppercase.
    pub method: &'static str,
    /// Path and query, appended to the target's base URL (which may carry a path prefix).
    pub path_and_query: String,
    /// Headers to send, lowercase names; never `host` (the HTTP client sets it from the URL).
    pub headers: Vec<(String, String)>,
    /// Body bytes; empty for GETs and query-only RPC calls.
    pub body: Vec<u8>,
    /// The route template the request is timed and reported under, never a concrete URL:
    /// `alibaba StartAgent`, `aui POST /api/v2/aiagent/getRtcAuthToken`,
    /// `duix GET /duix-openapi-v2/sdk/checkSig`.
    pub route: String,
}

impl HttpRequest {
    /// The full URL at `base`: `base` itself for a request with no path of its own (a webhook
    /// URL is used as given), else `base` without its trailing slashes, then the path.
    pub fn url(&self, base: &str) -> String {
        if self.path_and_query.is_empty() {
            return base.to_string();
        }
        format!("{}{}", base.trim_end_matches('/'), self.path_and_query)
    }

    /// The value of header `name` (lowercase), if set.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// No `Debug` of headers and body: they hold signatures and tokens. The route and path say
/// which request it is.
impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("route", &self.route)
            .finish_non_exhaustive()
    }
}
