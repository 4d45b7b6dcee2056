//! Keras files: `.keras` archives (Keras 3's `model.save`), `.weights.h5` files
//! (`model.save_weights`) and legacy `.h5` full-model files (tf.keras 2's and Keras 3's
//! `model.save("x.h5")`), loaded into and saved from a model built with `model!`.
//!
//! Loading checks what the file says of the model against the compiled architecture (every
//! layer's class, name, sizes, activations, flags and merge mode; the archive's
//! `config.json`, or a legacy file's `model_config`) and names the first layer and field that
//! differ. Weights are found by Keras' layer paths, not by position: in Keras 3 files
//! `layers/<layer>/vars/<i>`, `layers/<layer>/cell/vars/<i>` for a recurrent layer,
//! `forward_layer` and `backward_layer` inside `Bidirectional`, `layer` inside
//! `TimeDistributed`; in legacy files `model_weights/<layer>/` and the weight's name, with or
//! without the model's name in front and tf.keras 2's `:0`. Only float32 weights load. On any
//! error (truncated zip or HDF5, another architecture, a missing or misshapen weight, an
//! unsupported layer, field or dtype) the model is unchanged and the [`Error::Checkpoint`]
//! names the file, and the layer and weight where there is one.
//!
//! ```
//! use rnn_runtime::interop::keras::*;
//! use rnn_runtime::*;
//! static SPEC: ModelSpec = ModelSpec {
//!     name: "sequential",
//!     input_time: None,
//!     input_batch: None,
//!     layers: &[LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", sizes: &[], params: 3 }],
//! };
//! struct Tiny(Sequential<First<Features<2>, Dense<2, 1>>>);
//! impl std::ops::Deref for Tiny {
//!     type Target = Sequential<First<Features<2>, Dense<2, 1>>>;
//!     fn deref(&self) -> &Self::Target { &self.0 }
//! }
//! impl std::ops::DerefMut for Tiny {
//!     fn deref_mut(&mut self) -> &mut Self::Target { &mut self.0 }
//! }
//! impl KerasModel for Tiny {
//!     type Stack = First<Features<2>, Dense<2, 1>>;
//!     const ARCHITECTURE: KerasArchitecture = KerasArchitecture {
//!         input: KerasInput::Features(2),
//!         layers: &[KerasLayer {
//!             name: "dense",
//!             kind: KerasLayerKind::Dense(KerasDense { units: 1, activation: Activation::Sigmoid, use_bias: true }),
//!         }],
//!     };
//! }
//! let build = |seed| {
//!     let dense = Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut seeded_rng(seed));
//!     Tiny(Sequential::new(stack::<Features<2>, _>(dense), &SPEC))
//! };
//! let path = std::env::temp_dir().join(format!("rnn-doc-keras-{}.keras", std::process::id()));
//! let trained = build(1);
//! trained.save_keras(&path).unwrap();
//! let mut fresh = build(2);
//! fresh.load_keras(&path).unwrap();
//! assert_eq!(fresh.get_weights(), trained.get_weights());
//! # std::fs::remove_file(&path).unwrap();
//! ```

use std::fs;
use std::io::{Read, Write};
use std::ops::DerefMut;
use std::path::Path;

use serde_json::Value;

use super::h5::{self, H5};
use super::keras_config;
pub use super::keras_config::{
    KerasArchitecture, KerasDense, KerasInput, KerasLayer, KerasLayerKind, KerasRecurrent,
};
use crate::error::{Error, Result, first_non_finite, fmt_shape};
use crate::input::ModelInput;
use crate::layer::Stack;
use crate::model::Sequential;
use crate::output::ModelOutput;
use crate::param::Weight;

/// The members of a `.keras` archive.
const CONFIG: &str = "config.json";
const METADATA: &str = "metadata.json";
const WEIGHTS: &str = "model.weights.h5";

/// The Keras version whose archive layout [`KerasModel::save_keras`] writes.
const KERAS_VERSION: &str = "3.15.1";

