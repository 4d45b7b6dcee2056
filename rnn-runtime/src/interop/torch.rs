//! PyTorch `state_dict`s saved as safetensors (`safetensors.torch.save_file`), read into a
//! model and written from one.
//!
//! A PyTorch model is an `nn.Module` whose attributes hold its layers; its state dict keys
//! each tensor by attribute path: `embedding.weight`, `lstm.weight_ih_l0`, `fc.bias`.
//! [`TorchNames`] says which module becomes which layer of the model, as
//! `(PyTorch prefix, layer name)` pairs:
//!
//! ```
//! use rnn_runtime::interop::torch::TorchNames;
//! // class Net(nn.Module): self.embedding = nn.Embedding(..); self.lstm = nn.LSTM(..,
//! // num_layers=2); self.fc = nn.Linear(..)
//! let names = TorchNames::new([
//!     ("embedding", "embedding"),
//!     ("lstm", "lstm"),   // layer 0 of the nn.LSTM
//!     ("lstm", "lstm_1"), // layer 1: a prefix given again maps the module's next layer
//!     ("fc", "dense"),
//! ]);
//! # let _ = names;
//! ```
//!
//! [`TorchNames::default`] finds the pairs itself when the file holds one module of each kind
//! (one `nn.Embedding`, one `nn.Linear`, one recurrent module per cell type, whose layers
//! then map to the model's layers of that cell in order): the usual
//! `embedding => lstm => fc` module needs no names.
//!
//! What is converted, module by module:
//!
//! | PyTorch                               | Keras layer                   | conversion |
//! |---------------------------------------|-------------------------------|------------|
//! | `nn.Embedding`: `weight (V, D)`       | `Embedding`: `embeddings`     | as is |
//! | `nn.Linear`: `weight (U, I)`, `bias`  | `Dense`, `TimeDistributed(Dense)`: `kernel (I, U)`, `bias` | transposed |
//! | `nn.RNN`: `weight_ih_l{k}`, `weight_hh_l{k}`, `bias_ih_l{k}`, `bias_hh_l{k}` | `SimpleRNN` | transposed, the two biases summed |
//! | `nn.LSTM`, gates `i, f, g, o`         | `LSTM`, gates `i, f, c, o`    | same order; transposed, the two biases summed |
//! | `nn.GRU`, gates `r, z, n`             | `GRU(reset_after = true)`, gates `z, r, h` | gates reordered, transposed; the biases are Keras' two bias rows |
//! | `bidirectional=True`: `..._reverse`   | `Bidirectional(..)`: the backward copy | as above |
//! | `num_layers = n`: `..._l0` .. `..._l{n-1}` | `n` stacked layers            | as above |
//!
//! PyTorch's cells are fixed, so the model's layers must compute what they compute, and a
//! layer that does not is an error: a `GRU` with `reset_after = false` (PyTorch's GRU applies
//! the reset gate after the recurrent product), an `LSTM` or `GRU` whose activations are not
//! `tanh` and `sigmoid`, a `SimpleRNN` whose activation is not the `nn.RNN`'s `nonlinearity`
//! (which a state dict does not record: `tanh` unless declared with
//! [`TorchNames::nonlinearity`]), and `go_backwards = true`. `batch_first`, dropout and
//! the activation after a `nn.Linear` are not in a state dict either: the `model!` declaration
//! states them. A model with `Embedding(.., mask_zero = true)` computes what a module computes
//! on post-padded ids packed with `pack_padded_sequence` (the final states are those of each
//! row's last real step).
//!
//! Tensors may be `F32`, `F16`, `BF16` (widened exactly) or `F64` (rounded to the nearest
//! `f32`, as PyTorch's `.float()` does); other dtypes are refused. Every tensor of the file
//! must be used and every weight of the model found, with the expected shape: otherwise the
//! error names the file, the tensor, the layer and both shapes, and the model is unchanged.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::Path;

use rnn_macros::model_api;
use safetensors::{Dtype, SafeTensors};

use crate::activation::Activation;
use crate::checkpoint;
use crate::error::{Error, Result, first_non_finite, fmt_shape};
use crate::input::ModelInput;
use crate::layer::Stack;
use crate::layers::rnn_config::RnnOptions;
use crate::model::Sequential;
use crate::output::ModelOutput;
use crate::param::Weight;

/// Which PyTorch module holds which layer of the model: `(PyTorch prefix, layer name)` pairs,
/// and the `nonlinearity` of each `nn.RNN` that is not `tanh`.
///
/// A recurrent module's prefix may appear several times: its layers `l0`, `l1`, ... map to
/// the named layers in the order given (an `nn.LSTM(num_layers = 2)` is two stacked `LSTM`
/// layers). The default (no pairs) finds the pairs from the file's modules and the model's
/// layers by kind, as described in the [module documentation](self); [`Sequential::save_torch`]
/// with the default names each module after its layer.
///
/// ```
/// use rnn_runtime::Activation;
/// use rnn_runtime::interop::torch::TorchNames;
/// // self.rnn = nn.RNN(4, 6, nonlinearity="relu"); self.out = nn.Linear(6, 2)
/// let names = TorchNames::new([("rnn", "simple_rnn"), ("out", "dense")])
///     .nonlinearity("rnn", Activation::Relu);
/// # let _ = names;
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TorchNames {
    pairs: Vec<(String, String)>,
    nonlinearities: Vec<(String, Activation)>,
}

