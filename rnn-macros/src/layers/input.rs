//! `Input(timesteps, features)`: declares what the model takes.

use crate::bind::{Args, Time};
use crate::ctxt::Ctxt;
use crate::ir::{Input, Shape, Size};

/// The model's input, its fixed number of steps if any, and the shape the first layer gets.
pub fn input(args: &Args, cx: &Ctxt) -> Option<(Input, Option<usize>, Shape)> {
    let (time, features) = args.input_shape(cx)?;
    Some(declared(time, features))
}

/// The input, its fixed steps and the first layer's shape, for a time axis and features
/// declared by `Input` or by Keras 2's arguments on the first layer.
pub fn declared(time: Time, features: Size) -> (Input, Option<usize>, Shape) {
    match time {
        Time::Absent => (Input::Features(features), None, Shape::Vector { features }),
        Time::Any => (
            Input::Sequence(features),
            None,
            Shape::Sequence {
                time: None,
                features,
            },
        ),
        Time::Fixed(t) => (
            Input::Sequence(features),
            Some(t),
            Shape::Sequence {
                time: Some(t),
                features,
            },
        ),
    }
}
