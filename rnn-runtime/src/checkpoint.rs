//! Weight checkpoints in the [safetensors](https://github.com/huggingface/safetensors) format.
//!
//! A checkpoint holds one little-endian `F32` tensor per weight, keyed by the weight's Keras
//! name (e.g. `sequential/lstm/lstm_cell/kernel`) and shaped like Keras' array, so Python can
//! read it with `safetensors.numpy.load_file` and hand the arrays to Keras' `set_weights`.
//!
//! safetensors stores tensors sorted by name, which loses Keras' `get_weights()` order, so the
//! file's `__metadata__` records it:
//!
//! | key      | value                                                          |
//! |----------|----------------------------------------------------------------|
//! | `format` | `rnn`, so the file says which library wrote it                 |
//! | `order`  | the weight names in `get_weights()` order, joined by `\n`      |
//!
//! Reading tolerates a file without metadata (or without `order`), as written by other tools:
//! the weights then come in name order. `format` is informative only and is not checked. An `order` that does not list every tensor exactly
//! once is an error, since it means the file was damaged or edited inconsistently.
//!
//! Writing is atomic: the bytes go to a temporary file in the target's directory, are flushed
//! to disk, and the temporary file is then renamed over the target, so a crash leaves either
//! the old checkpoint or the new one, never a half-written file under the target's name.
//!
//! ```
//! use rnn_runtime::{Weight, checkpoint};
//! let dir = std::env::temp_dir().join(format!("rnn-doc-ckpt-module-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("dense.safetensors");
//! let weights = vec![
//!     Weight { name: "sequential/dense/kernel".into(), shape: vec![2, 1], values: vec![0.5, -1.0] },
//!     Weight { name: "sequential/dense/bias".into(), shape: vec![1], values: vec![0.25] },
//! ];
//! checkpoint::save(&path, &weights).unwrap();
//! assert_eq!(checkpoint::load(&path).unwrap(), weights);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rnn_macros::model_api;
use safetensors::tensor::Metadata;
use safetensors::{Dtype, SafeTensors, View};

use crate::error::{Error, Result, first_non_finite, fmt_shape};
use crate::input::ModelInput;
use crate::layer::Stack;
use crate::model::Sequential;
use crate::output::ModelOutput;
use crate::param::Weight;
use crate::size::try_zeroed;

// The metadata keys and values described in the module documentation.
const FORMAT_KEY: &str = "format";
const FORMAT: &str = "rnn";
const ORDER_KEY: &str = "order";

/// Writes `weights` to a safetensors file at `path`, atomically.
///
/// Fails, without touching `path`, if two weights share a name, a name is empty, contains a
/// newline or is `__metadata__` (none of which Keras produces, and each of which would make
/// the file ambiguous), a shape does not match its number of values, or a value is NaN or
/// infinite (such a file could not be loaded back).
///
/// ```
/// use rnn_runtime::{Weight, checkpoint};
/// let path = std::env::temp_dir().join(format!("rnn-doc-save-{}.safetensors", std::process::id()));
/// let bias = Weight { name: "dense/bias".into(), shape: vec![3], values: vec![0.0, 1.0, 2.0] };
/// checkpoint::save(&path, &[bias]).unwrap();
/// assert!(path.exists());
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn save(path: impl AsRef<Path>, weights: &[Weight]) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode(weights).map_err(|message| checkpoint_error(path, message))?;
    write_atomically(path, &bytes)
        .map_err(|e| checkpoint_error(path, format!("cannot write the checkpoint: {e}")))
}

/// Reads every weight of a safetensors file, in the `get_weights()` order recorded in the
/// file (name order when the file does not record one).
///
/// Every problem is an [`Error::Checkpoint`] naming the file: it cannot be read, it is
/// truncated or not a safetensors file, a tensor is not `F32`, the recorded order does not
/// match the tensors, or a value is NaN or infinite.
///
/// ```
/// use rnn_runtime::{Error, checkpoint};
/// let err = checkpoint::load("/no/such/dir/model.safetensors").unwrap_err();
/// assert!(matches!(err, Error::Checkpoint { .. }));
/// assert!(err.to_string().starts_with("/no/such/dir/model.safetensors: "));
/// ```
pub fn load(path: impl AsRef<Path>) -> Result<Vec<Weight>> {
    let path = path.as_ref();
    let bytes = read_checked(path).map_err(|message| checkpoint_error(path, message))?;
    decode(&bytes).map_err(|message| checkpoint_error(path, message))
}

