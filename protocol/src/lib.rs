//! The vocabulary agentproof's clients and mocks share for three AI-agent platforms.
//!
//! Everything here is pure: bytes in, bytes out, no I/O and no clock (callers pass `now`).
//!
//! - [`alibaba`]: Alibaba Cloud OpenAPI (RTC 2018-01-11, ICE 2020-11-09). Request signers and
//!   verifiers [`alibaba::v1`] (RPC HMAC-SHA1) and [`alibaba::v3`] (`ACS3-HMAC-SHA256`), their
//!   percent-encoding and query parsing ([`alibaba::encoding`]), timestamps
//!   ([`alibaba::timestamp`]), and the gateway error catalog [`alibaba::ApiError`].
//! - [`aui`]: the AUI Kits app server's ARTC auth token ([`aui::rtc_token`],
//!   [`aui::verify_rtc_token`]) and its id rules.
//! - [`duix`]: the DUIX HS256 token ([`duix::sign_token`], [`duix::verify_token`]) and the DUIX
//!   error catalog [`duix::DuixError`].
//! - [`request`]: each platform's requests as clients send them ([`request::HttpRequest`]:
//!   method, path, headers, body, route template), built once for `check`, the load scenarios and
//!   the AUI server's upstream calls.
//! - [`hs256`]: compact HS256 JWTs (java-jwt's header; structure, algorithm and constant-time
//!   signature checks), shared by the DUIX token and the AUI server's bearer login.
//!
//! Wire facts and test vectors come from `shared/PROTOCOLS.md`; each vector is a unit test beside
//! its signer.
//!
//! Signing a V3 request as the ICE SDK does, then verifying it as a server:
//!
//! ```
//! use protocol::alibaba::v3;
//!
//! let params = vec![("InstanceId".to_string(), "39f8e0bc005e4f30".to_string())];
//! let headers = v3::sign_request(v3::SignInput {
//!     method: "POST",
//!     host: "ice.cn-shanghai.aliyuncs.com",
//!     path: "/",
//!     params: &params,
//!     body: b"",
//!     content_type: None,
//!     action: "DescribeAIAgentInstance",
//!     version: "2020-11-09",
//!     access_key_id: "testid",
//!     secret: "testsecret",
//!     date: "2025-07-18T06:39:08Z",
//!     nonce: "3156853299f313e23d1673dc12e1703d",
//! });
//! // Send POST /?{v3::canonical_query(&params)} with these headers.
//! let (_, authorization) = headers.last().expect("authorization is last");
//!
//! let auth = v3::parse_authorization(authorization)?;
//! assert_eq!(v3::missing_required_signed(&auth), None);
//! let canonical = v3::canonical_request(
//!     "POST", "/", &params, &headers, &auth.signed_headers, v3::EMPTY_PAYLOAD_SHA256,
//! )?;
//! assert!(v3::verify(&canonical, "testsecret", &auth.signature).is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![warn(missing_docs)]

pub mod alibaba;
pub mod aui;
pub mod duix;
pub mod hs256;
pub mod request;
