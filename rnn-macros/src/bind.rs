//! Argument binding: a layer call's arguments matched to the layer's parameters (Keras'
//! positional order, then keywords), and each argument read as the value it stands for.
//! Every reader returns `None` after reporting why the argument is wrong.

use quote::ToTokens;
use rnn_spec::{Activation, ArgDefault, Initializer, LayerClass, MergeMode};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, UnOp};

use crate::ast::{Arg, LayerCall, Value, expr_source};
use crate::ctxt::Ctxt;
use crate::ir::{Init, Size};
use crate::messages;

/// A layer's arguments bound to its parameters.
pub struct Args<'a> {
    pub call: &'a LayerCall,
    pub class: LayerClass,
    /// One slot per parameter: positional ones in order, then keyword-only ones.
    slots: Vec<Option<&'a Arg>>,
}

/// The time axis declared by `Input`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Time {
    /// `Input(features)`: vectors.
    Absent,
    /// `Input(_, features)`: any number of steps.
    Any,
    Fixed(usize),
}

/// The input a first layer declares with Keras 2's arguments (`input_shape`,
/// `batch_input_shape`, `input_dim`, `input_length`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Declared {
    /// A fixed batch size, from `batch_input_shape = (batch, ..)`.
    pub batch: Option<usize>,
    pub time: Time,
    pub features: Size,
}

/// Binds `call`'s arguments to `class`'s parameters. Returns what could be bound, and
/// `Some(())` only if every argument found its parameter.
pub fn bind<'a>(call: &'a LayerCall, class: LayerClass, cx: &Ctxt) -> (Args<'a>, Option<()>) {
    let params = class.args();
    let keywords: Vec<&str> = params
        .iter()
        .chain(class.keyword_args())
        .map(|a| a.name)
        .collect();
    let mut slots: Vec<Option<&Arg>> = vec![None; keywords.len()];
    let mut complete = Some(());
    let positional = call.args.iter().filter(|a| a.key.is_none()).count();
    // `Input(8)`: a single positional argument is the feature size of a vector input.
    let shift = usize::from(
        class == LayerClass::Input && positional == 1 && call.args.iter().all(|a| a.key.is_none()),
    );
    let mut next = shift;
    let mut first_keyword: Option<&Arg> = None;
    for arg in &call.args {
        match &arg.key {
            None if first_keyword.is_some() => {
                let keyword = first_keyword.map(|k| k.source()).unwrap_or_default();
                cx.error_spanned_by(arg, messages::positional_after_keyword(&keyword));
                complete = None;
            }
            None => {
                if next >= params.len() {
                    cx.error_spanned_by(arg, messages::extra_positional(class));
                    complete = None;
                } else {
                    slots[next] = Some(arg);
                }
                next += 1;
            }
            Some(key) => {
                first_keyword.get_or_insert(arg);
                let k = key.to_string();
                match keywords.iter().position(|&p| p == k) {
                    None => {
                        cx.error_spanned_by(key, messages::unknown_keyword(class, &k));
                        complete = None;
                    }
                    Some(p) if slots[p].is_some() => {
                        let both_ways = slots[p].is_some_and(|a| a.key.is_none());
                        cx.error_spanned_by(arg, messages::given_twice(class, &k, both_ways));
                        complete = None;
                    }
                    Some(p) => slots[p] = Some(arg),
                }
            }
        }
    }
    (Args { call, class, slots }, complete)
}

