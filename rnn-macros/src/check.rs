//! Checking: walks a model's layer chain, resolving each layer and binding its arguments
//! ([`crate::bind`]), checking it against what flows in ([`crate::layers`]), naming it as
//! Keras does ([`crate::naming`]) and comparing the total with `#[params = N]`. Every problem
//! is reported at the offending layer or argument and all of them are collected; a layer with
//! an error has an unknown output, so it causes no follow-on errors further down.

use proc_macro2::Span;
use rnn_spec::LayerClass;
use syn::Expr;

use crate::ast::{LayerCall, Value};
use crate::bind::{Args, bind, int_literal};
use crate::ctxt::Ctxt;
use crate::ir::{DeclaredParams, Input, Layer, Model, Shape};
use crate::layers::{self, Feed, Prev};
use crate::messages;
use crate::naming::Names;
use crate::shapes::Flow;

/// The outcome of checking one model.
pub struct Checked {
    /// The model, when every layer checked (a wrong `#[params]` still gives one).
    pub model: Option<Model>,
    /// Every error, in the order of the layers.
    pub errors: Vec<syn::Error>,
}

/// The default limit on a model's parameter count: 64 billion parameters, 256 GB at f32,
/// about what the largest single machines hold once gradients and optimizer slots (three to
/// four times the weights) are counted. `#[max_params = N]` changes it.
pub const MAX_PARAMS: u128 = 64_000_000_000;

/// Checks one model's layer chain against an optional declared parameter count and limit.
pub fn check(
    layers: &[LayerCall],
    declared: Option<&Expr>,
    max: Option<&Expr>,
    span: Span,
) -> Checked {
    let cx = Ctxt::new();
    let mut model = chain(layers, span, &cx);
    let limit = match max {
        None => Some(MAX_PARAMS),
        Some(e) => match int_literal(e) {
            Some(n) if n > 0 => Some(n),
            _ => {
                cx.error_spanned_by(e, messages::max_params_not_an_integer());
                None
            }
        },
    };
    if let (Some(m), Some(limit)) = (&model, limit)
        && !within_limit(m, layers, limit, max.is_some(), span, &cx)
    {
        // A wrong count is not worth comparing with `#[params]`, nor writing out.
        model = None;
    }
    if let Some(model) = &mut model
        && let Some(expr) = declared
    {
        model.declared_params = check_declared(expr, model, &cx);
    }
    Checked {
        model,
        errors: cx.check().err().unwrap_or_default(),
    }
}

/// The state of the walk down the chain.
struct Walk<'a> {
    flow: Flow,
    input: Option<(Input, Option<usize>)>,
    layers: Vec<Layer>,
    names: Names,
    /// The layer before, if it checked.
    prev: Option<Prev<'a>>,
    /// The layer whose output lost the time axis, if one did.
    dropped_time: Option<Prev<'a>>,
    seen_input: bool,
    /// A fixed batch size, from `batch_input_shape` on the first layer.
    batch: Option<usize>,
    /// The model's first layer, to show where Keras 2's input-shape arguments go.
    first: Option<&'a LayerCall>,
    /// A later layer (or the layer the first one wraps) has Keras 2's input-shape arguments:
    /// its error, which shows where they go, is the one to report, not the first layer's
    /// missing input.
    declared_later: bool,
    /// `None` once any layer failed.
    complete: Option<()>,
}

fn chain(calls: &[LayerCall], span: Span, cx: &Ctxt) -> Option<Model> {
    if calls.is_empty() {
        cx.error_at(span, messages::NO_LAYERS);
        return None;
    }
    let mut walk = Walk {
        flow: Flow::Start,
        input: None,
        layers: Vec::new(),
        names: Names::default(),
        prev: None,
        dropped_time: None,
        seen_input: false,
        batch: None,
        first: calls.first(),
        declared_later: calls.iter().skip(1).any(has_first_layer_args)
            || calls.first().is_some_and(|c| {
                c.args.iter().any(|a| match &a.value {
                    Value::Layer(l) => has_first_layer_args(l),
                    Value::Expr(_) => false,
                })
            }),
        complete: Some(()),
    };
    for (i, call) in calls.iter().enumerate() {
        let checked = walk.layer(i, call, calls.len(), cx);
        walk.complete = walk.complete.and(checked);
    }
    walk.complete?;
    let (input, input_time) = walk.input?;
    let params = walk.layers.iter().map(|l| l.params).sum::<Option<u128>>();
    Some(Model {
        name: rnn_spec::MODEL_NAME,
        input,
        input_time,
        input_batch: walk.batch,
        layers: walk.layers,
        params,
        declared_params: None,
    })
}

