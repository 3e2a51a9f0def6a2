//! `agentproof validate SCHEMA FILE|-`: one document against one named schema.
//!
//! Exit 0 when valid; 1 when invalid, printing each violation with its JSON path; 2 when the
//! schema is unknown (with the closest names) or the file cannot be read or is not JSON.

use crate::cli::ValidateArgs;
use anyhow::{anyhow, Context, Result};
use schemas::SchemaError;
use serde_json::Value;
use std::io::Read;

pub fn run(args: &ValidateArgs) -> Result<u8> {
    let registry = schemas::registry();
    let schema = registry.lookup(&args.schema).map_err(|e| anyhow!("{e}"))?;
    let document = read_document(&args.file)?;
    match schema.validate(&document) {
        Ok(()) => {
            println!(
                "{}: valid against {}",
                display_name(&args.file),
                schema.name()
            );
            Ok(0)
        }
        Err(SchemaError::Invalid(violations)) => {
            println!(
                "{}: invalid against {}",
                display_name(&args.file),
                schema.name()
            );
            for violation in &violations {
                println!("  {violation}");
            }
            Ok(1)
        }
        Err(e) => Err(anyhow!("{e}")),
    }
}

fn display_name(file: &str) -> &str {
    if file == "-" {
        "<stdin>"
    } else {
        file
    }
}

/// Reads and parses the document, naming the file in every error.
fn read_document(file: &str) -> Result<Value> {
    let text = if file == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read standard input")?;
        text
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {file}"))?
    };
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", display_name(file)))
}