/// The largest header accepted: safetensors' own limit.
const MAX_HEADER_BYTES: u64 = 100_000_000;

/// Reads a checkpoint, header first: the sizes the header declares must add up to the
/// file's length before the tensor data is read, so a damaged length field, a huge declared
/// header or an endless stream (`/dev/zero`) is refused without filling memory.
fn read_checked(path: &Path) -> std::result::Result<Vec<u8>, String> {
    let cannot = |e: std::io::Error| format!("cannot read the checkpoint: {e}");
    let mut file = fs::File::open(path).map_err(cannot)?;
    let file_len = file.metadata().map_err(cannot)?.len();
    let mut prefix = [0u8; 8];
    file.read_exact(&mut prefix).map_err(|_| {
        format!(
            "not a valid safetensors file (truncated or corrupt?): {file_len} bytes, too short \
             for the header length"
        )
    })?;
    let header_len = u64::from_le_bytes(prefix);
    if header_len > MAX_HEADER_BYTES || header_len.saturating_add(8) > file_len {
        return Err(format!(
            "not a valid safetensors file (truncated or corrupt?): the header declares \
             {header_len} bytes after its 8-byte length, but the file has {file_len} bytes"
        ));
    }
    // Both bounded by the file's length and `MAX_HEADER_BYTES`, so the casts are exact.
    let mut header =
        try_zeroed::<u8>("checkpoint", header_len as usize).map_err(|e| e.to_string())?;
    file.read_exact(&mut header).map_err(cannot)?;
    let metadata: Metadata = serde_json::from_slice(&header).map_err(|e| {
        format!("not a valid safetensors file (truncated or corrupt?): bad header: {e}")
    })?;
    // Below the file's length, checked above.
    let header_end = header_len.saturating_add(8);
    let data_len = u64::try_from(metadata.data_len()).unwrap_or(u64::MAX);
    if header_end.checked_add(data_len) != Some(file_len) {
        return Err(format!(
            "not a valid safetensors file (truncated or corrupt?): the header declares \
             {data_len} bytes of tensors after {header_end} bytes of header, but the file has \
             {file_len} bytes"
        ));
    }
    let mut bytes = Vec::new();
    usize::try_from(file_len)
        .ok()
        .and_then(|len| bytes.try_reserve_exact(len).ok())
        .ok_or_else(|| format!("cannot allocate {file_len} bytes for the checkpoint"))?;
    bytes.extend_from_slice(&prefix);
    bytes.extend_from_slice(&header);
    // `take`: a file that grows while it is read is not read beyond its checked length.
    (&mut file)
        .take(data_len)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    Ok(bytes)
}

