//! mocks crate.
