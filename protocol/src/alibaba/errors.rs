//! The Alibaba Cloud gateway error catalog (PROTOCOLS.md §2) as data.
//!
//! Each constructor gives the code, HTTP status and message the real gateway returns; handlers
//! return an [`ApiError`] and the mock renders the envelope (`RequestId`, `HostId`, `Code`,
//! `Message`, `Recommend`). Client mistakes are always 4xx.

/// One gateway error: what goes in `Code`, the HTTP status, and `Message`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code} ({status}): {message}")]
pub struct ApiError {
    /// The `Code` field, e.g. `SignatureDoesNotMatch`.
    pub code: String,
    /// The HTTP status of the response.
    pub status: u16,
    /// The `Message` field.
    pub message: String,
}

/// The codes by which the gateway refuses the caller (its AccessKey, its secret, its rights or
/// its clock) rather than the request: a test whose calls all get one of these says nothing
/// about the service, only that its credentials are wrong.
pub const CREDENTIAL_REFUSALS: [&str; 5] = [
    "InvalidAccessKeyId.NotFound",
    "InvalidAccessKeyId.Inactive",
    "SignatureDoesNotMatch",
    "Forbidden.RAM",
    "InvalidTimeStamp.Expired",
];

/// Whether `code` is one of [`CREDENTIAL_REFUSALS`].
pub fn is_credential_refusal(code: &str) -> bool {
    CREDENTIAL_REFUSALS.contains(&code)
}

impl ApiError {
    /// An error with any code, status and message.
    pub fn new(code: impl Into<String>, status: u16, message: impl Into<String>) -> Self {
        ApiError {
            code: code.into(),
            status,
            message: message.into(),
        }
    }

    /// `InvalidAccessKeyId.NotFound`, 404: the AccessKey id is unknown.
    pub fn invalid_access_key_not_found() -> Self {
        Self::new(
            "InvalidAccessKeyId.NotFound",
            404,
            "Specified access key is not found.",
        )
    }

    /// `InvalidAccessKeyId.Inactive`, 400: the AccessKey is disabled.
    pub fn invalid_access_key_inactive() -> Self {
        Self::new(
            "InvalidAccessKeyId.Inactive",
            400,
            "Specified access key is disabled.",
        )
    }

    /// `IncompleteSignature`, 400: signature params or headers are missing or malformed.
    pub fn incomplete_signature() -> Self {
        Self::new(
            "IncompleteSignature",
            400,
            "The request signature does not conform to Aliyun standards.",
        )
    }

    /// `InvalidTimeStamp.Format`, 400: `Timestamp` / `x-acs-date` does not parse.
    pub fn invalid_timestamp_format() -> Self {
        Self::new(
            "InvalidTimeStamp.Format",
            400,
            "Specified time stamp or date value is not well formatted.",
        )
    }

    /// `InvalidTimeStamp.Expired`, 400: the timestamp is more than 15 minutes off.
    pub fn invalid_timestamp_expired() -> Self {
        Self::new(
            "InvalidTimeStamp.Expired",
            400,
            "Specified time stamp or date value is expired.",
        )
    }

    /// `SignatureNonceUsed`, 400: the nonce was seen within the replay window.
    pub fn signature_nonce_used() -> Self {
        Self::new(
            "SignatureNonceUsed",
            400,
            "Specified signature nonce was used already.",
        )
    }

    /// `InvalidSignatureMethod`, 400: `SignatureMethod` or the V3 algorithm is unsupported.
    pub fn invalid_signature_method() -> Self {
        Self::new(
            "InvalidSignatureMethod",
            400,
            "Specified signature method is not valid.",
        )
    }

    /// `SignatureDoesNotMatch`, 400. For V1 pass the server's string to sign: the gateway echoes
    /// it after `server string to sign is:`; V3 responses carry no echo.
    pub fn signature_does_not_match(string_to_sign: Option<&str>) -> Self {
        let base = "Specified signature is not matched with our calculation.";
        let message = match string_to_sign {
            Some(sts) => format!("{base} server string to sign is:{sts}"),
            None => base.to_string(),
        };
        Self::new("SignatureDoesNotMatch", 400, message)
    }

    /// `InvalidVersion`, 400: the API version is not one the product serves.
    pub fn invalid_version() -> Self {
        Self::new(
            "InvalidVersion",
            400,
            "Specified parameter Version is not valid.",
        )
    }

    /// `InvalidAction.NotFound`, 404: no such API in this product and version.
    pub fn invalid_action_not_found() -> Self {
        Self::new(
            "InvalidAction.NotFound",
            404,
            "Specified api is not found, please check your url and method.",
        )
    }

