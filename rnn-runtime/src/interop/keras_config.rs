//! Keras' model config (`config.json` of a `.keras` archive, `model_config` of a legacy
//! `.h5`): written from a model's [`KerasArchitecture`], and checked against it field by
//! field.

use serde_json::{Value, json};

use crate::activation::Activation;

/// What a model built by `model!` is, in the terms of Keras' config: `model!` generates
/// one for every named model ([`KerasModel::ARCHITECTURE`](super::keras::KerasModel)).
///
/// ```
/// use rnn_runtime::interop::keras::*;
/// use rnn_runtime::Activation;
/// const ARCH: KerasArchitecture = KerasArchitecture {
///     input: KerasInput::Features(2),
///     layers: &[KerasLayer {
///         name: "dense",
///         kind: KerasLayerKind::Dense(KerasDense { units: 1, activation: Activation::Sigmoid, use_bias: true }),
///     }],
/// };
/// assert_eq!(ARCH.layers[0].kind.class_name(), "Dense");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KerasArchitecture {
    /// What the model takes.
    pub input: KerasInput,
    /// The layers in order, without Keras' `InputLayer`.
    pub layers: &'static [KerasLayer],
}

/// The input of a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KerasInput {
    /// Token ids (`int32`), for a model that starts with `Embedding`.
    Tokens,
    /// Sequences of this many features.
    Sequence(usize),
    /// Vectors of this many features.
    Features(usize),
}

/// One layer: its Keras name and configuration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KerasLayer {
    /// Keras' layer name, which is also its path in weight files (`layers/<name>/...`).
    pub name: &'static str,
    /// Class and configuration.
    pub kind: KerasLayerKind,
}

/// A layer's class and the configuration fields this library reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KerasLayerKind {
    /// `Embedding(input_dim, output_dim, mask_zero)`.
    Embedding {
        /// Vocabulary size.
        input_dim: usize,
        /// Vector size.
        output_dim: usize,
        /// Whether id 0 is padding.
        mask_zero: bool,
    },
    /// `SimpleRNN`, `LSTM` or `GRU`.
    Recurrent(KerasRecurrent),
    /// `Bidirectional(layer, merge_mode)`.
    Bidirectional {
        /// The wrapped layer.
        layer: KerasRecurrent,
        /// The wrapped layer's own name (`lstm`), which Keras prefixes with `forward_` and
        /// `backward_`.
        inner_name: &'static str,
        /// `concat`, `sum`, `mul`, `ave` or `none` (Keras' `None`).
        merge_mode: &'static str,
    },
    /// `Dense(units, activation, use_bias)`.
    Dense(KerasDense),
    /// `TimeDistributed(Dense(..))`.
    TimeDistributed {
        /// The wrapped layer.
        dense: KerasDense,
        /// Its name.
        dense_name: &'static str,
    },
    /// `Dropout(rate)`.
    Dropout {
        /// The fraction dropped in training.
        rate: f64,
    },
    /// `GlobalAveragePooling1D()`.
    GlobalAveragePooling1D,
}

/// The configuration of a recurrent layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KerasRecurrent {
    /// `SimpleRNN`, `LSTM` or `GRU`.
    pub class: &'static str,
    /// Hidden size.
    pub units: usize,
    /// Output activation.
    pub activation: Activation,
    /// Gate activation (SimpleRNN has none and keeps Keras' default).
    pub recurrent_activation: Activation,
    /// Whether the layer has biases.
    pub use_bias: bool,
    /// Every step's output, or the last.
    pub return_sequences: bool,
    /// Whether the final states are outputs too.
    pub return_state: bool,
    /// Whether the sequence is read backwards.
    pub go_backwards: bool,
    /// LSTM only: the forget gate's bias starts at 1.
    pub unit_forget_bias: bool,
    /// GRU only: the reset gate applies after the recurrent product.
    pub reset_after: bool,
}

/// The configuration of a dense layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KerasDense {
    /// Output size.
    pub units: usize,
    /// Activation.
    pub activation: Activation,
    /// Whether the layer has a bias.
    pub use_bias: bool,
}