impl<'a> Walk<'a> {
    /// Checks the `i`th of `count` layers; `None` if it has an error.
    fn layer(&mut self, i: usize, call: &'a LayerCall, count: usize, cx: &Ctxt) -> Option<()> {
        let Some(class) = layers::resolve(call, cx) else {
            self.fail();
            return None;
        };
        // A layer after a multi-output layer cannot be fed.
        if let Some(p) = self.prev.as_ref().filter(|p| p.outputs > 1) {
            let fix = messages::multi_output_fix(p.call);
            let message = messages::after_multi_output(class, &p.name, p.class, p.outputs, &fix);
            cx.error_spanned_by(call, message);
            self.flow = Flow::Unknown;
        }
        let (args, bound) = bind(call, class, cx);
        let custom_name = args.custom_name(cx);
        if class == LayerClass::Input {
            return self.input(i, call, count, &args, bound, cx);
        }
        let mut placed = Some(());
        let checked = if class == LayerClass::Embedding {
            if i > 0 {
                let received = match self.flow {
                    Flow::Unknown | Flow::Start => None,
                    flow => Some(flow.describe()),
                };
                let message = messages::embedding_not_first(received, call, self.seen_input);
                cx.error_spanned_by(call, message);
            }
            layers::embedding(&args, i == 0, cx).map(|(checked, time)| {
                self.input = Some((Input::Tokens, time));
                checked
            })
        } else {
            placed = self.first_layer_input(i, call, class, &args, cx);
            let feed = Feed {
                call,
                class,
                flow: self.flow,
                prev: self.prev.as_ref(),
                dropped_time: self.dropped_time.as_ref(),
            };
            layers::check(&feed, &args, cx)
        };
        let (checked, custom_name) = match (checked, bound, custom_name) {
            (Some(checked), Some(()), Some(name)) => (checked, name),
            _ => {
                self.fail();
                return None;
            }
        };
        let layers::Checked {
            mut layer,
            next,
            inner_name,
        } = checked;
        self.names.assign(&mut layer, custom_name, inner_name);
        let unique = self.unique(&layer, call, cx);
        let prev = Prev {
            call,
            class,
            name: layer.name.clone(),
            outputs: layer.outputs.len(),
        };
        let dropped = matches!(self.flow, Flow::Known(Shape::Sequence { .. }))
            && matches!(next, Shape::Vector { .. });
        if dropped {
            self.dropped_time = Some(prev.clone());
        }
        self.prev = Some(prev);
        self.flow = Flow::Known(next);
        self.layers.push(layer);
        unique.and(placed)
    }

