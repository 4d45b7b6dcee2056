//! The HDF5 side of Keras' files: float32 datasets read by path and written into groups.
//!
//! Parsed in memory by the pure-Rust `hdf5-pure`: a corrupt file is an error, never a fault
//! of a C library, and nothing goes through temporary files. Errors are plain messages; the
//! callers add the file's name.

use std::collections::BTreeMap;

use hdf5_pure::{DType, FileBuilder, GroupBuilder};

/// An HDF5 file read into memory, read only.
pub(crate) struct H5 {
    file: hdf5_pure::File,
}

/// One float32 array of the file; `values` is empty when `shape` is not the one asked for.
pub(crate) struct Array {
    pub(crate) shape: Vec<usize>,
    pub(crate) values: Vec<f32>,
}

impl H5 {
    /// Parses the superblock of the file whose bytes are `bytes`; objects are parsed when
    /// they are asked for.
    pub(crate) fn from_bytes(bytes: Vec<u8>) -> Result<H5, String> {
        let len = bytes.len();
        let file = hdf5_pure::File::from_bytes(bytes)
            .map_err(|e| format!("not a readable HDF5 file (truncated or corrupt?): {e}"))?;
        // As the C library does on opening: objects are parsed lazily, and a cut file
        // would otherwise read as one whose later objects are missing.
        let superblock = file.superblock();
        let end = superblock
            .base_address
            .get()
            .checked_add(superblock.eof_address);
        if end.is_none_or(|end| u64::try_from(len).is_ok_and(|len| end > len)) {
            return Err(format!(
                "not a readable HDF5 file (truncated or corrupt?): it ends at byte {len}, \
                 its superblock says at byte {}",
                superblock.eof_address
            ));
        }
        Ok(H5 { file })
    }

    /// Whether `path` names a group of the file.
    pub(crate) fn has_group(&self, path: &str) -> bool {
        self.file.group(path).is_ok()
    }

    /// The names of the members (groups and datasets) of the group at `path`; none if
    /// there is no such group or it cannot be read.
    pub(crate) fn members(&self, path: &str) -> Vec<String> {
        let Ok(group) = self.file.group(path) else {
            return Vec::new();
        };
        let mut names = group.groups().unwrap_or_default();
        names.extend(group.datasets().unwrap_or_default());
        names
    }

    /// The float32 dataset at `path`: `None` if there is none, an error if it is of another
    /// type or cannot be read. Its values are read only when its shape is `expected`: a file
    /// may declare any size, and reading it would allocate that size.
    pub(crate) fn array(&self, path: &str, expected: &[usize]) -> Result<Option<Array>, String> {
        let Ok(ds) = self.file.dataset(path) else {
            return Ok(None);
        };
        let dtype = ds
            .dtype()
            .map_err(|e| format!("dataset `{path}`: unreadable type: {e}"))?;
        if dtype != DType::F32 {
            return Err(format!(
                "dataset `{path}` holds {}; only float32 weights are supported",
                type_name(&dtype)
            ));
        }
        let declared = ds
            .shape()
            .map_err(|e| format!("dataset `{path}`: unreadable shape: {e}"))?;
        let shape = declared
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| format!("dataset `{path}` declares a size beyond this machine's"))?;
        if shape != expected {
            return Ok(Some(Array {
                shape,
                values: Vec::new(),
            }));
        }
        let values = ds
            .read_f32()
            .map_err(|e| format!("dataset `{path}` cannot be read: {e}"))?;
        let len = expected.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if Some(values.len()) != len {
            return Err(format!(
                "dataset `{path}` gave {} values for its shape {expected:?}",
                values.len()
            ));
        }
        Ok(Some(Array { shape, values }))
    }

    /// A string attribute of the object at `object` (the root for `/`), if it has one that
    /// is one string; h5py writes Python `str` as variable-length and `bytes` as
    /// fixed-length strings, and tf.keras 2 wrote its config as bytes.
    pub(crate) fn string_attr(&self, object: &str, name: &str) -> Result<Option<String>, String> {
        let Ok(group) = self.file.group(object) else {
            return Ok(None);
        };
        let attrs = group
            .attrs()
            .map_err(|e| format!("the attributes of `{object}` cannot be read: {e}"))?;
        let Some(value) = attrs.get(name) else {
            return Ok(None);
        };
        match (value.as_str(), value.as_strings()) {
            (Some(text), _) => Ok(Some(text.to_string())),
            (None, Some(all)) => Err(format!(
                "attribute `{name}` holds {} values, not one string",
                all.len()
            )),
            (None, None) => Err(format!(
                "attribute `{name}` is {}, not a string",
                value.type_name()
            )),
        }
    }
}

