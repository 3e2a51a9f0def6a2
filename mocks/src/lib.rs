//! The three platform mocks as a library: `alibaba` (RTC and ICE OpenAPI), `aui` (the AUI Kits v2
//! app server) and `duix` (the DUIX openapi-v2 platform and its session WebSocket).
//!
//! Each platform is a [`Platform`] plus an axum router of its own routes. The shared machinery
//! around them is the same for all three:
//! - [`server`]: the listener, connection loop and graceful shutdown ([`MockServer`]);
//! - [`edge`]: request ids, size limits, fault injection, journal and metrics for every request;
//! - [`limits`]: the limits the server and the edge hold, the `[limits]` table of the config;
//! - [`admin`]: `/__admin/*` (health, clock, reset, requests, faults) and `/metrics`;
//! - [`clock`]: the virtual clock that token expiry and signature skew read.

pub mod admin;
pub mod alibaba;
pub mod aui;
pub mod bearer;
pub mod clock;
pub mod duix;
pub mod edge;
pub mod faults;
pub mod journal;
pub mod limits;
pub mod metrics;
pub mod platform;
pub mod server;

pub use clock::VirtualClock;
pub use limits::Limits;
pub use platform::{InfraError, MockContext, Platform, RequestId, RequestMeta};
pub use server::{app, MockServer};