impl TorchNames {
    /// The given `(PyTorch prefix, layer name)` pairs; a prefix may end in `.` or not.
    ///
    /// ```
    /// use rnn_runtime::interop::torch::TorchNames;
    /// let names = TorchNames::new([("encoder.rnn", "gru"), ("head", "dense")]);
    /// assert_ne!(names, TorchNames::default());
    /// ```
    pub fn new<I, T, L>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (T, L)>,
        T: Into<String>,
        L: Into<String>,
    {
        TorchNames {
            pairs: pairs
                .into_iter()
                .map(|(t, l)| {
                    let t: String = t.into();
                    (t.strip_suffix('.').unwrap_or(&t).to_string(), l.into())
                })
                .collect(),
            nonlinearities: Vec::new(),
        }
    }

    /// Declares the `nonlinearity` of the `nn.RNN` at `prefix` (`tanh`, PyTorch's default,
    /// unless declared): the model's `SimpleRNN` must use the same activation.
    ///
    /// ```
    /// use rnn_runtime::Activation;
    /// use rnn_runtime::interop::torch::TorchNames;
    /// let names = TorchNames::default().nonlinearity("rnn", Activation::Relu);
    /// # let _ = names;
    /// ```
    pub fn nonlinearity(mut self, prefix: impl Into<String>, activation: Activation) -> Self {
        let prefix: String = prefix.into();
        let prefix = prefix.strip_suffix('.').unwrap_or(&prefix).to_string();
        self.nonlinearities.retain(|(p, _)| *p != prefix);
        self.nonlinearities.push((prefix, activation));
        self
    }

    fn nonlinearity_of(&self, prefix: &str) -> Activation {
        self.nonlinearities
            .iter()
            .find(|(p, _)| p == prefix)
            .map_or(Activation::Tanh, |(_, a)| *a)
    }
}

#[model_api]
impl<S> Sequential<S>
where
    S: Stack,
    S::In: ModelInput,
    S::Out: ModelOutput,
{
    /// Replaces every weight with the tensors of a PyTorch state dict saved as safetensors,
    /// the modules mapped onto the layers by `names` (see [`TorchNames`] and the
    /// [module documentation](crate::interop::torch) for what is converted and checked).
    ///
    /// Every problem is an [`Error::Checkpoint`] naming the file and, where there is one, the
    /// tensor and the layer with expected and actual shapes; the model is then unchanged.
    ///
    /// ```
    /// use rnn_runtime::*;
    /// use rnn_runtime::interop::torch::TorchNames;
    /// static SPEC: ModelSpec = ModelSpec {
    ///     name: "sequential",
    ///     input_time: None,
    ///     input_batch: None,
    ///     layers: &[LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", sizes: &[], params: 3 }],
    /// };
    /// let dense = Dense::<2, 1>::new("sequential/dense", Activation::Linear, &mut seeded_rng(0));
    /// let mut model = Sequential::new(stack::<Features<2>, _>(dense), &SPEC);
    /// // nn.Linear(2, 1) saved by safetensors.torch.save_file({"fc.weight": .., "fc.bias": ..}):
    /// // written here by save_torch under the module name "fc".
    /// let path = std::env::temp_dir().join(format!("rnn-doc-torch-{}.safetensors", std::process::id()));
    /// model.set_weights(&[vec![0.5, -1.0], vec![0.25]])?;
    /// model.save_torch(&path, &TorchNames::new([("fc", "dense")]))?;
    /// model.set_weights(&[vec![0.0, 0.0], vec![0.0]])?;
    /// model.load_torch(&path, &TorchNames::default())?;
    /// assert_eq!(model.get_weights()[0].values, vec![0.5, -1.0]);
    /// // A file for another layout: an error, and the model is unchanged.
    /// let err = model.load_torch(&path, &TorchNames::new([("head", "dense")])).unwrap_err();
    /// assert!(err.to_string().contains("`head.weight`"), "{err}");
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn load_torch(&mut self, path: impl AsRef<Path>, names: &TorchNames) -> Result<()> {
        let path = path.as_ref();
        let fail = |message: String| file_error(path, message);
        let bytes = fs::read(path).map_err(|e| fail(format!("cannot read the file: {e}")))?;
        let tensors = read_tensors(&bytes).map_err(fail)?;
        let current = self.get_weights();
        let layers = model_layers(self, &current).map_err(fail)?;
        let pairs = if names.pairs.is_empty() {
            infer_pairs(&layers, &tensors).map_err(fail)?
        } else {
            names.pairs.clone()
        };
        let plan = plan(&layers, &pairs, names).map_err(fail)?;
        let mut source = Source {
            tensors: &tensors,
            used: HashSet::new(),
        };
        let mut weights = current;
        for (layer, prefix, index) in &plan {
            for &(w, role) in &layer.weights {
                let weight = weights.get_mut(w).ok_or_else(|| fail(missing_weight(w)))?;
                let converted = source.keras_weight(weight, role, layer, prefix, *index);
                weight.values = converted.map_err(fail)?;
            }
        }
        source.check_all_used(&plan).map_err(fail)?;
        self.set_weights(&weights)
            .map_err(|e| file_error(path, e.to_string()))
    }

    /// Writes every weight as a PyTorch state dict in safetensors, which the `nn.Module`
    /// described by `names` loads with `load_state_dict(strict=True)` (after
    /// `safetensors.torch.load_file`). With the default names each module is named after
    /// its layer (`embedding.weight`, `lstm.weight_ih_l0`, `dense.bias`) and each recurrent
    /// layer is a one-layer module.
    ///
    /// Where Keras has one bias and PyTorch two (`SimpleRNN`, `LSTM`), the bias goes to
    /// `bias_ih` and `bias_hh` is zero. Layers PyTorch cannot express are refused as by
    /// [`Sequential::load_torch`]. The file is written atomically, as by
    /// [`checkpoint::save`].
    ///
    /// ```
    /// use rnn_runtime::*;
    /// use rnn_runtime::interop::torch::TorchNames;
    /// static SPEC: ModelSpec = ModelSpec {
    ///     name: "sequential",
    ///     input_time: None,
    ///     input_batch: None,
    ///     layers: &[LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", sizes: &[], params: 3 }],
    /// };
    /// let dense = Dense::<2, 1>::new("sequential/dense", Activation::Linear, &mut seeded_rng(0));
    /// let model = Sequential::new(stack::<Features<2>, _>(dense), &SPEC);
    /// let path = std::env::temp_dir().join(format!("rnn-doc-save-torch-{}.safetensors", std::process::id()));
    /// model.save_torch(&path, &TorchNames::new([("fc", "dense")]))?;
    /// let names: Vec<String> = checkpoint::load(&path)?.into_iter().map(|w| w.name).collect();
    /// assert_eq!(names, ["fc.weight", "fc.bias"]);
    /// # std::fs::remove_file(&path).unwrap();
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn save_torch(&self, path: impl AsRef<Path>, names: &TorchNames) -> Result<()> {
        let path = path.as_ref();
        let fail = |message: String| file_error(path, message);
        let current = self.get_weights();
        let layers = model_layers(self, &current).map_err(fail)?;
        let pairs = if names.pairs.is_empty() {
            layers
                .iter()
                .map(|l| (l.name.clone(), l.name.clone()))
                .collect()
        } else {
            names.pairs.clone()
        };
        let plan = plan(&layers, &pairs, names).map_err(fail)?;
        let mut out = Vec::new();
        for (layer, prefix, index) in &plan {
            for &(w, role) in &layer.weights {
                let weight = current.get(w).ok_or_else(|| fail(missing_weight(w)))?;
                torch_tensors(weight, role, prefix, *index, &mut out).map_err(fail)?;
            }
        }
        checkpoint::save(path, &out)
    }
}

