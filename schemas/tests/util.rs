//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};

/// The folders that hold schema files.
pub const PLATFORMS: &[&str] = &["alibaba", "aui", "duix"];

/// The crate root, where the platform folders are.
pub fn crate_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The name of every `*.schema.json` file on disk, sorted.
pub fn schema_names_on_disk() -> Vec<String> {
    let mut names = Vec::new();
    for platform in PLATFORMS {
        walk(&crate_root().join(platform), &mut names);
    }
    names.sort();
    names
}

fn walk(dir: &Path, names: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path: PathBuf = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, names);
        } else if let Some(relative) = path
            .strip_prefix(crate_root())
            .unwrap()
            .to_str()
            .and_then(|p| p.strip_suffix(schemas::SUFFIX))
        {
            names.push(relative.replace('\\', "/"));
        }
    }
}
