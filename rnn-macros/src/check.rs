//! Checking: resolves layer names and arguments, infers every layer's output shape, counts
//! parameters and numbers layers as Keras does. Every problem becomes a `syn::Error` at the
//! offending layer or argument; all of a model's problems are collected, and a layer with an
//! error has an unknown output, so it causes no follow-on errors further down.

use proc_macro2::Span;
use quote::ToTokens;
use syn::{Expr, ExprLit, Lit, UnOp};

use crate::ast::{Arg, LayerCall, Value, expr_source};
use rnn_spec::{Activation, ArgDefault, Cell, LayerClass, MergeMode, defaults};

use crate::catalog::{did_you_mean, short_signature, signature};

/// Errors collected while checking.
#[derive(Default)]
pub struct Diag {
    errors: Vec<syn::Error>,
}

impl Diag {
    pub fn error(&mut self, at: impl ToTokens, message: impl std::fmt::Display) {
        self.errors.push(syn::Error::new_spanned(at, message));
    }

    pub fn error_at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.errors.push(syn::Error::new(span, message));
    }

    pub fn count(&self) -> usize {
        self.errors.len()
    }

    pub fn into_errors(self) -> Vec<syn::Error> {
        self.errors
    }
}

/// A checked model, ready for code generation.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub input: Input,
    /// Fixed time steps (from `Input(timesteps, ..)` or `input_length`).
    pub input_time: Option<usize>,
    pub layers: Vec<Layer>,
    pub params: usize,
}

/// What the model takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Tokens,
    Sequence(usize),
    Features(usize),
}

/// One checked layer: its Keras name, class, printed output shape, count and configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    pub name: String,
    pub class: &'static str,
    pub output_shape: String,
    pub params: usize,
    pub kind: LayerKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum LayerKind {
    Embedding {
        vocab: usize,
        dim: usize,
        mask_zero: bool,
    },
    Recurrent(Rnn),
    Bidirectional {
        inner: Rnn,
        inner_name: String,
        merge: MergeMode,
        out: usize,
    },
    Dense(DenseSpec),
    TimeDistributed {
        dense: DenseSpec,
        dense_name: String,
    },
    Dropout {
        rate: f64,
    },
    Pooling,
}

/// A recurrent layer's configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct Rnn {
    pub cell: Cell,
    pub input: usize,
    pub units: usize,
    pub activation: Activation,
    pub recurrent_activation: Activation,
    pub use_bias: bool,
    pub unit_forget_bias: bool,
    pub return_sequences: bool,
    pub return_state: bool,
    pub go_backwards: bool,
    pub reset_after: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct DenseSpec {
    pub input: usize,
    pub units: usize,
    pub activation: Activation,
    pub use_bias: bool,
}

/// What flows out of a layer.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Flow {
    /// Nothing yet (before the first layer).
    Start,
    Sequence {
        time: Option<usize>,
        features: usize,
    },
    Vector {
        features: usize,
    },
    /// After an error: shape checks are skipped so one mistake gives one message.
    Unknown,
}

impl Flow {
    fn describe(self) -> String {
        match self {
            Flow::Sequence { time, features } => shape_seq(time, features),
            Flow::Vector { features } => shape_vec(features),
            Flow::Start | Flow::Unknown => "?".into(),
        }
    }
}

fn none_or(n: Option<usize>) -> String {
    n.map_or("None".into(), |n| n.to_string())
}

fn shape_seq(time: Option<usize>, features: usize) -> String {
    format!("(None, {}, {features})", none_or(time))
}

fn shape_vec(features: usize) -> String {
    format!("(None, {features})")
}

/// The layer before the current one (or the one that dropped the time axis), for messages
/// that suggest a fix there.
#[derive(Clone)]
struct Prev<'a> {
    call: &'a LayerCall,
    ty: LayerClass,
    name: String,
    /// Number of outputs (more than one with `return_state` or `merge_mode = none`).
    outputs: usize,
}

