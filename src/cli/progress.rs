//! The library's progress `Meter` drawn as an indicatif bar on stderr, hidden when quiet or
//! when stderr is not a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

use shrinkcity::experiment::Meter;

/// A progress bar on stderr, hidden when quiet or when stderr is not a terminal.
pub fn progress_bar(len: u64, quiet: bool, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if quiet || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{msg:>12} [{bar:40}] {pos}/{len} {elapsed_precise} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// A `Meter` that draws each piece of work the library starts as a new bar.
pub struct Bar {
    quiet: bool,
    bar: Option<ProgressBar>,
}

impl Bar {
    pub fn new(quiet: bool) -> Self {
        Bar { quiet, bar: None }
    }

    #[cfg(test)]
    fn eta(&self) -> Option<std::time::Duration> {
        self.bar.as_ref().map(ProgressBar::eta)
    }
}

impl Meter for Bar {
    fn start(&mut self, len: u64, what: &str) {
        // The previous piece of work is done: clear its bar rather than leave it drawn.
        self.finish();
        self.bar = Some(progress_bar(len, self.quiet, what));
    }

    fn set_position(&mut self, pos: u64) {
        if let Some(b) = &self.bar {
            b.set_position(pos);
        }
    }

    fn inc(&mut self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    fn set_message(&mut self, message: &str) {
        if let Some(b) = &self.bar {
            b.set_message(message.to_string());
        }
    }

    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Regression: set-up's 100 quick steps shared the bar with the years, so the rate was
    /// set-up's and the ETA of the years read 0 s. The years now start a bar of their own.
    #[test]
    fn the_eta_of_the_years_is_not_set_ups() {
        let mut bar = Bar::new(true);
        bar.start(100, "setting up");
        bar.set_position(100);
        bar.start(10, "2015");
        std::thread::sleep(Duration::from_millis(100));
        bar.set_position(1);
        std::thread::sleep(Duration::from_millis(100));
        bar.set_position(2);
        let eta = bar.eta().unwrap();
        assert!(
            eta >= Duration::from_millis(300),
            "eta {eta:?} for 8 years at 0.1 s"
        );
    }
}
