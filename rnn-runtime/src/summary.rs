//! `model.summary()`: Keras 3's table, character for character.
//!
//! Keras renders a rich table `min(88, columns - 4)` characters wide, columns split at 45%
//! and 80%; rich then takes 10 characters back for borders and padding (3, 4 and 3, by its
//! `ratio_reduce`). Cells too long for their column wrap at spaces, as rich's `divide_line`
//! does; a word longer than a whole line is cut with `…` (rich's `ellipsis` overflow).

/// The static description of a model that `model!` generates: its Keras name and, per layer,
/// the name, class, output shape and parameter count that `summary()` prints.
///
/// ```
/// use rnn_runtime::{LayerSpec, ModelSpec};
/// static SPEC: ModelSpec = ModelSpec {
///     name: "sequential",
///     input_time: None,
///     input_batch: None,
///     layers: &[LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", sizes: &[], params: 5 }],
/// };
/// assert!(SPEC.summary(80).contains("│ dense (Dense)"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelSpec {
    /// Keras' model name (`sequential`).
    pub name: &'static str,
    /// Fixed number of time steps (from `Input(timesteps, ..)` or `input_length`), checked at
    /// run time.
    pub input_time: Option<usize>,
    /// Fixed batch size (from Keras 2's `batch_input_shape`), checked at run time: `predict`
    /// takes exactly this many rows, `fit` and `evaluate` whole batches of it.
    pub input_batch: Option<usize>,
    /// One entry per layer.
    pub layers: &'static [LayerSpec],
}

/// One row of the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerSpec {
    /// Keras layer name, numbered as Keras numbers them (`simple_rnn_1`).
    pub name: &'static str,
    /// Keras class name (`SimpleRNN`).
    pub class: &'static str,
    /// Output shape as Keras prints it (`(None, 10, 8)`, or a list for several outputs);
    /// `{0}`, `{1}`, ... stand for the entries of `sizes`.
    pub output_shape: &'static str,
    /// Sizes given by constants (`Embedding(VOCAB, 16)`), which `model!` leaves to the
    /// compiler to evaluate; `output_shape` refers to them by position.
    pub sizes: &'static [usize],
    /// Parameter count.
    pub params: usize,
}

impl LayerSpec {
    /// The output shape with every size filled in.
    ///
    /// ```
    /// use rnn_runtime::LayerSpec;
    /// const VOCAB: usize = 10_000;
    /// let row = LayerSpec {
    ///     name: "embedding",
    ///     class: "Embedding",
    ///     output_shape: "(None, None, {0})",
    ///     sizes: &[VOCAB + 1],
    ///     params: 0,
    /// };
    /// assert_eq!(row.shape(), "(None, None, 10001)");
    /// ```
    pub fn shape(&self) -> String {
        let mut shape = self.output_shape.to_string();
        for (i, n) in self.sizes.iter().enumerate() {
            shape = shape.replace(&format!("{{{i}}}"), &n.to_string());
        }
        shape
    }
}

impl ModelSpec {
    /// Total parameter count.
    ///
    /// Saturates at `usize::MAX`, which no model in memory reaches.
    pub fn params(&self) -> usize {
        self.layers
            .iter()
            .map(|l| l.params)
            .fold(0, usize::saturating_add)
    }

    /// The summary as Keras prints it in a terminal `columns` wide (80 by default; from 92
    /// columns on the table is at its full 88 characters).
    pub fn summary(&self, columns: usize) -> String {
        render(self, columns, None, 0)
    }
}

/// Renders the table; `optimizer` adds Keras' "Optimizer params" line (count of optimizer
/// state scalars), which Keras prints once a model has been trained; `run_time` is the size
/// of a first layer's table chosen at run time (`Embedding(_, 16)`), added to its row.
#[allow(
    clippy::arithmetic_side_effects,
    reason = "u128 sums of usize counts: fewer than 2^57 layers fit in memory, so the sums \
              stay below 2^122"
)]
pub(crate) fn render(
    spec: &ModelSpec,
    columns: usize,
    optimizer: Option<usize>,
    run_time: usize,
) -> String {
    let (cells, text) = layout(columns);

    let mut out = String::new();
    out.push_str(&format!("Model: \"{}\"\n", spec.name));
    out.push_str(&rule('┏', '━', '┳', '┓', &cells));
    let header = [
        vec!["Layer (type)".to_string()],
        vec!["Output Shape".to_string()],
        vec!["Param #".to_string()],
    ];
    out.push_str(&row('┃', &header, &text));
    out.push_str(&rule('┡', '━', '╇', '┩', &cells));
    // Counts in u128: a hand-written spec may hold any `usize`, and their sum must print.
    let run_time = run_time as u128;
    for (i, layer) in spec.layers.iter().enumerate() {
        if i > 0 {
            out.push_str(&rule('├', '─', '┼', '┤', &cells));
        }
        let params = layer.params as u128 + if i == 0 { run_time } else { 0 };
        let cols = [
            wrap(&format!("{} ({})", layer.name, layer.class), text[0]),
            wrap(&layer.shape(), text[1]),
            wrap(&thousands(params), text[2]),
        ];
        out.push_str(&row('│', &cols, &text));
    }
    out.push_str(&rule('└', '─', '┴', '┘', &cells));
    let total = spec.layers.iter().map(|l| l.params as u128).sum::<u128>() + run_time;
    let optimizer_count = optimizer.unwrap_or(0) as u128;
    out.push_str(&format!(
        " Total params: {} ({})\n",
        thousands(total + optimizer_count),
        f32_memory(total + optimizer_count)
    ));
    out.push_str(&format!(
        " Trainable params: {} ({})\n",
        thousands(total),
        f32_memory(total)
    ));
    out.push_str(" Non-trainable params: 0 (0.00 B)\n");
    if let Some(n) = optimizer {
        out.push_str(&format!(
            " Optimizer params: {} ({})\n",
            thousands(n as u128),
            f32_memory(n as u128)
        ));
    }
    out
}

