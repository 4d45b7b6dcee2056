//! The recurrent cells: gates, states, Keras' cell names and parameter counts.

use crate::LayerClass;
use crate::params::recurrent_params;

/// The cell of a recurrent layer.
///
/// ```
/// use rnn_spec::Cell;
/// assert_eq!(Cell::Gru.gates(), 3);
/// assert_eq!(Cell::Lstm.state_names(), ["state_h", "state_c"]);
/// assert_eq!(Cell::Simple.cell_name(), "simple_rnn_cell");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cell {
    /// `SimpleRNN`'s cell.
    Simple,
    /// `LSTM`'s cell.
    Lstm,
    /// `GRU`'s cell.
    Gru,
}

impl Cell {
    /// Every cell.
    ///
    /// ```
    /// assert_eq!(rnn_spec::Cell::ALL.len(), 3);
    /// ```
    pub const ALL: [Cell; 3] = [Cell::Simple, Cell::Lstm, Cell::Gru];

    /// Gate blocks per unit: the kernel has `gates * units` columns (LSTM: i, f, c, o;
    /// GRU: z, r, h).
    ///
    /// ```
    /// assert_eq!(rnn_spec::Cell::Lstm.gates(), 4);
    /// ```
    pub const fn gates(self) -> usize {
        match self {
            Cell::Simple => 1,
            Cell::Lstm => 4,
            Cell::Gru => 3,
        }
    }

    /// Keras' names of the final states returned with `return_state`, in order.
    ///
    /// ```
    /// assert_eq!(rnn_spec::Cell::Gru.state_names(), ["state_h"]);
    /// ```
    pub const fn state_names(self) -> &'static [&'static str] {
        match self {
            Cell::Lstm => &["state_h", "state_c"],
            Cell::Simple | Cell::Gru => &["state_h"],
        }
    }

    /// How many final states `return_state` adds (LSTM returns h and c).
    ///
    /// ```
    /// assert_eq!(rnn_spec::Cell::Lstm.states(), 2);
    /// ```
    pub const fn states(self) -> usize {
        self.state_names().len()
    }

    /// Keras' name of the cell, the scope of its weights (`lstm/lstm_cell/kernel`).
    ///
    /// ```
    /// assert_eq!(rnn_spec::Cell::Gru.cell_name(), "gru_cell");
    /// ```
    pub const fn cell_name(self) -> &'static str {
        match self {
            Cell::Simple => "simple_rnn_cell",
            Cell::Lstm => "lstm_cell",
            Cell::Gru => "gru_cell",
        }
    }

    /// The layer class that runs this cell.
    ///
    /// ```
    /// assert_eq!(rnn_spec::Cell::Simple.layer().keras_name(), "SimpleRNN");
    /// ```
    pub const fn layer(self) -> LayerClass {
        match self {
            Cell::Simple => LayerClass::SimpleRnn,
            Cell::Lstm => LayerClass::Lstm,
            Cell::Gru => LayerClass::Gru,
        }
    }

    /// Rows of the bias: 2 for a GRU with `reset_after` (input and recurrent bias), else 1.
    /// `reset_after` is ignored for the other cells.
    ///
    /// ```
    /// use rnn_spec::Cell;
    /// assert_eq!(Cell::Gru.bias_rows(true), 2);
    /// assert_eq!(Cell::Lstm.bias_rows(true), 1);
    /// ```
    pub const fn bias_rows(self, reset_after: bool) -> usize {
        match self {
            Cell::Gru if reset_after => 2,
            _ => 1,
        }
    }

    /// Keras' parameter count of one layer with this cell: see [`recurrent_params`].
    ///
    /// ```
    /// assert_eq!(rnn_spec::Cell::Gru.params(100, 128, true, true), 88_320);
    /// ```
    pub const fn params(
        self,
        input: usize,
        units: usize,
        use_bias: bool,
        reset_after: bool,
    ) -> usize {
        recurrent_params(self, input, units, use_bias, reset_after)
    }
}