/// `model_layers` numbers the weights of `get_weights()`, so this names a broken invariant.
fn missing_weight(w: usize) -> String {
    format!("the model has no weight number {w}")
}

fn file_error(path: &Path, message: String) -> Error {
    Error::Checkpoint {
        path: path.display().to_string(),
        message,
    }
}

/// A tensor of the file, widened or rounded to `f32`.
#[derive(Debug)]
struct FileTensor {
    shape: Vec<usize>,
    values: Vec<f32>,
}

fn read_tensors(bytes: &[u8]) -> std::result::Result<HashMap<String, FileTensor>, String> {
    let file = SafeTensors::deserialize(bytes)
        .map_err(|e| format!("not a readable safetensors file: {e}"))?;
    let mut out = HashMap::new();
    for (name, view) in file.tensors() {
        let data = view.data();
        let values: Vec<f32> = match view.dtype() {
            Dtype::F32 => data
                .as_chunks::<4>()
                .0
                .iter()
                .map(|&b| f32::from_le_bytes(b))
                .collect(),
            Dtype::F16 => data
                .as_chunks::<2>()
                .0
                .iter()
                .map(|&b| half::f16::from_le_bytes(b).to_f32())
                .collect(),
            Dtype::BF16 => data
                .as_chunks::<2>()
                .0
                .iter()
                .map(|&b| half::bf16::from_le_bytes(b).to_f32())
                .collect(),
            Dtype::F64 => data
                .as_chunks::<8>()
                .0
                .iter()
                .map(|&b| f64::from_le_bytes(b) as f32)
                .collect(),
            other => {
                return Err(format!(
                    "tensor `{name}` has dtype {other:?}; weights must be F32, F16, BF16 or F64"
                ));
            }
        };
        if let Some((i, v)) = first_non_finite(&values) {
            return Err(format!(
                "tensor `{name}` contains {v} at index {i} (as f32)"
            ));
        }
        out.insert(
            name,
            FileTensor {
                shape: view.shape().to_vec(),
                values,
            },
        );
    }
    Ok(out)
}

/// The recurrent cells, as PyTorch and Keras name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CellKind {
    Simple,
    Lstm,
    Gru,
}

impl CellKind {
    fn from_keras_cell(name: &str) -> Option<Self> {
        match name {
            "simple_rnn_cell" => Some(CellKind::Simple),
            "lstm_cell" => Some(CellKind::Lstm),
            "gru_cell" => Some(CellKind::Gru),
            _ => None,
        }
    }

    fn gates(self) -> usize {
        match self {
            CellKind::Simple => 1,
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        }
    }