#[model_api]
impl<S> Sequential<S>
where
    S: Stack,
    S::In: ModelInput,
    S::Out: ModelOutput,
{
    /// Writes every weight to a safetensors checkpoint at `path` (see [`save`]), atomically.
    ///
    /// ```
    /// use rnn_runtime::*;
    /// static SPEC: ModelSpec = ModelSpec {
    ///     name: "sequential",
    ///     input_time: None,
    ///     input_batch: None,
    ///     layers: &[LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", sizes: &[], params: 3 }],
    /// };
    /// let dense = Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut seeded_rng(0));
    /// let model = Sequential::new(stack::<Features<2>, _>(dense), &SPEC);
    /// let path = std::env::temp_dir().join(format!("rnn-doc-save-weights-{}.safetensors", std::process::id()));
    /// model.save_weights(&path).unwrap();
    /// assert_eq!(checkpoint::load(&path).unwrap(), model.get_weights());
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn save_weights(&self, path: impl AsRef<Path>) -> Result<()> {
        save(path, &self.get_weights())
    }

    /// Replaces every weight with the tensor of the same Keras name in the checkpoint at
    /// `path`.
    ///
    /// Weights are matched by name, not position, so a file written by another tool in any
    /// order loads correctly. Every weight of the model must be in the file with the same
    /// shape, and the file must hold nothing else: a checkpoint of a different architecture
    /// is an error naming the first weight that does not fit, never a partial load. On any
    /// error the model is unchanged.
    ///
    /// ```
    /// use rnn_runtime::*;
    /// static SPEC: ModelSpec = ModelSpec {
    ///     name: "sequential",
    ///     input_time: None,
    ///     input_batch: None,
    ///     layers: &[LayerSpec { name: "dense", class: "Dense", output_shape: "(None, 1)", sizes: &[], params: 3 }],
    /// };
    /// let build = |seed| {
    ///     let dense = Dense::<2, 1>::new("sequential/dense", Activation::Sigmoid, &mut seeded_rng(seed));
    ///     Sequential::new(stack::<Features<2>, _>(dense), &SPEC)
    /// };
    /// let path = std::env::temp_dir().join(format!("rnn-doc-load-weights-{}.safetensors", std::process::id()));
    /// let trained = build(1);
    /// trained.save_weights(&path).unwrap();
    /// let mut fresh = build(2);
    /// fresh.load_weights(&path).unwrap();
    /// assert_eq!(fresh.get_weights(), trained.get_weights());
    /// # std::fs::remove_file(&path).unwrap();
    /// ```
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let file = load(path)?;
        let ordered = match_by_name(&self.get_weights(), file)
            .map_err(|message| checkpoint_error(path, message))?;
        // `ordered` was checked against the model's names and shapes and `load` rejected
        // non-finite values, so this cannot fail; mapping its error keeps the path in the
        // message should that invariant ever break.
        self.set_weights(&ordered)
            .map_err(|e| checkpoint_error(path, e.to_string()))
    }
}

fn checkpoint_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Checkpoint {
        path: path.display().to_string(),
        message: message.into(),
    }
}

/// Puts the file's weights in the model's order, or names the first one that does not fit.
fn match_by_name(model: &[Weight], file: Vec<Weight>) -> std::result::Result<Vec<Weight>, String> {
    let file_order: Vec<String> = file.iter().map(|w| w.name.clone()).collect();
    let mut by_name: HashMap<String, Weight> =
        file.into_iter().map(|w| (w.name.clone(), w)).collect();
    let model_names: HashSet<&str> = model.iter().map(|w| w.name.as_str()).collect();
    let mut ordered = Vec::with_capacity(model.len());
    for (i, want) in model.iter().enumerate() {
        let Some(got) = by_name.remove(&want.name) else {
            // A renamed layer is the usual cause; showing what sits at the same position in the
            // file points straight at it.
            let hint = match file_order.get(i) {
                Some(other) if !model_names.contains(other.as_str()) => {
                    format!(" (the file has `{other}` in its place)")
                }
                _ => String::new(),
            };
            return Err(format!(
                "weight `{}` of the model is not in the file{hint}",
                want.name
            ));
        };
        if got.shape != want.shape {
            return Err(format!(
                "weight `{}`: expected shape {}, file has {}",
                want.name,
                fmt_shape(&want.shape),
                fmt_shape(&got.shape)
            ));
        }
        ordered.push(got);
    }
    if let Some(extra) = file_order.iter().find(|n| by_name.contains_key(*n)) {
        return Err(format!(
            "the file has weight `{extra}`, which the model does not have (the model has {} \
             weights, the file {})",
            model.len(),
            file_order.len()
        ));
    }
    Ok(ordered)
}

/// A weight as safetensors sees it: its values already in little-endian bytes.
struct F32Tensor<'a> {
    shape: &'a [usize],
    bytes: Vec<u8>,
}

impl View for F32Tensor<'_> {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