/// NumPy's name of an element type, as Keras users know it.
fn type_name(dtype: &DType) -> String {
    let name = match dtype {
        DType::F32 => "float32",
        DType::F64 => "float64",
        DType::I8 => "int8",
        DType::I16 => "int16",
        DType::I32 => "int32",
        DType::I64 => "int64",
        DType::U8 => "uint8",
        DType::U16 => "uint16",
        DType::U32 => "uint32",
        DType::U64 => "uint64",
        other => return format!("the type {other}"),
    };
    name.to_string()
}

/// The groups and datasets under one group, by name, for the writer's nesting.
#[derive(Default)]
struct Tree<'a> {
    groups: BTreeMap<&'a str, Tree<'a>>,
    datasets: Vec<(&'a str, &'a [usize], &'a [f32])>,
}

impl<'a> Tree<'a> {
    fn fill(&self, group: &mut GroupBuilder) -> Result<(), String> {
        for &(name, shape, values) in &self.datasets {
            group
                .create_dataset(name)
                .with_f32_data(values)
                .with_shape(&dims(name, shape)?);
        }
        for (name, sub) in &self.groups {
            let mut child = group.create_group(name);
            sub.fill(&mut child)?;
            group.add_group(child.finish());
        }
        Ok(())
    }
}

fn dims(name: &str, shape: &[usize]) -> Result<Vec<u64>, String> {
    shape
        .iter()
        .map(|&d| u64::try_from(d).map_err(|_| format!("dataset `{name}`: size {d} too large")))
        .collect()
}

/// The bytes of an HDF5 file holding float32 datasets, each at its path (groups are
/// created on the way).
pub(crate) fn write(arrays: &[(String, &[usize], &[f32])]) -> Result<Vec<u8>, String> {
    let mut root = Tree::default();
    for (name, shape, values) in arrays {
        let (dir, leaf) = name.rsplit_once('/').unwrap_or(("", name));
        let mut node = &mut root;
        for part in dir.split('/').filter(|p| !p.is_empty()) {
            node = node.groups.entry(part).or_default();
        }
        node.datasets.push((leaf, shape, values));
    }
    let mut file = FileBuilder::new();
    for &(name, shape, values) in &root.datasets {
        file.create_dataset(name)
            .with_f32_data(values)
            .with_shape(&dims(name, shape)?);
    }
    for (name, sub) in &root.groups {
        let mut group = file.create_group(name);
        sub.fill(&mut group)?;
        file.add_group(group.finish());
    }
    file.finish()
        .map_err(|e| format!("cannot encode the HDF5 file: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_written_read_back_with_their_shapes() {
        let values = [1.0f32, -2.0, 3.5, 0.25, 5.0, 6.0];
        let bytes = write(&[("layers/dense/vars/0".into(), &[3, 2], &values)]).unwrap();
        let file = H5::from_bytes(bytes).unwrap();
        assert!(file.has_group("layers/dense"));
        assert_eq!(file.members("layers/dense"), ["vars"]);
        let a = file.array("layers/dense/vars/0", &[3, 2]).unwrap().unwrap();
        assert_eq!(a.shape, [3, 2]);
        assert_eq!(a.values, values);
        let other = file.array("layers/dense/vars/0", &[2, 3]).unwrap().unwrap();
        assert_eq!(other.shape, [3, 2]);
        assert!(other.values.is_empty(), "another shape is not read");
        assert!(file.array("layers/dense/vars/1", &[1]).unwrap().is_none());
    }

    /// An attribute of 3000 strings where one is expected is refused by its count. (A
    /// dataset's declared size is tested on a file written by h5py, in `tests/keras_io.rs`:
    /// this crate's writer checksums its headers, so rewriting a size in place breaks them.)
    #[test]
    fn a_string_array_is_not_a_config() {
        let mut builder = FileBuilder::new();
        builder.set_attr(
            "model_config",
            hdf5_pure::AttrValue::AsciiStringArray(vec!["{}".to_string(); 3000]),
        );
        let file = H5::from_bytes(builder.finish().unwrap()).unwrap();
        let err = file.string_attr("/", "model_config").unwrap_err();
        assert!(err.contains("3000 values"), "{err}");
        assert_eq!(file.string_attr("/", "other").unwrap(), None);
    }

    #[test]
    fn a_truncated_file_is_refused() {
        let values = vec![0.5f32; 4096];
        let bytes = write(&[("a/b".into(), &[4096], &values)]).unwrap();
        let cut = bytes[..bytes.len() / 2].to_vec();
        let refused = H5::from_bytes(cut)
            .and_then(|file| file.array("a/b", &[4096]))
            .err()
            .expect("a truncated file reads");
        assert!(
            refused.contains("truncated") || refused.contains("cannot be read"),
            "{refused}"
        );
    }
}