impl<'a> Args<'a> {
    fn get(&self, name: &str) -> Option<&'a Arg> {
        let p = self
            .class
            .args()
            .iter()
            .chain(self.class.keyword_args())
            .position(|p| p.name == name)
            .expect("known parameter");
        self.slots[p]
    }

    /// Keras' default of one of this layer's arguments.
    fn default(&self, name: &str) -> ArgDefault {
        self.class.arg(name).expect("known parameter").default
    }

    /// Reports a missing required argument.
    fn missing<T>(&self, name: &str, example: &str, cx: &Ctxt) -> Option<T> {
        cx.error_spanned_by(self.call, messages::missing(self.class, name, example));
        None
    }

    fn expr(&self, name: &str) -> Option<&'a Expr> {
        match &self.get(name)?.value {
            Value::Expr(e) => Some(e),
            Value::Layer(_) => None,
        }
    }

    /// An optional size: a positive integer literal or a constant expression (`VOCAB`,
    /// `VOCAB + 1`, `{ 2 * H }`); `Some(None)` when not given.
    pub fn size(&self, name: &str, cx: &Ctxt) -> Option<Option<Size>> {
        let Some(e) = self.get(name).and_then(|_| self.expr(name)) else {
            return self.literal_size(name, cx).map(|n| n.map(Size::Lit));
        };
        if int_literal(e).is_none() && is_constant(e) {
            return Some(Some(Size::constant(expr_source(e), e.span())));
        }
        self.literal_size(name, cx).map(|n| n.map(Size::Lit))
    }

    /// An optional positive integer literal, for sizes checked at run time (time steps):
    /// `Some(None)` when not given.
    pub fn literal_size(&self, name: &str, cx: &Ctxt) -> Option<Option<usize>> {
        let Some(arg) = self.get(name) else {
            return Some(None);
        };
        let Some(e) = self.expr(name) else {
            let found = arg.value.to_token_stream().to_string();
            cx.error_spanned_by(arg, messages::size_is_a_layer(self.class, name, &found));
            return None;
        };
        let message = match int_literal(e) {
            None if is_constant(e) => messages::literal_required(self.class, name, &expr_source(e)),
            Some(0) => messages::size_zero(self.class, name),
            Some(n) if n <= u32::MAX as u128 => return Some(Some(n as usize)),
            Some(n) => messages::size_too_large(self.class, name, n),
            None if is_infer(e) => messages::size_at_run_time(self.class, name),
            None => messages::not_a_size(self.class, name, &expr_source(e)),
        };
        cx.error_spanned_by(arg, message);
        None
    }

    /// Whether the argument is written `_`: a size chosen at run time (only `Embedding`'s
    /// `input_dim` may be).
    pub fn run_time(&self, name: &str) -> bool {
        self.expr(name).is_some_and(is_infer)
    }

    /// A required size.
    pub fn required_size(&self, name: &str, example: &str, cx: &Ctxt) -> Option<Size> {
        match self.size(name, cx)? {
            Some(n) => Some(n),
            None => self.missing(name, example, cx),
        }
    }

    /// A flag; Keras' default when not given.
    pub fn boolean(&self, name: &str, cx: &Ctxt) -> Option<bool> {
        let Some(arg) = self.get(name) else {
            return self.default(name).as_bool();
        };
        if let Some(Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        })) = self.expr(name)
        {
            return Some(b.value);
        }
        let found = value_source(&arg.value);
        cx.error_spanned_by(arg, messages::not_a_bool(self.class, name, &found));
        None
    }

    /// A flag as given, or Keras' default; `None` for anything else, without reporting it
    /// (its own reader does).
    pub fn boolean_or_default(&self, name: &str) -> Option<bool> {
        if self.get(name).is_none() {
            return self.default(name).as_bool();
        }
        match self.expr(name) {
            Some(Expr::Lit(ExprLit {
                lit: Lit::Bool(b), ..
            })) => Some(b.value),
            _ => None,
        }
    }

    /// A name given as an identifier or a string: `sigmoid` or `"sigmoid"`; `None` stands
    /// for `python_none`, as Python's `None` does in Keras.
    fn word(&self, name: &str, python_none: &str) -> Option<(&'a Arg, Option<String>)> {
        let arg = self.get(name)?;
        let word = match &arg.value {
            Value::Expr(Expr::Path(p)) => p.path.get_ident().map(|i| i.to_string()),
            Value::Expr(Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            })) => Some(s.value()),
            _ => None,
        };
        let word = word.map(|w| {
            if w == "None" {
                python_none.to_string()
            } else {
                w
            }
        });
        Some((arg, word))
    }

    /// An activation; Keras' default when not given.
    pub fn activation(&self, name: &str, cx: &Ctxt) -> Option<Activation> {
        let Some((arg, word)) = self.word(name, Activation::Linear.keras_name()) else {
            return self.default(name).as_activation();
        };
        if let Some(a) = word.as_deref().and_then(Activation::from_keras_name) {
            return Some(a);
        }
        let found = word.unwrap_or_else(|| value_source(&arg.value));
        cx.error_spanned_by(arg, messages::unknown_activation(&found, name));
        None
    }

    /// A weight initializer; Keras' default when not given. Written as a word (`Zeros`,
    /// `glorot_uniform`), a string (`"he_normal"`) or a call with positional or keyword
    /// arguments (`Constant(0.1)`, `Orthogonal(gain = 2.0)`). `vector`: the weight has one axis
    /// (a bias), which Keras' matrix-only initializers refuse.
    pub fn initializer(&self, name: &str, vector: bool, cx: &Ctxt) -> Option<Init> {
        let Some(arg) = self.get(name) else {
            return self.default(name).as_initializer().map(Init::default_of);
        };
        let init = match &arg.value {
            Value::Layer(call) => self.initializer_call(name, call, cx)?,
            Value::Expr(e) => {
                let word = self.word(name, "None").and_then(|(_, w)| w);
                match word.as_deref().and_then(Initializer::from_keras_name) {
                    Some(class) => Init::default_of(class),
                    None => {
                        let message = match float_literal(e) {
                            Some(_) => {
                                messages::number_as_initializer(self.class, name, &expr_source(e))
                            }
                            None => messages::unknown_initializer(
                                self.class,
                                name,
                                &word.unwrap_or_else(|| expr_source(e)),
                            ),
                        };
                        cx.error_spanned_by(arg, message);
                        return None;
                    }
                }
            }
        };
        if vector && init.class.needs_matrix() {
            let message = messages::initializer_needs_matrix(init.class, self.class, name);
            cx.error_spanned_by(arg, message);
            return None;
        }
        Some(init)
    }

    /// `Constant(0.1)`, `RandomUniform(minval = -0.1, maxval = 0.1)`: the arguments bound as
    /// Keras binds them, each a number.
    fn initializer_call(&self, name: &str, call: &LayerCall, cx: &Ctxt) -> Option<Init> {
        let word = call.name.to_string();
        let Some(class) = Initializer::from_keras_name(&word) else {
            let message = messages::unknown_initializer(self.class, name, &word);
            cx.error_spanned_by(&call.name, message);
            return None;
        };
        let mut init = Init::default_of(class);
        let params = class.args();
        let mut set = [false; 2];
        let (mut next, mut ok, mut keyword_seen) = (0, true, false);
        for a in &call.args {
            let slot = match &a.key {
                None if keyword_seen => {
                    let keyword = call.args.iter().find(|a| a.key.is_some());
                    let keyword = keyword.map(Arg::source).unwrap_or_default();
                    cx.error_spanned_by(a, messages::positional_after_keyword(&keyword));
                    ok = false;
                    continue;
                }
                None if next >= params.len() => {
                    cx.error_spanned_by(a, messages::initializer_extra_positional(class));
                    ok = false;
                    continue;
                }
                None => {
                    next += 1;
                    next - 1
                }
                Some(key) => {
                    keyword_seen = true;
                    let k = key.to_string();
                    match params.iter().position(|p| p.name == k) {
                        Some(i) => i,
                        None => {
                            let message = messages::initializer_unknown_keyword(class, &k);
                            cx.error_spanned_by(key, message);
                            ok = false;
                            continue;
                        }
                    }
                }
            };
            let pname = params[slot].name;
            if set[slot] {
                let message = messages::initializer_given_twice(class, pname);
                cx.error_spanned_by(a, message);
                ok = false;
                continue;
            }
            set[slot] = true;
            let value = match &a.value {
                Value::Expr(e) => float_literal(e).filter(|v| v.is_finite()),
                Value::Layer(_) => None,
            };
            match value {
                Some(v) => init.args[slot] = v,
                None => {
                    let found = value_source(&a.value);
                    let message = messages::initializer_not_a_number(class, pname, &found);
                    cx.error_spanned_by(a, message);
                    ok = false;
                }
            }
        }
        ok.then_some(init)
    }

    /// `merge_mode`; Keras' default when not given.
    pub fn merge_mode(&self, cx: &Ctxt) -> Option<MergeMode> {
        let name = "merge_mode";
        let Some((arg, word)) = self.word(name, MergeMode::NoMerge.keras_name()) else {
            return self.default(name).as_merge();
        };
        if let Some(m) = word.as_deref().and_then(MergeMode::from_keras_name) {
            return Some(m);
        }
        let found = word.unwrap_or_else(|| value_source(&arg.value));
        cx.error_spanned_by(arg, messages::unknown_merge_mode(&found));
        None
    }

    /// `Input(timesteps, features)`, `Input(_, features)` or `Input(features)`.
    pub fn input_shape(&self, cx: &Ctxt) -> Option<(Time, Size)> {
        let features = self.required_size("features", "Input(_, 8)", cx);
        let time = match self.get("timesteps") {
            None if self.call.args.len() == 1 && self.call.args[0].key.is_none() => {
                Some(Time::Absent)
            }
            None => {
                if features.is_some() {
                    self.missing::<()>("timesteps", "Input(_, 8)", cx);
                }
                None
            }
            Some(arg) => match &arg.value {
                Value::Expr(Expr::Infer(_)) => Some(Time::Any),
                Value::Expr(Expr::Path(p)) if p.path.is_ident("None") => Some(Time::Any),
                _ => self.literal_size("timesteps", cx)?.map(Time::Fixed),
            },
        };
        Some((time?, features?))
    }

    /// The first-layer input-shape arguments given to this call, in the order written.
    pub fn first_layer_args(&self) -> Vec<&'a Arg> {
        self.call
            .args
            .iter()
            .filter(|a| {
                a.key
                    .as_ref()
                    .is_some_and(|k| self.class.is_first_layer_arg(&k.to_string()))
            })
            .collect()
    }

    /// The model's input as Keras 2 declares it on a first layer: `Some(None)` when none of
    /// `input_shape`, `batch_input_shape`, `input_dim`, `input_length` is given.
    /// `needs_time`: the layer reads sequences, so `input_dim` alone means any number of steps
    /// (as Keras 2's recurrent layers read it) rather than vectors.
    pub fn declared_input(&self, needs_time: bool, cx: &Ctxt) -> Option<Option<Declared>> {
        let given = self.first_layer_args();
        let Some(first) = given.first() else {
            return Some(None);
        };
        let key = |a: &Arg| a.key.as_ref().map(|k| k.to_string()).unwrap_or_default();
        let keys: Vec<String> = given.iter().map(|a| key(a)).collect();
        let has = |k: &str| keys.iter().any(|g| g == k);
        let shaped = has("input_shape") || has("batch_input_shape");
        if (has("input_shape") && has("batch_input_shape"))
            || (shaped && (has("input_dim") || has("input_length")))
        {
            let written: Vec<String> = given.iter().map(|a| a.source()).collect();
            cx.error_spanned_by(
                self.call,
                messages::input_shape_given_twice(self.class, &written),
            );
            return None;
        }
        let declared = if has("input_shape") || has("batch_input_shape") {
            let arg = *first;
            let batched = key(arg) == "batch_input_shape";
            self.shape_tuple(arg, batched, cx)?
        } else if !has("input_dim") {
            cx.error_spanned_by(*first, messages::input_length_without_dim(self.class));
            return None;
        } else {
            let features = self.required_size("input_dim", "input_dim = 8", cx)?;
            let length = self
                .class
                .arg("input_length")
                .and_then(|_| self.get("input_length"));
            let time = match length {
                None if needs_time => Time::Any,
                None => Time::Absent,
                Some(arg) => match &arg.value {
                    Value::Expr(e) if is_none(e) => Time::Any,
                    _ => Time::Fixed(self.literal_size("input_length", cx)??),
                },
            };
            Declared {
                batch: None,
                time,
                features,
            }
        };
        Some(Some(declared))
    }

    /// `input_shape = (timesteps, features)` or `(features,)`; with `batched`,
    /// `batch_input_shape = (batch, timesteps, features)` or `(batch, features)`.
    fn shape_tuple(&self, arg: &Arg, batched: bool, cx: &Ctxt) -> Option<Declared> {
        let name = if batched {
            "batch_input_shape"
        } else {
            "input_shape"
        };
        let elems: Option<Vec<&Expr>> = match &arg.value {
            Value::Expr(Expr::Tuple(t)) => Some(t.elems.iter().collect()),
            Value::Expr(Expr::Array(a)) => Some(a.elems.iter().collect()),
            _ => None,
        };
        let skip = usize::from(batched);
        let elems = match elems {
            Some(e) if e.len() == skip + 1 || e.len() == skip + 2 => e,
            _ => {
                let found = value_source(&arg.value);
                cx.error_spanned_by(arg, messages::bad_input_shape(self.class, name, &found));
                return None;
            }
        };
        let batch = if batched {
            match elems[0] {
                e if is_none(e) => Some(None),
                e => self
                    .tuple_size(arg, name, "the batch size", e, cx)
                    .map(Some),
            }
        } else {
            Some(None)
        };
        let time = if elems.len() == skip + 2 {
            match elems[skip] {
                e if is_none(e) => Some(Time::Any),
                e => self
                    .tuple_size(arg, name, "the number of time steps", e, cx)
                    .map(Time::Fixed),
            }
        } else {
            Some(Time::Absent)
        };
        let last = elems[elems.len() - 1];
        let features = if int_literal(last).is_none() && is_constant(last) {
            Some(Size::constant(expr_source(last), last.span()))
        } else {
            self.tuple_size(arg, name, "the number of features", last, cx)
                .map(Size::Lit)
        };
        Some(Declared {
            batch: batch?,
            time: time?,
            features: features?,
        })
    }

    /// One positive integer of an input-shape tuple.
    fn tuple_size(&self, arg: &Arg, name: &str, what: &str, e: &Expr, cx: &Ctxt) -> Option<usize> {
        match int_literal(e) {
            Some(n) if n > 0 && n <= u32::MAX as u128 => Some(n as usize),
            _ => {
                let message = messages::bad_shape_entry(self.class, name, what, &expr_source(e));
                cx.error_spanned_by(arg, message);
                None
            }
        }
    }

    /// `Dropout(rate)`: a number in `[0, 1)`.
    pub fn rate(&self, cx: &Ctxt) -> Option<f64> {
        if self.get("rate").is_none() {
            return self.missing("rate", "Dropout(0.5)", cx);
        }
        self.dropout_rate("rate", cx)
    }

    /// A dropout rate, `rate` of `Dropout` or `dropout`/`recurrent_dropout` of a recurrent
    /// layer: a number in `[0, 1)`, the default when not given.
    pub fn dropout_rate(&self, name: &str, cx: &Ctxt) -> Option<f64> {
        let Some(arg) = self.get(name) else {
            return self.default(name).as_rate();
        };
        let value = self.expr(name).and_then(float_literal);
        let message = match value {
            Some(r) if (0.0..1.0).contains(&r) => return Some(r),
            Some(r) => messages::rate_out_of_range(self.class, name, r),
            None => messages::rate_not_a_number(self.class, name, &value_source(&arg.value)),
        };
        cx.error_spanned_by(&arg.value, message);
        None
    }

    /// `name = "..."`: a layer name of the user's choosing, as Keras allows. `Some(None)`
    /// when not given.
    pub fn custom_name(&self, cx: &Ctxt) -> Option<Option<String>> {
        // `Input` cannot be named.
        if self.class.arg("name").is_none() {
            return Some(None);
        }
        let Some(arg) = self.get("name") else {
            return Some(None);
        };
        match &arg.value {
            Value::Expr(Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            })) if !s.value().is_empty() && !s.value().contains('/') => Some(Some(s.value())),
            _ => {
                let found = value_source(&arg.value);
                cx.error_spanned_by(arg, messages::bad_name(self.class, &found));
                None
            }
        }
    }

    /// The wrapped layer of `Bidirectional` or `TimeDistributed`.
    pub fn nested(&self, example: &str, cx: &Ctxt) -> Option<&'a LayerCall> {
        let Some(arg) = self.get("layer") else {
            return self.missing("layer", example, cx);
        };
        match &arg.value {
            Value::Layer(l) => Some(l),
            Value::Expr(e) => {
                let message = messages::wraps_a_layer(self.class, &expr_source(e), example);
                cx.error_spanned_by(arg, message);
                None
            }
        }
    }
}

