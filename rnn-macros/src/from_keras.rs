//! `model_from_keras!`: a Keras `.keras` archive's `config.json`, read at compile time, as a
//! typed model. The stages stay apart: `read_config` reads the archive, `layers` turns the
//! config into the layer calls `model!` parses (every field this library cannot express is
//! an error naming the layer and the field), then the usual `check` builds the IR and
//! `expand` writes the model, with a constructor that loads the archive's weights, which are
//! embedded with `include_bytes!`.

use std::io::Read;
use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::quote;
use serde_json::Value;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Ident, LitStr, Token, Visibility};

use crate::ast::LayerCall;
use crate::{check, expand};

/// `pub struct Name = "path.keras";` (one or more), or `"path.keras"` for a value.
enum Invocation {
    Items(Vec<Item>),
    Expr(LitStr),
}

struct Item {
    attrs: Vec<Attribute>,
    vis: Visibility,
    ident: Ident,
    path: LitStr,
}

impl Parse for Invocation {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.peek(LitStr) {
            return Ok(Invocation::Expr(input.parse()?));
        }
        let mut items = Vec::new();
        while !input.is_empty() {
            let attrs = input.call(Attribute::parse_outer)?;
            let vis = input.parse()?;
            input.parse::<Token![struct]>()?;
            let ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let path = input.parse()?;
            input.parse::<Token![;]>()?;
            items.push(Item {
                attrs,
                vis,
                ident,
                path,
            });
        }
        Ok(Invocation::Items(items))
    }
}