/// Checks one model's layer chain against an optional declared parameter count.
/// Returns the model when it could be fully checked (it may still carry errors, such as a
/// wrong `#[params]`, that do not prevent code generation), and every error found.
pub fn check(
    layers: &[LayerCall],
    declared: Option<&Expr>,
    span: Span,
) -> (Option<Model>, Vec<syn::Error>) {
    let mut diag = Diag::default();
    let mut names = Names::default();
    let mut flow = Flow::Start;
    let mut input = None;
    let mut input_time = None;
    let mut out = Vec::new();
    let mut prev: Option<Prev> = None;
    // The layer whose output lost the time axis, if one did.
    let mut dropped_time: Option<Prev> = None;
    let mut seen_input = false;

    for (i, call) in layers.iter().enumerate() {
        let before = diag.count();
        let Some(ty) = resolve(call, &mut diag) else {
            flow = Flow::Unknown;
            prev = None;
            continue;
        };
        // A layer after a multi-output layer cannot be fed.
        if let Some(p) = prev.as_ref().filter(|p| p.outputs > 1) {
            diag.error(
                call,
                format!(
                    "`{}` cannot follow `{}` ({}): that layer returns {} outputs, and only the \
                     last layer of a model may return several\n\
                     help: {}",
                    ty.keras_name(),
                    p.name,
                    p.ty.keras_name(),
                    p.outputs,
                    multi_output_fix(p.call),
                ),
            );
            flow = Flow::Unknown;
        }
        let args = Args::bind(call, ty, &mut diag);
        let custom_name = args.custom_name(&mut diag);
        let result = match ty {
            LayerClass::Input => {
                if i > 0 {
                    let msg = if seen_input {
                        "`Input` is given twice; a model has one input\nhelp: remove this one"
                    } else {
                        "`Input` must be the first layer: it declares the shape of the model's \
                         input\nhelp: move it to the front"
                    };
                    diag.error(call, msg);
                }
                seen_input = true;
                let (time, features) = args.input_shape(&mut diag);
                let ok = diag.count() == before && i == 0;
                if ok {
                    let features = features.expect("checked");
                    input_time = time.flatten();
                    if let Some(time) = time {
                        input = Some(Input::Sequence(features));
                        flow = Flow::Sequence { time, features };
                    } else {
                        input = Some(Input::Features(features));
                        flow = Flow::Vector { features };
                    }
                } else {
                    flow = Flow::Unknown;
                }
                if layers.len() == 1 {
                    diag.error(call, "the model has no layers after `Input`\nhelp: add layers: `Input(..) => LSTM(32) => Dense(1)`");
                }
                prev = None;
                continue;
            }
            LayerClass::Embedding => {
                if i > 0 {
                    diag.error(
                        call,
                        format!(
                            "`Embedding` must be the first layer: it takes token ids, but here it \
                             would receive {}\nhelp: start the model with `{}`{}",
                            match flow {
                                Flow::Unknown | Flow::Start => "the previous layer's output".to_string(),
                                f => format!("the output `{}` of the layer before", f.describe()),
                            },
                            call.source(),
                            if seen_input {
                                " and remove `Input`: token-id models get their shape from `Embedding`"
                            } else {
                                ""
                            }
                        ),
                    );
                }
                embedding(&args, &mut diag, i == 0).map(|(layer, time, dim)| {
                    input = Some(Input::Tokens);
                    input_time = time;
                    (
                        layer,
                        Flow::Sequence {
                            time,
                            features: dim,
                        },
                        1,
                    )
                })
            }
            _ => {
                if i == 0 {
                    diag.error(
                        call,
                        format!(
                            "`{}` is the first layer, so the size of its input is unknown\n\
                             help: declare the input first, e.g. `Input(_, 8) => {}` for \
                             sequences of 8 features (`_`: any number of time steps), or start \
                             with `Embedding(vocabulary, dim)` for token ids",
                            ty.keras_name(),
                            call.source()
                        ),
                    );
                    flow = Flow::Unknown;
                }
                layer(
                    ty,
                    call,
                    &args,
                    flow,
                    prev.as_ref(),
                    dropped_time.as_ref(),
                    &mut diag,
                )
            }
        };
        match result {
            Some((mut layer, next, outputs)) if diag.count() == before => {
                // Keras numbers only the layers the user did not name; a wrapped layer takes
                // the next number of its own class.
                layer.name = custom_name.unwrap_or_else(|| names.next(ty));
                match &mut layer.kind {
                    LayerKind::Bidirectional {
                        inner, inner_name, ..
                    } if inner_name.is_empty() => {
                        *inner_name = names.next(rnn_type(inner.cell));
                    }
                    LayerKind::TimeDistributed { dense_name, .. } if dense_name.is_empty() => {
                        *dense_name = names.next(LayerClass::Dense);
                    }
                    _ => {}
                }
                if let Some(first) = out.iter().find(|l: &&Layer| l.name == layer.name) {
                    diag.error(
                        call,
                        format!(
                            "two layers are named `{}` (the {} before and this {}); layer names \
                             must be unique in a model\nhelp: name one of them: `name = \"...\"`",
                            layer.name,
                            first.class,
                            ty.keras_name()
                        ),
                    );
                }
                prev = Some(Prev {
                    call,
                    ty,
                    name: layer.name.clone(),
                    outputs,
                });
                if matches!(flow, Flow::Sequence { .. }) && matches!(next, Flow::Vector { .. }) {
                    dropped_time = prev.clone();
                }
                flow = next;
                out.push(layer);
            }
            _ => {
                flow = Flow::Unknown;
                prev = None;
            }
        }
    }

    let ok = diag.count() == 0 && input.is_some();
    if !ok {
        if diag.count() == 0 {
            diag.error_at(span, "a model needs at least one layer");
        }
        return (None, diag.into_errors());
    }
    let total: usize = out.iter().map(|l| l.params).sum();
    if let Some(expr) = declared {
        check_declared(expr, total, &out, &mut diag);
    }
    let model = Model {
        input: input.expect("checked"),
        input_time,
        layers: out,
        params: total,
    };
    (Some(model), diag.into_errors())
}

fn rnn_type(cell: Cell) -> LayerClass {
    match cell {
        Cell::Simple => LayerClass::SimpleRnn,
        Cell::Lstm => LayerClass::Lstm,
        Cell::Gru => LayerClass::Gru,
    }
}