impl KerasLayerKind {
    /// Keras' class name (`Bidirectional`, `LSTM`, ...).
    pub fn class_name(&self) -> &'static str {
        match self {
            KerasLayerKind::Embedding { .. } => "Embedding",
            KerasLayerKind::Recurrent(r) => r.class,
            KerasLayerKind::Bidirectional { .. } => "Bidirectional",
            KerasLayerKind::Dense(_) => "Dense",
            KerasLayerKind::TimeDistributed { .. } => "TimeDistributed",
            KerasLayerKind::Dropout { .. } => "Dropout",
            KerasLayerKind::GlobalAveragePooling1D => "GlobalAveragePooling1D",
        }
    }
}

/// An entry of Keras' layer list.
fn entry(class: &str, config: Value) -> Value {
    json!({"module": "keras.layers", "class_name": class, "config": config, "registered_name": null})
}

fn recurrent_config(name: &str, r: &KerasRecurrent) -> Value {
    let mut c = json!({
        "name": name,
        "units": r.units,
        "activation": r.activation.keras_name(),
        "use_bias": r.use_bias,
        "return_sequences": r.return_sequences,
        "return_state": r.return_state,
        "go_backwards": r.go_backwards,
    });
    let extra = match r.class {
        "LSTM" => Some(("unit_forget_bias", r.unit_forget_bias)),
        "GRU" => Some(("reset_after", r.reset_after)),
        _ => None,
    };
    if let (Some((key, value)), Some(fields)) = (extra, c.as_object_mut()) {
        fields.insert(
            "recurrent_activation".into(),
            r.recurrent_activation.keras_name().into(),
        );
        fields.insert(key.into(), value.into());
    }
    c
}

fn dense_config(name: &str, d: &KerasDense) -> Value {
    json!({"name": name, "units": d.units, "activation": d.activation.keras_name(), "use_bias": d.use_bias})
}

/// Keras 3's config of a `Sequential` model with this architecture, as `config.json` holds it.
pub(crate) fn to_config(
    name: &str,
    arch: &KerasArchitecture,
    time: Option<usize>,
    batch: Option<usize>,
) -> Value {
    let (batch_shape, dtype) = match arch.input {
        KerasInput::Tokens => (json!([batch, time]), "int32"),
        KerasInput::Sequence(f) => (json!([batch, time, f]), "float32"),
        KerasInput::Features(f) => (json!([batch, f]), "float32"),
    };
    let mut layers = vec![entry(
        "InputLayer",
        json!({"batch_shape": batch_shape, "dtype": dtype, "name": "input_layer"}),
    )];
    for layer in arch.layers {
        let name = layer.name;
        let config = match &layer.kind {
            KerasLayerKind::Embedding {
                input_dim,
                output_dim,
                mask_zero,
            } => {
                json!({"name": name, "input_dim": input_dim, "output_dim": output_dim, "mask_zero": mask_zero})
            }
            KerasLayerKind::Recurrent(r) => recurrent_config(name, r),
            KerasLayerKind::Bidirectional {
                layer: r,
                inner_name,
                merge_mode,
            } => {
                let merge = (*merge_mode != "none").then_some(*merge_mode);
                json!({"name": name, "merge_mode": merge,
                       "layer": entry(r.class, recurrent_config(inner_name, r))})
            }
            KerasLayerKind::Dense(d) => dense_config(name, d),
            KerasLayerKind::TimeDistributed { dense, dense_name } => {
                json!({"name": name, "layer": entry("Dense", dense_config(dense_name, dense))})
            }
            KerasLayerKind::Dropout { rate } => json!({"name": name, "rate": rate}),
            KerasLayerKind::GlobalAveragePooling1D => json!({"name": name}),
        };
        layers.push(entry(layer.kind.class_name(), config));
    }
    json!({
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": name, "layers": layers},
        "registered_name": null,
    })
}

/// Checks a file's model config against the architecture; the error names the first layer
/// and field that differ, or what the file has that this library cannot run.
/// Writes the row count of each `Embedding(_, n)` table (a vocabulary chosen at run time,
/// which the architecture does not know) into `config`, made by [`to_config`].
pub(crate) fn set_run_time_vocab(
    config: &mut Value,
    model: &str,
    arch: &KerasArchitecture,
    weights: &[crate::Weight],
) {
    for (i, layer) in arch.layers.iter().enumerate() {
        if !matches!(layer.kind, KerasLayerKind::Embedding { input_dim, .. } if input_dim == crate::ANY_VOCAB)
        {
            continue;
        }
        let table = format!("{model}/{}/embeddings", layer.name);
        let rows = weights
            .iter()
            .find(|w| w.name == table)
            .and_then(|w| w.shape.first());
        // The InputLayer comes first in Keras' list of layers.
        let entry = config
            .pointer_mut("/config/layers")
            .and_then(|layers| layers.get_mut(i.checked_add(1)?))
            .and_then(|entry| entry.get_mut("config"))
            .and_then(Value::as_object_mut);
        if let (Some(rows), Some(entry)) = (rows, entry) {
            entry.insert("input_dim".into(), (*rows).into());
        }
    }
}

