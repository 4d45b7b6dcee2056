//! Checked size arithmetic for buffers whose dimensions come from the user.
//!
//! A shape such as `(batch, time, features)` arrives as plain `usize`s; their product can wrap,
//! and a wrapped length makes a small buffer look like a large tensor, which the unsafe
//! kernels would then read past. Every product of user-given dimensions goes through
//! [`checked_len`], and every buffer of such a length through [`try_zeroed`], so that an
//! impossible size is an [`Error::TooLarge`] naming where it came from, never a wrap, a
//! capacity-overflow panic or an abort on allocation failure.

use crate::error::{Error, Result, fmt_shape};

/// The number of `f32`s in a buffer of shape `dims`, checked: the product must not overflow,
/// and the byte size must fit in `isize` (Rust's limit for one allocation).
pub(crate) fn checked_len(layer: &str, dims: &[usize]) -> Result<usize> {
    dims.iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| {
            n.checked_mul(size_of::<f32>())
                .is_some_and(|bytes| isize::try_from(bytes).is_ok())
        })
        .ok_or_else(|| too_large(layer, dims))
}

/// A zero-filled buffer of `len` values, or an error instead of aborting the process when
/// the memory cannot be had.
pub(crate) fn try_zeroed<T: Clone + Default>(layer: &str, len: usize) -> Result<Vec<T>> {
    let mut buf = try_with_capacity(layer, len)?;
    buf.resize(len, T::default());
    Ok(buf)
}

/// An empty buffer with room for `len` values, or an error instead of aborting the process
/// when the memory cannot be had.
pub(crate) fn try_with_capacity<T>(layer: &str, len: usize) -> Result<Vec<T>> {
    let mut buf = Vec::new();
    buf.try_reserve_exact(len).map_err(|_| Error::TooLarge {
        layer: layer.to_string(),
        what: format!(
            "a buffer of {len} values ({} bytes) cannot be allocated",
            len.saturating_mul(size_of::<T>())
        ),
    })?;
    Ok(buf)
}

/// Row `i` of a row-major buffer of rows `width` wide, or `None` when the buffer has no such
/// row (or the offset overflows).
pub(crate) fn row<T>(data: &[T], i: usize, width: usize) -> Option<&[T]> {
    let start = i.checked_mul(width)?;
    data.get(start..start.checked_add(width)?)
}

/// [`row`], mutably.
pub(crate) fn row_mut<T>(data: &mut [T], i: usize, width: usize) -> Option<&mut [T]> {
    let start = i.checked_mul(width)?;
    data.get_mut(start..start.checked_add(width)?)
}

fn too_large(layer: &str, dims: &[usize]) -> Error {
    Error::TooLarge {
        layer: layer.to_string(),
        what: format!(
            "shape {} holds more values than memory can address",
            fmt_shape(dims)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_that_wrap_are_errors() {
        assert_eq!(checked_len("x", &[]).unwrap(), 1);
        assert_eq!(checked_len("x", &[0, usize::MAX]).unwrap(), 0);
        let err = checked_len("input", &[(1 << 62) + 1, 4]).unwrap_err();
        assert!(matches!(err, Error::TooLarge { .. }));
        assert!(
            err.to_string().contains("(4611686018427387905, 4)"),
            "{err}"
        );
        // Fits in usize, but not as bytes of f32.
        assert!(checked_len("x", &[usize::MAX / 2]).is_err());
    }

    #[test]
    fn rows_out_of_range_are_none() {
        let data = [1, 2, 3, 4, 5, 6];
        assert_eq!(row(&data, 1, 2), Some(&[3, 4][..]));
        assert_eq!(row(&data, 3, 2), None);
        assert_eq!(row(&data, usize::MAX, 2), None);
        assert_eq!(row(&data, 0, 0), Some(&[][..]));
        let mut data = data;
        row_mut(&mut data, 2, 2)
            .into_iter()
            .flatten()
            .for_each(|v| *v = 0);
        assert_eq!(data, [1, 2, 3, 4, 0, 0]);
    }
}
