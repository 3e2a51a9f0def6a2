//! The vendor checkers: one rule engine, two rule sets (DESIGN.md). A vendor runs one command
//! against their endpoint and learns from the first line whether the platform can talk to it,
//! and below it every rule they break, in words they can act on.
//!
//! - [`webhook`]: `agentproof webhook`, a DUIX vendor's dialogue webhook (seed 003);
//! - [`llm`]: `agentproof llm`, a vendor's LLM as an Alibaba agent calls it (PROTOCOLS.md §6).
//!
//! What the two share is the engine, one file per concern:
//! - [`common`]: the flags both take (`--requests`, `--concurrency`, `--rate`, `--timeout-ms`,
//!   `--report-dir`, `--junit`), checked before any traffic, and the HTTP client;
//! - [`send`]: one request sent and timed (a rule set's [`send::Watch`] finds the first mark of
//!   a stream and its end), many conversations at once;
//! - [`rules`]: the rules judged the same way (malformed: must refuse / may accept; auth; a
//!   share under a limit counted exactly; the timeout);
//! - [`verdict`]: a rule's verdict and how it prints;
//! - [`report`]: the verdict line first, a line per rule, the reports, the exit code (0 pass, 1 a
//!   rule broken; 2, could not run, is every `Err` before it).

pub mod common;
pub mod llm;
pub mod report;
pub mod rules;
pub mod send;
pub mod verdict;
pub mod webhook;
