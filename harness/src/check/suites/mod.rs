//! The contract, errors and lifecycle suites, one file per platform; this module only routes a
//! suite name to the platform's function and holds the small helpers they share.

pub mod alibaba;
pub mod aui;
pub mod duix;

use super::case::SuiteRun;
use super::target::Platform;
use super::Ctx;

/// Every route answers a valid request with success and a body valid against its schema.
pub async fn contract(ctx: &Ctx, run: &mut SuiteRun) {
    match ctx.platform() {
        Platform::Alibaba => alibaba::contract(ctx, run).await,
        Platform::Aui => aui::contract(ctx, run).await,
        Platform::Duix => duix::contract(ctx, run).await,
    }
}

/// Every error code of the seeds and PROTOCOLS.md, with its HTTP status and envelope.
pub async fn errors(ctx: &Ctx, run: &mut SuiteRun) {
    match ctx.platform() {
        Platform::Alibaba => alibaba::errors(ctx, run).await,
        Platform::Aui => aui::errors(ctx, run).await,
        Platform::Duix => duix::errors(ctx, run).await,
    }
}

/// Things that start, change and stop: agent tasks, AI-agent instances, DUIX sessions.
pub async fn lifecycle(ctx: &Ctx, run: &mut SuiteRun) {
    match ctx.platform() {
        Platform::Alibaba => alibaba::lifecycle(ctx, run).await,
        Platform::Aui => aui::lifecycle(ctx, run).await,
        Platform::Duix => duix::lifecycle(ctx, run).await,
    }
}

/// A short unique id for names the target has not seen, e.g. `ap_1f3c9a2b`.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    )
}