/// How to make a multi-output layer single-output.
fn multi_output_fix(call: &LayerCall) -> String {
    let has = |key: &str, call: &LayerCall| {
        call.args.iter().any(|a| {
            a.key.as_ref().is_some_and(|k| k == key)
                && a.value.to_token_stream().to_string() != "false"
        })
    };
    let mut fixes = Vec::new();
    if has("return_state", call)
        || call
            .args
            .iter()
            .any(|a| matches!(&a.value, Value::Layer(l) if has("return_state", l)))
    {
        fixes.push("remove `return_state = true`");
    }
    if call.args.iter().any(|a| {
        a.key.as_ref().is_some_and(|k| k == "merge_mode") && {
            let v = a.value.to_token_stream().to_string();
            v == "none" || v == "None" || v == "\"none\""
        }
    }) {
        fixes.push("choose a merging `merge_mode` (concat, sum, mul or ave)");
    }
    if fixes.is_empty() {
        fixes.push("make it return a single output");
    }
    format!(
        "{} in `{}`, or end the model after it",
        fixes.join(" and "),
        call.source()
    )
}

fn check_declared(expr: &Expr, total: usize, layers: &[Layer], diag: &mut Diag) {
    let declared = match int_literal(expr) {
        Some(n) => n,
        None => {
            diag.error(
                expr,
                format!(
                    "`#[params = ..]` takes an integer, e.g. `#[params = {}]`",
                    underscored(total)
                ),
            );
            return;
        }
    };
    if declared != total as u128 {
        let rows: Vec<String> = layers
            .iter()
            .map(|l| format!("    {} ({}): {}", l.name, l.class, thousands(l.params)))
            .collect();
        diag.error(
            expr,
            format!(
                "this model has {} parameters, not {}\n  parameters per layer:\n{}\nhelp: write `#[params = {}]`",
                thousands(total),
                thousands(declared as usize),
                rows.join("\n"),
                underscored(total)
            ),
        );
    }
}

fn thousands(n: usize) -> String {
    group(n, ',')
}

fn underscored(n: usize) -> String {
    group(n, '_')
}

fn group(n: usize, sep: char) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

/// Keras' automatic layer names: `lstm`, `lstm_1`, ... per class.
#[derive(Default)]
struct Names {
    counts: std::collections::HashMap<&'static str, usize>,
}

impl Names {
    fn next(&mut self, ty: LayerClass) -> String {
        let n = self.counts.entry(ty.default_name()).or_insert(0);
        let name = if *n == 0 {
            ty.default_name().to_string()
        } else {
            format!("{}_{}", ty.default_name(), n)
        };
        *n += 1;
        name
    }
}

/// The layer type named by `call`, or an error suggesting the nearest name.
fn resolve(call: &LayerCall, diag: &mut Diag) -> Option<LayerClass> {
    let name = call.name.to_string();
    let ty = LayerClass::from_keras_name(&name);
    if ty.is_none() {
        let known: Vec<&str> = LayerClass::ALL.iter().map(|t| t.keras_name()).collect();
        diag.error(
            &call.name,
            format!(
                "unknown layer `{name}`{}\n  layers: {}",
                did_you_mean(&name, known.iter().copied()),
                known.join(", ")
            ),
        );
    }
    ty
}

/// A layer's arguments bound to its parameters.
struct Args<'a> {
    call: &'a LayerCall,
    ty: LayerClass,
    slots: Vec<Option<&'a Arg>>,
}

impl<'a> Args<'a> {
    fn bind(call: &'a LayerCall, ty: LayerClass, diag: &mut Diag) -> Args<'a> {
        let params: Vec<&str> = ty.args().iter().map(|a| a.name).collect();
        let keywords: Vec<&str> = ty
            .args()
            .iter()
            .chain(ty.keyword_args())
            .map(|a| a.name)
            .collect();
        let mut slots: Vec<Option<&Arg>> = vec![None; keywords.len()];
        let positional = call.args.iter().filter(|a| a.key.is_none()).count();
        // `Input(8)`: a single positional argument is the feature size of a vector input.
        let shift = usize::from(
            ty == LayerClass::Input && positional == 1 && call.args.iter().all(|a| a.key.is_none()),
        );
        let mut next = shift;
        let mut first_keyword: Option<&Arg> = None;
        for arg in &call.args {
            match &arg.key {
                None if first_keyword.is_some() => {
                    diag.error(
                        arg,
                        format!(
                            "positional argument after the keyword argument `{}`\nhelp: write positional arguments first",
                            first_keyword.map(|k| k.source()).unwrap_or_default()
                        ),
                    );
                }
                None => {
                    if next >= params.len() {
                        let list = &params;
                        diag.error(
                            arg,
                            if params.is_empty() {
                                format!("`{}` takes no arguments\nhelp: write `{}`", ty.keras_name(), ty.keras_name())
                            } else {
                                format!(
                                    "`{}` takes at most {} positional argument{} ({}); this one is extra",
                                    ty.keras_name(),
                                    params.len(),
                                    if params.len() == 1 { "" } else { "s" },
                                    list.join(", ")
                                )
                            },
                        );
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
                            let names = keywords.iter().copied();
                            diag.error(
                                key,
                                format!(
                                    "`{}` has no argument `{k}`{}\n  arguments: {}",
                                    ty.keras_name(),
                                    did_you_mean(&k, names.clone()),
                                    signature(ty)
                                ),
                            );
                        }
                        Some(p) if slots[p].is_some() => {
                            let how = if slots[p].is_some_and(|a| a.key.is_none()) {
                                " (positionally and by name)"
                            } else {
                                ""
                            };
                            diag.error(
                                arg,
                                format!(
                                    "`{k}` is given twice to `{}`{how}\nhelp: remove one",
                                    ty.keras_name()
                                ),
                            );
                        }
                        Some(p) => slots[p] = Some(arg),
                    }
                }
            }
        }
        Args { call, ty, slots }
    }