/// A model that knows its Keras architecture, so that it can be loaded from and saved to
/// Keras' files. `model!` implements it for every named model; bring it into scope (it is in
/// `rnn::prelude`) to call its methods.
///
/// See the [module documentation](self) for what is checked and how weights are found.
pub trait KerasModel: DerefMut<Target = Sequential<Self::Stack>> {
    /// The model's chain of layers.
    type Stack: Stack<In: ModelInput, Out: ModelOutput>;

    /// The model in the terms of Keras' config.
    const ARCHITECTURE: KerasArchitecture;

    /// Loads a Keras file: a `.keras` archive (config checked, then weights), a bare
    /// `.weights.h5`, or a legacy full-model `.h5` (config checked when the file has one).
    /// The kind is read from the file's first bytes, not its name. On any error the model
    /// is unchanged.
    ///
    /// ```no_run
    /// # use rnn_runtime::interop::keras::KerasModel;
    /// # fn f(model: &mut impl KerasModel) -> rnn_runtime::Result<()> {
    /// model.load_keras("sentiment.keras")?;
    /// # Ok(()) }
    /// ```
    fn load_keras(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let weights = read(
            path,
            &Self::ARCHITECTURE,
            &self.get_weights(),
            self.spec().name,
        );
        set_read_weights(self, path, weights)
    }

    /// [`load_keras`](Self::load_keras) from the file's bytes, e.g. an archive embedded with
    /// `include_bytes!`; `name` stands for the file in error messages. On any error the
    /// model is unchanged.
    ///
    /// ```no_run
    /// # use rnn_runtime::interop::keras::KerasModel;
    /// # fn f(model: &mut impl KerasModel) -> Result<(), Box<dyn std::error::Error>> {
    /// let bytes = std::fs::read("sentiment.keras")?;
    /// model.load_keras_bytes("sentiment.keras", &bytes)?;
    /// # Ok(()) }
    /// ```
    fn load_keras_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = Path::new(name);
        let weights = read_bytes(
            bytes,
            &Self::ARCHITECTURE,
            &self.get_weights(),
            self.spec().name,
        );
        set_read_weights(self, path, weights)
    }

    /// Writes a `.keras` archive that Keras 3 loads with `keras.saving.load_model`: its
    /// `config.json` from [`ARCHITECTURE`](Self::ARCHITECTURE), `metadata.json`, and the
    /// weights in `model.weights.h5`. The file appears whole or not at all.
    ///
    /// ```no_run
    /// # use rnn_runtime::interop::keras::KerasModel;
    /// # fn f(model: &impl KerasModel) -> rnn_runtime::Result<()> {
    /// model.save_keras("sentiment.keras")?;
    /// # Ok(()) }
    /// ```
    fn save_keras(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let spec = self.spec();
        let mut config = keras_config::to_config(
            spec.name,
            &Self::ARCHITECTURE,
            spec.input_time,
            spec.input_batch,
        );
        let weights = self.get_weights();
        keras_config::set_run_time_vocab(&mut config, spec.name, &Self::ARCHITECTURE, &weights);
        write_archive(path, &config, &Self::ARCHITECTURE, &weights, spec.name)
            .map_err(|message| file_error(path, message))
    }
}

fn file_error(path: &Path, message: String) -> Error {
    Error::Checkpoint {
        path: path.display().to_string(),
        message,
    }
}

/// Sets the weights read from the file at `path`; an error of the reading or of the weights
/// names the file.
fn set_read_weights<S>(
    model: &mut Sequential<S>,
    path: &Path,
    weights: std::result::Result<Vec<Weight>, String>,
) -> Result<()>
where
    S: Stack,
    S::In: ModelInput,
    S::Out: ModelOutput,
{
    let weights = weights.map_err(|message| file_error(path, message))?;
    model
        .set_weights(&weights)
        .map_err(|e| file_error(path, e.to_string()))
}

/// What a file is, from its first bytes.
enum Kind {
    Zip,
    Hdf5,
}