pub(crate) fn check(config: &Value, arch: &KerasArchitecture) -> Result<(), String> {
    let class = config.get("class_name").and_then(Value::as_str);
    if class != Some("Sequential") {
        return Err(format!(
            "the model is a {}, not a Sequential model",
            class.unwrap_or("model of unknown class")
        ));
    }
    let layers = config
        .pointer("/config/layers")
        .and_then(Value::as_array)
        .ok_or("the config has no layer list")?;
    let layers: Vec<&Value> = layers
        .iter()
        .filter(|l| l.get("class_name").and_then(Value::as_str) != Some("InputLayer"))
        .collect();
    for (i, want) in arch.layers.iter().enumerate() {
        let Some(got) = layers.get(i) else {
            return Err(format!(
                "the file's model has {} layers, the model {}: layer `{}` ({}) is missing",
                layers.len(),
                arch.layers.len(),
                want.name,
                want.kind.class_name()
            ));
        };
        check_layer(got, want)?;
    }
    if let Some(extra) = layers.get(arch.layers.len()) {
        return Err(format!(
            "the file's model has {} layers, the model {}: the file's layer `{}` ({}) is extra",
            layers.len(),
            arch.layers.len(),
            str_at(extra, "/config/name").unwrap_or("?"),
            str_at(extra, "/class_name").unwrap_or("?"),
        ));
    }
    Ok(())
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// Compares one layer; `layer` names it in the messages.
struct Fields<'a> {
    layer: String,
    config: &'a Value,
}

impl Fields<'_> {
    fn differ(
        &self,
        field: &str,
        file: impl std::fmt::Display,
        model: impl std::fmt::Display,
    ) -> String {
        format!(
            "layer {}: `{field}` is {file} in the file, {model} in the model",
            self.layer
        )
    }

    fn value(&self, field: &str) -> Option<&Value> {
        self.config.get(field)
    }

    /// An integer field; a missing one is a difference, since every layer Keras writes has
    /// its sizes.
    fn usize(&self, field: &str, want: usize) -> Result<(), String> {
        match self.value(field).and_then(Value::as_u64) {
            Some(got) if got == want as u64 => Ok(()),
            Some(got) => Err(self.differ(field, got, want)),
            None => Err(self.differ(field, "missing", want)),
        }
    }

    /// A flag; missing means Keras' default `default`.
    fn bool(&self, field: &str, want: bool, default: bool) -> Result<(), String> {
        let got = match self.value(field) {
            None | Some(Value::Null) => default,
            Some(v) => v.as_bool().ok_or_else(|| {
                format!("layer {}: `{field}` is {v}, not true or false", self.layer)
            })?,
        };
        if got == want {
            Ok(())
        } else {
            Err(self.differ(field, got, want))
        }
    }

    /// An activation; missing means `default`.
    fn activation(&self, field: &str, want: Activation, default: Activation) -> Result<(), String> {
        let got = match self.value(field) {
            None | Some(Value::Null) => default,
            Some(Value::String(name)) => Activation::from_keras_name(name).ok_or_else(|| {
                format!(
                    "layer {}: `{field}` is `{name}`, an activation this library does not have",
                    self.layer
                )
            })?,
            Some(other) => {
                return Err(format!(
                    "layer {}: `{field}` is {other}, not an activation this library has",
                    self.layer
                ));
            }
        };
        if got == want {
            Ok(())
        } else {
            Err(self.differ(
                field,
                format!("`{}`", got.keras_name()),
                format!("`{}`", want.keras_name()),
            ))
        }
    }

    /// Options the runtime does not implement must have their neutral value.
    fn unsupported(&self, field: &str, neutral: &Value) -> Result<(), String> {
        match self.value(field) {
            Some(v) if v != neutral && !v.is_null() => Err(format!(
                "layer {}: `{field}` is {v}, which this library does not support (only {neutral})",
                self.layer
            )),
            _ => Ok(()),
        }
    }

    /// Float32 weights only.
    fn dtype(&self) -> Result<(), String> {
        let dtype = match self.value("dtype") {
            Some(Value::String(s)) => Some(s.as_str()),
            Some(v) => v.pointer("/config/name").and_then(Value::as_str),
            None => None,
        };
        match dtype {
            None | Some("float32") => Ok(()),
            Some(other) => Err(format!(
                "layer {}: `dtype` is `{other}`; only float32 models are supported",
                self.layer
            )),
        }
    }
}

