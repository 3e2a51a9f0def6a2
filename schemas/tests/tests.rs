//! Integration tests of the schemas crate, one module per theme.

mod bad_documents;
mod examples;
mod files;
mod openapi;
mod util;