    /// Keras 2's input-shape arguments: on the first layer they declare the model's input
    /// (an error if there is none there); on a later layer they are an error that shows the
    /// first layer with them. `None` if they are misplaced.
    fn first_layer_input(
        &mut self,
        i: usize,
        call: &LayerCall,
        class: LayerClass,
        args: &Args,
        cx: &Ctxt,
    ) -> Option<()> {
        if i > 0 {
            let given = args.first_layer_args();
            if given.is_empty() {
                return Some(());
            }
            let written: Vec<String> = given.iter().map(|a| a.source()).collect();
            let first = self
                .first
                .map(|f| (f, LayerClass::from_keras_name(&f.name.to_string())));
            let fixed = match first {
                Some((f, Some(first_class)))
                    if first_class != LayerClass::Input
                        && layers::takes_all(first_class, &given)
                        && !layers::declares_input(first_class, f) =>
                {
                    let mut fixed = messages::valid_only(first_class, f);
                    for arg in &given {
                        let key = arg.key.as_ref().map(|k| k.to_string()).unwrap_or_default();
                        let value = crate::bind::value_source(&arg.value);
                        fixed = syn::parse_str(&fixed.source_with(&key, &value)).unwrap_or(fixed);
                    }
                    Some(fixed.source())
                }
                _ => None,
            };
            let first_source = self
                .first
                .map(|f| messages::clean(f).source())
                .unwrap_or_default();
            let message =
                messages::first_layer_arg_misplaced(class, &written, &first_source, fixed);
            cx.error_spanned_by(given[0], message);
            return None;
        }
        let declared = if class.arg("input_shape").is_some() {
            args.declared_input(layers::reads_sequences(class), cx)
        } else {
            Some(None)
        };
        match declared {
            Some(Some(d)) => {
                let (input, time, shape) = layers::declared(d.time, d.features);
                self.input = Some((input, time));
                self.batch = d.batch;
                self.flow = Flow::Known(shape);
            }
            Some(None) => {
                if !self.declared_later {
                    cx.error_spanned_by(call, messages::first_without_input(class, call));
                }
                self.flow = Flow::Unknown;
            }
            None => self.flow = Flow::Unknown,
        }
        Some(())
    }

    /// `Input`, which declares the shape the first layer receives and is not a layer itself.
    fn input(
        &mut self,
        i: usize,
        call: &LayerCall,
        count: usize,
        args: &Args,
        bound: Option<()>,
        cx: &Ctxt,
    ) -> Option<()> {
        if i > 0 {
            let message = if self.seen_input {
                messages::INPUT_TWICE
            } else {
                messages::INPUT_NOT_FIRST
            };
            cx.error_spanned_by(call, message);
        }
        self.seen_input = true;
        let input = layers::input(args, cx).filter(|_| i == 0 && bound.is_some());
        self.prev = None;
        self.flow = match input {
            Some((input, time, shape)) => {
                self.input = Some((input, time));
                Flow::Known(shape)
            }
            None => Flow::Unknown,
        };
        if count == 1 {
            cx.error_spanned_by(call, messages::INPUT_ONLY);
            return None;
        }
        input.map(|_| ())
    }

    /// After an error: nothing is known about what flows on.
    fn fail(&mut self) {
        self.flow = Flow::Unknown;
        self.prev = None;
    }

    /// Layer names must be unique in a model; a clash is reported but the layer still
    /// passes its output on.
    fn unique(&self, layer: &Layer, call: &LayerCall, cx: &Ctxt) -> Option<()> {
        match self.layers.iter().find(|l| l.name == layer.name) {
            Some(first) => {
                let message = messages::duplicate_name(&layer.name, first.class, layer.class);
                cx.error_spanned_by(call, message);
                None
            }
            None => Some(()),
        }
    }
}

/// Whether a call gives one of Keras 2's input-shape arguments its class takes.
fn has_first_layer_args(call: &LayerCall) -> bool {
    LayerClass::from_keras_name(&call.name.to_string()).is_some_and(|class| {
        call.args.iter().any(|a| {
            a.key
                .as_ref()
                .is_some_and(|k| class.is_first_layer_arg(&k.to_string()))
        })
    })
}

/// Whether every layer's count and the total are at most `limit`; reports the first layer
/// above it (at its call), or else the total.
fn within_limit(
    model: &Model,
    calls: &[LayerCall],
    limit: u128,
    raised: bool,
    span: Span,
    cx: &Ctxt,
) -> bool {
    // `Input(..)` declares the input and is no layer of the model.
    let layer_calls: Vec<&LayerCall> = calls.iter().filter(|c| c.name != "Input").collect();
    let aligned = layer_calls.len() == model.layers.len();
    for (i, layer) in model.layers.iter().enumerate() {
        let Some(n) = layer.params.filter(|&n| n > limit) else {
            continue;
        };
        let call = aligned.then(|| layer_calls[i]);
        let what = match call {
            Some(c) => format!("`{}` (layer `{}`)", c.source(), layer.name),
            None => format!("layer `{}` ({})", layer.name, layer.class.keras_name()),
        };
        let message = messages::too_many_params(&what, n, limit, raised);
        match call {
            Some(c) => cx.error_spanned_by(c, message),
            None => cx.error_at(span, message),
        }
        return false;
    }
    let total = model.layers.iter().filter_map(|l| l.params).sum::<u128>();
    if total > limit {
        let message = messages::too_many_params("the model", total, limit, raised);
        cx.error_at(span, message);
        return false;
    }
    true
}