fn kind(bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        Some(Kind::Zip)
    } else if bytes.starts_with(b"\x89HDF\r\n\x1a\n") {
        Some(Kind::Hdf5)
    } else {
        None
    }
}

/// Reads the weights of `path` for a model whose weights are `model` (names and shapes), in
/// the model's order.
fn read(
    path: &Path,
    arch: &KerasArchitecture,
    model: &[Weight],
    scope: &str,
) -> std::result::Result<Vec<Weight>, String> {
    let bytes = fs::read(path).map_err(|e| format!("cannot read the file: {e}"))?;
    read_bytes(&bytes, arch, model, scope)
}

/// [`read`] from the bytes of a file.
fn read_bytes(
    bytes: &[u8],
    arch: &KerasArchitecture,
    model: &[Weight],
    scope: &str,
) -> std::result::Result<Vec<Weight>, String> {
    match kind(bytes) {
        Some(Kind::Zip) => read_archive(bytes, arch, model, scope),
        Some(Kind::Hdf5) => read_h5(&H5::from_bytes(bytes.to_vec())?, arch, model, scope),
        None => Err("neither a .keras archive (zip) nor an HDF5 file".into()),
    }
}

fn read_archive(
    bytes: &[u8],
    arch: &KerasArchitecture,
    model: &[Weight],
    scope: &str,
) -> std::result::Result<Vec<Weight>, String> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a readable .keras archive (truncated or corrupt?): {e}"))?;
    let mut member = |name: &str| -> std::result::Result<Vec<u8>, String> {
        let mut file = zip
            .by_name(name)
            .map_err(|e| format!("the archive has no readable `{name}`: {e}"))?;
        let mut out = Vec::new();
        file.read_to_end(&mut out)
            .map_err(|e| format!("`{name}` of the archive cannot be read (truncated?): {e}"))?;
        Ok(out)
    };
    let config: Value = serde_json::from_slice(&member(CONFIG)?)
        .map_err(|e| format!("`{CONFIG}` is not valid JSON: {e}"))?;
    keras_config::check(&config, arch)?;
    let file =
        H5::from_bytes(member(WEIGHTS)?).map_err(|e| format!("`{WEIGHTS}` of the archive: {e}"))?;
    keras3_weights(&file, arch, model, scope)
        .map_err(|e| format!("`{WEIGHTS}` of the archive: {e}"))
}

fn read_h5(
    file: &H5,
    arch: &KerasArchitecture,
    model: &[Weight],
    scope: &str,
) -> std::result::Result<Vec<Weight>, String> {
    if file.has_group("model_weights") {
        if let Some(config) = file.string_attr("/", "model_config")? {
            let config: Value = serde_json::from_str(&config)
                .map_err(|e| format!("the attribute `model_config` is not valid JSON: {e}"))?;
            keras_config::check(&config, arch)?;
        }
        legacy_weights(file, arch, model, scope)
    } else if file.has_group("layers") {
        keras3_weights(file, arch, model, scope)
    } else {
        Err(
            "an HDF5 file with neither Keras 3's `layers` group nor a legacy `model_weights` group"
                .into(),
        )
    }
}

/// The model's weights of layer `layer`, each with the rest of its name after the layer's
/// scope (`lstm_cell/kernel`).
fn layer_weights<'a>(model: &'a [Weight], scope: &str, layer: &str) -> Vec<(&'a Weight, &'a str)> {
    let prefix = format!("{scope}/{layer}/");
    model
        .iter()
        .filter_map(|w| w.name.strip_prefix(&prefix).map(|rest| (w, rest)))
        .collect()
}

/// Keras 3's index of a variable within its layer or cell, from its name.
fn var_index(kind: &KerasLayerKind, name: &str) -> Option<usize> {
    let leaf = name.rsplit('/').next()?;
    let recurrent = matches!(
        kind,
        KerasLayerKind::Recurrent(_) | KerasLayerKind::Bidirectional { .. }
    );
    match leaf {
        "embeddings" | "kernel" => Some(0),
        "recurrent_kernel" => Some(1),
        "bias" if recurrent => Some(2),
        "bias" => Some(1),
        _ => None,
    }
}

