//! The manual (`docs/src`, an mdBook) and the README cannot drift from the program.
//!
//! - Every `console` block of README.md and docs/src (`$ agentproof ...`, then what it prints) is
//!   run by trycmd against the embedded default and its output compared; `[..]` stands for the
//!   varying part of a line, `...` for lines left out, `? N` for an exit code other than 0. Each
//!   page runs in a fresh temporary folder holding the files of docs/examples/ (its commands share
//!   it, so a later one reads what an earlier one wrote), never in the repository: the commands
//!   write report folders where they run.
//! - `agentproof mock` runs until stopped, so trycmd skips its block (`console,ignore`) and the
//!   test below starts it, reads the lines the manual shows, and stops it.
//! - Every internal link and `#anchor` resolves, with mdBook's rule for heading ids; every page is
//!   in SUMMARY.md; the README links every page and stays a front page.
//!
//! After a deliberate change of a command's output, `TRYCMD=overwrite cargo test -p harness --test
//! docs` writes the new output into the pages (review the diff: put back the wildcards it could not
//! keep).

mod common;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use std::collections::{BTreeSet, HashSet};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The README is the front page; the rest belongs in the manual.
const README_MAX_LINES: usize = 200;

/// How long one documented command may run before trycmd calls it hung.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("harness/ sits in the repository")
        .to_path_buf()
}

fn book_src() -> PathBuf {
    repo_root().join("docs/src")
}

/// README.md and every markdown file of the manual, as paths relative to the repository root.
fn documents() -> Vec<PathBuf> {
    let mut found = vec![PathBuf::from("README.md")];
    let mut folders = vec![book_src()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|ext| ext == "md") {
                found.push(path.strip_prefix(repo_root()).unwrap().to_path_buf());
            }
        }
    }
    found.sort();
    found
}

#[test]
fn every_console_example_prints_what_it_shows() {
    // trycmd runs the commands of a case in a fresh temporary folder when `<case>.out/` exists
    // beside it, filled from `<case>.in/` when that exists. The pages get both in a scratch tree
    // that links to the real pages (so a failure names the page's own lines and TRYCMD=overwrite
    // edits the real page); every `.in/` holds the files of docs/examples/ the examples read.
    let scratch = tempfile::TempDir::with_prefix("agentproof-docs-").expect("a temporary folder");
    let scratch = scratch.path();
    for document in documents() {
        let copy = scratch.join(&document);
        std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
        link_or_copy(&repo_root().join(&document), &copy);
        std::fs::create_dir_all(copy.with_extension("out")).unwrap();
        let fixtures = copy.with_extension("in");
        std::fs::create_dir_all(&fixtures).unwrap();
        for example in std::fs::read_dir(repo_root().join("docs/examples")).unwrap() {
            let example = example.unwrap().path();
            std::fs::copy(&example, fixtures.join(example.file_name().unwrap())).unwrap();
        }
    }
    println!(
        "the pages run as {} (links to the repository's files)",
        scratch.display()
    );
    let cases = trycmd::TestCases::new();
    cases
        .register_bin("agentproof", Path::new(env!("CARGO_BIN_EXE_agentproof")))
        .timeout(COMMAND_TIMEOUT)
        // What the developer's shell may hold must not change what the examples print.
        .env("NO_COLOR", "1")
        .case(scratch.join("**/*.md"));
    cases.run();
}

#[cfg(unix)]
fn link_or_copy(original: &Path, link: &Path) {
    std::os::unix::fs::symlink(original, link).unwrap();
}

#[cfg(not(unix))]
fn link_or_copy(original: &Path, link: &Path) {
    std::fs::copy(original, link).unwrap();
}

/// The `console,ignore` blocks of a markdown text whose command starts with `command`: the
/// command line and what the block says it prints.
fn ignored_console_blocks(markdown: &str, command: &str) -> Vec<(String, String)> {
    let fence = "```console,ignore\n";
    markdown
        .match_indices(fence)
        .filter_map(|(at, _)| {
            let block = &markdown[at + fence.len()..];
            let block = &block[..block.find("```").expect("the block ends")];
            let (first, output) = block.split_once('\n')?;
            let line = first.strip_prefix("$ ")?;
            line.starts_with(command)
                .then(|| (line.to_string(), output.to_string()))
        })
        .collect()
}

#[tokio::test]
async fn every_mock_example_prints_what_it_shows() {
    let mut examples = 0;
    for document in documents() {
        let text = std::fs::read_to_string(repo_root().join(&document)).unwrap();
        for (command_line, shown) in ignored_console_blocks(&text, "agentproof mock") {
            println!("{}: $ {command_line}", document.display());
            let printed = run_mock_until_ready(&command_line).await;
            snapbox::assert_data_eq!(printed, with_any_port(&shown));
            examples += 1;
        }
    }
    assert!(examples >= 1, "the manual shows `agentproof mock`");
}