fn check_layer(got: &Value, want: &KerasLayer) -> Result<(), String> {
    let class = str_at(got, "/class_name").unwrap_or("?");
    let name = str_at(got, "/config/name").unwrap_or("?");
    let want_class = want.kind.class_name();
    let layer = format!("`{}` ({want_class})", want.name);
    if class != want_class {
        return Err(format!(
            "layer {layer}: the file has layer `{name}` of class {class} in its place"
        ));
    }
    if name != want.name {
        return Err(format!("layer {layer}: `name` is `{name}` in the file"));
    }
    let config = got.get("config").unwrap_or(&Value::Null);
    let f = Fields { layer, config };
    f.dtype()?;
    match &want.kind {
        KerasLayerKind::Embedding {
            input_dim,
            output_dim,
            mask_zero,
        } => {
            // A vocabulary chosen at run time is checked against the table's shape instead.
            if *input_dim != crate::ANY_VOCAB {
                f.usize("input_dim", *input_dim)?;
            }
            f.usize("output_dim", *output_dim)?;
            f.bool("mask_zero", *mask_zero, false)
        }
        KerasLayerKind::Recurrent(r) => check_recurrent(&f, r),
        KerasLayerKind::Bidirectional {
            layer: r,
            merge_mode,
            ..
        } => {
            let got_merge = match f.value("merge_mode") {
                None => "concat",
                Some(Value::Null) => "none",
                Some(v) => v.as_str().unwrap_or("?"),
            };
            if got_merge != *merge_mode {
                return Err(f.differ(
                    "merge_mode",
                    format!("`{got_merge}`"),
                    format!("`{merge_mode}`"),
                ));
            }
            let inner = f.value("layer").unwrap_or(&Value::Null);
            let inner_class = str_at(inner, "/class_name").unwrap_or("?");
            if inner_class != r.class {
                return Err(f.differ("layer", inner_class, r.class));
            }
            let inner = Fields {
                layer: format!("{} (its {})", f.layer, r.class),
                config: inner.get("config").unwrap_or(&Value::Null),
            };
            // Keras writes the forward layer's config, which has go_backwards false.
            check_recurrent(&inner, r)
        }
        KerasLayerKind::Dense(d) => check_dense(&f, d),
        KerasLayerKind::TimeDistributed { dense, .. } => {
            let inner = f.value("layer").unwrap_or(&Value::Null);
            let inner_class = str_at(inner, "/class_name").unwrap_or("?");
            if inner_class != "Dense" {
                return Err(f.differ("layer", inner_class, "Dense"));
            }
            let inner = Fields {
                layer: format!("{} (its Dense)", f.layer),
                config: inner.get("config").unwrap_or(&Value::Null),
            };
            check_dense(&inner, dense)
        }
        KerasLayerKind::Dropout { rate } => match f.value("rate").and_then(Value::as_f64) {
            Some(got) if (got - rate).abs() <= 1e-12 => Ok(()),
            Some(got) => Err(f.differ("rate", got, rate)),
            None => Err(f.differ("rate", "missing", rate)),
        },
        KerasLayerKind::GlobalAveragePooling1D => {
            f.unsupported("data_format", &Value::from("channels_last"))
        }
    }
}

fn check_recurrent(f: &Fields, r: &KerasRecurrent) -> Result<(), String> {
    f.dtype()?;
    f.usize("units", r.units)?;
    f.activation("activation", r.activation, Activation::Tanh)?;
    if r.class != "SimpleRNN" {
        f.activation(
            "recurrent_activation",
            r.recurrent_activation,
            Activation::Sigmoid,
        )?;
    }
    f.bool("use_bias", r.use_bias, true)?;
    f.bool("return_sequences", r.return_sequences, false)?;
    f.bool("return_state", r.return_state, false)?;
    f.bool("go_backwards", r.go_backwards, false)?;
    match r.class {
        "LSTM" => f.bool("unit_forget_bias", r.unit_forget_bias, true)?,
        "GRU" => f.bool("reset_after", r.reset_after, true)?,
        _ => {}
    }
    f.unsupported("stateful", &Value::from(false))?;
    f.unsupported("time_major", &Value::from(false))
}