    /// Units of a gated weight `width` wide.
    #[allow(
        clippy::arithmetic_side_effects,
        reason = "`gates()` is 1, 3 or 4, never zero"
    )]
    fn units(self, width: usize) -> usize {
        width / self.gates()
    }

    fn torch(self) -> &'static str {
        match self {
            CellKind::Simple => "nn.RNN",
            CellKind::Lstm => "nn.LSTM",
            CellKind::Gru => "nn.GRU",
        }
    }

    /// The PyTorch gate block that holds Keras' gate block `g`: LSTM's `i, f, g, o` are
    /// Keras' `i, f, c, o`; GRU's `r, z, n` are Keras' `z, r, h` reordered.
    fn torch_gate(self, g: usize) -> usize {
        match (self, g) {
            (CellKind::Gru, 0) => 1,
            (CellKind::Gru, 1) => 0,
            _ => g,
        }
    }
}

/// What one Keras weight is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Embeddings,
    Kernel,
    Bias,
    Cell {
        cell: CellKind,
        reverse: bool,
        part: Part,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Input,
    Hidden,
    Bias,
}

/// What a layer is, for matching it with a PyTorch module.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Embedding,
    Dense { bias: bool },
    Recurrent { cell: CellKind, bidirectional: bool },
}

impl Kind {
    fn torch(self) -> &'static str {
        match self {
            Kind::Embedding => "nn.Embedding",
            Kind::Dense { .. } => "nn.Linear",
            Kind::Recurrent { cell, .. } => cell.torch(),
        }
    }
}

/// One layer of the model with weights: its name, kind, options and weights (index into
/// `get_weights()`, role).
struct ModelLayer {
    name: String,
    kind: Kind,
    options: Option<RnnOptions>,
    weights: Vec<(usize, Role)>,
}

/// The model's layers with weights, in order, read from the Keras weight names
/// (`{model}/{layer}/...`) and the layers' options.
fn model_layers<S>(
    model: &Sequential<S>,
    weights: &[Weight],
) -> std::result::Result<Vec<ModelLayer>, String>
where
    S: Stack,
    S::In: ModelInput,
    S::Out: ModelOutput,
{
    let spec = model.spec();
    let mut options = Vec::new();
    model.layers().rnn_options(&mut options);
    // A hand-built model may describe its layers differently from its chain; its options are
    // then unknown and only the weights are checked.
    let options_of = |name: &str| -> Option<RnnOptions> {
        if options.len() != spec.layers.len() {
            return None;
        }
        let i = spec.layers.iter().position(|l| l.name == name)?;
        options.get(i).copied().flatten()
    };
    let model_prefix = format!("{}/", spec.name);
    let mut layers: Vec<ModelLayer> = Vec::new();
    for (i, w) in weights.iter().enumerate() {
        let rel = w.name.strip_prefix(&model_prefix).unwrap_or(&w.name);
        let parts: Vec<&str> = rel.split('/').collect();
        let n = parts.len();
        // From the end: the weight's own name, its cell, and the wrapper around the cell.
        let mut from_end = parts.iter().rev().copied();
        let (last, cell_dir, wrapper) = (from_end.next(), from_end.next(), from_end.next());
        let unknown = || {
            format!(
                "weight `{}` of the model is of a kind this import does not know",
                w.name
            )
        };
        let cell = (n >= 3)
            .then(|| cell_dir.and_then(CellKind::from_keras_cell))
            .flatten();
        let (role, kind) = match (cell, last.unwrap_or_default()) {
            (Some(cell), last) => {
                let part = match last {
                    "kernel" => Part::Input,
                    "recurrent_kernel" => Part::Hidden,
                    "bias" => Part::Bias,
                    _ => return Err(unknown()),
                };
                let bidirectional = n >= 4;
                let reverse = bidirectional && wrapper.is_some_and(|w| w.starts_with("backward_"));
                (
                    Role::Cell {
                        cell,
                        reverse,
                        part,
                    },
                    Kind::Recurrent {
                        cell,
                        bidirectional,
                    },
                )
            }
            (None, "embeddings") if n == 2 => (Role::Embeddings, Kind::Embedding),
            (None, "kernel") if n <= 3 => (Role::Kernel, Kind::Dense { bias: false }),
            (None, "bias") if n <= 3 => (Role::Bias, Kind::Dense { bias: true }),
            _ => return Err(unknown()),
        };
        let name = parts.first().copied().unwrap_or_default();
        match layers.iter_mut().find(|l| l.name == name) {
            Some(layer) => {
                if role == Role::Bias {
                    layer.kind = Kind::Dense { bias: true };
                }
                layer.weights.push((i, role));
            }
            None => layers.push(ModelLayer {
                name: name.to_string(),
                kind,
                options: options_of(name),
                weights: vec![(i, role)],
            }),
        }
    }
    Ok(layers)
}

/// Each layer with its PyTorch prefix and its layer index within that module.
type Plan<'a> = Vec<(&'a ModelLayer, String, usize)>;