pub fn expand(input: TokenStream) -> TokenStream {
    let invocation: Invocation = match syn::parse2(input) {
        Ok(inv) => inv,
        Err(e) => return e.to_compile_error(),
    };
    match invocation {
        Invocation::Items(items) => items
            .iter()
            .map(|item| {
                model(&item.attrs, &item.vis, &item.ident, &item.path)
                    .unwrap_or_else(|e| e.to_compile_error())
            })
            .collect(),
        Invocation::Expr(path) => {
            let ident = Ident::new("Model", Span::call_site());
            match model(&[], &Visibility::Inherited, &ident, &path) {
                Ok(item) => quote!({ #item #ident::from_keras() }),
                Err(e) => e.to_compile_error(),
            }
        }
    }
}

/// The archive's path: relative paths start at the crate's manifest directory.
fn resolve(path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join(p)
}

fn model(
    attrs: &[Attribute],
    vis: &Visibility,
    ident: &Ident,
    lit: &LitStr,
) -> syn::Result<TokenStream> {
    let err =
        |message: String| syn::Error::new(lit.span(), format!("rnn: {}: {message}", lit.value()));
    let path = resolve(&lit.value());
    let config = read_config(&path).map_err(err)?;
    let calls = layers(&config).map_err(err)?;
    let parsed: Vec<LayerCall> = calls
        .iter()
        .map(|c| syn::parse_str::<LayerCall>(c))
        .collect::<syn::Result<_>>()
        .map_err(|e| err(format!("cannot express the config as layers: {e}")))?;
    let checked = check::check(&parsed, None, None, lit.span());
    let Some(ir) = checked.model else {
        let errors = checked
            .errors
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>();
        return Err(err(format!(
            "the model `{}` does not check: {}",
            calls.join(" => "),
            errors.join("; ")
        )));
    };
    let item = expand::model_item(attrs, vis, ident, &ir);
    let abs = path.display().to_string();
    let name = lit.value();
    Ok(quote! {
        #item

        impl #ident {
            /// The model with the trained weights of its Keras archive, embedded at compile
            /// time.
            pub fn from_keras() -> ::rnn::Result<Self> {
                let mut model = Self::new(0);
                ::rnn::interop::keras::KerasModel::load_keras_bytes(
                    &mut model,
                    #name,
                    include_bytes!(#abs),
                )?;
                ::core::result::Result::Ok(model)
            }
        }
    })
}

/// `config.json` of the archive at `path`.
fn read_config(path: &Path) -> Result<Value, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open the archive: {e}"))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| format!("not a readable .keras archive (truncated or corrupt?): {e}"))?;
    let mut member = zip
        .by_name("config.json")
        .map_err(|e| format!("the archive has no readable `config.json`: {e}"))?;
    let mut text = String::new();
    member
        .read_to_string(&mut text)
        .map_err(|e| format!("`config.json` cannot be read: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("`config.json` is not valid JSON: {e}"))
}

/// A layer of the config, for the messages.
struct Layer<'a> {
    class: &'a str,
    name: &'a str,
    config: &'a Value,
}

impl Layer<'_> {
    fn new(v: &Value) -> Layer<'_> {
        Layer {
            class: v.get("class_name").and_then(Value::as_str).unwrap_or("?"),
            name: v
                .pointer("/config/name")
                .and_then(Value::as_str)
                .unwrap_or("?"),
            config: v.get("config").unwrap_or(&Value::Null),
        }
    }

    fn error(&self, field: &str, what: impl std::fmt::Display) -> String {
        format!("layer `{}` ({}): `{field}` {what}", self.name, self.class)
    }

    fn field(&self, field: &str) -> Option<&Value> {
        self.config.get(field).filter(|v| !v.is_null())
    }

    fn usize(&self, field: &str) -> Result<u64, String> {
        self.field(field)
            .and_then(Value::as_u64)
            .ok_or_else(|| self.error(field, "is missing or not a whole number"))
    }

    /// `, field = value` for a flag the config sets.
    fn flag(&self, out: &mut String, field: &str) -> Result<(), String> {
        match self.field(field) {
            None => Ok(()),
            Some(Value::Bool(b)) => {
                out.push_str(&format!(", {field} = {b}"));
                Ok(())
            }
            Some(v) => Err(self.error(field, format!("is {v}, not true or false"))),
        }
    }

    fn activation(&self, out: &mut String, field: &str) -> Result<(), String> {
        match self.field(field) {
            None => Ok(()),
            Some(Value::String(a)) if rnn_spec::Activation::from_keras_name(a).is_some() => {
                out.push_str(&format!(", {field} = {a}"));
                Ok(())
            }
            Some(v) => Err(self.error(
                field,
                format!("is {v}, an activation this library does not have"),
            )),
        }
    }

    /// Fields that this library cannot express must be absent or at their neutral value.
    fn neutral(&self, fields: &[(&str, Value)]) -> Result<(), String> {
        for (field, neutral) in fields {
            if let Some(v) = self.field(field)
                && v != neutral
            {
                return Err(self.error(
                    field,
                    format!("is {v}, which this library cannot express (only {neutral})"),
                ));
            }
        }
        let dtype = match self.config.get("dtype") {
            Some(Value::String(s)) => Some(s.as_str()),
            Some(v) => v.pointer("/config/name").and_then(Value::as_str),
            None => None,
        };
        match dtype {
            None | Some("float32") => Ok(()),
            Some(other) => Err(self.error(
                "dtype",
                format!("is `{other}`; only float32 models are supported"),
            )),
        }
    }
}

const REGULARIZERS: [&str; 5] = [
    "kernel_regularizer",
    "recurrent_regularizer",
    "bias_regularizer",
    "activity_regularizer",
    "embeddings_regularizer",
];
const CONSTRAINTS: [&str; 4] = [
    "kernel_constraint",
    "recurrent_constraint",
    "bias_constraint",
    "embeddings_constraint",
];

/// Regularizers, constraints, dropout inside the recurrence and statefulness change what a
/// model computes or learns, and this library has none of them.
fn unsupported_common() -> Vec<(&'static str, Value)> {
    let mut out: Vec<(&str, Value)> = REGULARIZERS
        .iter()
        .chain(&CONSTRAINTS)
        .map(|f| (*f, Value::Null))
        .collect();
    out.extend([
        ("dropout", Value::from(0.0)),
        ("recurrent_dropout", Value::from(0.0)),
        ("stateful", Value::from(false)),
    ]);
    out
}