fn encode(weights: &[Weight]) -> std::result::Result<Vec<u8>, String> {
    let mut seen = HashSet::new();
    let mut tensors = Vec::with_capacity(weights.len());
    for w in weights {
        if w.name.is_empty() || w.name.contains('\n') || w.name == "__metadata__" {
            return Err(format!(
                "cannot save a weight named {:?}: names must be non-empty, without newlines, \
                 and not `__metadata__`",
                w.name
            ));
        }
        if !seen.insert(w.name.as_str()) {
            return Err(format!("two weights are named `{}`", w.name));
        }
        let len = w.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if len != Some(w.values.len()) {
            return Err(format!(
                "weight `{}`: shape {} does not hold {} values",
                w.name,
                fmt_shape(&w.shape),
                w.values.len()
            ));
        }
        check_values(w)?;
        let bytes = w.values.iter().flat_map(|v| v.to_le_bytes()).collect();
        tensors.push((
            w.name.as_str(),
            F32Tensor {
                shape: &w.shape,
                bytes,
            },
        ));
    }
    let order: Vec<&str> = weights.iter().map(|w| w.name.as_str()).collect();
    let metadata = HashMap::from([
        (FORMAT_KEY.to_string(), FORMAT.to_string()),
        (ORDER_KEY.to_string(), order.join("\n")),
    ]);
    safetensors::serialize(tensors, Some(metadata))
        .map_err(|e| format!("cannot encode the checkpoint: {e}"))
}

fn decode(bytes: &[u8]) -> std::result::Result<Vec<Weight>, String> {
    // `read_metadata` checks that every tensor's offsets lie inside the file and match its
    // dtype and shape, and that the data ends exactly at the end of the file, so a truncated
    // or padded file fails here rather than yielding short tensors.
    let (header_len, header) = SafeTensors::read_metadata(bytes)
        .map_err(|e| format!("not a valid safetensors file (truncated or corrupt?): {e}"))?;
    let data = bytes
        .get(header_len.saturating_add(8)..)
        .unwrap_or_default();
    let mut names = header.offset_keys();
    names.sort();
    let order = match header.metadata().as_ref().and_then(|m| m.get(ORDER_KEY)) {
        Some(order) => recorded_order(order, &names)?,
        None => names,
    };
    let mut weights = Vec::with_capacity(order.len());
    for name in order {
        let info = header
            .info(&name)
            .ok_or_else(|| format!("tensor `{name}` is listed but has no header entry"))?;
        if info.dtype != Dtype::F32 {
            return Err(format!(
                "tensor `{name}` has dtype {}; checkpoints hold F32 tensors",
                info.dtype
            ));
        }
        let (start, end) = info.data_offsets;
        let raw = data
            .get(start..end)
            .ok_or_else(|| format!("tensor `{name}` lies outside the file"))?;
        let values = raw
            .chunks_exact(4)
            .filter_map(|b| b.try_into().ok().map(f32::from_le_bytes))
            .collect();
        let weight = Weight {
            name,
            shape: info.shape.clone(),
            values,
        };
        check_values(&weight)?;
        weights.push(weight);
    }
    Ok(weights)
}

/// Parses the `order` metadata, which must list every tensor of the file exactly once.
fn recorded_order(order: &str, names: &[String]) -> std::result::Result<Vec<String>, String> {
    let listed: Vec<String> = if order.is_empty() {
        Vec::new()
    } else {
        order.split('\n').map(String::from).collect()
    };
    let present: HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut seen = HashSet::new();
    for name in &listed {
        if !present.contains(name.as_str()) {
            return Err(format!(
                "the metadata `{ORDER_KEY}` lists `{name}`, which is not a tensor of the file"
            ));
        }
        if !seen.insert(name.as_str()) {
            return Err(format!("the metadata `{ORDER_KEY}` lists `{name}` twice"));
        }
    }
    if let Some(missing) = names.iter().find(|n| !seen.contains(n.as_str())) {
        return Err(format!(
            "the metadata `{ORDER_KEY}` does not list tensor `{missing}`"
        ));
    }
    Ok(listed)
}

fn check_values(w: &Weight) -> std::result::Result<(), String> {
    match first_non_finite(&w.values) {
        Some((i, v)) => Err(format!("weight `{}` contains {v} at index {i}", w.name)),
        None => Ok(()),
    }
}

/// Distinguishes temporary files of concurrent saves within one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let temp = temp_path(path);
    let written = write_new(&temp, bytes).and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        // Best effort: the original error is the one worth reporting.
        let _ = fs::remove_file(&temp);
        return written;
    }
    // Makes the rename itself durable; not every platform can open a directory, and the data
    // is already safe under one of the two names, so failures here are ignored.
    if let Some(dir) = path.parent()
        && let Ok(d) = fs::File::open(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
    {
        let _ = d.sync_all();
    }
    Ok(())
}

fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // `create_new` refuses to follow a stale file or symlink left under the temporary name.
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(bytes)?;
    // Without this, a crash right after the rename could leave the new name pointing at data
    // that never reached the disk.
    f.sync_all()
}

/// A sibling of `path` (same directory, so the rename stays on one file system), hidden and
/// unique to this process and call.
fn temp_path(path: &Path) -> PathBuf {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "checkpoint".to_string());
    let unique = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{file_name}.{}.{unique}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weight(name: &str, shape: Vec<usize>, values: Vec<f32>) -> Weight {
        Weight {
            name: name.into(),
            shape,
            values,
        }
    }

    #[test]
    fn encode_then_decode_keeps_order_and_values() {
        let ws = vec![
            weight(
                "b/kernel",
                vec![2, 2],
                vec![1.0, -2.0, 3.5, f32::MIN_POSITIVE],
            ),
            weight("a/bias", vec![2], vec![0.0, -0.0]),
            weight("empty", vec![0, 3], vec![]),
        ];
        let bytes = encode(&ws).unwrap();
        let back = decode(&bytes).unwrap();
        assert_eq!(back, ws);
        assert_eq!(back[1].values[1].to_bits(), (-0.0f32).to_bits());
    }

    #[test]
    fn encode_rejects_ambiguous_or_inconsistent_weights() {
        let dup = [
            weight("x", vec![1], vec![1.0]),
            weight("x", vec![1], vec![2.0]),
        ];
        assert!(
            encode(&dup)
                .unwrap_err()
                .contains("two weights are named `x`")
        );
        let bad_shape = [weight("x", vec![2, 2], vec![1.0])];
        assert!(
            encode(&bad_shape)
                .unwrap_err()
                .contains("(2, 2) does not hold 1 values")
        );
        let nan = [weight("x", vec![2], vec![1.0, f32::NAN])];
        assert!(encode(&nan).unwrap_err().contains("NaN at index 1"));
        for name in ["", "a\nb", "__metadata__"] {
            assert!(encode(&[weight(name, vec![1], vec![1.0])]).is_err());
        }
    }

    #[test]
    fn recorded_order_must_list_every_tensor_once() {
        let names = vec!["a".to_string(), "b".to_string()];
        assert_eq!(recorded_order("b\na", &names).unwrap(), ["b", "a"]);
        assert!(
            recorded_order("a", &names)
                .unwrap_err()
                .contains("does not list tensor `b`")
        );
        assert!(
            recorded_order("a\nb\na", &names)
                .unwrap_err()
                .contains("twice")
        );
        assert!(
            recorded_order("a\nb\nc", &names)
                .unwrap_err()
                .contains("`c`")
        );
        assert!(recorded_order("", &[]).unwrap().is_empty());
    }

    #[test]
    fn files_without_metadata_load_in_name_order() {
        let t = |v: &[f32]| F32Tensor {
            shape: &[1],
            bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        };
        let bytes = safetensors::serialize([("z", t(&[1.0])), ("a", t(&[2.0]))], None).unwrap();
        let back = decode(&bytes).unwrap();
        let names: Vec<&str> = back.iter().map(|w| w.name.as_str()).collect();
        assert_eq!(names, ["a", "z"]);
    }

    #[test]
    fn other_dtypes_are_rejected() {
        #[derive(Clone)]
        struct F64(Vec<u8>);
        impl View for F64 {
            fn dtype(&self) -> Dtype {
                Dtype::F64
            }
            fn shape(&self) -> &[usize] {
                &[1]
            }
            fn data(&self) -> Cow<'_, [u8]> {
                Cow::Borrowed(&self.0)
            }
            fn data_len(&self) -> usize {
                self.0.len()
            }
        }
        let bytes =
            safetensors::serialize([("k", F64(1.0f64.to_le_bytes().to_vec()))], None).unwrap();
        let err = decode(&bytes).unwrap_err();
        assert!(err.contains("tensor `k` has dtype F64"), "{err}");
    }
}