/// Checks the pairs against the model and the layers' options against PyTorch's cells.
fn plan<'a>(
    layers: &'a [ModelLayer],
    pairs: &[(String, String)],
    names: &TorchNames,
) -> std::result::Result<Plan<'a>, String> {
    let listing = || {
        layers
            .iter()
            .map(|l| l.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut plan: Plan<'a> = Vec::new();
    let mut module_kind: HashMap<&str, Kind> = HashMap::new();
    for (prefix, layer_name) in pairs {
        let Some(layer) = layers.iter().find(|l| l.name == *layer_name) else {
            return Err(format!(
                "the names map `{prefix}` to layer `{layer_name}`, which the model does not \
                 have; its layers with weights are: {}",
                listing()
            ));
        };
        if plan.iter().any(|(l, _, _)| l.name == layer.name) {
            return Err(format!(
                "the names map layer `{layer_name}` twice; each layer takes one module"
            ));
        }
        let index = plan.iter().filter(|(_, p, _)| p == prefix).count();
        if let Some(&kind) = module_kind.get(prefix.as_str()) {
            let stackable = kind == layer.kind && matches!(kind, Kind::Recurrent { .. });
            if !stackable {
                return Err(format!(
                    "the names map module `{prefix}` to layer `{}` and to layer `{layer_name}`; \
                     only the layers of one recurrent module (num_layers > 1, same cell and \
                     direction) may share a prefix",
                    plan.iter()
                        .find(|(_, p, _)| p == prefix)
                        .map_or("", |(l, _, _)| l.name.as_str()),
                ));
            }
        }
        module_kind.insert(prefix, layer.kind);
        check_options(layer, prefix, names)?;
        plan.push((layer, prefix.clone(), index));
    }
    if let Some(missing) = layers
        .iter()
        .find(|l| !plan.iter().any(|(p, _, _)| p.name == l.name))
    {
        return Err(format!(
            "layer `{}` has no PyTorch module: add a pair (\"<module prefix>\", \"{}\") for its \
             {} to the names",
            missing.name,
            missing.name,
            missing.kind.torch()
        ));
    }
    for (prefix, _) in &names.nonlinearities {
        let is_rnn = plan.iter().any(|(l, p, _)| {
            p == prefix
                && matches!(
                    l.kind,
                    Kind::Recurrent {
                        cell: CellKind::Simple,
                        ..
                    }
                )
        });
        if !is_rnn {
            return Err(format!(
                "a nonlinearity is declared for `{prefix}`, which is not mapped to a SimpleRNN \
                 layer"
            ));
        }
    }
    Ok(plan)
}

/// Refuses a recurrent layer whose computation PyTorch's cell does not do.
fn check_options(
    layer: &ModelLayer,
    prefix: &str,
    names: &TorchNames,
) -> std::result::Result<(), String> {
    let Kind::Recurrent { cell, .. } = layer.kind else {
        return Ok(());
    };
    let torch = cell.torch();
    let name = &layer.name;
    let Some(RnnOptions {
        config: cfg,
        reset_after,
    }) = layer.options
    else {
        return Ok(());
    };
    if cell == CellKind::Gru && !reset_after {
        return Err(reset_before(name, prefix));
    }
    if cfg.go_backwards {
        return Err(format!(
            "layer `{name}` has go_backwards = true, which {torch} `{prefix}` has no option for \
             (a bidirectional module is a Bidirectional layer)"
        ));
    }
    match cell {
        CellKind::Simple => {
            let nonlinearity = names.nonlinearity_of(prefix);
            if !matches!(nonlinearity, Activation::Tanh | Activation::Relu) {
                return Err(format!(
                    "the nonlinearity declared for nn.RNN `{prefix}` is {}; nn.RNN has tanh \
                     and relu",
                    nonlinearity.keras_name()
                ));
            }
            if cfg.activation != nonlinearity {
                return Err(format!(
                    "layer `{name}` has activation {} but nn.RNN `{prefix}` has nonlinearity {}{}",
                    cfg.activation.keras_name(),
                    nonlinearity.keras_name(),
                    if names.nonlinearities.iter().any(|(p, _)| p == prefix) {
                        ""
                    } else {
                        " (PyTorch's default; declare another with TorchNames::nonlinearity)"
                    }
                ));
            }
        }
        CellKind::Lstm | CellKind::Gru => {
            if cfg.activation != Activation::Tanh || cfg.recurrent_activation != Activation::Sigmoid
            {
                return Err(format!(
                    "layer `{name}` has activation {} and recurrent_activation {}; {torch} \
                     `{prefix}` computes tanh and sigmoid",
                    cfg.activation.keras_name(),
                    cfg.recurrent_activation.keras_name()
                ));
            }
        }
    }
    Ok(())
}

fn reset_before(layer: &str, prefix: &str) -> String {
    format!(
        "layer `{layer}` is a GRU with reset_after = false, which has no PyTorch equivalent: \
         nn.GRU `{prefix}` applies the reset gate after the recurrent product (reset_after = true)"
    )
}

/// The pairs for a file with one module of each kind the model's layers need.
fn infer_pairs(
    layers: &[ModelLayer],
    tensors: &HashMap<String, FileTensor>,
) -> std::result::Result<Vec<(String, String)>, String> {
    // Module prefix -> its tensors' last components.
    let mut modules: HashMap<&str, Vec<&str>> = HashMap::new();
    for key in tensors.keys() {
        let (prefix, leaf) = key.rsplit_once('.').unwrap_or(("", key.as_str()));
        modules.entry(prefix).or_default().push(leaf);
    }
    let gates_of = |prefix: &str| -> Option<usize> {
        let hh = tensors.get(&format!("{prefix}.weight_hh_l0"))?;
        match hh.shape.as_slice() {
            [rows, h] if rows.checked_rem(*h) == Some(0) => rows.checked_div(*h),
            _ => None,
        }
    };
    let fits = |prefix: &str, leaves: &[&str], kind: Kind| -> bool {
        let has = |l: &str| leaves.contains(&l);
        match kind {
            Kind::Embedding => leaves == ["weight"],
            Kind::Dense { bias } => {
                has("weight") && has("bias") == bias && leaves.len() == if bias { 2 } else { 1 }
            }
            Kind::Recurrent {
                cell,
                bidirectional,
            } => {
                has("weight_ih_l0")
                    && gates_of(prefix) == Some(cell.gates())
                    && has("weight_ih_l0_reverse") == bidirectional
            }
        }
    };
    let mut sorted: Vec<(&str, &Vec<&str>)> = modules.iter().map(|(p, l)| (*p, l)).collect();
    sorted.sort();
    let mut pairs = Vec::new();
    for layer in layers {
        let candidates: Vec<&str> = sorted
            .iter()
            .filter(|(p, leaves)| fits(p, leaves, layer.kind))
            .map(|(p, _)| *p)
            .collect();
        match candidates.as_slice() {
            [one] => pairs.push((one.to_string(), layer.name.clone())),
            [] => {
                let found: Vec<&str> = sorted.iter().map(|(p, _)| *p).collect();
                return Err(format!(
                    "no module of the file is a {} for layer `{}` (the file's modules: {}); \
                     name the pairs with TorchNames::new",
                    layer.kind.torch(),
                    layer.name,
                    found.join(", ")
                ));
            }
            several => {
                return Err(format!(
                    "several modules of the file could be layer `{}` ({}): name the pairs with \
                     TorchNames::new",
                    layer.name,
                    several.join(", ")
                ));
            }
        }
    }
    Ok(pairs)
}

/// The file's tensors, and which of them were used.
struct Source<'a> {
    tensors: &'a HashMap<String, FileTensor>,
    used: HashSet<String>,
}