/// An argument as written.
pub fn value_source(v: &Value) -> String {
    match v {
        Value::Expr(e) => expr_source(e),
        Value::Layer(l) => l.source(),
    }
}

/// A constant expression that may stand for a size: a constant's path written as constants
/// are (`VOCAB`, `config::VOCAB`; a lowercase name is a misplaced word such as an activation,
/// not a constant), or arithmetic, a block or a call (`VOCAB + 1`, `{ 2 * H }`,
/// `units(3)`) of which the compiler checks the type.
fn is_constant(e: &Expr) -> bool {
    match e {
        Expr::Path(p) => {
            p.qself.is_none()
                && p.path.segments.last().is_some_and(|s| {
                    let name = s.ident.to_string();
                    name != "None" && !name.chars().any(char::is_lowercase)
                })
        }
        Expr::Binary(_) | Expr::Block(_) | Expr::Call(_) | Expr::Paren(_) | Expr::Cast(_) => true,
        Expr::Group(g) => is_constant(&g.expr),
        _ => false,
    }
}

/// `_`.
fn is_infer(e: &Expr) -> bool {
    match e {
        Expr::Infer(_) => true,
        Expr::Group(g) => is_infer(&g.expr),
        _ => false,
    }
}

/// Python's `None` or `_`: any size.
fn is_none(e: &Expr) -> bool {
    match e {
        Expr::Infer(_) => true,
        Expr::Path(p) => p.path.is_ident("None"),
        Expr::Group(g) => is_none(&g.expr),
        _ => false,
    }
}

