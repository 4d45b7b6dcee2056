//! Keras' parameter-count formulas.

use crate::Cell;

/// A recurrent layer: SimpleRNN `H(in + H) + H`, LSTM `4H(in + H) + 4H`,
/// GRU `3H(in + H) + 3H`, plus another `3H` of recurrent bias when `reset_after`; without the
/// bias terms when `use_bias` is false. `reset_after` matters for GRU only.
///
/// ```
/// use rnn_spec::{Cell, recurrent_params};
/// assert_eq!(recurrent_params(Cell::Simple, 100, 128, true, false), 29_312);
/// assert_eq!(recurrent_params(Cell::Gru, 100, 128, true, false), 87_936);
/// ```
pub const fn recurrent_params(
    cell: Cell,
    input: usize,
    units: usize,
    use_bias: bool,
    reset_after: bool,
) -> usize {
    narrow(recurrent_params_wide(
        cell,
        input as u128,
        units as u128,
        use_bias,
        reset_after,
    ))
}

/// [`recurrent_params`] in `u128`, which sizes up to 2^32 cannot overflow: what `model!`
/// compares with its limit before any `usize` count is written.
///
/// ```
/// use rnn_spec::{Cell, recurrent_params_wide};
/// let n = 4_000_000_000u128;
/// assert_eq!(recurrent_params_wide(Cell::Lstm, n, n, true, false), 4 * n * 2 * n + 4 * n);
/// ```
pub const fn recurrent_params_wide(
    cell: Cell,
    input: u128,
    units: u128,
    use_bias: bool,
    reset_after: bool,
) -> u128 {
    let g = cell.gates() as u128 * units;
    g * (input + units)
        + if use_bias {
            cell.bias_rows(reset_after) as u128 * g
        } else {
            0
        }
}

/// A count as `usize`; in a constant (`<Lstm<A, B> as Weights>::PARAMS`), one that does not
/// fit is a compile error rather than a wrapped number.
const fn narrow(n: u128) -> usize {
    assert!(
        n <= usize::MAX as u128,
        "the parameter count does not fit in usize"
    );
    n as usize
}

/// `Bidirectional`: two copies of the wrapped layer.
///
/// ```
/// use rnn_spec::{Cell, bidirectional_params};
/// assert_eq!(bidirectional_params(Cell::Lstm, 16, 64, true, false), 41_472);
/// ```
pub const fn bidirectional_params(
    cell: Cell,
    input: usize,
    units: usize,
    use_bias: bool,
    reset_after: bool,
) -> usize {
    narrow(2 * recurrent_params_wide(cell, input as u128, units as u128, use_bias, reset_after))
}

/// `Dense` (also inside `TimeDistributed`): `in * units + units`.
///
/// ```
/// assert_eq!(rnn_spec::dense_params(128, 1, true), 129);
/// assert_eq!(rnn_spec::dense_params(64, 64, false), 4096);
/// ```
pub const fn dense_params(input: usize, units: usize, use_bias: bool) -> usize {
    narrow(dense_params_wide(input as u128, units as u128, use_bias))
}

/// [`dense_params`] in `u128`.
///
/// ```
/// assert_eq!(rnn_spec::dense_params_wide(128, 1, true), 129);
/// ```
pub const fn dense_params_wide(input: u128, units: u128, use_bias: bool) -> u128 {
    input * units + if use_bias { units } else { 0 }
}

/// `Embedding`: `input_dim * output_dim`.
///
/// ```
/// assert_eq!(rnn_spec::embedding_params(5000, 100), 500_000);
/// ```
pub const fn embedding_params(input_dim: usize, output_dim: usize) -> usize {
    narrow(input_dim as u128 * output_dim as u128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tutorial_counts() {
        // Keras' summaries of the tutorial models (fixtures summaries.json).
        assert_eq!(embedding_params(5000, 100), 500_000);
        assert_eq!(
            recurrent_params(Cell::Simple, 100, 128, true, false),
            29_312
        );
        assert_eq!(dense_params(128, 1, true), 129);
        assert_eq!(recurrent_params(Cell::Simple, 10, 3, true, false), 42);
        assert_eq!(recurrent_params(Cell::Simple, 5, 8, true, false), 112);
        assert_eq!(
            bidirectional_params(Cell::Lstm, 16, 64, true, false),
            41_472
        );
        assert_eq!(
            bidirectional_params(Cell::Lstm, 128, 32, true, false),
            41_216
        );
        assert_eq!(recurrent_params(Cell::Lstm, 100, 100, true, false), 80_400);
        assert_eq!(recurrent_params(Cell::Gru, 100, 128, true, true), 88_320);
        assert_eq!(recurrent_params(Cell::Gru, 100, 128, true, false), 87_936);
        assert_eq!(recurrent_params(Cell::Simple, 3, 4, false, false), 28);
        assert_eq!(dense_params(64, 64, false), 4096);
    }

    #[test]
    fn reset_after_only_changes_gru() {
        for cell in [Cell::Simple, Cell::Lstm] {
            assert_eq!(
                recurrent_params(cell, 7, 5, true, true),
                recurrent_params(cell, 7, 5, true, false)
            );
        }
    }
}