impl Source<'_> {
    /// The tensor `key` with shape `shape`, marked used.
    fn get(
        &mut self,
        key: &str,
        shape: &[usize],
        layer: &str,
    ) -> std::result::Result<&[f32], String> {
        let Some(t) = self.tensors.get(key) else {
            return Err(format!(
                "tensor `{key}` for layer `{layer}` is not in the file"
            ));
        };
        if t.shape != shape {
            return Err(format!(
                "tensor `{key}` for layer `{layer}`: expected shape {}, the file has {}",
                fmt_shape(shape),
                fmt_shape(&t.shape)
            ));
        }
        // The conversions below index by the shape; safetensors checks this too.
        if Some(t.values.len()) != shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) {
            return Err(format!(
                "tensor `{key}` for layer `{layer}`: shape {} but {} values",
                fmt_shape(shape),
                t.values.len()
            ));
        }
        self.used.insert(key.to_string());
        Ok(&t.values)
    }

    /// The values of Keras weight `w` from the module at `prefix` (layer `index` of it).
    fn keras_weight(
        &mut self,
        w: &Weight,
        role: Role,
        layer: &ModelLayer,
        prefix: &str,
        index: usize,
    ) -> std::result::Result<Vec<f32>, String> {
        let name = layer.name.as_str();
        let key = |leaf: &str| format!("{prefix}.{leaf}");
        match role {
            Role::Embeddings => Ok(self.get(&key("weight"), &w.shape, name)?.to_vec()),
            Role::Bias => Ok(self.get(&key("bias"), &w.shape, name)?.to_vec()),
            Role::Kernel => {
                let (i, u) = matrix(w)?;
                let t = self.get(&key("weight"), &[u, i], name)?;
                Ok(transpose(t, u, i))
            }
            Role::Cell {
                cell,
                reverse,
                part,
            } => {
                let suffix = format!("_l{index}{}", if reverse { "_reverse" } else { "" });
                match part {
                    Part::Input | Part::Hidden => {
                        let (rows, cols) = matrix(w)?;
                        let leaf = if part == Part::Input {
                            "weight_ih"
                        } else {
                            "weight_hh"
                        };
                        let t = self.get(&key(&format!("{leaf}{suffix}")), &[cols, rows], name)?;
                        Ok(from_torch_matrix(t, rows, cols, cell.units(cols), cell))
                    }
                    Part::Bias => {
                        let width = *w.shape.last().unwrap_or(&0);
                        let units = cell.units(width);
                        let two_rows = w.shape.len() == 2;
                        if cell == CellKind::Gru && !two_rows {
                            return Err(reset_before(name, prefix));
                        }
                        let ih = self.get(&key(&format!("bias_ih{suffix}")), &[width], name)?;
                        let ih = reorder(ih, units, cell);
                        let hh = self.get(&key(&format!("bias_hh{suffix}")), &[width], name)?;
                        let hh = reorder(hh, units, cell);
                        Ok(if two_rows {
                            [ih, hh].concat()
                        } else {
                            ih.iter().zip(&hh).map(|(a, b)| a + b).collect()
                        })
                    }
                }
            }
        }
    }

    fn check_all_used(&self, plan: &Plan<'_>) -> std::result::Result<(), String> {
        let mut unused: Vec<&String> = self
            .tensors
            .keys()
            .filter(|k| !self.used.contains(*k))
            .collect();
        unused.sort();
        let Some(first) = unused.first() else {
            return Ok(());
        };
        let (prefix, leaf) = first.rsplit_once('.').unwrap_or(("", first.as_str()));
        let mapped: Vec<&str> = plan
            .iter()
            .filter(|(_, p, _)| p == prefix)
            .map(|(l, _, _)| l.name.as_str())
            .collect();
        let hint = if mapped.is_empty() {
            format!("module `{prefix}` is not mapped to any layer")
        } else if leaf.starts_with("weight_hr") {
            "an nn.LSTM with proj_size has no Keras equivalent".to_string()
        } else if leaf.starts_with("bias") {
            format!(
                "the model's layer `{}` has use_bias = false",
                mapped.join("`, `")
            )
        } else if leaf.contains("_l") {
            format!(
                "module `{prefix}` has more layers than the {} mapped to it ({})",
                mapped.len(),
                mapped.join(", ")
            )
        } else {
            "the model has no weight for it".to_string()
        };
        Err(format!(
            "tensor `{first}` of the file is not used: {hint} ({} unused tensor(s))",
            unused.len()
        ))
    }
}

