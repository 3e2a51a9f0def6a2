//! schemas crate.
