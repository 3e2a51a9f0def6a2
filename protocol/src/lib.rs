//! protocol crate.
