//! The HDF5 side of Keras' files: float32 datasets read by path and written into groups.
//!
//! Errors are plain messages; the callers add the file's name.

use std::path::Path;

use hdf5::types::{
    FixedAscii, FixedUnicode, FloatSize, TypeDescriptor, VarLenAscii, VarLenUnicode,
};

/// An open HDF5 file, read only.
pub(crate) struct H5 {
    file: hdf5::File,
}

/// One float32 array of the file; `values` is empty when `shape` is not the one asked for.
pub(crate) struct Array {
    pub(crate) shape: Vec<usize>,
    pub(crate) values: Vec<f32>,
}

impl H5 {
    pub(crate) fn open(path: &Path) -> Result<H5, String> {
        hdf5::File::open(path)
            .map(|file| H5 { file })
            .map_err(|e| format!("not a readable HDF5 file (truncated or corrupt?): {e}"))
    }

    /// Whether `path` names a group of the file.
    pub(crate) fn has_group(&self, path: &str) -> bool {
        self.file.group(path).is_ok()
    }

    /// The names of the members of the group at `path` (none if there is no such group).
    pub(crate) fn members(&self, path: &str) -> Vec<String> {
        self.file
            .group(path)
            .and_then(|g| g.member_names())
            .unwrap_or_default()
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
            .and_then(|t| t.to_descriptor())
            .map_err(|e| format!("dataset `{path}`: unreadable type: {e}"))?;
        if dtype != TypeDescriptor::Float(FloatSize::U4) {
            return Err(format!(
                "dataset `{path}` holds {dtype}; only float32 weights are supported"
            ));
        }
        let shape = ds.shape();
        if shape != expected {
            return Ok(Some(Array {
                shape,
                values: Vec::new(),
            }));
        }
        let values = ds
            .read_raw::<f32>()
            .map_err(|e| format!("dataset `{path}` cannot be read: {e}"))?;
        Ok(Some(Array { shape, values }))
    }

    /// A string attribute of the object at `object` (the root for `/`), if it has one that
    /// is a string; h5py writes Python `str` as variable-length and `bytes` as fixed-length
    /// strings, and tf.keras 2 wrote its config as bytes.
    pub(crate) fn string_attr(&self, object: &str, name: &str) -> Result<Option<String>, String> {
        let Ok(group) = self.file.group(object) else {
            return Ok(None);
        };
        let Ok(attr) = group.attr(name) else {
            return Ok(None);
        };
        let unreadable = |e: hdf5::Error| format!("attribute `{name}` cannot be read: {e}");
        // Each element of a fixed-length string is read into `MAX` bytes below: an array
        // attribute would allocate that many times over.
        if attr.size() != 1 {
            return Err(format!(
                "attribute `{name}` holds {} values, not one string",
                attr.size()
            ));
        }
        let dtype = attr
            .dtype()
            .and_then(|t| t.to_descriptor())
            .map_err(unreadable)?;
        // The C library converts a fixed-length string to any larger fixed length of the
        // same character set, padding with NULs; a config beyond this size is not one of a
        // model this library can build.
        const MAX: usize = 1 << 20;
        let text = match dtype {
            TypeDescriptor::VarLenUnicode => attr
                .read_scalar::<VarLenUnicode>()
                .map_err(unreadable)?
                .as_str()
                .to_string(),
            TypeDescriptor::VarLenAscii => attr
                .read_scalar::<VarLenAscii>()
                .map_err(unreadable)?
                .as_str()
                .to_string(),
            TypeDescriptor::FixedAscii(n) if n <= MAX => attr
                .read_raw::<FixedAscii<MAX>>()
                .map_err(unreadable)?
                .first()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            TypeDescriptor::FixedUnicode(n) if n <= MAX => attr
                .read_raw::<FixedUnicode<MAX>>()
                .map_err(unreadable)?
                .first()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            other => return Err(format!("attribute `{name}` is {other}, not a string")),
        };
        Ok(Some(text))
    }
}

/// Writes float32 datasets, each at its path (groups are created on the way), to a new HDF5
/// file at `path`.
pub(crate) fn write(path: &Path, arrays: &[(String, &[usize], &[f32])]) -> Result<(), String> {
    let file = hdf5::File::create(path).map_err(|e| format!("cannot create the HDF5 file: {e}"))?;
    for (name, shape, values) in arrays {
        let (dir, leaf) = name.rsplit_once('/').unwrap_or(("", name));
        let mut group: hdf5::Group = (*file).clone();
        for part in dir.split('/').filter(|p| !p.is_empty()) {
            group = match group.group(part) {
                Ok(g) => g,
                Err(_) => group
                    .create_group(part)
                    .map_err(|e| format!("cannot create group `{part}` of `{name}`: {e}"))?,
            };
        }
        let ds = group
            .new_dataset::<f32>()
            .shape(shape.to_vec())
            .create(leaf)
            .map_err(|e| format!("cannot create dataset `{name}`: {e}"))?;
        ds.write_raw(values)
            .map_err(|e| format!("cannot write dataset `{name}`: {e}"))?;
    }
    file.close()
        .map_err(|e| format!("cannot close the HDF5 file: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("rnn-h5-test-{}-{name}", std::process::id()))
    }

    #[test]
    fn arrays_written_read_back_with_their_shapes() {
        let path = temp("roundtrip.h5");
        let values = [1.0f32, -2.0, 3.5, 0.25, 5.0, 6.0];
        write(&path, &[("layers/dense/vars/0".into(), &[3, 2], &values)]).unwrap();
        let file = H5::open(&path).unwrap();
        assert!(file.has_group("layers/dense"));
        let a = file.array("layers/dense/vars/0", &[3, 2]).unwrap().unwrap();
        assert_eq!(a.shape, [3, 2]);
        assert_eq!(a.values, values);
        let other = file.array("layers/dense/vars/0", &[2, 3]).unwrap().unwrap();
        assert_eq!(other.shape, [3, 2]);
        assert!(other.values.is_empty(), "another shape is not read");
        assert!(file.array("layers/dense/vars/1", &[1]).unwrap().is_none());
        drop(file);
        std::fs::remove_file(&path).unwrap();
    }

    /// A dataset of 2^42 floats and an attribute of 3000 strings, neither written: declared
    /// sizes alone, which must not become allocations.
    #[test]
    fn declared_sizes_are_not_allocated() {
        let path = temp("declared.h5");
        let file = hdf5::File::create(&path).unwrap();
        file.new_dataset::<f32>()
            .shape([1usize << 40, 4])
            .create("huge")
            .unwrap();
        file.new_attr::<FixedAscii<16>>()
            .shape(3000)
            .create("model_config")
            .unwrap();
        file.close().unwrap();
        let file = H5::open(&path).unwrap();
        let a = file.array("huge", &[12, 4]).unwrap().unwrap();
        assert_eq!((a.shape, a.values.len()), (vec![1 << 40, 4], 0));
        let err = file.string_attr("/", "model_config").unwrap_err();
        assert!(err.contains("3000 values"), "{err}");
        drop(file);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_truncated_file_is_refused() {
        let path = temp("whole.h5");
        let values = vec![0.5f32; 4096];
        write(&path, &[("a/b".into(), &[4096], &values)]).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let cut = temp("cut.h5");
        std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
        let err = H5::open(&cut).err().expect("a truncated file opens");
        assert!(err.contains("truncated"), "{err}");
        std::fs::remove_file(&path).unwrap();
        std::fs::remove_file(&cut).unwrap();
    }
}