    fn get(&self, name: &str) -> Option<&'a Arg> {
        let p = self
            .ty
            .args()
            .iter()
            .chain(self.ty.keyword_args())
            .position(|p| p.name == name)
            .expect("known parameter");
        self.slots[p]
    }

    /// Reports a missing required argument and returns `None`.
    fn missing<T>(&self, name: &str, example: &str, diag: &mut Diag) -> Option<T> {
        diag.error(
            self.call,
            format!(
                "`{}` needs `{name}`\nhelp: write `{}`, e.g. `{example}`",
                self.ty.keras_name(),
                short_signature(self.ty)
            ),
        );
        None
    }

    fn expr(&self, name: &str) -> Option<(&'a Arg, &'a Expr)> {
        let arg = self.get(name)?;
        match &arg.value {
            Value::Expr(e) => Some((arg, e)),
            Value::Layer(_) => None,
        }
    }

    /// A required or optional positive integer.
    fn size(&self, name: &str, diag: &mut Diag) -> Option<Option<usize>> {
        let Some(arg) = self.get(name) else {
            return Some(None);
        };
        let found = arg.value.to_token_stream();
        let Some((_, e)) = self.expr(name) else {
            diag.error(
                arg,
                format!(
                    "`{name}` of `{}` must be a positive integer, found the layer `{found}`",
                    self.ty.keras_name()
                ),
            );
            return None;
        };
        match int_literal(e) {
            Some(0) => {
                diag.error(
                    arg,
                    format!(
                        "`{name}` of `{}` must be at least 1, found 0",
                        self.ty.keras_name()
                    ),
                );
                None
            }
            Some(n) if n <= u32::MAX as u128 => Some(Some(n as usize)),
            Some(n) => {
                diag.error(
                    arg,
                    format!("`{name}` of `{}` is too large: {n}", self.ty.keras_name()),
                );
                None
            }
            None => {
                diag.error(
                    arg,
                    format!(
                        "`{name}` of `{}` must be a positive integer, found `{}`",
                        self.ty.keras_name(),
                        expr_source(e)
                    ),
                );
                None
            }
        }
    }

    fn required_size(&self, name: &str, example: &str, diag: &mut Diag) -> Option<usize> {
        match self.size(name, diag)? {
            Some(n) => Some(n),
            None => self.missing(name, example, diag),
        }
    }

    /// A flag; its default is Keras'.
    fn boolean(&self, name: &str, diag: &mut Diag) -> Option<bool> {
        let Some(arg) = self.get(name) else {
            return self.default(name).as_bool();
        };
        if let Some((
            _,
            Expr::Lit(ExprLit {
                lit: Lit::Bool(b), ..
            }),
        )) = self.expr(name)
        {
            return Some(b.value);
        }
        diag.error(
            arg,
            format!(
                "`{name}` of `{}` must be `true` or `false`, found `{}`",
                self.ty.keras_name(),
                value_source(&arg.value)
            ),
        );
        None
    }

    /// A name given as an identifier or a string: `sigmoid` or `"sigmoid"`.
    fn word(&self, name: &str) -> Option<(&'a Arg, Option<String>)> {
        let arg = self.get(name)?;
        let word = match &arg.value {
            Value::Expr(Expr::Path(p)) => p.path.get_ident().map(|i| i.to_string()),
            Value::Expr(Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            })) => Some(s.value()),
            _ => None,
        };
        Some((arg, word))
    }

    /// Keras' default of one of this layer's arguments.
    fn default(&self, name: &str) -> ArgDefault {
        self.ty.arg(name).expect("known parameter").default
    }

    /// An activation; its default is Keras'.
    fn activation(&self, name: &str, diag: &mut Diag) -> Option<Activation> {
        let Some((arg, word)) = self.word(name) else {
            return self.default(name).as_activation();
        };
        let word = word.map(|w| if w == "None" { "linear".to_string() } else { w });
        match word.as_deref().and_then(Activation::from_keras_name) {
            Some(a) => Some(a),
            None => {
                let names = Activation::ALL.map(Activation::keras_name);
                let found = word.unwrap_or_else(|| value_source(&arg.value));
                diag.error(
                    arg,
                    format!(
                        "unknown activation `{found}` for `{name}`{}\n  activations: {}",
                        did_you_mean(&found, names),
                        names.join(", ")
                    ),
                );
                None
            }
        }
    }

    fn merge_mode(&self, diag: &mut Diag) -> Option<MergeMode> {
        let Some((arg, word)) = self.word("merge_mode") else {
            return self.default("merge_mode").as_merge();
        };
        let word = word.map(|w| if w == "None" { "none".to_string() } else { w });
        match word.as_deref().and_then(MergeMode::from_keras_name) {
            Some(m) => Some(m),
            None => {
                let names = MergeMode::ALL.map(MergeMode::keras_name);
                let found = word.unwrap_or_else(|| value_source(&arg.value));
                diag.error(
                    arg,
                    format!(
                        "unknown merge mode `{found}`{}\n  merge modes: {}",
                        did_you_mean(&found, names),
                        names.join(", ")
                    ),
                );
                None
            }
        }
    }

    /// `Input(timesteps, features)`: `(Some(time) for sequences, features)`.
    fn input_shape(&self, diag: &mut Diag) -> (Option<Option<usize>>, Option<usize>) {
        let features = self.required_size("features", "Input(_, 8)", diag);
        let time = match self.get("timesteps") {
            None if self.call.args.len() == 1 && self.call.args[0].key.is_none() => None,
            None => {
                if features.is_some() {
                    self.missing::<()>("timesteps", "Input(_, 8)", diag);
                }
                None
            }
            Some(arg) => match &arg.value {
                Value::Expr(Expr::Infer(_)) => Some(None),
                Value::Expr(Expr::Path(p)) if p.path.is_ident("None") => Some(None),
                _ => self.size("timesteps", diag),
            },
        };
        (time, features)
    }

    fn rate(&self, diag: &mut Diag) -> Option<f64> {
        let Some(arg) = self.get("rate") else {
            return self.missing("rate", "Dropout(0.5)", diag);
        };
        let value = match self.expr("rate") {
            Some((
                _,
                Expr::Lit(ExprLit {
                    lit: Lit::Float(f), ..
                }),
            )) => f.base10_parse::<f64>().ok(),
            Some((
                _,
                Expr::Lit(ExprLit {
                    lit: Lit::Int(i), ..
                }),
            )) => i.base10_parse::<f64>().ok(),
            Some((_, Expr::Unary(u))) if matches!(u.op, UnOp::Neg(_)) => match &*u.expr {
                Expr::Lit(ExprLit {
                    lit: Lit::Float(f), ..
                }) => f.base10_parse::<f64>().ok().map(|v| -v),
                Expr::Lit(ExprLit {
                    lit: Lit::Int(i), ..
                }) => i.base10_parse::<f64>().ok().map(|v| -v),
                _ => None,
            },
            _ => None,
        };
        match value {
            Some(r) if (0.0..1.0).contains(&r) => Some(r),
            Some(r) => {
                diag.error(
                    arg,
                    format!(
                        "`Dropout` rate must be in [0, 1), found {r}: it is the fraction of values \
                         dropped\nhelp: e.g. `Dropout(0.2)`"
                    ),
                );
                None
            }
            None => {
                diag.error(
                    arg,
                    format!(
                        "`Dropout` rate must be a number in [0, 1), found `{}`",
                        value_source(&arg.value)
                    ),
                );
                None
            }
        }
    }

    /// `name = "..."`: a layer name of the user's choosing, as Keras allows.
    fn custom_name(&self, diag: &mut Diag) -> Option<String> {
        // `Input` cannot be named.
        self.ty.arg("name")?;
        let arg = self.get("name")?;
        match &arg.value {
            Value::Expr(Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            })) if !s.value().is_empty() && !s.value().contains('/') => Some(s.value()),
            _ => {
                diag.error(
                    arg,
                    format!(
                        "`name` of `{}` must be a non-empty string without `/`, found `{}`\nhelp: e.g. `name = \"encoder\"`",
                        self.ty.keras_name(),
                        value_source(&arg.value)
                    ),
                );
                None
            }
        }
    }

    /// The nested layer of a wrapper.
    fn nested(&self, diag: &mut Diag, example: &str) -> Option<&'a LayerCall> {
        let Some(arg) = self.get("layer") else {
            return self.missing("layer", example, diag);
        };
        match &arg.value {
            Value::Layer(l) => Some(l),
            Value::Expr(e) => {
                diag.error(
                    arg,
                    format!(
                        "`{}` wraps a layer, found `{}`\nhelp: write it with its arguments, e.g. `{example}`",
                        self.ty.keras_name(),
                        expr_source(e)
                    ),
                );
                None
            }
        }
    }
}