/// A non-negative integer literal.
pub fn int_literal(e: &Expr) -> Option<u128> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse().ok(),
        Expr::Group(g) => int_literal(&g.expr),
        _ => None,
    }
}

/// A number literal, possibly negated.
fn float_literal(e: &Expr) -> Option<f64> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Float(f), ..
        }) => f.base10_parse::<f64>().ok(),
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<f64>().ok(),
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => match &*u.expr {
            inner @ Expr::Lit(_) => float_literal(inner).map(|v| -v),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(source: &str) -> LayerCall {
        syn::parse_str(source).expect("parses")
    }

    fn errors(cx: Ctxt) -> Vec<String> {
        match cx.check() {
            Ok(()) => Vec::new(),
            Err(e) => e.iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn binds_positional_then_keywords_with_keras_defaults() {
        let c = call("LSTM(8, relu, return_sequences = true)");
        let cx = Ctxt::new();
        let (args, bound) = bind(&c, LayerClass::Lstm, &cx);
        assert_eq!(bound, Some(()));
        assert_eq!(
            args.required_size("units", "LSTM(64)", &cx),
            Some(Size::Lit(8))
        );
        assert_eq!(args.activation("activation", &cx), Some(Activation::Relu));
        assert_eq!(
            args.activation("recurrent_activation", &cx),
            Some(Activation::Sigmoid)
        );
        assert_eq!(args.boolean("return_sequences", &cx), Some(true));
        assert_eq!(args.boolean("unit_forget_bias", &cx), Some(true));
        assert_eq!(args.custom_name(&cx), Some(None));
        assert!(errors(cx).is_empty());
    }

    #[test]
    fn binding_errors_make_the_binding_incomplete() {
        let c = call("Dense(4, units = 4, 5, use_bia = true)");
        let cx = Ctxt::new();
        let (_, bound) = bind(&c, LayerClass::Dense, &cx);
        assert_eq!(bound, None);
        let e = errors(cx);
        assert_eq!(e.len(), 3, "{e:?}");
        assert!(e[0].contains("`units` is given twice to `Dense` (positionally and by name)"));
        assert!(e[1].contains("positional argument after the keyword argument `units = 4`"));
        assert!(e[2].contains("did you mean `use_bias`"));
    }

    #[test]
    fn values_are_read_or_reported() {
        let c = call("Bidirectional(LSTM(2), merge_mode = None)");
        let cx = Ctxt::new();
        let (args, _) = bind(&c, LayerClass::Bidirectional, &cx);
        assert_eq!(args.merge_mode(&cx), Some(MergeMode::NoMerge));
        assert!(args.nested("Bidirectional(LSTM(64))", &cx).is_some());
        assert!(errors(cx).is_empty());

        let c = call("Dropout(-0.5)");
        let cx = Ctxt::new();
        let (args, _) = bind(&c, LayerClass::Dropout, &cx);
        assert_eq!(args.rate(&cx), None);
        assert!(errors(cx)[0].contains("found -0.5"));

        let c = call("Input(_, 8)");
        let cx = Ctxt::new();
        let (args, _) = bind(&c, LayerClass::Input, &cx);
        assert_eq!(args.input_shape(&cx), Some((Time::Any, Size::Lit(8))));
        let c = call("Input(8)");
        let (args, _) = bind(&c, LayerClass::Input, &cx);
        assert_eq!(args.input_shape(&cx), Some((Time::Absent, Size::Lit(8))));
        assert!(errors(cx).is_empty());
    }

    #[test]
    fn initializers_as_words_strings_and_calls() {
        let c = call(
            "LSTM(4, kernel_initializer = Constant(value = 0.1), \
             recurrent_initializer = \"orthogonal\", bias_initializer = he_normal)",
        );
        let cx = Ctxt::new();
        let (args, _) = bind(&c, LayerClass::Lstm, &cx);
        let k = args.initializer("kernel_initializer", false, &cx);
        assert_eq!(
            k,
            Some(Init {
                class: Initializer::Constant,
                args: [0.1, 0.0]
            })
        );
        let r = args.initializer("recurrent_initializer", false, &cx);
        assert_eq!(r, Some(Init::default_of(Initializer::Orthogonal)));
        let b = args.initializer("bias_initializer", true, &cx);
        assert_eq!(b, Some(Init::default_of(Initializer::HeNormal)));
        assert!(errors(cx).is_empty());

        let c = call("Dense(4, kernel_initializer = RandomUniform(-0.1, maxval = 0.2))");
        let cx = Ctxt::new();
        let (args, _) = bind(&c, LayerClass::Dense, &cx);
        let k = args.initializer("kernel_initializer", false, &cx);
        assert_eq!(k.map(|i| i.args), Some([-0.1, 0.2]));
        let b = args.initializer("bias_initializer", true, &cx);
        assert_eq!(b, Some(Init::default_of(Initializer::Zeros)));
        assert!(errors(cx).is_empty());
    }

    #[test]
    fn bad_initializers_are_reported() {
        let cases = [
            (
                "Dense(4, kernel_initializer = GlorotUniforn)",
                "did you mean `GlorotUniform`",
            ),
            (
                "Dense(4, kernel_initializer = \"he_normall\")",
                "did you mean `he_normal`",
            ),
            (
                "Dense(4, bias_initializer = 0.1)",
                "write `bias_initializer = Constant(0.1)`",
            ),
            (
                "Dense(4, bias_initializer = Identity)",
                "initializes matrices only",
            ),
            (
                "Dense(4, kernel_initializer = Constant(0.1, 0.2))",
                "takes 1 argument",
            ),
            (
                "Dense(4, kernel_initializer = Orthogonal(gian = 2.0))",
                "did you mean `gain`",
            ),
            (
                "Dense(4, kernel_initializer = HeNormal(seed = 1))",
                "drawn from the seed",
            ),
            (
                "Dense(4, kernel_initializer = Constant(x))",
                "must be a number, found `x`",
            ),
            (
                "Dense(4, kernel_initializer = Constant(1, value = 2))",
                "given twice",
            ),
        ];
        for (source, message) in cases {
            let c = call(source);
            let cx = Ctxt::new();
            let (args, _) = bind(&c, LayerClass::Dense, &cx);
            let vector = source.contains("bias");
            let name = if vector {
                "bias_initializer"
            } else {
                "kernel_initializer"
            };
            assert_eq!(args.initializer(name, vector, &cx), None, "{source}");
            let e = errors(cx);
            assert!(e.iter().any(|m| m.contains(message)), "{source}: {e:?}");
        }
    }
}