/// The Keras 3 path of a weight of layer `layer` whose name within the layer is `rest`.
fn keras3_path(layer: &KerasLayer, rest: &str) -> Option<String> {
    let i = var_index(&layer.kind, rest)?;
    let base = format!("layers/{}", layer.name);
    Some(match &layer.kind {
        KerasLayerKind::Recurrent(_) => format!("{base}/cell/vars/{i}"),
        KerasLayerKind::Bidirectional { .. } => {
            let side = if rest.starts_with("backward_") {
                "backward_layer"
            } else {
                "forward_layer"
            };
            format!("{base}/{side}/cell/vars/{i}")
        }
        KerasLayerKind::TimeDistributed { .. } => format!("{base}/layer/vars/{i}"),
        _ => format!("{base}/vars/{i}"),
    })
}

/// Checks one weight read from the file against the model's.
fn fitted(
    want: &Weight,
    layer: &str,
    path: &str,
    got: Option<h5::Array>,
) -> std::result::Result<Weight, String> {
    let got = got.ok_or_else(|| {
        format!(
            "layer `{layer}`: weight `{}` is not in the file (no dataset `{path}`)",
            want.name
        )
    })?;
    if got.shape != want.shape {
        return Err(format!(
            "layer `{layer}`: weight `{}` (dataset `{path}`) has shape {} in the file, {} in the model",
            want.name,
            fmt_shape(&got.shape),
            fmt_shape(&want.shape)
        ));
    }
    if let Some((i, v)) = first_non_finite(&got.values) {
        return Err(format!(
            "layer `{layer}`: weight `{}` (dataset `{path}`) holds {v} at index {i}",
            want.name
        ));
    }
    Ok(Weight {
        name: want.name.clone(),
        shape: got.shape,
        values: got.values,
    })
}

/// A file without a config can still be of a longer model: a layer group that the model
/// does not have means the file is of another architecture.
fn check_no_extra_layer(
    file: &H5,
    group: &str,
    arch: &KerasArchitecture,
) -> std::result::Result<(), String> {
    let extra = file.members(group).into_iter().find(|name| {
        // tf.keras 2 and Keras 3 keep the model's own (non-layer) weights here.
        name != "top_level_model_weights" && !arch.layers.iter().any(|l| l.name == name)
    });
    match extra {
        Some(name) => Err(format!(
            "the file has layer `{name}` (group `{group}/{name}`), which the model does not have"
        )),
        None => Ok(()),
    }
}

fn keras3_weights(
    file: &H5,
    arch: &KerasArchitecture,
    model: &[Weight],
    scope: &str,
) -> std::result::Result<Vec<Weight>, String> {
    let mut out = Vec::with_capacity(model.len());
    for layer in arch.layers {
        let weights = layer_weights(model, scope, layer.name);
        if !weights.is_empty() && !file.has_group(&format!("layers/{}", layer.name)) {
            return Err(format!(
                "layer `{}` ({}) is not in the file (no group `layers/{}`)",
                layer.name,
                layer.kind.class_name(),
                layer.name
            ));
        }
        for (want, rest) in weights {
            let path = keras3_path(layer, rest).ok_or_else(|| {
                format!(
                    "layer `{}`: weight `{}` has no Keras 3 path",
                    layer.name, want.name
                )
            })?;
            out.push(fitted(
                want,
                layer.name,
                &path,
                file.array(&path, &want.shape)
                    .map_err(|e| format!("layer `{}`: {e}", layer.name))?,
            )?);
        }
    }
    check_no_extra_layer(file, "layers", arch)?;
    check_all_placed(&out, model)?;
    Ok(out)
}

