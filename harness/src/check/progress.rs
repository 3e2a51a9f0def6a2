//! What the user sees while `check` runs: a progress bar on a terminal (indicatif), plain lines
//! otherwise (CI logs): one line per failed case and per finished suite.

use indicatif::{ProgressBar, ProgressStyle};
use reports::{Case, Outcome, Suite};
use std::io::IsTerminal;
use std::sync::Arc;

/// Cheap to clone; all clones draw on the same bar.
#[derive(Clone)]
pub struct Progress {
    bar: Option<Arc<ProgressBar>>,
    quiet: bool,
}

impl Progress {
    /// A bar when stderr is a terminal and `allow_bar`, plain lines otherwise.
    pub fn new(allow_bar: bool) -> Progress {
        let bar = (allow_bar && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new_spinner();
            let style = ProgressStyle::with_template("{spinner} [{elapsed}] {pos} cases  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            Arc::new(bar)
        });
        Progress { bar, quiet: false }
    }

    /// Prints nothing at all (library callers, tests).
    pub fn quiet() -> Progress {
        Progress {
            bar: None,
            quiet: true,
        }
    }

    pub fn line(&self, text: &str) {
        if self.quiet {
            return;
        }
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("{text}"),
        }
    }

    pub fn case_done(&self, suite: &Suite, case: &Case) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(format!("{}: {}", suite.qualified_name(), case.name));
        }
        if let Outcome::Failed { expected, got } = &case.outcome {
            self.line(&format!(
                "FAIL {}: {}\n     expected {expected}\n     got      {got}",
                suite.qualified_name(),
                case.name
            ));
        }
    }

    pub fn suite_done(&self, suite: &Suite) {
        let count = |status: &str| {
            suite
                .cases
                .iter()
                .filter(|c| c.outcome.status() == status)
                .count()
        };
        self.line(&format!(
            "{:<22} {:>4} passed {:>3} failed {:>3} skipped",
            suite.qualified_name(),
            count("passed"),
            count("failed"),
            count("skipped")
        ));
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