/// The two dimensions of a Keras matrix.
fn matrix(w: &Weight) -> std::result::Result<(usize, usize), String> {
    match w.shape.as_slice() {
        [r, c] => Ok((*r, *c)),
        _ => Err(format!(
            "weight `{}` has shape {}, not a matrix",
            w.name,
            fmt_shape(&w.shape)
        )),
    }
}

/// `t` (rows × cols, row-major) transposed.
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "`t` holds `rows * cols` values: a model weight of that shape, or a file tensor \
              `Source::get` checked against it"
)]
fn transpose(t: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; t.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = t[r * cols + c];
        }
    }
    out
}

/// A Keras `(rows, gates × units)` kernel from PyTorch's `(gates × units, rows)` weight.
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "`t` holds `rows * cols` values (checked by `Source::get`) and `torch_row` \
              permutes `0..cols`"
)]
fn from_torch_matrix(
    t: &[f32],
    rows: usize,
    cols: usize,
    units: usize,
    cell: CellKind,
) -> Vec<f32> {
    let mut out = vec![0.0; rows * cols];
    for c in 0..cols {
        let src = torch_row(c, units, cell);
        for r in 0..rows {
            out[r * cols + c] = t[src * rows + r];
        }
    }
    out
}

/// PyTorch's `(gates × units, rows)` weight from a Keras `(rows, gates × units)` kernel.
#[allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    reason = "`k` is a model weight of shape `(rows, cols)` and `torch_row` permutes `0..cols`"
)]
fn to_torch_matrix(k: &[f32], rows: usize, cols: usize, units: usize, cell: CellKind) -> Vec<f32> {
    let mut out = vec![0.0; rows * cols];
    for c in 0..cols {
        let dst = torch_row(c, units, cell);
        for r in 0..rows {
            out[dst * rows + r] = k[r * cols + c];
        }
    }
    out
}

/// The PyTorch row of Keras column `c` of a gated weight: a permutation of `0..cols` that
/// swaps GRU's first two blocks of `units`.
#[allow(
    clippy::arithmetic_side_effects,
    reason = "`units > 0` is checked; the result is at most `c`'s block start plus `2 * units`, \
              within `0..cols` for `c < cols`"
)]
fn torch_row(c: usize, units: usize, cell: CellKind) -> usize {
    if units == 0 {
        return c;
    }
    cell.torch_gate(c / units) * units + c % units
}

/// A PyTorch bias in Keras' gate order.
#[allow(clippy::indexing_slicing, reason = "`torch_row` permutes `0..t.len()`")]
fn reorder(t: &[f32], units: usize, cell: CellKind) -> Vec<f32> {
    (0..t.len()).map(|c| t[torch_row(c, units, cell)]).collect()
}

/// A Keras bias in PyTorch's gate order (the reordering is its own inverse).
#[allow(clippy::indexing_slicing, reason = "`torch_row` permutes `0..k.len()`")]
fn unorder(k: &[f32], units: usize, cell: CellKind) -> Vec<f32> {
    let mut out = vec![0.0; k.len()];
    for (c, v) in k.iter().enumerate() {
        out[torch_row(c, units, cell)] = *v;
    }
    out
}