/// Compares `#[params = N]` with the count; returns `N` when the count depends on constants,
/// for the compiler to compare.
fn check_declared(expr: &Expr, model: &Model, cx: &Ctxt) -> Option<DeclaredParams> {
    if model.run_time_vocab() {
        cx.error_spanned_by(expr, messages::params_with_run_time_vocab());
        return None;
    }
    let Some(declared) = int_literal(expr) else {
        cx.error_spanned_by(expr, messages::params_not_an_integer(model.params));
        return None;
    };
    let Some(total) = model.params else {
        return Some(DeclaredParams {
            count: declared,
            span: syn::spanned::Spanned::span(expr),
        });
    };
    if declared != total {
        let rows: Vec<(&str, LayerClass, u128)> = model
            .layers
            .iter()
            .map(|l| (l.name.as_str(), l.class, l.params.unwrap_or_default()))
            .collect();
        cx.error_spanned_by(expr, messages::params_mismatch(total, declared, &rows));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Invocation;
    use crate::ir::{LayerKind, Size};
    use quote::quote;

    fn run(tokens: proc_macro2::TokenStream) -> (Option<Model>, Vec<String>) {
        let inv: Invocation = syn::parse2(tokens).expect("parses");
        let Invocation::Items(items) = inv else {
            panic!("items")
        };
        let item = &items[0];
        let Checked { model, errors } = check(
            &item.layers,
            item.params.as_ref(),
            item.max_params.as_ref(),
            Span::call_site(),
        );
        (model, errors.iter().map(|e| e.to_string()).collect())
    }

    fn ok(tokens: proc_macro2::TokenStream) -> Model {
        let (model, errors) = run(tokens);
        assert!(errors.is_empty(), "{errors:?}");
        model.expect("model")
    }

    fn errs(tokens: proc_macro2::TokenStream) -> Vec<String> {
        let (_, errors) = run(tokens);
        assert!(!errors.is_empty(), "expected errors");
        errors
    }

    #[test]
    fn tutorial_model_a() {
        let m = ok(
            quote!(#[params = 529_441] struct Quiz = Embedding(5000, 100) => SimpleRNN(128) => Dense(1, sigmoid);),
        );
        assert_eq!(m.params, Some(529_441));
        assert_eq!(m.input, Input::Tokens);
        let rows: Vec<(&str, &str, String, Option<u128>)> = m
            .layers
            .iter()
            .map(|l| {
                (
                    l.name.as_str(),
                    l.class.keras_name(),
                    l.output_shape(),
                    l.params,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "embedding",
                    "Embedding",
                    "(None, None, 100)".into(),
                    Some(500_000)
                ),
                (
                    "simple_rnn",
                    "SimpleRNN",
                    "(None, 128)".into(),
                    Some(29_312)
                ),
                ("dense", "Dense", "(None, 1)".into(), Some(129)),
            ]
        );
    }

    #[test]
    fn keras_numbering_with_wrappers() {
        let m = ok(
            quote!(struct M = Input(10, 5) => Bidirectional(LSTM(8, return_sequences = true))
            => Bidirectional(LSTM(4, return_sequences = true)) => Dense(3) => TimeDistributed(Dense(2, softmax));),
        );
        let names: Vec<&str> = m.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "bidirectional",
                "bidirectional_1",
                "dense",
                "time_distributed"
            ]
        );
        match &m.layers[1].kind {
            LayerKind::Bidirectional(bi) => {
                assert_eq!(bi.inner_name, "lstm_1");
                assert_eq!(bi.out, Size::Lit(8));
                assert_eq!(bi.inner.input, Size::Lit(16));
            }
            k => panic!("{k:?}"),
        }
        assert_eq!(m.layers[3].output_shape(), "(None, 10, 2)");
        assert_eq!(m.input_time, Some(10));
    }

    #[test]
    fn multi_output_shapes() {
        let m = ok(
            quote!(struct M = Embedding(11, 3, mask_zero = true, input_length = 5) => LSTM(4, return_sequences = true, return_state = true);),
        );
        assert_eq!(
            m.layers[1].output_shape(),
            "[(None, 5, 4), (None, 4), (None, 4)]"
        );
        let m = ok(
            quote!(struct M = Input(_, 3) => Bidirectional(LSTM(4, return_sequences = true, return_state = true), merge_mode = none);),
        );
        assert_eq!(
            m.layers[0].output_shape(),
            "[(None, None, 4), (None, None, 4), (None, 4), (None, 4), (None, 4), (None, 4)]"
        );
    }

    #[test]
    fn gru_reset_after_changes_the_count() {
        let a = ok(quote!(struct M = Input(30, 100) => GRU(128);));
        let b = ok(quote!(struct M = Input(30, 100) => GRU(128, reset_after = false);));
        assert_eq!((a.params, b.params), (Some(88_320), Some(87_936)));
    }

    #[test]
    fn vector_input_and_dense() {
        let m = ok(
            quote!(struct M = Input(4) => Dense(8, relu) => Dropout(0.5) => Dense(3, "softmax");),
        );
        assert_eq!(m.input, Input::Features(Size::Lit(4)));
        assert_eq!(m.layers[2].output_shape(), "(None, 3)");
        assert_eq!(m.params, Some(4 * 8 + 8 + 8 * 3 + 3));
    }

    #[test]
    fn recurrent_after_vector_suggests_return_sequences() {
        let e = errs(quote!(struct M = Input(_, 8) => LSTM(64) => LSTM(32);));
        assert_eq!(e.len(), 1);
        assert!(e[0].contains("`LSTM` needs a sequence"), "{}", e[0]);
        assert!(
            e[0].contains("LSTM(64, return_sequences = true)"),
            "{}",
            e[0]
        );
        let e = errs(
            quote!(struct M = Input(_, 8) => Bidirectional(GRU(4)) => GlobalAveragePooling1D;),
        );
        assert!(
            e[0].contains("Bidirectional(GRU(4, return_sequences = true))"),
            "{}",
            e[0]
        );
    }

    #[test]
    fn errors_do_not_cascade() {
        // The misspelt keyword would otherwise make the next layer's input a vector.
        let e = errs(
            quote!(struct M = Input(_, 8) => LSTM(64, return_sequence = true) => LSTM(32) => Dense(1);),
        );
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("did you mean `return_sequences`"));
        let e = errs(quote!(struct M = Input(_, 8) => Lstm(4) => Dense(0) => Dropout(2.0);));
        assert_eq!(e.len(), 3, "{e:?}");
    }

    #[test]
    fn argument_errors() {
        let e = errs(
            quote!(struct M = Input(_, 8) => LSTM(4, units = 4) => LSTM(units = 4, 5) => Dense(1.5) => Dense() => Dense(1, sigmoidd) => Dense(1, use_bias = 1);),
        );
        assert!(
            e.iter()
                .any(|m| m.contains("`units` is given twice to `LSTM` (positionally and by name)")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.contains("positional argument after the keyword argument `units = 4`")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.contains("must be a positive integer, found `1.5`")),
            "{e:?}"
        );
        assert!(
            e.iter().any(|m| m.contains("`Dense` needs `units`")),
            "{e:?}"
        );
        assert!(
            e.iter().any(|m| m.contains("did you mean `sigmoid`")),
            "{e:?}"
        );
        assert!(
            e.iter()
                .any(|m| m.contains("must be `true` or `false`, found `1`")),
            "{e:?}"
        );
    }

    #[test]
    fn placement_errors() {
        let e = errs(quote!(struct M = Input(_, 8) => Embedding(10, 4) => LSTM(2);));
        assert!(
            e[0].contains("`Embedding` must be the first layer"),
            "{e:?}"
        );
        let e = errs(quote!(struct M = Embedding(10, 4) => Input(_, 4) => LSTM(2);));
        assert!(e[0].contains("`Input` must be the first layer"), "{e:?}");
        let e = errs(quote!(struct M = Input(_, 4) => Input(_, 4) => LSTM(2);));
        assert!(e[0].contains("given twice"), "{e:?}");
        let e = errs(quote!(struct M = LSTM(2) => Dense(1);));
        assert!(
            e[0].contains("is the first layer, so the size of its input is unknown"),
            "{e:?}"
        );
        let e = errs(quote!(struct M = Input(_, 4) => LSTM(2, return_state = true) => Dense(1);));
        assert!(e[0].contains("returns 3 outputs"), "{e:?}");
        let e = errs(quote!(struct M = Input(_, 4) => Bidirectional(Dense(2));));
        assert!(e[0].contains("wraps a recurrent layer"), "{e:?}");
        let e = errs(quote!(struct M = Input(_, 4) => TimeDistributed(LSTM(2));));
        assert!(e[0].contains("supports `Dense` only"), "{e:?}");
    }

    #[test]
    fn custom_names() {
        let m = ok(
            quote!(struct M = Input(_, 3) => LSTM(8, return_sequences = true, name = "encoder")
            => LSTM(4, return_sequences = true) => TimeDistributed(Dense(3, softmax), name = "head")
            => Bidirectional(GRU(2, name = "g"));),
        );
        let names: Vec<&str> = m.layers.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["encoder", "lstm", "head", "bidirectional"]);
        assert!(
            matches!(&m.layers[2].kind, LayerKind::TimeDistributed { dense_name, .. } if dense_name == "dense")
        );
        assert!(matches!(&m.layers[3].kind, LayerKind::Bidirectional(bi) if bi.inner_name == "g"));
        let e = errs(quote!(struct M = Input(_, 3) => Dense(4, name = "dense") => Dense(2);));
        assert!(e[0].contains("two layers are named `dense`"), "{e:?}");
        let e = errs(quote!(struct M = Input(_, 3) => Dense(4, name = "a/b");));
        assert!(e[0].contains("non-empty string without `/`"), "{e:?}");
        let e =
            errs(quote!(struct M = Input(_, 3) => Bidirectional(LSTM(4, go_backwards = true));));
        assert!(e[0].contains("must read forwards"), "{e:?}");
        assert!(e[0].contains("`Bidirectional(LSTM(4))`"), "{e:?}");
    }

    #[test]
    fn a_name_clash_fails_the_model_but_passes_the_shape_on() {
        let (model, e) =
            run(quote!(struct M = Input(3) => Dense(4, name = "dense") => Dense(2) => LSTM(3);));
        assert!(model.is_none());
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(e[0].contains("two layers are named `dense`"), "{e:?}");
        assert!(
            e[1].contains("but `dense` (Dense) outputs `(None, 2)`"),
            "{e:?}"
        );
        assert!(e[1].contains("the model's input has no time axis"), "{e:?}");
    }

    #[test]
    fn an_input_alone_is_no_model() {
        let (model, e) = run(quote!(struct M = Input(_, 3);));
        assert!(model.is_none());
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("no layers after `Input`"), "{e:?}");
    }

    #[test]
    fn a_bad_wrapped_layer_fails_its_wrapper_only() {
        let (model, e) = run(
            quote!(struct M = Input(_, 3) => Bidirectional(LSTM(4, name = 5)) => TimeDistributed(Dense(2, bias = 1)) => Dense(1);),
        );
        assert!(model.is_none());
        assert_eq!(e.len(), 2, "{e:?}");
        assert!(
            e[0].contains("`name` of `LSTM` must be a non-empty string"),
            "{e:?}"
        );
        assert!(e[1].contains("`Dense` has no argument `bias`"), "{e:?}");
    }

    #[test]
    fn declared_params_are_compared() {
        let (model, e) = run(
            quote!(#[params = 529_440] struct Q = Embedding(5000, 100) => SimpleRNN(128) => Dense(1, sigmoid);),
        );
        assert!(model.is_some(), "a wrong count still generates the model");
        assert_eq!(e.len(), 1);
        assert!(
            e[0].contains("this model has 529,441 parameters, not 529,440"),
            "{}",
            e[0]
        );
        assert!(e[0].contains("simple_rnn (SimpleRNN): 29,312"), "{}", e[0]);
        assert!(e[0].contains("#[params = 529_441]"), "{}", e[0]);
    }

    #[test]
    fn keras2_first_layer_forms_declare_the_input() {
        let m = ok(quote!(struct M = SimpleRNN(3, input_shape = (2, 10));));
        assert_eq!(
            (m.input, m.input_time, m.input_batch),
            (Input::Sequence(Size::Lit(10)), Some(2), None)
        );
        assert_eq!(m.params, Some(42));
        let m = ok(quote!(struct M = LSTM(32, input_shape = (None, 5));));
        assert_eq!(
            (m.input, m.input_time),
            (Input::Sequence(Size::Lit(5)), None)
        );
        let m = ok(quote!(struct M = SimpleRNN(3, batch_input_shape = (8, 2, 10));));
        assert_eq!((m.input_time, m.input_batch), (Some(2), Some(8)));
        assert_eq!(m.layers[0].output_shape_batched(m.input_batch), "(8, 3)");
        let m = ok(quote!(struct M = SimpleRNN(3, input_length = 2, input_dim = 10);));
        assert_eq!(
            (m.input, m.input_time),
            (Input::Sequence(Size::Lit(10)), Some(2))
        );
        let m = ok(quote!(struct M = GRU(3, input_dim = 10);));
        assert_eq!(
            (m.input, m.input_time),
            (Input::Sequence(Size::Lit(10)), None)
        );
        let m = ok(
            quote!(struct M = Bidirectional(SimpleRNN(8, return_sequences = true), input_shape = (10, 5));),
        );
        assert_eq!(m.layers[0].output_shape(), "(None, 10, 16)");
        assert_eq!(m.params, Some(224));
        let m = ok(quote!(struct M = Dense(4, input_shape = (8,)) => Dense(1);));
        assert_eq!(m.input, Input::Features(Size::Lit(8)));
        assert_eq!(m.params, Some(36 + 5));
        let m = ok(quote!(struct M = Dense(4, input_dim = 8);));
        assert_eq!(m.input, Input::Features(Size::Lit(8)));
    }

    #[test]
    fn keras2_forms_on_a_later_layer_move_to_the_first() {
        let e = errs(
            quote!(struct M = LSTM(32, return_sequences = true) => LSTM(8, input_shape = (10, 5));),
        );
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("only the first layer takes it"), "{e:?}");
        assert!(
            e[0].contains("`LSTM(32, return_sequences = true, input_shape = (10, 5))`"),
            "{e:?}"
        );
        let e = errs(quote!(struct M = Input(_, 5) => LSTM(8, input_dim = 5);));
        assert!(e[0].contains("already declared by `Input(_, 5)`"), "{e:?}");
        let e = errs(quote!(struct M = Bidirectional(LSTM(8, input_shape = (10, 5)));));
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].contains("`Bidirectional(LSTM(8), input_shape = (10, 5))`"),
            "{e:?}"
        );
    }

    #[test]
    fn keras2_form_errors() {
        let e = errs(quote!(struct M = LSTM(8, input_shape = 5);));
        assert!(e[0].contains("must be a tuple"), "{e:?}");
        let e = errs(quote!(struct M = LSTM(8, input_shape = (10, 5), input_dim = 5);));
        assert!(e[0].contains("more than once"), "{e:?}");
        let e = errs(quote!(struct M = LSTM(8, input_length = 5);));
        assert!(e[0].contains("add `input_dim = features`"), "{e:?}");
        let e = errs(quote!(struct M = LSTM(8, input_shape = (10, 0));));
        assert!(e[0].contains("the number of features"), "{e:?}");
        let e = errs(quote!(struct M = Dense(4, input_length = 3);));
        assert!(e[0].contains("has no argument `input_length`"), "{e:?}");
        // The help never repeats an invalid argument.
        let e = errs(quote!(struct M = LSTM(32, input_shap = (10, 5));));
        assert!(e.iter().all(|m| !m.contains("input_shap =")), "{e:?}");
        assert!(e[1].contains("`Input(_, 8) => LSTM(32)`"), "{e:?}");
        assert!(
            e[1].contains("`LSTM(32, input_shape = (None, 8))`"),
            "{e:?}"
        );
    }

    #[test]
    fn fixes_never_repeat_an_invalid_argument() {
        let e =
            errs(quote!(struct M = Input(_, 8) => Embedding(10, 4, mask_zeros = true) => LSTM(2);));
        assert!(e.iter().all(|m| !m.contains("mask_zeros = true)")), "{e:?}");
        let e = errs(
            quote!(struct M = Input(_, 3) => Bidirectional(LSTM(4, go_backwards = true, unit = 2));),
        );
        assert!(
            e.iter().any(|m| m.contains("`Bidirectional(LSTM(4))`")),
            "{e:?}"
        );
        assert!(e.iter().all(|m| !m.contains("unit = 2)")), "{e:?}");
    }

    #[test]
    fn a_vocabulary_chosen_at_run_time() {
        let m = ok(quote!(struct M = Embedding(_, 4) => LSTM(2) => Dense(MAX_WORDS, softmax);));
        assert!(m.run_time_vocab());
        assert_eq!(m.params, None);
        let LayerKind::Embedding(e) = &m.layers[0].kind else {
            panic!("embedding")
        };
        assert_eq!((e.vocab, e.dim), (None, Size::Lit(4)));
        // A size that later layers depend on cannot be `_`.
        let e = errs(quote!(struct M = Embedding(_, 4) => LSTM(2) => Dense(_, softmax);));
        assert!(
            e[0].starts_with("`units` of `Dense` cannot be `_`"),
            "{e:?}"
        );
        assert!(e[0].contains("`units = MAX_WORDS`"), "{e:?}");
        let e = errs(quote!(struct M = Embedding(10, _) => LSTM(2);));
        assert!(
            e[0].starts_with("`output_dim` of `Embedding` cannot be `_`"),
            "{e:?}"
        );
        let e = errs(quote!(#[params = 10] struct M = Embedding(_, 4) => LSTM(2);));
        assert!(
            e[0].contains("depends on the vocabulary chosen by `with_vocab`"),
            "{e:?}"
        );
    }

    #[test]
    fn counts_are_wide_and_limited() {
        // 4e12 parameters: 16 TB at f32, above the default limit.
        let e = errs(quote!(struct M = Embedding(4_000_000_000, 1000) => LSTM(2);));
        assert!(
            e[0].starts_with(
                "`Embedding(4_000_000_000, 1000)` (layer `embedding`) has 4,000,000,000,000 \
                 parameters (4.0e12), 16 TB at f32: more than the default limit of \
                 64,000,000,000 (256 GB)"
            ),
            "{e:?}"
        );
        assert!(
            e[0].contains("`#[max_params = 4_000_000_000_000]`"),
            "{e:?}"
        );
        // Beyond `u64`: 4 * 4e9 * (4e9 + 4e9) + 4 * 4e9 overflows a 64-bit count.
        let e = errs(quote!(struct M = Input(_, 4_000_000_000) => LSTM(4_000_000_000);));
        assert!(
            e[0].contains("has 128,000,000,016,000,000,000 parameters"),
            "{e:?}"
        );
        // Each layer within the limit, the total above it.
        let e = errs(quote!(#[max_params = 100] struct M = Input(_, 4) => LSTM(3) => Dense(10);));
        assert!(
            e[0].starts_with("the model has 136 parameters, 544 B at f32")
                && e[0].contains("this model's `#[max_params]` of 100"),
            "{e:?}"
        );
        let m = ok(quote!(#[max_params = 136] struct M = Input(_, 4) => LSTM(3) => Dense(10);));
        assert_eq!(m.params, Some(136));
        // Raised, a large model checks (it is only built if the memory is there).
        let m = ok(quote!(
            #[max_params = 5_000_000_000_000]
            struct M = Embedding(4_000_000_000, 1000) => LSTM(2);
        ));
        assert_eq!(m.params, Some(4_000_000_000_000 + 4 * 2 * 1002 + 8));
        let e = errs(quote!(#[max_params = 0] struct M = Input(_, 4) => LSTM(3);));
        assert!(
            e[0].starts_with("`#[max_params = ..]` takes a positive integer"),
            "{e:?}"
        );
    }
}