fn value_source(v: &Value) -> String {
    match v {
        Value::Expr(e) => expr_source(e),
        Value::Layer(l) => l.source(),
    }
}

fn int_literal(e: &Expr) -> Option<u128> {
    match e {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse().ok(),
        Expr::Group(g) => int_literal(&g.expr),
        _ => None,
    }
}

type Checked = (Layer, Flow, usize);

fn embedding(args: &Args, diag: &mut Diag, first: bool) -> Option<(Layer, Option<usize>, usize)> {
    let vocab = args.required_size("input_dim", "Embedding(10000, 64)", diag);
    let dim = args.required_size("output_dim", "Embedding(10000, 64)", diag);
    let mask_zero = args.boolean("mask_zero", diag);
    let time = args.size("input_length", diag);
    let (vocab, dim, mask_zero, time) = (vocab?, dim?, mask_zero?, time?);
    if !first {
        return None;
    }
    Some((
        Layer {
            name: String::new(),
            class: "Embedding",
            output_shape: shape_seq(time, dim),
            params: rnn_spec::embedding_params(vocab, dim),
            kind: LayerKind::Embedding {
                vocab,
                dim,
                mask_zero,
            },
        },
        time,
        dim,
    ))
}

/// Checks a layer after the first, given what flows into it.
fn layer(
    ty: LayerClass,
    call: &LayerCall,
    args: &Args,
    flow: Flow,
    prev: Option<&Prev>,
    dropped_time: Option<&Prev>,
    diag: &mut Diag,
) -> Option<Checked> {
    let need_sequence = |diag: &mut Diag| need_sequence(ty, call, flow, prev, dropped_time, diag);
    match ty {
        LayerClass::SimpleRnn | LayerClass::Lstm | LayerClass::Gru => {
            let rnn = rnn_args(ty, args, diag);
            let (time, input) = need_sequence(diag)?;
            let mut rnn = rnn?;
            rnn.input = input;
            let (shape, outputs, next) = rnn_output(&rnn, time);
            Some((
                Layer {
                    name: String::new(),
                    class: ty.keras_name(),
                    output_shape: shape,
                    params: rnn_spec::recurrent_params(
                        rnn.cell,
                        input,
                        rnn.units,
                        rnn.use_bias,
                        rnn.reset_after,
                    ),
                    kind: LayerKind::Recurrent(rnn),
                },
                next,
                outputs,
            ))
        }
        LayerClass::Bidirectional => {
            let merge = args.merge_mode(diag);
            let inner = args
                .nested(diag, "Bidirectional(LSTM(64))")
                .and_then(|inner| bidirectional_inner(inner, diag));
            let (time, input) = need_sequence(diag)?;
            let ((mut rnn, inner_name), merge) = (inner?, merge?);
            rnn.input = input;
            let out = merge.features(rnn.units);
            let states = if rnn.return_state {
                2 * rnn.cell.states()
            } else {
                0
            };
            let main = |features| {
                if rnn.return_sequences {
                    shape_seq(time, features)
                } else {
                    shape_vec(features)
                }
            };
            let mut shapes = if merge == MergeMode::NoMerge {
                vec![main(rnn.units), main(rnn.units)]
            } else {
                vec![main(out)]
            };
            shapes.extend(std::iter::repeat_n(shape_vec(rnn.units), states));
            let next = if rnn.return_sequences {
                Flow::Sequence {
                    time,
                    features: out,
                }
            } else {
                Flow::Vector { features: out }
            };
            let outputs = shapes.len();
            Some((
                Layer {
                    name: String::new(),
                    class: "Bidirectional",
                    output_shape: list_shape(shapes),
                    params: 2 * rnn_spec::recurrent_params(
                        rnn.cell,
                        input,
                        rnn.units,
                        rnn.use_bias,
                        rnn.reset_after,
                    ),
                    kind: LayerKind::Bidirectional {
                        inner: rnn,
                        inner_name: inner_name.unwrap_or_default(),
                        merge,
                        out,
                    },
                },
                next,
                outputs,
            ))
        }
        LayerClass::TimeDistributed => {
            let inner = args.nested(diag, "TimeDistributed(Dense(10, softmax))");
            let dense = inner.and_then(|inner| {
                match LayerClass::from_keras_name(&inner.name.to_string()) {
                    Some(LayerClass::Dense) => {
                        let inner_args = Args::bind(inner, LayerClass::Dense, diag);
                        let name = inner_args.custom_name(diag);
                        dense_args(&inner_args, diag).map(|d| (d, name))
                    }
                    Some(other) => {
                        diag.error(
                        inner,
                        format!(
                            "`TimeDistributed` supports `Dense` only, found `{}`\nhelp: {}",
                            other.keras_name(),
                            if other.is_recurrent() {
                                "recurrent layers already run over time steps: use them directly"
                            } else {
                                "use `TimeDistributed(Dense(units, activation))`"
                            }
                        ),
                    );
                        None
                    }
                    None => {
                        resolve(inner, diag);
                        None
                    }
                }
            });
            let (time, input) = need_sequence(diag)?;
            let (mut dense, dense_name) = dense?;
            dense.input = input;
            Some((
                Layer {
                    name: String::new(),
                    class: "TimeDistributed",
                    output_shape: shape_seq(time, dense.units),
                    params: rnn_spec::dense_params(input, dense.units, dense.use_bias),
                    kind: LayerKind::TimeDistributed {
                        dense: dense.clone(),
                        dense_name: dense_name.unwrap_or_default(),
                    },
                },
                Flow::Sequence {
                    time,
                    features: dense.units,
                },
                1,
            ))
        }
        LayerClass::Dense => {
            let dense = dense_args(args, diag);
            let mut dense = dense?;
            let (next, shape) = match flow {
                Flow::Sequence { time, features } => {
                    dense.input = features;
                    (
                        Flow::Sequence {
                            time,
                            features: dense.units,
                        },
                        shape_seq(time, dense.units),
                    )
                }
                Flow::Vector { features } => {
                    dense.input = features;
                    (
                        Flow::Vector {
                            features: dense.units,
                        },
                        shape_vec(dense.units),
                    )
                }
                Flow::Start | Flow::Unknown => return None,
            };
            Some((
                Layer {
                    name: String::new(),
                    class: "Dense",
                    output_shape: shape,
                    params: rnn_spec::dense_params(dense.input, dense.units, dense.use_bias),
                    kind: LayerKind::Dense(dense),
                },
                next,
                1,
            ))
        }
        LayerClass::Dropout => {
            let rate = args.rate(diag)?;
            let shape = match flow {
                Flow::Sequence { .. } | Flow::Vector { .. } => flow.describe(),
                Flow::Start | Flow::Unknown => return None,
            };
            Some((
                Layer {
                    name: String::new(),
                    class: "Dropout",
                    output_shape: shape,
                    params: 0,
                    kind: LayerKind::Dropout { rate },
                },
                flow,
                1,
            ))
        }
        LayerClass::GlobalAveragePooling1D => {
            let (_, features) = need_sequence(diag)?;
            Some((
                Layer {
                    name: String::new(),
                    class: "GlobalAveragePooling1D",
                    output_shape: shape_vec(features),
                    params: 0,
                    kind: LayerKind::Pooling,
                },
                Flow::Vector { features },
                1,
            ))
        }
        LayerClass::Input | LayerClass::Embedding => unreachable!("handled by the caller"),
    }
}