    /// `Missing{name}`, 400: a required parameter is absent, e.g. `MissingInstanceId`.
    pub fn missing_parameter(name: &str) -> Self {
        Self::new(
            format!("Missing{name}"),
            400,
            format!("{name} is mandatory for this action."),
        )
    }

    /// `InvalidParameter`, 400, naming the parameter and why, e.g.
    /// `Specified parameter RtcConfig.UserInactivityTimeout is not valid: must be in [5,180], got 2.`
    /// An empty `detail` gives the gateway's plain message.
    pub fn invalid_parameter(name: &str, detail: &str) -> Self {
        let detail = detail.trim_end_matches('.');
        let message = if detail.is_empty() {
            format!("Specified parameter {name} is not valid.")
        } else {
            format!("Specified parameter {name} is not valid: {detail}.")
        };
        Self::new("InvalidParameter", 400, message)
    }

    /// `InvalidParameter.Format`, 400: `Format` is neither JSON nor XML.
    pub fn invalid_parameter_format() -> Self {
        Self::new(
            "InvalidParameter.Format",
            400,
            "Specified parameter format is not valid.",
        )
    }

    /// `Throttling`, 400: request throttling.
    pub fn throttling() -> Self {
        Self::new(
            "Throttling",
            400,
            "Request was denied due to request throttling.",
        )
    }

    /// `Throttling.User`, 400: the caller's flow control.
    pub fn throttling_user() -> Self {
        Self::new(
            "Throttling.User",
            400,
            "Request was denied due to user flow control.",
        )
    }

    /// `UnsupportedHTTPMethod`, 400 (tables list 400 and 403; 400 keeps it with the other
    /// request-shape errors).
    pub fn unsupported_http_method() -> Self {
        Self::new(
            "UnsupportedHTTPMethod",
            400,
            "This http method is not supported.",
        )
    }

    /// `Forbidden.RAM`, 403: the key's RAM policy does not allow the action.
    pub fn forbidden_ram() -> Self {
        Self::new(
            "Forbidden.RAM",
            403,
            "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
        )
    }

    /// `InternalError`, 500.
    pub fn internal_error() -> Self {
        Self::new(
            "InternalError",
            500,
            "The request processing has failed due to some unknown error, exception or failure.",
        )
    }

    /// `ServiceUnavailable`, 503.
    pub fn service_unavailable() -> Self {
        Self::new(
            "ServiceUnavailable",
            503,
            "The request has failed due to a temporary failure of the server.",
        )
    }

    /// `NotFound`, 404: an unknown resource, e.g. `not_found("InstanceId", "39f8…")`.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::new(
            "NotFound",
            404,
            format!("Specified {what} {id} is not found."),
        )
    }

    /// `RequestTooLarge`, 413: body or query over the mock's limit. Not in the public tables;
    /// the code is ours, the status is HTTP's.
    pub fn request_too_large() -> Self {
        Self::new(
            "RequestTooLarge",
            413,
            "The request is too large to process.",
        )
    }

    /// Whether the caller is at fault (4xx), as the SDKs split ClientException / ServerException.
    pub fn is_client_error(&self) -> bool {
        (400..500).contains(&self.status)
    }
}

/// Every `Code` the RTC and ICE gateways and actions answer with, and the HTTP statuses each
/// comes with: the constructors above, the actions' own codes (PROTOCOLS.md §3) and
/// `RequestTooLarge` at each size limit. `Missing{Name}` is a family ([`catalogued_statuses`]).
/// A proxy or checker judges an answer's `Code` and status against this table.
pub const CATALOGUE: &[(&str, &[u16])] = &[
    ("InvalidAccessKeyId.NotFound", &[404]),
    ("InvalidAccessKeyId.Inactive", &[400]),
    ("IncompleteSignature", &[400]),
    ("InvalidTimeStamp.Format", &[400]),
    ("InvalidTimeStamp.Expired", &[400]),
    ("SignatureNonceUsed", &[400]),
    ("InvalidSignatureMethod", &[400]),
    ("SignatureDoesNotMatch", &[400]),
    ("InvalidVersion", &[400]),
    ("InvalidAction.NotFound", &[404]),
    ("InvalidApi.NotFound", &[404]),
    ("MissingParameter", &[400]),
    ("InvalidParameter", &[400]),
    ("InvalidParameter.Format", &[400]),
    ("Throttling", &[400]),
    ("Throttling.User", &[400]),
    ("UnsupportedHTTPMethod", &[400, 403]),
    ("Forbidden.RAM", &[403]),
    ("InternalError", &[500]),
    ("ServiceUnavailable", &[503]),
    ("NotFound", &[404]),
    ("RequestTooLarge", &[413, 414, 431]),
    ("InvalidAppId.NotFound", &[404]),
    ("TaskAlreadyExists", &[400]),
    ("IncorrectTaskStatus", &[400]),
    ("IncorrectInstanceStatus", &[400]),
];