/// The table's cell widths and, inside their padding, text widths: Keras' positions at 45%
/// and 80% of `min(88, columns - 4)`, then rich's reduction of (width + 6 padding) to
/// (width - 4).
#[allow(
    clippy::arithmetic_side_effects,
    reason = "width is clamped to 24..=88, so p1 >= 10, p2 - p1 >= 8 and width - p2 >= 4: \
              every difference is positive"
)]
fn layout(columns: usize) -> ([usize; 3], [usize; 3]) {
    let width = 88.min(columns.saturating_sub(4)).max(24);
    let p1 = (0.45 * width as f64) as usize;
    let p2 = (0.80 * width as f64) as usize;
    let cells = [p1 - 1, p2 - p1 - 2, width - p2 - 1];
    (cells, cells.map(|c| c - 2))
}

/// The memory of `n` f32 values, as [`memory`] prints it.
fn f32_memory(n: u128) -> String {
    memory_f64(n as f64 * 4.0)
}

fn rule(left: char, fill: char, mid: char, right: char, cells: &[usize; 3]) -> String {
    let mut s = String::new();
    s.push(left);
    for (i, &w) in cells.iter().enumerate() {
        if i > 0 {
            s.push(mid);
        }
        s.extend(std::iter::repeat_n(fill, w));
    }
    s.push(right);
    s.push('\n');
    s
}

/// One table row, possibly several lines tall; the last column is right-aligned.
fn row(border: char, cols: &[Vec<String>; 3], text: &[usize; 3]) -> String {
    let lines = cols.iter().map(Vec::len).max().unwrap_or(1);
    let mut s = String::new();
    for l in 0..lines {
        s.push(border);
        for (c, (col, &width)) in cols.iter().zip(text).enumerate() {
            let cell = col.get(l).map(String::as_str).unwrap_or("");
            let pad = width.saturating_sub(cell.chars().count());
            if c == 2 {
                s.push_str(&format!(" {}{} ", " ".repeat(pad), cell));
            } else {
                s.push_str(&format!(" {}{} ", cell, " ".repeat(pad)));
            }
            s.push(border);
        }
        s.push('\n');
    }
    s
}

/// Rich's word wrap: a word (with its trailing spaces) goes on the current line if its
/// visible part fits, else starts a new line; a word longer than a line gets a line of its
/// own, cut to the width with `…`.
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    reason = "`i` only advances while `i < chars.len()`, so `start <= visible_end <= i <= \
              chars.len()`; `used` counts characters of one line; `width` is a text width \
              from `layout`, at least 2"
)]
fn wrap(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let mut used = 0;
    let mut i = 0;
    while i < chars.len() {
        // A word: leading spaces, non-spaces, trailing spaces (rich's `\s*\S+\s*`).
        let start = i;
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        while i < chars.len() && chars[i] != ' ' {
            i += 1;
        }
        let visible_end = i;
        while i < chars.len() && chars[i] == ' ' {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        let visible = visible_end - start;
        if width.saturating_sub(used) >= visible {
            line.push_str(&word);
            used += word.chars().count();
        } else if visible > width {
            if used > 0 {
                lines.push(std::mem::take(&mut line));
            }
            line = chars[start..visible_end].iter().take(width - 1).collect();
            line.push('…');
            used = width + 1; // nothing more fits on this line
        } else {
            lines.push(std::mem::take(&mut line));
            line = word;
            used = line.chars().count();
        }
    }
    lines.push(line);
    lines
        .into_iter()
        // Trailing spaces end up as padding either way.
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// `529441` as `529,441`.
fn thousands(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    // `left`: the digits from this one to the end.
    for (left, c) in (1..=digits.len()).rev().zip(digits.chars()) {
        if left != digits.len() && left.is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Keras' `readable_memory_size`: 1024-based units, two decimals.
pub(crate) fn memory(bytes: usize) -> String {
    memory_f64(bytes as f64)
}

fn memory_f64(bytes: f64) -> String {
    let mut size = bytes;
    for unit in ["B", "KB", "MB", "GB", "TB"] {
        if size / 1024.0 < 1.0 {
            return format!("{size:.2} {unit}");
        }
        size /= 1024.0;
    }
    format!("{size:.2} PB")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_sizes_print_like_keras() {
        assert_eq!(thousands(529_441), "529,441");
        assert_eq!(thousands(42), "42");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(memory(529_441 * 4), "2.02 MB");
        assert_eq!(memory(42 * 4), "168.00 B");
        assert_eq!(memory(1424 * 4), "5.56 KB");
        assert_eq!(memory(0), "0.00 B");
    }

    #[test]
    fn wraps_like_rich() {
        assert_eq!(
            wrap("time_distributed (TimeDistributed)", 31),
            ["time_distributed", "(TimeDistributed)"]
        );
        assert_eq!(
            wrap("[(None, 5, 4), (None, 4), (None, 4)]", 22),
            ["[(None, 5, 4), (None,", "4), (None, 4)]"]
        );
        assert_eq!(wrap("abcdefghij", 4), ["abc…"]);
        assert_eq!(
            wrap("character_level_language_model_encoder_lstm (LSTM)", 31),
            ["character_level_language_model…", "(LSTM)"]
        );
        assert_eq!(wrap("lstm (LSTM)", 31), ["lstm (LSTM)"]);
    }
}
