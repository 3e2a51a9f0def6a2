//! Integration tests of the reports crate, one module per theme; fixtures in `common`.
//! The headless-browser check of the HTML page is its own binary, `browser.rs`.

mod common;

mod html;
mod json;
mod junit;
mod load;
mod markdown;
mod merge;
mod slo;
mod write;
