//! `agentproof schemas`: list the contracts, `--export DIR` writes their files, `--openapi NAME`
//! prints an OpenAPI 3.1 document composed from them.

use crate::cli::SchemasArgs;
use anyhow::{anyhow, Context, Result};
use std::path::Path;

pub fn run(args: &SchemasArgs) -> Result<()> {
    if let Some(name) = &args.openapi {
        let document = schemas::openapi::openapi(name).ok_or_else(|| {
            anyhow!(
                "unknown OpenAPI document {name:?}; known: {}",
                schemas::openapi::DOCUMENTS.join(", ")
            )
        })?;
        println!("{}", serde_json::to_string_pretty(&document)?);
        return Ok(());
    }
    if let Some(dir) = &args.export {
        let count = export(dir)?;
        println!("wrote {count} schema files under {}", dir.display());
        return Ok(());
    }
    for schema in schemas::registry().schemas() {
        println!("{:<48} {}", schema.name(), schema.title().unwrap_or(""));
    }
    Ok(())
}

/// Writes every schema as `<dir>/<name>.schema.json`; returns how many.
pub fn export(dir: &Path) -> Result<usize> {
    let mut count = 0;
    for schema in schemas::registry().schemas() {
        let path = dir.join(format!("{}{}", schema.name(), schemas::SUFFIX));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&path, schema.source())
            .with_context(|| format!("cannot write {}", path.display()))?;
        count += 1;
    }
    Ok(count)
}