/// The HTTP statuses `code` is answered with, when the catalogue knows it: a code of
/// [`CATALOGUE`], or `Missing{Name}` (400) for any parameter name.
pub fn catalogued_statuses(code: &str) -> Option<&'static [u16]> {
    if let Some((_, statuses)) = CATALOGUE.iter().find(|(c, _)| *c == code) {
        return Some(statuses);
    }
    let name = code.strip_prefix("Missing")?;
    let is_name = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.');
    is_name.then_some(&[400])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_signature_mismatch_echoes_the_string_to_sign() {
        let e = ApiError::signature_does_not_match(Some("POST&%2F&a%3Db"));
        assert_eq!(e.code, "SignatureDoesNotMatch");
        assert_eq!(e.status, 400);
        assert_eq!(
            e.message,
            "Specified signature is not matched with our calculation. server string to sign is:POST&%2F&a%3Db"
        );
    }

    #[test]
    fn missing_and_invalid_parameters_name_the_parameter() {
        let missing = ApiError::missing_parameter("InstanceId");
        assert_eq!(missing.code, "MissingInstanceId");
        assert_eq!(missing.message, "InstanceId is mandatory for this action.");
        let invalid = ApiError::invalid_parameter(
            "RtcConfig.UserInactivityTimeout",
            "must be in [5,180], got 2",
        );
        assert_eq!(invalid.code, "InvalidParameter");
        assert_eq!(
            invalid.message,
            "Specified parameter RtcConfig.UserInactivityTimeout is not valid: must be in [5,180], got 2."
        );
        let plain = ApiError::invalid_parameter("Expire", "");
        assert_eq!(plain.message, "Specified parameter Expire is not valid.");
    }

    #[test]
    fn the_credential_refusals_are_catalog_codes_and_only_about_the_caller() {
        let catalog = [
            ApiError::invalid_access_key_not_found(),
            ApiError::invalid_access_key_inactive(),
            ApiError::signature_does_not_match(None),
            ApiError::forbidden_ram(),
            ApiError::invalid_timestamp_expired(),
        ];
        for error in &catalog {
            assert!(is_credential_refusal(&error.code), "{}", error.code);
        }
        for error in [
            ApiError::missing_parameter("InstanceId"),
            ApiError::internal_error(),
            ApiError::not_found("InstanceId", "x"),
        ] {
            assert!(!is_credential_refusal(&error.code), "{}", error.code);
        }
    }

    #[test]
    fn statuses_follow_the_table() {
        let cases = [
            (ApiError::invalid_access_key_not_found(), 404),
            (ApiError::invalid_action_not_found(), 404),
            (ApiError::not_found("InstanceId", "x"), 404),
            (ApiError::signature_does_not_match(None), 400),
            (ApiError::forbidden_ram(), 403),
            (ApiError::request_too_large(), 413),
            (ApiError::internal_error(), 500),
            (ApiError::service_unavailable(), 503),
        ];
        for (error, status) in cases {
            assert_eq!(error.status, status, "{}", error.code);
        }
        assert!(ApiError::throttling_user().is_client_error());
        assert!(!ApiError::internal_error().is_client_error());
    }

    #[test]
    fn every_constructor_is_catalogued_with_its_status() {
        let all = [
            ApiError::invalid_access_key_not_found(),
            ApiError::invalid_access_key_inactive(),
            ApiError::incomplete_signature(),
            ApiError::invalid_timestamp_format(),
            ApiError::invalid_timestamp_expired(),
            ApiError::signature_nonce_used(),
            ApiError::invalid_signature_method(),
            ApiError::signature_does_not_match(None),
            ApiError::invalid_version(),
            ApiError::invalid_action_not_found(),
            ApiError::missing_parameter("InstanceId"),
            ApiError::invalid_parameter("Expire", ""),
            ApiError::invalid_parameter_format(),
            ApiError::throttling(),
            ApiError::throttling_user(),
            ApiError::unsupported_http_method(),
            ApiError::forbidden_ram(),
            ApiError::internal_error(),
            ApiError::service_unavailable(),
            ApiError::not_found("InstanceId", "x"),
            ApiError::request_too_large(),
        ];
        for error in all {
            let statuses = catalogued_statuses(&error.code);
            assert!(
                statuses.is_some_and(|s| s.contains(&error.status)),
                "{}: {statuses:?}",
                error.code
            );
        }
        assert_eq!(catalogued_statuses("MissingTaskId"), Some(&[400][..]));
        assert_eq!(catalogued_statuses("Missing"), None);
        assert_eq!(catalogued_statuses("NoSuchCode"), None);
    }
}
