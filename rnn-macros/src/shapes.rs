//! Shape rules: what each kind of layer outputs for a given input (`ir::Shape` prints them).

use rnn_spec::MergeMode;

use crate::ir::{Rnn, Shape, Size};

#[cfg(test)]
use crate::ir::describe;
pub use crate::ir::describe_all_with;

/// What flows into the next layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Flow {
    /// Nothing yet (before the first layer).
    Start,
    Known(Shape),
    /// After an error: shape checks are skipped so one mistake gives one message.
    Unknown,
}

impl Flow {
    pub fn describe(self) -> String {
        match self {
            Flow::Known(shape) => shape.describe(),
            Flow::Start | Flow::Unknown => "?".into(),
        }
    }
}

/// A recurrent layer's main output: the whole sequence or the last step.
fn main_output(return_sequences: bool, time: Option<usize>, features: Size) -> Shape {
    if return_sequences {
        Shape::Sequence { time, features }
    } else {
        Shape::Vector { features }
    }
}

/// Every output of a recurrent layer over `time` steps: the main output, then with
/// `return_state` one vector per state.
pub fn recurrent(rnn: &Rnn, time: Option<usize>) -> Vec<Shape> {
    let mut shapes = vec![main_output(rnn.return_sequences, time, rnn.units)];
    if rnn.return_state {
        let state = Shape::Vector {
            features: rnn.units,
        };
        shapes.extend(std::iter::repeat_n(state, rnn.cell.cell().states()));
    }
    shapes
}

/// Every output of a `Bidirectional`: the merged output (or both directions with `none`),
/// then with `return_state` each direction's states.
pub fn bidirectional(rnn: &Rnn, merge: MergeMode, time: Option<usize>) -> Vec<Shape> {
    let main = main_output(
        rnn.return_sequences,
        time,
        rnn.units.times(merge.features(1)),
    );
    let mut shapes = if merge == MergeMode::NoMerge {
        let direction = main_output(rnn.return_sequences, time, rnn.units);
        vec![direction, direction]
    } else {
        vec![main]
    };
    if rnn.return_state {
        let state = Shape::Vector {
            features: rnn.units,
        };
        shapes.extend(std::iter::repeat_n(state, 2 * rnn.cell.cell().states()));
    }
    shapes
}

/// What a layer with a merged output passes on: the merged width even with `none`, which is
/// allowed only for the last layer.
pub fn bidirectional_next(rnn: &Rnn, merge: MergeMode, time: Option<usize>) -> Shape {
    main_output(
        rnn.return_sequences,
        time,
        rnn.units.times(merge.features(1)),
    )
}

/// `Dense` acts on the last axis and keeps the others.
pub fn dense(input: Shape, units: Size) -> Shape {
    match input {
        Shape::Sequence { time, .. } => Shape::Sequence {
            time,
            features: units,
        },
        Shape::Vector { .. } => Shape::Vector { features: units },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::Init;
    use crate::ir::RnnCell;
    use rnn_spec::{Activation, defaults};

    fn lstm(return_sequences: bool, return_state: bool) -> Rnn {
        Rnn {
            cell: RnnCell::Lstm {
                unit_forget_bias: true,
            },
            input: Size::Lit(3),
            units: Size::Lit(4),
            activation: Activation::Tanh,
            recurrent_activation: Activation::Sigmoid,
            use_bias: true,
            kernel_initializer: Init::default_of(defaults::KERNEL_INITIALIZER),
            recurrent_initializer: Init::default_of(defaults::RECURRENT_INITIALIZER),
            bias_initializer: Init::default_of(defaults::BIAS_INITIALIZER),
            return_sequences,
            return_state,
            go_backwards: false,
            dropout: crate::ir::Rate(0.0),
            recurrent_dropout: crate::ir::Rate(0.0),
        }
    }

    #[test]
    fn recurrent_outputs() {
        assert_eq!(
            crate::ir::describe_all(&recurrent(&lstm(false, false), Some(5))),
            "(None, 4)"
        );
        assert_eq!(
            crate::ir::describe_all(&recurrent(&lstm(true, true), Some(5))),
            "[(None, 5, 4), (None, 4), (None, 4)]"
        );
    }

    #[test]
    fn bidirectional_outputs() {
        let rnn = lstm(true, true);
        assert_eq!(
            crate::ir::describe_all(&bidirectional(&rnn, MergeMode::NoMerge, None)),
            "[(None, None, 4), (None, None, 4), (None, 4), (None, 4), (None, 4), (None, 4)]"
        );
        assert_eq!(
            bidirectional_next(&rnn, MergeMode::Concat, None).describe(),
            "(None, None, 8)"
        );
    }

    #[test]
    fn dense_keeps_the_time_axis() {
        let seq = Shape::Sequence {
            time: Some(7),
            features: Size::Lit(3),
        };
        assert_eq!(describe(dense(seq, Size::Lit(2))), "(None, 7, 2)");
        assert_eq!(
            describe(dense(
                Shape::Vector {
                    features: Size::Lit(3)
                },
                Size::Lit(2)
            )),
            "(None, 2)"
        );
        assert_eq!(Flow::Unknown.describe(), "?");
    }
}