/// `shown` with each of `agentproof mock`'s default ports as `[..]`: the test asks for free
/// ports, so that it never collides with a mock already running on this machine (a port the
/// page shows that is not a default one is left as it is, and fails the comparison).
fn with_any_port(shown: &str) -> String {
    let defaults = match <harness::cli::Cli as clap::Parser>::try_parse_from(["agentproof", "mock"])
    {
        Ok(harness::cli::Cli {
            command: harness::cli::Command::Mock(args),
        }) => args,
        other => panic!("`agentproof mock` parses: {other:?}"),
    };
    let mut expected = shown.to_string();
    for port in [
        defaults.alibaba_port,
        defaults.aui_port,
        defaults.duix_port,
        defaults.webhook_port,
    ] {
        let url = format!("http://127.0.0.1:{port}\n");
        expected = expected.replace(&url, "http://127.0.0.1:[..]\n");
    }
    // The reference LLM endpoint is shown as the base URL an agent is configured with.
    let llm = format!("http://127.0.0.1:{}/v1\n", defaults.llm_port);
    expected.replace(&llm, "http://127.0.0.1:[..]/v1\n")
}

/// What `command_line` (an `agentproof mock ...`) prints on stdout once every mock listens: it
/// runs on free ports, is stopped with SIGTERM once its info file says it is ready, and its
/// output is read to the end.
async fn run_mock_until_ready(command_line: &str) -> String {
    // The mock's folder (its info file, its working directory) lives until it has exited.
    let folder =
        tempfile::TempDir::with_prefix("agentproof-docs-mock-").expect("a temporary folder");
    let info_file = folder.path().join("mock.json");
    let mut args: Vec<&str> = command_line.split_whitespace().skip(1).collect();
    for flag in [
        "--alibaba-port",
        "--aui-port",
        "--duix-port",
        "--webhook-port",
        "--llm-port",
    ] {
        args.extend([flag, "0"]);
    }
    let mock = Command::new(env!("CARGO_BIN_EXE_agentproof"))
        .args(&args)
        .arg("--info-file")
        .arg(&info_file)
        .current_dir(folder.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("agentproof runs");
    common::read_info_file(&info_file).await;
    let stopped = Command::new("kill")
        .args(["-TERM", &mock.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let output = tokio::task::spawn_blocking(move || mock.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let _ = std::fs::remove_file(&info_file);
    assert!(output.status.success(), "SIGTERM stops it gracefully");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn every_internal_link_and_anchor_resolves() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for document in documents() {
        let path = repo_root().join(&document);
        let in_book = path.starts_with(book_src());
        for (line, url) in links(&expand_includes(&path)) {
            if is_external(&url) {
                continue;
            }
            checked += 1;
            if let Err(why) = resolve(&path, &url, in_book) {
                broken.push(format!("{}:{line}: ({url}) {why}", document.display()));
            }
        }
    }
    assert!(checked > 40, "only {checked} internal links found");
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn every_page_is_in_the_summary_and_linked_from_the_readme() {
    let summary = book_src().join("SUMMARY.md");
    let pages: BTreeSet<PathBuf> = links(&std::fs::read_to_string(&summary).unwrap())
        .into_iter()
        .map(|(_, url)| normalize(&book_src().join(url)))
        .collect();
    let on_disk: BTreeSet<PathBuf> = documents()
        .into_iter()
        .map(|document| repo_root().join(document))
        .filter(|path| path.starts_with(book_src()) && *path != summary)
        .collect();
    let missing: Vec<_> = on_disk.difference(&pages).collect();
    assert!(missing.is_empty(), "pages not in SUMMARY.md: {missing:?}");

    let readme_path = repo_root().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).unwrap();
    let linked: BTreeSet<PathBuf> = links(&readme)
        .into_iter()
        .filter(|(_, url)| !is_external(url))
        .map(|(_, url)| normalize(&repo_root().join(url.split('#').next().unwrap())))
        .collect();
    let unlinked: Vec<_> = pages.difference(&linked).collect();
    assert!(unlinked.is_empty(), "README.md links no {unlinked:?}");
    let lines = readme.lines().count();
    assert!(
        lines <= README_MAX_LINES,
        "README.md has {lines} lines, at most {README_MAX_LINES}: move detail into docs/"
    );
}

/// Parser options as mdBook 0.5 sets them (mdbook-markdown's `new_cmark_parser`): they change
/// what a heading's text is (smart punctuation) and which elements get ids (definition lists).
fn mdbook_options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES
        | Options::ENABLE_SMART_PUNCTUATION
        | Options::ENABLE_DEFINITION_LIST
        | Options::ENABLE_GFM
}

/// Every link and image of a markdown text with its line number.
fn links(markdown: &str) -> Vec<(usize, String)> {
    Parser::new_ext(markdown, mdbook_options())
        .into_offset_iter()
        .filter_map(|(event, range)| match event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                let line = markdown[..range.start].lines().count().max(1);
                Some((line, dest_url.to_string()))
            }
            _ => None,
        })
        .collect()
}

fn is_external(url: &str) -> bool {
    url.contains("://") || url.starts_with("mailto:")
}

/// mdBook's `{{#include FILE}}` (whole files only: the manual uses no other form), relative to
/// the page, replaced by the file's text as mdBook does before rendering.
fn expand_includes(page: &Path) -> String {
    let text = std::fs::read_to_string(page).unwrap();
    text.lines()
        .map(|line| match line.trim().strip_prefix("{{#include ") {
            Some(rest) => {
                let file = rest.strip_suffix("}}").expect("an include ends with }}");
                assert!(!file.contains(':'), "{line}: include whole files only");
                std::fs::read_to_string(page.parent().unwrap().join(file))
                    .unwrap_or_else(|e| panic!("{}: {line}: {e}", page.display()))
            }
            None => format!("{line}\n"),
        })
        .collect()
}

/// Whether `url`, written in `page`, reaches an existing file and, with `#anchor`, a heading of
/// it. A link in the book must stay inside docs/src: mdBook publishes nothing else.
fn resolve(page: &Path, url: &str, in_book: bool) -> Result<(), String> {
    let (path, anchor) = match url.split_once('#') {
        Some((path, anchor)) => (path, Some(anchor)),
        None => (url, None),
    };
    if path.starts_with('/') {
        return Err("an absolute path: write it relative to the page".into());
    }
    let target = if path.is_empty() {
        page.to_path_buf()
    } else {
        normalize(&page.parent().unwrap().join(path))
    };
    if in_book && !target.starts_with(book_src()) {
        return Err(
            "leaves docs/src, which is all the book publishes: name the file in a code span".into(),
        );
    }
    if !target.starts_with(repo_root()) {
        return Err("leaves the repository".into());
    }
    if !target.exists() {
        return Err(format!("no file {}", target.display()));
    }
    let Some(anchor) = anchor else {
        return Ok(());
    };
    if target.extension().is_none_or(|ext| ext != "md") {
        return Err("an anchor into a file that is not markdown".into());
    }
    let ids = heading_ids(&expand_includes(&target));
    if ids.contains(anchor) {
        Ok(())
    } else {
        Err(format!(
            "no heading with the id {anchor:?} (there are {ids:?})"
        ))
    }
}

/// `a/./b/../c` as `a/c`, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

/// The ids mdBook gives a page's headings (and definition terms): an explicit `{#id}`, else
/// the text made an id and numbered when taken (mdbook-html's `id_from_content` and `unique_id`).
fn heading_ids(markdown: &str) -> HashSet<String> {
    let mut ids = HashSet::new();
    let mut numbered = HashSet::new();
    let mut heading: Option<(String, Option<String>)> = None;
    for event in Parser::new_ext(markdown, mdbook_options()) {
        match event {
            Event::Start(Tag::Heading { id, .. }) => {
                heading = Some((String::new(), id.map(|id| id.to_string())));
            }
            Event::Start(Tag::DefinitionListTitle) => heading = Some((String::new(), None)),
            Event::Text(text) | Event::Code(text) => {
                if let Some((content, _)) = heading.as_mut() {
                    content.push_str(&text);
                }
            }
            Event::End(TagEnd::Heading(_) | TagEnd::DefinitionListTitle) => {
                match heading.take() {
                    Some((_, Some(explicit))) => ids.insert(explicit),
                    Some((content, None)) => {
                        ids.insert(unique_id(id_from_content(&content), &mut numbered))
                    }
                    None => false,
                };
            }
            _ => {}
        }
    }
    ids
}

fn id_from_content(content: &str) -> String {
    let id: String = content
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            c if c.is_alphanumeric() || c == '_' || c == '-' => Some(c),
            c if c.is_whitespace() => Some('-'),
            _ => None,
        })
        .collect();
    if id.is_empty() {
        "section".into()
    } else {
        id
    }
}

fn unique_id(id: String, taken: &mut HashSet<String>) -> String {
    if taken.insert(id.clone()) {
        return id;
    }
    (1..)
        .map(|n| format!("{id}-{n}"))
        .find(|candidate| taken.insert(candidate.clone()))
        .unwrap()
}

#[test]
fn heading_ids_follow_mdbook() {
    let ids = heading_ids(
        "# `agentproof check`: the gate\n## Limits\n## Limits\n### Über {#custom}\n## 10,000 req/s — fast?\n",
    );
    let expected: HashSet<String> = [
        "agentproof-check-the-gate",
        "limits",
        "limits-1",
        "custom",
        "10000-reqs--fast",
    ]
    .map(String::from)
    .into();
    assert_eq!(ids, expected);
}