fn list_shape(shapes: Vec<String>) -> String {
    if shapes.len() == 1 {
        shapes.into_iter().next().expect("one")
    } else {
        format!("[{}]", shapes.join(", "))
    }
}

fn rnn_output(rnn: &Rnn, time: Option<usize>) -> (String, usize, Flow) {
    let (main, next) = if rnn.return_sequences {
        (
            shape_seq(time, rnn.units),
            Flow::Sequence {
                time,
                features: rnn.units,
            },
        )
    } else {
        (
            shape_vec(rnn.units),
            Flow::Vector {
                features: rnn.units,
            },
        )
    };
    let mut shapes = vec![main];
    if rnn.return_state {
        shapes.extend(std::iter::repeat_n(shape_vec(rnn.units), rnn.cell.states()));
    }
    let outputs = shapes.len();
    (list_shape(shapes), outputs, next)
}

/// The input of a layer that needs sequences, or an error that says how to get one.
fn need_sequence(
    ty: LayerClass,
    call: &LayerCall,
    flow: Flow,
    prev: Option<&Prev>,
    dropped_time: Option<&Prev>,
    diag: &mut Diag,
) -> Option<(Option<usize>, usize)> {
    match flow {
        Flow::Sequence { time, features } => Some((time, features)),
        Flow::Start | Flow::Unknown => None,
        Flow::Vector { features } => {
            let (before, help) = match prev {
                Some(p) if p.ty.is_recurrent() => (
                    format!("`{}` ({})", p.name, p.ty.keras_name()),
                    format!(
                        "return the whole sequence from the layer before: `{}`",
                        p.call.source_with("return_sequences", "true")
                    ),
                ),
                Some(p) if p.ty == LayerClass::Bidirectional => {
                    let fixed = bidirectional_with_sequences(p.call);
                    (
                        format!("`{}` (Bidirectional)", p.name),
                        format!("return the whole sequence from the layer before: `{fixed}`"),
                    )
                }
                Some(p) => (
                    format!("`{}` ({})", p.name, p.ty.keras_name()),
                    match dropped_time {
                        Some(d) if d.ty.is_recurrent() => format!(
                            "the time axis ends at `{}`: return the whole sequence there, `{}`",
                            d.name,
                            d.call.source_with("return_sequences", "true")
                        ),
                        Some(d) if d.ty == LayerClass::Bidirectional => format!(
                            "the time axis ends at `{}`: return the whole sequence there, `{}`",
                            d.name,
                            bidirectional_with_sequences(d.call)
                        ),
                        Some(d) => format!(
                            "the time axis ends at `{}` ({}): place `{}` before it",
                            d.name,
                            d.ty.keras_name(),
                            ty.keras_name()
                        ),
                        None => "the model's input has no time axis: declare it as \
                                 `Input(timesteps, ..)`, or `Input(_, ..)` for any number of steps"
                            .to_string(),
                    },
                ),
                None => (
                    "the input".to_string(),
                    format!(
                        "give the input a time axis: `Input(timesteps, {features})`, or \
                         `Input(_, {features})` for any number of steps"
                    ),
                ),
            };
            diag.error(
                call,
                format!(
                    "`{}` needs a sequence `(batch, time, features)`, but {before} outputs `{}`\nhelp: {help}",
                    ty.keras_name(),
                    shape_vec(features)
                ),
            );
            None
        }
    }
}

