//! The V3 `Authorization` header: its parts, and which headers a request must sign.

use std::fmt;

use super::ALGORITHM;

/// Headers a request must sign. The doc requires every common header present to be signed;
/// a mock insists on these six, which every SDK sends (PROTOCOLS.md §1.2).
pub const REQUIRED_SIGNED_HEADERS: [&str; 6] = [
    "host",
    "x-acs-action",
    "x-acs-version",
    "x-acs-date",
    "x-acs-signature-nonce",
    "x-acs-content-sha256",
];

/// A parsed `Authorization: ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    /// The `Credential` part: the AccessKey id.
    pub access_key_id: String,
    /// The `SignedHeaders` part split on `;`, as sent (may be empty).
    pub signed_headers: Vec<String>,
    /// The `Signature` part: lowercase hex HMAC-SHA256.
    pub signature: String,
}

impl fmt::Display for Authorization {
    /// Formats the header value exactly as the SDKs send it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{ALGORITHM} Credential={},SignedHeaders={},Signature={}",
            self.access_key_id,
            self.signed_headers.join(";"),
            self.signature
        )
    }
}

/// Why an `Authorization` header is not a V3 authorization.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthorizationError {
    /// The header names another algorithm (or none).
    #[error("authorization algorithm {found:?} is not {ALGORITHM}")]
    WrongAlgorithm {
        /// The first word of the header value.
        found: String,
    },
    /// `Credential`, `SignedHeaders` or `Signature` is absent (or, but for `SignedHeaders`, empty).
    #[error("authorization has no {0} part")]
    MissingPart(&'static str),
}

/// Parses an `Authorization` header value.
///
/// Tolerant of spaces around the parts and after commas; unknown `name=value` parts are ignored.
/// An empty `SignedHeaders=` parses to an empty list ([`missing_required_signed`] catches it).
pub fn parse_authorization(value: &str) -> Result<Authorization, AuthorizationError> {
    let value = value.trim();
    let (algorithm, rest) = value.split_once(' ').unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(AuthorizationError::WrongAlgorithm {
            found: algorithm.to_string(),
        });
    }
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v.trim()),
            Some(("SignedHeaders", v)) => signed = Some(v.trim()),
            Some(("Signature", v)) => signature = Some(v.trim()),
            _ => {}
        }
    }
    let credential = non_empty(credential).ok_or(AuthorizationError::MissingPart("Credential"))?;
    let signed = signed.ok_or(AuthorizationError::MissingPart("SignedHeaders"))?;
    let signature = non_empty(signature).ok_or(AuthorizationError::MissingPart("Signature"))?;
    Ok(Authorization {
        access_key_id: credential.to_string(),
        signed_headers: signed
            .split(';')
            .filter(|h| !h.is_empty())
            .map(str::to_string)
            .collect(),
        signature: signature.to_string(),
    })
}

fn non_empty(part: Option<&str>) -> Option<&str> {
    part.filter(|s| !s.is_empty())
}

/// The first of [`REQUIRED_SIGNED_HEADERS`] the authorization does not sign, if any.
pub fn missing_required_signed(auth: &Authorization) -> Option<&'static str> {
    REQUIRED_SIGNED_HEADERS.into_iter().find(|required| {
        !auth
            .signed_headers
            .iter()
            .any(|h| h.eq_ignore_ascii_case(required))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn authorization_parses_with_spaces_and_prints_back() {
        let value =
            "ACS3-HMAC-SHA256 Credential=testid, SignedHeaders=host;x-acs-date , Signature=abc";
        let auth = parse_authorization(value).unwrap();
        assert_eq!(auth.access_key_id, "testid");
        assert_eq!(auth.signed_headers, names(&["host", "x-acs-date"]));
        assert_eq!(auth.signature, "abc");
        assert_eq!(
            auth.to_string(),
            "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=host;x-acs-date,Signature=abc"
        );
    }

    #[test]
    fn authorization_errors_name_the_missing_part_or_wrong_algorithm() {
        let wrong = parse_authorization("ACS3-HMAC-SM3 Credential=a,SignedHeaders=h,Signature=s");
        assert_eq!(
            wrong,
            Err(AuthorizationError::WrongAlgorithm {
                found: "ACS3-HMAC-SM3".into()
            })
        );
        let missing = parse_authorization("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=h");
        assert_eq!(missing, Err(AuthorizationError::MissingPart("Signature")));
        let empty = parse_authorization("ACS3-HMAC-SHA256 Credential=,SignedHeaders=h,Signature=s");
        assert_eq!(empty, Err(AuthorizationError::MissingPart("Credential")));
        assert!(parse_authorization("").is_err());
    }

    #[test]
    fn missing_required_signed_names_the_first_gap() {
        let mut auth = Authorization {
            access_key_id: "a".into(),
            signed_headers: names(&REQUIRED_SIGNED_HEADERS),
            signature: "s".into(),
        };
        assert_eq!(missing_required_signed(&auth), None);
        auth.signed_headers.retain(|h| h != "x-acs-date");
        assert_eq!(missing_required_signed(&auth), Some("x-acs-date"));
    }
}