/// The layer call of a recurrent layer; `name` replaces the config's name.
fn recurrent(l: &Layer, name: &str) -> Result<String, String> {
    l.neutral(&unsupported_common())?;
    let mut call = format!("{}({}", l.class, l.usize("units")?);
    l.activation(&mut call, "activation")?;
    if l.class != "SimpleRNN" {
        l.activation(&mut call, "recurrent_activation")?;
    }
    for flag in [
        "use_bias",
        "return_sequences",
        "return_state",
        "go_backwards",
    ] {
        l.flag(&mut call, flag)?;
    }
    match l.class {
        "LSTM" => l.flag(&mut call, "unit_forget_bias")?,
        "GRU" => l.flag(&mut call, "reset_after")?,
        _ => {}
    }
    call.push_str(&format!(", name = {name:?})"));
    Ok(call)
}

fn dense(l: &Layer) -> Result<String, String> {
    l.neutral(&unsupported_common())?;
    let mut call = format!("Dense({}", l.usize("units")?);
    l.activation(&mut call, "activation")?;
    l.flag(&mut call, "use_bias")?;
    call.push_str(&format!(", name = {:?})", l.name));
    Ok(call)
}

/// The config's layers as `model!` layer calls, `Input` first when the model takes numbers.
fn layers(config: &Value) -> Result<Vec<String>, String> {
    let class = config.get("class_name").and_then(Value::as_str);
    if class != Some("Sequential") {
        return Err(format!(
            "the model is a {}; only Sequential models can be expressed",
            class.unwrap_or("model of unknown class")
        ));
    }
    let list = config
        .pointer("/config/layers")
        .and_then(Value::as_array)
        .ok_or("the config has no layer list")?;
    let mut calls = Vec::new();
    for v in list {
        let l = Layer::new(v);
        let call = match l.class {
            "InputLayer" => {
                let shape = l
                    .field("batch_shape")
                    .and_then(Value::as_array)
                    .ok_or_else(|| l.error("batch_shape", "is missing"))?;
                let dim = |v: &Value| v.as_u64().map_or("_".to_string(), |n| n.to_string());
                match shape.as_slice() {
                    // Token ids: `Embedding` comes next and takes them.
                    [_, _]
                        if l.field("dtype")
                            .and_then(Value::as_str)
                            .is_some_and(|d| d.starts_with("int")) =>
                    {
                        continue;
                    }
                    [_, t, f] => format!("Input({}, {})", dim(t), dim(f)),
                    _ => {
                        return Err(l.error(
                            "batch_shape",
                            format!(
                                "is {}, which this library cannot express",
                                Value::from(shape.clone())
                            ),
                        ));
                    }
                }
            }
            "Embedding" => {
                l.neutral(&unsupported_common())?;
                let mut call = format!(
                    "Embedding({}, {}",
                    l.usize("input_dim")?,
                    l.usize("output_dim")?
                );
                l.flag(&mut call, "mask_zero")?;
                call.push_str(&format!(", name = {:?})", l.name));
                call
            }
            "SimpleRNN" | "LSTM" | "GRU" => recurrent(&l, l.name)?,
            "Bidirectional" => {
                l.neutral(&[])?;
                if l.field("backward_layer")
                    .is_some_and(|b| b.get("class_name") != l.config.pointer("/layer/class_name"))
                {
                    return Err(l.error(
                        "backward_layer",
                        "is of another class than `layer`, which this library cannot express",
                    ));
                }
                let inner_v = l
                    .field("layer")
                    .ok_or_else(|| l.error("layer", "is missing"))?;
                let inner = Layer::new(inner_v);
                if !matches!(inner.class, "SimpleRNN" | "LSTM" | "GRU") {
                    return Err(l.error(
                        "layer",
                        format!("is a {}, not a recurrent layer", inner.class),
                    ));
                }
                let inner_name = inner.name.strip_prefix("forward_").unwrap_or(inner.name);
                let merge = match l.config.get("merge_mode") {
                    None => "concat".to_string(),
                    Some(Value::Null) => "none".to_string(),
                    Some(Value::String(m)) if rnn_spec::MergeMode::from_keras_name(m).is_some() => {
                        m.clone()
                    }
                    Some(v) => {
                        return Err(l.error(
                            "merge_mode",
                            format!("is {v}, which this library does not have"),
                        ));
                    }
                };
                format!(
                    "Bidirectional({}, merge_mode = {merge}, name = {:?})",
                    recurrent(&inner, inner_name)?,
                    l.name
                )
            }
            "Dense" => dense(&l)?,
            "TimeDistributed" => {
                let inner_v = l
                    .field("layer")
                    .ok_or_else(|| l.error("layer", "is missing"))?;
                let inner = Layer::new(inner_v);
                if inner.class != "Dense" {
                    return Err(l.error(
                        "layer",
                        format!("is a {}; only Dense can be wrapped", inner.class),
                    ));
                }
                format!("TimeDistributed({}, name = {:?})", dense(&inner)?, l.name)
            }
            "Dropout" => {
                l.neutral(&[("noise_shape", Value::Null)])?;
                let rate = l
                    .field("rate")
                    .and_then(Value::as_f64)
                    .ok_or_else(|| l.error("rate", "is missing"))?;
                format!("Dropout({rate:?}, name = {:?})", l.name)
            }
            "GlobalAveragePooling1D" => {
                l.neutral(&[("data_format", Value::from("channels_last"))])?;
                format!("GlobalAveragePooling1D(name = {:?})", l.name)
            }
            other => {
                return Err(format!(
                    "layer `{}` is a {other}, a layer this library does not have",
                    l.name
                ));
            }
        };
        calls.push(call);
    }
    Ok(calls)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(layers: Value) -> Value {
        serde_json::json!({"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}})
    }

    #[test]
    fn layers_become_model_calls() {
        let c = config(serde_json::json!([
            {"class_name": "InputLayer", "config": {"batch_shape": [null, null], "dtype": "int32"}},
            {"class_name": "Embedding", "config": {"name": "embedding", "input_dim": 12, "output_dim": 4, "mask_zero": true}},
            {"class_name": "Bidirectional", "config": {"name": "bidirectional", "merge_mode": "sum",
                "layer": {"class_name": "GRU", "config": {"name": "forward_gru", "units": 3, "activation": "tanh",
                          "recurrent_activation": "sigmoid", "reset_after": true, "dropout": 0.0}}}},
            {"class_name": "Dense", "config": {"name": "dense", "units": 1, "activation": "sigmoid"}},
        ]));
        assert_eq!(
            layers(&c).unwrap(),
            [
                "Embedding(12, 4, mask_zero = true, name = \"embedding\")",
                "Bidirectional(GRU(3, activation = tanh, recurrent_activation = sigmoid, reset_after = true, name = \"gru\"), merge_mode = sum, name = \"bidirectional\")",
                "Dense(1, activation = sigmoid, name = \"dense\")",
            ]
        );
    }

    #[test]
    fn what_cannot_be_expressed_names_the_layer_and_field() {
        let c = config(serde_json::json!([
            {"class_name": "InputLayer", "config": {"batch_shape": [null, 5, 3]}},
            {"class_name": "LSTM", "config": {"name": "encoder", "units": 3, "stateful": true}},
        ]));
        assert_eq!(
            layers(&c).unwrap_err(),
            "layer `encoder` (LSTM): `stateful` is true, which this library cannot express (only false)"
        );
        let c = config(serde_json::json!([{"class_name": "Conv1D", "config": {"name": "conv1d"}}]));
        assert!(layers(&c).unwrap_err().contains("`conv1d` is a Conv1D"));
        let c = config(serde_json::json!([
            {"class_name": "Dense", "config": {"name": "d", "units": 2, "activation": "gelu"}},
        ]));
        assert!(
            layers(&c)
                .unwrap_err()
                .contains("layer `d` (Dense): `activation` is \"gelu\"")
        );
    }
}
