//! How a client authenticates to an AUI app server: the user names it (`--aui-auth`), because
//! the AUI server is the one a team writes itself and its auth is "business-defined"
//! (PROTOCOLS.md §4.2). The official sample's `TokenAuthenticationFilter` lets everyone in;
//! teams add a session cookie, an API gateway's key, a bearer token from their SSO, or our own
//! bearer login.
//!
//! One [`AuiAuth`] is read once from the same specs everywhere (`check`, `load`, and later
//! journey files and the proxy), then applied to every request:
//!
//! | spec | meaning |
//! | --- | --- |
//! | `login` (the default) | log in at [`Login::path`] with the configured user, send `Authorization: Bearer <token>` |
//! | `bearer:TOKEN` | send `Authorization: Bearer TOKEN`, a token the user already has |
//! | `header:NAME:VALUE` (repeatable) | send this header with every request, the login included |
//! | `none` | send no credentials (the sample's filter) |
//!
//! `header:` specs combine with `login` or `bearer:`; given alone they are the whole auth.
//!
//! ```
//! use protocol::request::aui::auth::{AuiAuth, Scheme};
//!
//! let auth = AuiAuth::parse(&["header:X-Gw-Key:k3y", "bearer:t0k"]).unwrap();
//! assert!(matches!(auth.scheme, Scheme::Bearer(_)));
//! assert_eq!(auth.describe(), "bearer:***, header:X-Gw-Key:***");
//! assert_eq!(auth.secrets(), ["t0k", "k3y"]);
//! let headers = auth.headers(None);
//! assert!(headers.contains(&("authorization".into(), "Bearer t0k".into())));
//! assert!(headers.contains(&("X-Gw-Key".into(), "k3y".into())));
//! ```

use super::{post, HttpRequest, LOGIN};
use serde_json::Value;
use std::fmt;

/// The login body of our own route (and the sister AUI servers'): `{user}` and `{password}`
/// are replaced by the configured user's name and password, JSON-escaped.
pub const DEFAULT_LOGIN_BODY: &str = r#"{"username":"{user}","password":"{password}"}"#;

/// Where the bearer token is in the login's answer, a JSON pointer (RFC 6901).
pub const DEFAULT_TOKEN_POINTER: &str = "/token";

/// How every request to one AUI target authenticates. No `Debug` of secrets: see [`describe`].
///
/// [`describe`]: AuiAuth::describe
#[derive(Clone, PartialEq, Eq, Default)]
pub struct AuiAuth {
    /// What carries the user's identity.
    pub scheme: Scheme,
    /// Headers sent with every request, the login included (a gateway key, a session cookie):
    /// `(name, value)` as the user wrote them.
    pub headers: Vec<(String, String)>,
}

/// What carries the user's identity.
#[derive(Clone, PartialEq, Eq)]
pub enum Scheme {
    /// Log in once, then `Authorization: Bearer <token from the answer>`.
    Login(Login),
    /// `Authorization: Bearer <this token>`.
    Bearer(String),
    /// No `Authorization` (only the configured headers, if any).
    None,
}

impl Default for Scheme {
    /// Today's behaviour: our own bearer login.
    fn default() -> Self {
        Scheme::Login(Login::default())
    }
}

/// Where and how to log in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Login {
    /// The login route, e.g. `/api/v2/aiagent/login`.
    pub path: String,
    /// The JSON body, with `{user}` and `{password}` placeholders ([`DEFAULT_LOGIN_BODY`]).
    pub body: String,
    /// JSON pointer of the token in the answer ([`DEFAULT_TOKEN_POINTER`]).
    pub token_pointer: String,
}

impl Default for Login {
    fn default() -> Self {
        Login {
            path: LOGIN.to_string(),
            body: DEFAULT_LOGIN_BODY.to_string(),
            token_pointer: DEFAULT_TOKEN_POINTER.to_string(),
        }
    }
}