fn check_dense(f: &Fields, d: &KerasDense) -> Result<(), String> {
    f.dtype()?;
    f.usize("units", d.units)?;
    f.activation("activation", d.activation, Activation::Linear)?;
    f.bool("use_bias", d.use_bias, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARCH: KerasArchitecture = KerasArchitecture {
        input: KerasInput::Tokens,
        layers: &[
            KerasLayer {
                name: "embedding",
                kind: KerasLayerKind::Embedding {
                    input_dim: 10,
                    output_dim: 4,
                    mask_zero: true,
                },
            },
            KerasLayer {
                name: "bidirectional",
                kind: KerasLayerKind::Bidirectional {
                    layer: KerasRecurrent {
                        class: "GRU",
                        units: 3,
                        activation: Activation::Tanh,
                        recurrent_activation: Activation::Sigmoid,
                        use_bias: true,
                        return_sequences: false,
                        return_state: false,
                        go_backwards: false,
                        unit_forget_bias: true,
                        reset_after: true,
                    },
                    inner_name: "gru",
                    merge_mode: "sum",
                },
            },
            KerasLayer {
                name: "dense",
                kind: KerasLayerKind::Dense(KerasDense {
                    units: 1,
                    activation: Activation::Sigmoid,
                    use_bias: true,
                }),
            },
        ],
    };

    #[test]
    fn a_written_config_checks_against_its_architecture() {
        let config = to_config("sequential", &ARCH, None, None);
        check(&config, &ARCH).unwrap();
        assert_eq!(
            config.pointer("/config/layers/0/config/dtype"),
            Some(&json!("int32"))
        );
    }

    #[test]
    fn the_first_difference_is_named_by_layer_and_field() {
        let mut config = to_config("sequential", &ARCH, None, None);
        config["config"]["layers"][2]["config"]["layer"]["config"]["reset_after"] = false.into();
        config["config"]["layers"][3]["config"]["units"] = 2.into();
        let err = check(&config, &ARCH).unwrap_err();
        assert_eq!(
            err,
            "layer `bidirectional` (Bidirectional) (its GRU): `reset_after` is false in the file, true in the model"
        );
        let mut config = to_config("sequential", &ARCH, None, None);
        config["config"]["layers"][1]["config"]["input_dim"] = 11.into();
        assert_eq!(
            check(&config, &ARCH).unwrap_err(),
            "layer `embedding` (Embedding): `input_dim` is 11 in the file, 10 in the model"
        );
        let mut config = to_config("sequential", &ARCH, None, None);
        config["config"]["layers"][3]["config"]["activation"] = "swish".into();
        assert!(
            check(&config, &ARCH)
                .unwrap_err()
                .contains("`activation` is `swish`, an activation")
        );
        let mut config = to_config("sequential", &ARCH, None, None);
        config["config"]["layers"][2]["config"]["merge_mode"] = Value::Null;
        assert!(
            check(&config, &ARCH)
                .unwrap_err()
                .contains("`merge_mode` is `none` in the file, `sum`")
        );
        let mut config = to_config("sequential", &ARCH, None, None);
        config["config"]["layers"].as_array_mut().unwrap().pop();
        assert!(
            check(&config, &ARCH)
                .unwrap_err()
                .contains("layer `dense` (Dense) is missing")
        );
    }

    #[test]
    fn other_dtypes_and_stateful_layers_are_refused() {
        let mut config = to_config("sequential", &ARCH, None, None);
        config["config"]["layers"][3]["config"]["dtype"] = "float16".into();
        assert!(check(&config, &ARCH).unwrap_err().contains("only float32"));
        let mut config = to_config("sequential", &ARCH, None, None);
        config["config"]["layers"][2]["config"]["layer"]["config"]["stateful"] = true.into();
        assert!(
            check(&config, &ARCH)
                .unwrap_err()
                .contains("`stateful` is true")
        );
    }
}
