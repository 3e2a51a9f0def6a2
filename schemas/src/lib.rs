//! JSON Schema (2020-12) contracts for every message of the three platforms agentproof mocks
//! and checks: the Alibaba Cloud RTC and ICE OpenAPI (`alibaba/`), the AUI Kits app server
//! (`aui/`), DUIX openapi-v2, its dialogue webhook and its session WebSocket (`duix/`).
//!
//! Each contract is a file `<platform>/<message>.schema.json` of this crate with an `$id` of
//! `https://agentproof.dev/schemas/<platform>/<message>.schema.json` and the seeds' examples.
//! The files are embedded at build time, compiled once on first use and looked up by name, the
//! path without `.schema.json`: `aui/getRtcAuthToken.response`, `alibaba/StartAgent.request`,
//! `duix/ws/answer`.
//!
//! - [`registry()`] returns the [`Registry`]: [`Registry::names`], [`Registry::get`] (a
//!   [`Schema`]), [`Registry::validate`], [`Registry::source`], [`Registry::examples`].
//! - A failed validation is a [`SchemaError`]: an unknown name (with suggestions), or the
//!   [`Violation`]s, each with the JSON pointer of the offending value.
//! - [`openapi::openapi`] composes the same schemas into OpenAPI 3.1 documents for the AUI and
//!   DUIX HTTP APIs and the DUIX webhook.
//!
//! ```
//! use serde_json::json;
//!
//! let registry = schemas::registry();
//! let ok = json!({"user_id": "alice_01", "channel_id": "room-7"});
//! registry.validate("aui/getRtcAuthToken.request", &ok).unwrap();
//!
//! let bad = json!({"user_id": "a-b"});
//! let error = registry.validate("aui/getRtcAuthToken.request", &bad).unwrap_err();
//! assert_eq!(error.violations()[0].instance_path, "/user_id");
//!
//! let unknown = registry.validate("aui/getRtcAuthToken", &ok).unwrap_err();
//! assert!(matches!(unknown, schemas::SchemaError::UnknownSchema(_, suggestions)
//!     if suggestions.contains(&"aui/getRtcAuthToken.request".to_owned())));
//! ```
//!
//! The DUIX session WebSocket protocol is agentproof's own (the real one is not public); it is
//! described in [`duix_ws`].

mod error;
pub mod openapi;
mod registry;
mod suggest;

pub use error::{SchemaError, Violation};
pub use registry::{registry, schema_id, Registry, Schema, ID_PREFIX, SUFFIX};

#[doc = include_str!("../duix/ws/README.md")]
pub mod duix_ws {}
