//! scenarios crate.
