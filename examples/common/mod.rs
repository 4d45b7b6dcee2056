//! Helpers shared by the examples (`mod common;`): command-line arguments, timing, printing
//! predictions, and learning curves drawn to a PNG file.
//!
//! Each example uses only some of these helpers.
#![allow(dead_code)]

use std::error::Error;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Once;
use std::time::{Duration, Instant};

use plotters::prelude::*;
use plotters::style::FontStyle;
use rnn::History;

/// The result of an example's `run`: any error, printed with its message by [`exit`].
pub type Outcome = Result<(), Box<dyn Error>>;

/// Turns an example's result into its exit code, printing an error with its `Display` text
/// (which says, for a missing data file, where to put it) rather than `Debug`'s.
pub fn exit(outcome: Outcome) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            let mut source = e.source();
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            ExitCode::FAILURE
        }
    }
}

/// The command line of an example: `--full` for the full recipe, and free text arguments
/// (sentences to classify, seed text, ...).
#[derive(Debug, Default)]
pub struct Args {
    /// `--full`: run the full recipe rather than the quick default.
    pub full: bool,
    /// Every argument that is not an option, in order.
    pub texts: Vec<String>,
}

impl Args {
    /// Reads the process arguments; an unknown `--option` is an error naming it. `--` ends
    /// the options, so text that starts with `--` can follow it.
    pub fn parse() -> Result<Args, String> {
        Self::from_args(std::env::args().skip(1))
    }

    /// Parses the given arguments (without the program name).
    pub fn from_args(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
        let mut parsed = Args::default();
        let mut options_done = false;
        for arg in args {
            match arg.as_str() {
                "--" if !options_done => options_done = true,
                "--full" if !options_done => parsed.full = true,
                "-h" | "--help" if !options_done => {
                    return Err(
                        "usage: [--full] [TEXT ...]  (--full runs the full recipe; TEXT is \
                         input to the trained model)"
                            .into(),
                    );
                }
                s if !options_done && s.starts_with("--") => {
                    return Err(format!(
                        "unknown option `{s}`; the options are --full and --help"
                    ));
                }
                _ => parsed.texts.push(arg),
            }
        }
        Ok(parsed)
    }
}

/// Runs `f` and returns its result with the wall time it took.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let value = f();
    (value, start.elapsed())
}

/// A duration as seconds with one decimal, e.g. `5.1 s`.
pub fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// Prints one line per text: the probability of the positive class, the label it gives
/// (threshold 0.5) and the text, cut to 90 characters.
pub fn print_binary(texts: &[String], probs: &[f32], labels: [&str; 2]) {
    for (text, &p) in texts.iter().zip(probs) {
        let label = if p >= 0.5 { labels[1] } else { labels[0] };
        println!("  {p:.3}  {label:<14} {}", clip(text, 90));
    }
}

/// Prints one line per text: its `top` most probable classes with their probabilities,
/// then the text, cut to 90 characters. `probs` holds one row of `classes.len()` per text.
pub fn print_top_classes(texts: &[String], probs: &[f32], classes: &[String], top: usize) {
    let n = classes.len();
    for (text, row) in texts.iter().zip(probs.chunks(n)) {
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| row[b].total_cmp(&row[a]));
        let best: Vec<String> = order
            .iter()
            .take(top)
            .map(|&c| format!("{} {:.2}", classes[c], row[c]))
            .collect();
        println!("  {:<40} {}", best.join(", "), clip(text, 70));
    }
}

/// `text` on one line, cut to `max` characters with an ellipsis.
pub fn clip(text: &str, max: usize) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max.saturating_sub(3)).collect();
        format!("{cut}...")
    }
}

/// The directory the examples write their files to: `target/examples` (or
/// `$CARGO_TARGET_DIR/examples`), created if needed.
pub fn output_dir() -> std::io::Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("examples");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// DejaVu Sans (license in `examples/common/LICENSE`), so the charts render the same on
/// any machine without system font libraries.
static FONT: &[u8] = include_bytes!("DejaVuSans.ttf");

fn register_font() -> Result<(), Box<dyn Error>> {
    static REGISTER: Once = Once::new();
    let mut result = Ok(());
    REGISTER.call_once(|| {
        result = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .map_err(|_| "the bundled DejaVu Sans font could not be read".into());
    });
    result
}

/// Writes the learning curves of `history` to `target/examples/<name>.png`: the loss and
/// `val_loss` per epoch on the left, the accuracy and its validation twin on the right
/// (whichever accuracy metric was logged). Returns the path of the file.
pub fn plot_history(history: &History, name: &str, title: &str) -> Result<PathBuf, Box<dyn Error>> {
    register_font()?;
    let path = output_dir()?.join(format!("{name}.png"));
    let names: Vec<String> = history
        .logs()
        .first()
        .map(|l| l.iter().map(|(n, _)| n.to_string()).collect())
        .unwrap_or_default();
    let accuracy = names
        .iter()
        .find(|n| !n.starts_with("val_") && n.ends_with("accuracy"))
        .cloned();

    {
        let root = BitMapBackend::new(&path, (1100, 440)).into_drawing_area();
        root.fill(&WHITE)?;
        let root = root.titled(title, ("sans-serif", 22))?;
        let panels = root.split_evenly((1, 2));
        draw_panel(&panels[0], history, "loss", "loss")?;
        if let Some(acc) = &accuracy {
            draw_panel(&panels[1], history, acc, "accuracy")?;
        }
        root.present()?;
    }
    Ok(path)
}

/// One chart: the training series `key` and, when logged, `val_<key>`, against the epoch.
fn draw_panel(
    area: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    history: &History,
    key: &str,
    label: &str,
) -> Result<(), Box<dyn Error>> {
    let train = history.get(key)?;
    // Not every run validates: a missing `val_` series draws nothing.
    let val = history.get(&format!("val_{key}")).unwrap_or_default();
    let all = train.iter().chain(&val).copied().filter(|v| v.is_finite());
    let (lo, hi) = all.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.1).max(1e-3);
    let epochs = history.epochs().max(1) as f32;

    let mut chart = ChartBuilder::on(area)
        .caption(label, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(56)
        .build_cartesian_2d(0.8f32..epochs + 0.2, (lo - pad)..(hi + pad))?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .x_labels(history.epochs().clamp(2, 12))
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y:.3}"))
        .draw()?;

    for (series, name, color) in [
        (&train, key.to_string(), BLUE),
        (&val, format!("val_{key}"), RED),
    ] {
        if series.is_empty() {
            continue;
        }
        let points: Vec<(f32, f32)> = series
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as f32 + 1.0, v))
            .collect();
        chart
            .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
            .label(name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        chart.draw_series(PointSeries::of_element(
            points,
            4,
            color.filled(),
            &|c, s, st| Circle::new(c, s, st),
        ))?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()?;
    Ok(())
}
