//! Progress of long commands (`db copy`, a large `user import`): a bar on a
//! terminal, nothing at all in scripts and logs.

use std::io::IsTerminal as _;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::store::Progress;
use crate::store::copy::CopyProgress;

/// A progress bar on stderr, drawn only when stderr is a terminal.
pub(super) struct Bar(ProgressBar);

impl Bar {
    /// A bar for `total` steps of `what`.
    pub(super) fn new(total: u64, what: &str) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total), draw_target());
        bar.set_style(
            ProgressStyle::with_template("{msg:>14} [{bar:40}] {pos}/{len} ({eta} left)")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(what.to_owned());
        Self(bar)
    }

    /// A spinner for work whose length is unknown.
    pub(super) fn spinner(what: &str) -> Self {
        let bar = ProgressBar::with_draw_target(None, draw_target());
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Self(bar)
    }

    /// The store's view of this bar: it moves the bar on as rows are written.
    pub(super) fn as_progress(&self) -> Progress {
        let bar = self.0.clone();
        Arc::new(move |rows| bar.inc(rows))
    }

    /// Removes the bar from the terminal.
    pub(super) fn finish(self) {
        self.0.finish_and_clear();
    }
}

impl CopyProgress for Bar {
    fn table(&self, table: &str, rows: u64) {
        self.0.set_message(table.to_owned());
        self.0.set_position(0);
        self.0.set_length(rows);
    }

    fn rows(&self, rows: u64) {
        self.0.inc(rows);
    }
}

fn draw_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}
