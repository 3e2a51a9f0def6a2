//! What `agentproof load` can run, printed: `--list` (the built-in scenarios), `--ops` (the
//! operations a journey file's steps may name, with their fields and defaults) and
//! `--print-scenario NAME` (a built-in's journey file, a start for one's own).

use anyhow::{anyhow, Result};

/// `agentproof load --list`.
pub fn list() {
    println!("Scenarios (agentproof load --scenario NAME; --print-scenario NAME shows its journey file):");
    for s in scenarios::scenarios() {
        println!("  {:<20} [{}]", s.name, s.platforms.join(", "));
        println!(
            "      {}",
            s.description
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        );
    }
    println!(
        "Your own: agentproof load --scenario-file FILE (agentproof load --ops lists the steps)"
    );
}

/// `agentproof load --ops`: each operation, what it does, its fields with their defaults, and
/// what it captures for later steps.
pub fn ops() {
    println!(
        "Operations a journey step names (op = \"...\"), with their fields (fields = {{ ... }}):"
    );
    for op in scenarios::ops::CATALOGUE {
        println!();
        println!("{}  [target {}]", op.name, op.platform);
        println!("    {}", op.summary);
        for (field, about) in op.fields() {
            let default = op
                .default_of(&field)
                .map(|d| format!(" = {}", shorten(d)))
                .unwrap_or_default();
            let about = match about.is_empty() {
                true => String::new(),
                false => format!(": {}", shorten(&about)),
            };
            println!("    {field}{default}{about}");
        }
        for (capture, from) in op.captures {
            println!("    captures {capture}: {from}");
        }
    }
    println!();
    println!(
        "Templates in fields: {{{{ capture }}}}, {{{{ feeder.column }}}}, {{{{ target.PLATFORM }}}}, {}",
        scenarios::journey::template::BUILTINS
            .iter()
            .map(|b| format!("{{{{ {b} }}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
}

/// At most 100 characters of `text`, on one line.
fn shorten(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(100) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line,
    }
}

/// `agentproof load --print-scenario NAME`.
pub fn print_scenario(name: &str) -> Result<()> {
    let builtin = scenarios::find(name).ok_or_else(|| {
        anyhow!(
            "--print-scenario {name:?}: no such scenario; scenarios are {}",
            super::setup::names()
        )
    })?;
    print!("{}", builtin.text);
    Ok(())
}