/// Appends the PyTorch tensors of Keras weight `w` of the module at `prefix`.
fn torch_tensors(
    w: &Weight,
    role: Role,
    prefix: &str,
    index: usize,
    out: &mut Vec<Weight>,
) -> std::result::Result<(), String> {
    let mut push = |leaf: String, shape: Vec<usize>, values: Vec<f32>| {
        out.push(Weight {
            name: format!("{prefix}.{leaf}"),
            shape,
            values,
        })
    };
    match role {
        Role::Embeddings | Role::Bias => {
            let leaf = if role == Role::Bias { "bias" } else { "weight" };
            push(leaf.into(), w.shape.clone(), w.values.clone());
        }
        Role::Kernel => {
            let (i, u) = matrix(w)?;
            push("weight".into(), vec![u, i], transpose(&w.values, i, u));
        }
        Role::Cell {
            cell,
            reverse,
            part,
        } => {
            let suffix = format!("_l{index}{}", if reverse { "_reverse" } else { "" });
            match part {
                Part::Input | Part::Hidden => {
                    let (rows, cols) = matrix(w)?;
                    let units = cell.units(cols);
                    let leaf = if part == Part::Input {
                        "weight_ih"
                    } else {
                        "weight_hh"
                    };
                    push(
                        format!("{leaf}{suffix}"),
                        vec![cols, rows],
                        to_torch_matrix(&w.values, rows, cols, units, cell),
                    );
                }
                Part::Bias => {
                    let width = *w.shape.last().unwrap_or(&0);
                    let units = cell.units(width);
                    let (ih, hh) = match (w.shape.as_slice(), w.values.split_at_checked(width)) {
                        ([2, _], Some((ih, hh))) => {
                            (unorder(ih, units, cell), unorder(hh, units, cell))
                        }
                        ([2, _], None) => {
                            return Err(format!(
                                "weight `{}` has shape {} but {} values",
                                w.name,
                                fmt_shape(&w.shape),
                                w.values.len()
                            ));
                        }
                        _ if cell == CellKind::Gru => {
                            return Err(format!(
                                "weight `{}` is the bias of a GRU with reset_after = false, \
                                 which has no PyTorch equivalent (nn.GRU is reset_after = true)",
                                w.name
                            ));
                        }
                        _ => (unorder(&w.values, units, cell), vec![0.0; width]),
                    };
                    push(format!("bias_ih{suffix}"), vec![width], ih);
                    push(format!("bias_hh{suffix}"), vec![width], hh);
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use safetensors::View;

    use super::*;

    /// A tensor of any dtype, as another tool writes it.
    struct Raw {
        dtype: Dtype,
        shape: Vec<usize>,
        bytes: Vec<u8>,
    }

    impl View for &Raw {
        fn dtype(&self) -> Dtype {
            self.dtype
        }
        fn shape(&self) -> &[usize] {
            &self.shape
        }
        fn data(&self) -> Cow<'_, [u8]> {
            Cow::Borrowed(&self.bytes)
        }
        fn data_len(&self) -> usize {
            self.bytes.len()
        }
    }

    fn file(dtype: Dtype, bytes: Vec<u8>) -> Vec<u8> {
        let n = bytes.len() * 8 / dtype.bitsize();
        let raw = Raw {
            dtype,
            shape: vec![n],
            bytes,
        };
        safetensors::serialize([("fc.bias", &raw)], None).unwrap()
    }

    #[test]
    fn half_precision_widens_exactly_and_f64_rounds() {
        let values = [1.5f32, -0.25, 384.0];
        let f16: Vec<u8> = values
            .iter()
            .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
            .collect();
        let bf16: Vec<u8> = values
            .iter()
            .flat_map(|&v| half::bf16::from_f32(v).to_le_bytes())
            .collect();
        for (dtype, bytes) in [(Dtype::F16, f16), (Dtype::BF16, bf16)] {
            let t = read_tensors(&file(dtype, bytes)).unwrap();
            assert_eq!(t["fc.bias"].values, values, "{dtype:?}");
            assert_eq!(t["fc.bias"].shape, [3]);
        }
        let third = 1.0f64 / 3.0;
        let t = read_tensors(&file(Dtype::F64, third.to_le_bytes().to_vec())).unwrap();
        assert_eq!(t["fc.bias"].values, [third as f32]);
    }

    #[test]
    fn other_dtypes_and_non_finite_values_are_refused() {
        let err = read_tensors(&file(Dtype::I64, 7i64.to_le_bytes().to_vec())).unwrap_err();
        assert!(
            err.contains("tensor `fc.bias` has dtype I64; weights must be F32"),
            "{err}"
        );
        let err = read_tensors(&file(Dtype::F64, 1e300f64.to_le_bytes().to_vec())).unwrap_err();
        assert!(err.contains("`fc.bias` contains inf at index 0"), "{err}");
    }

    #[test]
    fn gates_map_between_keras_and_pytorch_order() {
        // Keras GRU columns z, r, h (one unit each) come from PyTorch rows r, z, n.
        assert_eq!(
            reorder(&[10.0, 20.0, 30.0], 1, CellKind::Gru),
            [20.0, 10.0, 30.0]
        );
        assert_eq!(
            unorder(&[20.0, 10.0, 30.0], 1, CellKind::Gru),
            [10.0, 20.0, 30.0]
        );
        let lstm = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0];
        assert_eq!(reorder(&lstm, 2, CellKind::Lstm), lstm);
        // A (2 inputs, 3 gates × 1 unit) kernel and back.
        let torch = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]; // rows r, z, n by 2 inputs
        let keras = from_torch_matrix(&torch, 2, 3, 1, CellKind::Gru);
        assert_eq!(keras, [3.0, 1.0, 5.0, 4.0, 2.0, 6.0]);
        assert_eq!(to_torch_matrix(&keras, 2, 3, 1, CellKind::Gru), torch);
    }
}
