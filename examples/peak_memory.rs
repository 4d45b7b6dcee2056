//! Runs one performance workload a few times and prints the process's peak resident memory
//! (`peak N kB`, Linux's VmHWM), for the memory table of `benches/pytorch_workloads.py`.
//!
//! `cargo run --release --example peak_memory -- T3` trains T3's model for 5 steps; `I2` runs 5
//! inference calls of I2; `none` only starts, the baseline.

#[path = "../benches/common/mod.rs"]
mod common;

use std::process::ExitCode;

use common::{Chars, Topics, classes, ids, one_hot_chars};
use rnn::prelude::*;

fn main() -> ExitCode {
    let which = std::env::args().nth(1).unwrap_or_default();
    let outcome = match which.as_str() {
        "T3" => t3(),
        "I2" => i2(),
        "none" => Ok(()),
        _ => {
            eprintln!("usage: peak_memory T3|I2|none");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = outcome {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    // Linux reports the peak in /proc; elsewhere the caller measures it.
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM"))
    {
        println!("{which}: peak {}", line.trim_start_matches("VmHWM:").trim());
    }
    ExitCode::SUCCESS
}

fn t3() -> rnn::Result<()> {
    let mut chars = Chars::new(0);
    chars.compile(
        Loss::sparse_categorical_crossentropy(),
        Adam::default(),
        &[],
    );
    let (x, y) = (one_hot_chars(32, 60, 5), classes(&[32, 60], 56, 6));
    for _ in 0..5 {
        chars.train_on_batch(&x, &y)?;
    }
    Ok(())
}

fn i2() -> rnn::Result<()> {
    let mut topics = Topics::new(0);
    let x = ids(256, 100, 1000, 10);
    for _ in 0..5 {
        topics.forward(&x, Mode::Inference)?;
    }
    Ok(())
}