fn bidirectional_with_sequences(call: &LayerCall) -> String {
    let mut fixed = call.clone();
    for arg in &mut fixed.args {
        if let Value::Layer(inner) = &mut arg.value {
            let text = inner.source_with("return_sequences", "true");
            if let Ok(parsed) = syn::parse_str::<LayerCall>(&text) {
                **inner = parsed;
            }
            break;
        }
    }
    fixed.source()
}

/// The wrapped layer of a `Bidirectional`, and its name if the user gave one.
fn bidirectional_inner(inner: &LayerCall, diag: &mut Diag) -> Option<(Rnn, Option<String>)> {
    let ty = match LayerClass::from_keras_name(&inner.name.to_string()) {
        Some(ty) if ty.is_recurrent() => ty,
        Some(other) => {
            diag.error(
                inner,
                format!(
                    "`Bidirectional` wraps a recurrent layer (SimpleRNN, LSTM or GRU), found `{}`\nhelp: e.g. `Bidirectional(LSTM(64))`",
                    other.keras_name()
                ),
            );
            return None;
        }
        None => {
            resolve(inner, diag);
            return None;
        }
    };
    let args = Args::bind(inner, ty, diag);
    let name = args.custom_name(diag);
    let rnn = rnn_args(ty, &args, diag)?;
    if rnn.go_backwards {
        // Keras refuses this too: the backward copy would read the same way as the forward one.
        diag.error(
            inner,
            format!(
                "`Bidirectional` reads the sequence in both directions itself, so the layer it \
                 wraps must read forwards\nhelp: remove `go_backwards = true`: `Bidirectional({})`",
                inner.without("go_backwards").source()
            ),
        );
        return None;
    }
    Some((rnn, name))
}

