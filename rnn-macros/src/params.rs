//! Keras' parameter-count formulas. The runtime has the same formulas as `const`s on its layer
//! types; the generated code asserts at compile time that both agree.

/// The recurrent cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cell {
    Simple,
    Lstm,
    Gru,
}

impl Cell {
    /// Gate blocks per unit: the kernel has `gates * units` columns.
    pub fn gates(self) -> usize {
        match self {
            Cell::Simple => 1,
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }

    /// Final states returned with `return_state` (LSTM returns h and c).
    pub fn states(self) -> usize {
        if self == Cell::Lstm { 2 } else { 1 }
    }
}

/// SimpleRNN `H(in + H) + H`, LSTM `4H(in + H) + 4H`, GRU `3H(in + H) + 3H`, plus another
/// `3H` of recurrent bias when `reset_after`.
pub fn recurrent(
    cell: Cell,
    input: usize,
    units: usize,
    use_bias: bool,
    reset_after: bool,
) -> usize {
    let g = cell.gates() * units;
    let bias_rows = if cell == Cell::Gru && reset_after {
        2
    } else {
        1
    };
    g * (input + units) + if use_bias { bias_rows * g } else { 0 }
}

/// `in * units + units`.
pub fn dense(input: usize, units: usize, use_bias: bool) -> usize {
    input * units + if use_bias { units } else { 0 }
}

/// `input_dim * output_dim`.
pub fn embedding(vocab: usize, dim: usize) -> usize {
    vocab * dim
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tutorial_counts() {
        // Keras' summaries of the tutorial models (fixtures summaries.json).
        assert_eq!(embedding(5000, 100), 500_000);
        assert_eq!(recurrent(Cell::Simple, 100, 128, true, false), 29_312);
        assert_eq!(dense(128, 1, true), 129);
        assert_eq!(recurrent(Cell::Simple, 10, 3, true, false), 42);
        assert_eq!(recurrent(Cell::Simple, 5, 8, true, false), 112);
        assert_eq!(2 * recurrent(Cell::Lstm, 16, 64, true, false), 41_472);
        assert_eq!(2 * recurrent(Cell::Lstm, 128, 32, true, false), 41_216);
        assert_eq!(recurrent(Cell::Lstm, 100, 100, true, false), 80_400);
        assert_eq!(recurrent(Cell::Gru, 100, 128, true, true), 88_320);
        assert_eq!(recurrent(Cell::Gru, 100, 128, true, false), 87_936);
        assert_eq!(recurrent(Cell::Simple, 3, 4, false, false), 28);
        assert_eq!(dense(64, 64, false), 4096);
    }
}