/// Why an auth spec was refused; the message names the spec (never its secret) and the fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    /// A spec that is none of the four forms.
    #[error("{0:?} is not an auth: use login, bearer:TOKEN, header:NAME:VALUE or none")]
    Unknown(String),
    /// `bearer:` with nothing after it.
    #[error("bearer: needs the token after the colon, e.g. bearer:eyJ...")]
    EmptyBearer,
    /// A `header:` spec that is not `NAME:VALUE` with a valid name and value.
    #[error("header:{name}:...: {why}")]
    BadHeader {
        /// The header name as given (never the value).
        name: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Two of `login`, `bearer:` and `none`.
    #[error("{0} and {1} exclude each other: give one of login, bearer:TOKEN, none (header:NAME:VALUE combines with login and bearer)")]
    Conflict(&'static str, &'static str),
    /// A `header:Authorization:...` beside `login` or `bearer:`, which send their own.
    #[error("header:Authorization:... cannot go with {0}, which sends its own Authorization")]
    TwoAuthorizations(&'static str),
    /// A login body that is not JSON once filled in.
    #[error("the login body is not JSON once {{user}} and {{password}} are filled in: {0}")]
    LoginBody(String),
    /// A token pointer that is not a JSON pointer.
    #[error("the login token pointer {0:?} is not a JSON pointer: it starts with /, e.g. /token or /data/token")]
    TokenPointer(String),
    /// A login path that is not a path.
    #[error("the login path {0:?} must start with /, e.g. /api/v2/aiagent/login")]
    LoginPath(String),
}

impl AuiAuth {
    /// Reads the specs of `--aui-auth` (each `login`, `bearer:TOKEN`, `header:NAME:VALUE` or
    /// `none`); none at all is `login`, a list of `header:` specs alone is those headers only.
    pub fn parse<S: AsRef<str>>(specs: &[S]) -> Result<AuiAuth, AuthError> {
        let mut scheme: Option<(&'static str, Scheme)> = None;
        let mut headers = Vec::new();
        for spec in specs {
            let spec = spec.as_ref().trim();
            let (word, next) = match spec {
                "login" => ("login", Scheme::Login(Login::default())),
                "none" => ("none", Scheme::None),
                _ if spec.starts_with("bearer:") => {
                    let token = spec["bearer:".len()..].trim();
                    if token.is_empty() {
                        return Err(AuthError::EmptyBearer);
                    }
                    ("bearer:", Scheme::Bearer(token.to_string()))
                }
                _ if spec.starts_with("header:") => {
                    headers.push(parse_header(&spec["header:".len()..])?);
                    continue;
                }
                _ => return Err(AuthError::Unknown(shown_spec(spec))),
            };
            if let Some((earlier, _)) = &scheme {
                return Err(AuthError::Conflict(earlier, word));
            }
            scheme = Some((word, next));
        }
        let (word, scheme) = scheme.unwrap_or(match headers.is_empty() {
            true => ("login", Scheme::default()),
            false => ("headers", Scheme::None),
        });
        if word == "none" && !headers.is_empty() {
            return Err(AuthError::Conflict("none", "header:"));
        }
        let sends_authorization = matches!(scheme, Scheme::Login(_) | Scheme::Bearer(_));
        if sends_authorization && headers.iter().any(|(n, _)| is_authorization(n)) {
            return Err(AuthError::TwoAuthorizations(word));
        }
        Ok(AuiAuth { scheme, headers })
    }

    /// With the login's route, body and token pointer replaced where given (`None` keeps the
    /// default); only meaningful for [`Scheme::Login`], ignored otherwise.
    pub fn with_login(
        mut self,
        path: Option<&str>,
        body: Option<&str>,
        token_pointer: Option<&str>,
    ) -> Result<AuiAuth, AuthError> {
        if let Scheme::Login(login) = &mut self.scheme {
            if let Some(path) = path {
                if !path.starts_with('/') {
                    return Err(AuthError::LoginPath(path.to_string()));
                }
                login.path = path.to_string();
            }
            if let Some(body) = body {
                let filled = fill(body, "someone", "secret");
                serde_json::from_str::<Value>(&filled)
                    .map_err(|e| AuthError::LoginBody(e.to_string()))?;
                login.body = body.to_string();
            }
            if let Some(pointer) = token_pointer {
                if !pointer.starts_with('/') {
                    return Err(AuthError::TokenPointer(pointer.to_string()));
                }
                login.token_pointer = pointer.to_string();
            }
        }
        Ok(self)
    }

    /// The login to perform first, if any.
    pub fn login(&self) -> Option<&Login> {
        match &self.scheme {
            Scheme::Login(login) => Some(login),
            _ => None,
        }
    }

    /// Whether requests carry a bearer token the target is meant to check (ours, or one the
    /// user has): cases about missing, forged and expired bearers mean something only then.
    pub fn sends_bearer(&self) -> bool {
        matches!(self.scheme, Scheme::Login(_) | Scheme::Bearer(_))
    }

    /// Whether requests carry any credential at all: without one, nothing can be refused for
    /// lacking it.
    pub fn sends_credentials(&self) -> bool {
        self.sends_bearer() || !self.headers.is_empty()
    }

    /// Every secret in it (the bearer token, the header values): never shown, logged or reported.
    pub fn secrets(&self) -> Vec<String> {
        let bearer = match &self.scheme {
            Scheme::Bearer(token) => Some(token.clone()),
            _ => None,
        };
        bearer
            .into_iter()
            .chain(self.headers.iter().map(|(_, v)| v.clone()))
            .collect()
    }

    /// The auth as the user wrote it, secrets as `***`: `login at /api/v2/aiagent/login`,
    /// `bearer:***, header:X-Gw-Key:***`, `none`.
    pub fn describe(&self) -> String {
        let scheme = match &self.scheme {
            Scheme::Login(login) => Some(format!("login at {}", login.path)),
            Scheme::Bearer(_) => Some("bearer:***".to_string()),
            Scheme::None if self.headers.is_empty() => Some("none".to_string()),
            Scheme::None => None,
        };
        scheme
            .into_iter()
            .chain(self.headers.iter().map(|(n, _)| format!("header:{n}:***")))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The headers every request carries: `authorization` (the session's token under
    /// [`Scheme::Login`], the given one under [`Scheme::Bearer`]), then the configured ones.
    pub fn headers(&self, session: Option<&str>) -> Vec<(String, String)> {
        let token = match &self.scheme {
            Scheme::Login(_) => session,
            Scheme::Bearer(token) => Some(token.as_str()),
            Scheme::None => None,
        };
        token
            .map(|t| ("authorization".to_string(), super::bearer(t)))
            .into_iter()
            .chain(self.headers.iter().cloned())
            .collect()
    }

    /// `POST path` with `body` as JSON, authenticated: [`AuiAuth::headers`] added.
    pub fn post(&self, path: &str, body: Vec<u8>, session: Option<&str>) -> HttpRequest {
        let mut request = post(path, body, None);
        request.headers.extend(self.headers(session));
        request
    }
}

impl Login {
    /// The login request for `user` and `password`, with the configured headers of `auth`.
    pub fn request(&self, auth: &AuiAuth, user: &str, password: &str) -> HttpRequest {
        let body = fill(&self.body, user, password).into_bytes();
        let mut request = post(&self.path, body, None);
        request.headers.extend(auth.headers.iter().cloned());
        request
    }

    /// The token in a login answer, if there is a non-empty string at the pointer.
    pub fn token<'a>(&self, answer: &'a Value) -> Option<&'a str> {
        answer
            .pointer(&self.token_pointer)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
    }

    /// Whether this is our own login (route, body and pointer as the mock's): only then is the
    /// answer held to `aui/login.response` and its `expire`.
    pub fn is_ours(&self) -> bool {
        *self == Login::default()
    }
}

/// The template with `{user}` and `{password}` replaced by the JSON-escaped texts (inside the
/// template's own quotes).
fn fill(template: &str, user: &str, password: &str) -> String {
    let escaped = |text: &str| {
        let quoted = Value::from(text).to_string();
        quoted[1..quoted.len() - 1].to_string()
    };
    template
        .replace("{user}", &escaped(user))
        .replace("{password}", &escaped(password))
}

/// `NAME:VALUE`: a token name (RFC 9110 `tchar`s) and a non-empty value of visible ASCII and
/// spaces (no line breaks: a header cannot smuggle another).
fn parse_header(spec: &str) -> Result<(String, String), AuthError> {
    let Some((name, value)) = spec.split_once(':') else {
        return Err(AuthError::BadHeader {
            name: "…".to_string(),
            why: "expected header:NAME:VALUE, e.g. header:X-Api-Key:k3y",
        });
    };
    let (name, value) = (name.trim(), value.trim());
    let bad = |why| {
        Err(AuthError::BadHeader {
            name: shown_spec(name),
            why,
        })
    };
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(tchar) {
        return bad("the name must be letters, digits and - (e.g. X-Api-Key, Cookie)");
    }
    if value.is_empty() {
        return bad("the value is empty");
    }
    if !value
        .chars()
        .all(|c| c == ' ' || c == '\t' || c.is_ascii_graphic())
    {
        return bad("the value must be visible ASCII on one line");
    }
    Ok((name.to_string(), value.to_string()))
}

fn is_authorization(name: &str) -> bool {
    name.eq_ignore_ascii_case("authorization")
}

/// A spec for an error message: what comes before its first colon, at most 24 characters, since
/// a mistyped spec may hold a secret after it (`baerer:eyJ...`) and errors are printed.
fn shown_spec(spec: &str) -> String {
    let (head, cut) = match spec.split_once(':') {
        Some((head, _)) => (head, true),
        None => (spec, false),
    };
    match head.char_indices().nth(24) {
        Some((at, _)) => format!("{}…", &head[..at]),
        None if cut => format!("{head}:…"),
        None => head.to_string(),
    }
}

impl fmt::Debug for AuiAuth {
    /// The secrets never reach a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuiAuth({})", self.describe())
    }
}

impl fmt::Debug for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scheme::Login(login) => write!(f, "Login({})", login.path),
            Scheme::Bearer(_) => f.write_str("Bearer(***)"),
            Scheme::None => f.write_str("None"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_spec_is_our_login_and_headers_alone_are_the_whole_auth() {
        assert_eq!(AuiAuth::parse::<&str>(&[]).unwrap(), AuiAuth::default());
        let auth = AuiAuth::parse(&["header:Cookie:SESSION=a1; lang=zh"]).unwrap();
        assert_eq!(auth.scheme, Scheme::None);
        assert_eq!(
            auth.headers(Some("ignored")),
            vec![("Cookie".into(), "SESSION=a1; lang=zh".into())]
        );
        assert!(!auth.sends_bearer());
        assert!(auth.sends_credentials());
        let none = AuiAuth::parse(&["none"]).unwrap();
        assert!(none.headers(None).is_empty());
        assert!(!none.sends_credentials());
    }

    #[test]
    fn login_sends_the_sessions_token_and_the_headers_also_on_the_login() {
        let auth = AuiAuth::parse(&["login", "header:X-Gw-Key:gw"]).unwrap();
        let login = auth.login().unwrap().request(&auth, "alice", "pa\"ss");
        assert_eq!(login.header("X-Gw-Key"), Some("gw"));
        assert_eq!(login.header("authorization"), None);
        let body: Value = serde_json::from_slice(&login.body).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"username": "alice", "password": "pa\"ss"})
        );
        let call = auth.post(
            "/api/v2/aiagent/getRtcAuthToken",
            b"{}".to_vec(),
            Some("t0k"),
        );
        assert_eq!(call.header("authorization"), Some("Bearer t0k"));
        assert_eq!(call.header("X-Gw-Key"), Some("gw"));
    }

    #[test]
    fn a_custom_login_reads_its_token_where_told() {
        let auth = AuiAuth::parse(&["login"])
            .unwrap()
            .with_login(
                Some("/sso/login"),
                Some(r#"{"account":"{user}","pwd":"{password}","remember":true}"#),
                Some("/data/accessToken"),
            )
            .unwrap();
        let login = auth.login().unwrap();
        assert!(!login.is_ours());
        let request = login.request(&auth, "bob", "pw");
        assert_eq!(request.path_and_query, "/sso/login");
        assert_eq!(request.route, "aui POST /sso/login");
        let answer = serde_json::json!({"code": 0, "data": {"accessToken": "abc"}});
        assert_eq!(login.token(&answer), Some("abc"));
        assert_eq!(
            login.token(&serde_json::json!({"data": {"accessToken": ""}})),
            None
        );
    }

    #[test]
    fn bad_specs_name_the_problem_without_the_secret() {
        for (specs, needle) in [
            (vec!["baerer:Sup3rSecretToken"], "is not an auth"),
            (vec!["bearer:"], "needs the token"),
            (vec!["header:X-Key"], "header:NAME:VALUE"),
            (vec!["header:Bad Name:Sup3rSecretToken"], "the name must be"),
            (vec!["header:X-Key:"], "value is empty"),
            (vec!["header:X-Key:a\r\nX-Evil: 1"], "one line"),
            (
                vec!["login", "bearer:Sup3rSecretToken"],
                "exclude each other",
            ),
            (
                vec!["none", "header:X-Key:Sup3rSecretToken"],
                "exclude each other",
            ),
            (
                vec!["bearer:t", "header:authorization:Basic x"],
                "its own Authorization",
            ),
        ] {
            let error = AuiAuth::parse(&specs).unwrap_err().to_string();
            assert!(error.contains(needle), "{specs:?}: {error}");
            assert!(!error.contains("Sup3rSecretToken"), "{error}");
        }
        let login = AuiAuth::default();
        for (path, body, pointer, needle) in [
            (Some("login"), None, None, "must start with /"),
            (None, Some("{\"u\":{user}}"), None, "not JSON"),
            (None, None, Some("token"), "JSON pointer"),
        ] {
            let error = login.clone().with_login(path, body, pointer).unwrap_err();
            assert!(error.to_string().contains(needle), "{error}");
        }
    }

    #[test]
    fn an_authorization_header_alone_is_allowed() {
        let auth = AuiAuth::parse(&["header:Authorization:Basic YTpi"]).unwrap();
        assert_eq!(
            auth.headers(None),
            vec![("Authorization".into(), "Basic YTpi".into())]
        );
        assert_eq!(format!("{auth:?}"), "AuiAuth(header:Authorization:***)");
    }
}