fn rnn_args(ty: LayerClass, args: &Args, diag: &mut Diag) -> Option<Rnn> {
    let before = diag.count();
    let example = format!("{}(64)", ty.keras_name());
    let units = args.required_size("units", &example, diag);
    let activation = args.activation("activation", diag);
    let has = |name: &str| ty.arg(name).is_some();
    // The runtime's configuration is shared by all cells; a cell without an argument keeps
    // the shared default, which it ignores.
    let recurrent_activation = if has("recurrent_activation") {
        args.activation("recurrent_activation", diag)
    } else {
        Some(defaults::RECURRENT_ACTIVATION)
    };
    let use_bias = args.boolean("use_bias", diag);
    let unit_forget_bias = if has("unit_forget_bias") {
        args.boolean("unit_forget_bias", diag)
    } else {
        Some(defaults::UNIT_FORGET_BIAS)
    };
    let return_sequences = args.boolean("return_sequences", diag);
    let return_state = args.boolean("return_state", diag);
    let go_backwards = args.boolean("go_backwards", diag);
    let reset_after = if has("reset_after") {
        args.boolean("reset_after", diag)
    } else {
        Some(false)
    };
    if diag.count() != before {
        return None;
    }
    Some(Rnn {
        cell: match ty {
            LayerClass::SimpleRnn => Cell::Simple,
            LayerClass::Lstm => Cell::Lstm,
            _ => Cell::Gru,
        },
        input: 0,
        units: units?,
        activation: activation?,
        recurrent_activation: recurrent_activation?,
        use_bias: use_bias?,
        unit_forget_bias: unit_forget_bias?,
        return_sequences: return_sequences?,
        return_state: return_state?,
        go_backwards: go_backwards?,
        reset_after: reset_after?,
    })
}

fn dense_args(args: &Args, diag: &mut Diag) -> Option<DenseSpec> {
    let units = args.required_size("units", "Dense(1, sigmoid)", diag);
    let activation = args.activation("activation", diag);
    let use_bias = args.boolean("use_bias", diag);
    Some(DenseSpec {
        input: 0,
        units: units?,
        activation: activation?,
        use_bias: use_bias?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::Invocation;
    use quote::quote;

    fn run(tokens: proc_macro2::TokenStream) -> (Option<Model>, Vec<String>) {
        let inv: Invocation = syn::parse2(tokens).expect("parses");
        let Invocation::Items(items) = inv else {
            panic!("items")
        };
        let item = &items[0];
        let (model, errors) = check(&item.layers, item.params.as_ref(), Span::call_site());
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
        assert_eq!(m.params, 529_441);
        assert_eq!(m.input, Input::Tokens);
        let rows: Vec<(&str, &str, &str, usize)> = m
            .layers
            .iter()
            .map(|l| (l.name.as_str(), l.class, l.output_shape.as_str(), l.params))
            .collect();
        assert_eq!(
            rows,
            [
                ("embedding", "Embedding", "(None, None, 100)", 500_000),
                ("simple_rnn", "SimpleRNN", "(None, 128)", 29_312),
                ("dense", "Dense", "(None, 1)", 129),
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
            LayerKind::Bidirectional {
                inner_name,
                out,
                inner,
                ..
            } => {
                assert_eq!(inner_name, "lstm_1");
                assert_eq!(*out, 8);
                assert_eq!(inner.input, 16);
            }
            k => panic!("{k:?}"),
        }
        assert_eq!(m.layers[3].output_shape, "(None, 10, 2)");
        assert_eq!(m.input_time, Some(10));
    }

    #[test]
    fn multi_output_shapes() {
        let m = ok(
            quote!(struct M = Embedding(11, 3, mask_zero = true, input_length = 5) => LSTM(4, return_sequences = true, return_state = true);),
        );
        assert_eq!(
            m.layers[1].output_shape,
            "[(None, 5, 4), (None, 4), (None, 4)]"
        );
        let m = ok(
            quote!(struct M = Input(_, 3) => Bidirectional(LSTM(4, return_sequences = true, return_state = true), merge_mode = none);),
        );
        assert_eq!(
            m.layers[0].output_shape,
            "[(None, None, 4), (None, None, 4), (None, 4), (None, 4), (None, 4), (None, 4)]"
        );
    }

    #[test]
    fn gru_reset_after_changes_the_count() {
        let a = ok(quote!(struct M = Input(30, 100) => GRU(128);));
        let b = ok(quote!(struct M = Input(30, 100) => GRU(128, reset_after = false);));
        assert_eq!((a.params, b.params), (88_320, 87_936));
    }

    #[test]
    fn vector_input_and_dense() {
        let m = ok(
            quote!(struct M = Input(4) => Dense(8, relu) => Dropout(0.5) => Dense(3, "softmax");),
        );
        assert_eq!(m.input, Input::Features(4));
        assert_eq!(m.layers[2].output_shape, "(None, 3)");
        assert_eq!(m.params, 4 * 8 + 8 + 8 * 3 + 3);
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
        assert!(
            matches!(&m.layers[3].kind, LayerKind::Bidirectional { inner_name, .. } if inner_name == "g")
        );
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
}