fn legacy_weights(
    file: &H5,
    arch: &KerasArchitecture,
    model: &[Weight],
    scope: &str,
) -> std::result::Result<Vec<Weight>, String> {
    let mut out = Vec::with_capacity(model.len());
    for layer in arch.layers {
        let group = format!("model_weights/{}", layer.name);
        let weights = layer_weights(model, scope, layer.name);
        if !weights.is_empty() && !file.has_group(&group) {
            return Err(format!(
                "layer `{}` ({}) is not in the file (no group `{group}`)",
                layer.name,
                layer.kind.class_name()
            ));
        }
        for (want, _) in weights {
            // Keras 3 writes the weight's full path (`sequential/dense/kernel`); tf.keras 2
            // wrote it without the model's name and with the variable's `:0`.
            let short = want
                .name
                .strip_prefix(&format!("{scope}/"))
                .unwrap_or(&want.name);
            let candidates = [
                format!("{group}/{}", want.name),
                format!("{group}/{short}:0"),
                format!("{group}/{short}"),
                format!("{group}/{}:0", want.name),
            ];
            let mut found = None;
            for path in &candidates {
                if let Some(array) = file
                    .array(path, &want.shape)
                    .map_err(|e| format!("layer `{}`: {e}", layer.name))?
                {
                    found = Some((path, array));
                    break;
                }
            }
            let (path, array) = match found {
                Some((p, a)) => (p.clone(), Some(a)),
                None => (candidates[1].clone(), None),
            };
            out.push(fitted(want, layer.name, &path, array)?);
        }
    }
    check_no_extra_layer(file, "model_weights", arch)?;
    check_all_placed(&out, model)?;
    Ok(out)
}

/// Every weight of the model belongs to one of the architecture's layers; a weight that
/// does not would be left out of the load.
fn check_all_placed(found: &[Weight], model: &[Weight]) -> std::result::Result<(), String> {
    if found.len() == model.len() {
        return Ok(());
    }
    match model
        .iter()
        .find(|w| !found.iter().any(|f| f.name == w.name))
    {
        Some(w) => Err(format!(
            "weight `{}` belongs to no layer of the architecture",
            w.name
        )),
        None => Ok(()),
    }
}

fn write_archive(
    path: &Path,
    config: &Value,
    arch: &KerasArchitecture,
    weights: &[Weight],
    scope: &str,
) -> std::result::Result<(), String> {
    let mut arrays = Vec::with_capacity(weights.len());
    for layer in arch.layers {
        for (w, rest) in layer_weights(weights, scope, layer.name) {
            let p = keras3_path(layer, rest).ok_or_else(|| {
                format!(
                    "layer `{}`: weight `{}` has no Keras 3 path",
                    layer.name, w.name
                )
            })?;
            arrays.push((p, w.shape.as_slice(), w.values.as_slice()));
        }
    }
    if arrays.len() != weights.len() {
        let placed: Vec<&str> = arch
            .layers
            .iter()
            .flat_map(|l| layer_weights(weights, scope, l.name))
            .map(|(w, _)| w.name.as_str())
            .collect();
        if let Some(w) = weights.iter().find(|w| !placed.contains(&w.name.as_str())) {
            return Err(format!(
                "weight `{}` belongs to no layer of the architecture",
                w.name
            ));
        }
    }
    let h5_bytes = h5::write(&arrays)?;
    let metadata = serde_json::json!({"keras_version": KERAS_VERSION, "date_saved": ""});
    let json = |v: &Value| serde_json::to_vec(v).map_err(|e| format!("cannot encode JSON: {e}"));
    let members = [
        (METADATA, json(&metadata)?),
        (CONFIG, json(config)?),
        (WEIGHTS, h5_bytes),
    ];
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // Stored, as Keras writes its archives: the weights barely compress.
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in &members {
        zip.start_file(*name, options)
            .and_then(|()| zip.write_all(bytes).map_err(Into::into))
            .map_err(|e| format!("cannot write `{name}` into the archive: {e}"))?;
    }
    let bytes = zip
        .finish()
        .map_err(|e| format!("cannot finish the archive: {e}"))?
        .into_inner();
    crate::checkpoint::write_atomically(path, &bytes)
        .map_err(|e| format!("cannot write the archive: {e}"))
}
