//! Keras-style progress output: a bar per epoch (`verbose = 1`) or a line per epoch (`2`).

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::train::history::Logs;

/// Progress of one epoch.
pub(crate) struct Progress {
    verbose: u8,
    steps: usize,
    start: Instant,
    bar: Option<ProgressBar>,
}

/// Keras' durations: `1:13` from a minute on, `8s`, `11ms`, `250us`.
fn duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 60.0 {
        let total = s.round() as u64;
        if total >= 3600 {
            format!(
                "{}:{:02}:{:02}",
                total / 3600,
                (total % 3600) / 60,
                total % 60
            )
        } else {
            format!("{}:{:02}", total / 60, total % 60)
        }
    } else {
        format!("{}s", s.round() as u64)
    }
}

fn per_step(d: Duration, steps: usize) -> String {
    let s = d.as_secs_f64() / steps.max(1) as f64;
    if s >= 1.0 {
        format!("{}s/step", s.round() as u64)
    } else if s >= 1e-3 {
        format!("{}ms/step", (s * 1e3).round() as u64)
    } else {
        format!("{}us/step", (s * 1e6).round() as u64)
    }
}

impl Progress {
    /// Starts epoch `epoch` (1-based) of `epochs`, with `steps` batches.
    pub(crate) fn start(verbose: u8, epoch: usize, epochs: usize, steps: usize) -> Progress {
        if verbose > 0 {
            println!("Epoch {epoch}/{epochs}");
        }
        let bar = (verbose == 1).then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stdout());
            let width = steps.to_string().len();
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{pos:>{width}}}/{{len}} {{bar:20}} {{msg}}"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("━━─"),
            );
            bar
        });
        Progress {
            verbose,
            steps,
            start: Instant::now(),
            bar,
        }
    }

    /// After step `done` (1-based), with the running averages.
    pub(crate) fn step(&self, done: usize, running: &Logs) {
        if let Some(bar) = &self.bar {
            let elapsed = self.start.elapsed();
            let eta = elapsed.mul_f64(self.steps.saturating_sub(done) as f64 / done as f64);
            bar.set_position(done as u64);
            bar.set_message(format!(
                "{} {} - {running}",
                duration(eta),
                per_step(elapsed, done)
            ));
        }
    }

    /// Ends the epoch with its final logs (training and validation).
    pub(crate) fn finish(self, logs: &Logs) {
        let elapsed = self.start.elapsed();
        let steps = self.steps;
        match self.verbose {
            1 => {
                if let Some(bar) = self.bar {
                    bar.finish_and_clear();
                }
                let w = steps.to_string().len();
                println!(
                    "{steps:>w$}/{steps} {} {} {} - {logs}",
                    "━".repeat(20),
                    duration(elapsed),
                    per_step(elapsed, steps)
                );
            }
            2 => println!(
                "{steps}/{steps} - {} - {} - {logs}",
                duration(elapsed),
                per_step(elapsed, steps)
            ),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_like_keras() {
        assert_eq!(duration(Duration::from_secs(73)), "1:13");
        assert_eq!(duration(Duration::from_millis(8400)), "8s");
        assert_eq!(duration(Duration::from_secs(3725)), "1:02:05");
        assert_eq!(per_step(Duration::from_millis(110), 10), "11ms/step");
        assert_eq!(per_step(Duration::from_micros(2500), 10), "250us/step");
        assert_eq!(per_step(Duration::from_secs(3), 2), "2s/step");
    }
}
