//! Training targets: class ids or values, per sample or per time step.

use crate::error::{Error, Result, check_finite, fmt_shape};

/// The targets of a training set, batch first: class ids (for sparse categorical
/// cross-entropy) or real values (labels, one-hot rows, regression targets).
///
/// ```
/// use rnn_runtime::{IntoTargets, Targets};
/// let y: Targets = vec![0u32, 2, 1].into_targets().unwrap();
/// assert_eq!(y.shape(), &[3]);
/// let y: Targets = vec![vec![0.0f32, 1.0], vec![1.0, 0.0]].into_targets().unwrap();
/// assert_eq!(y.shape(), &[2, 2]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Targets {
    shape: Vec<usize>,
    data: TargetData,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum TargetData {
    Classes(Vec<u32>),
    Values(Vec<f32>),
}

impl Targets {
    /// Class ids, row-major with the given shape (`[batch]` or `[batch, time]`).
    ///
    /// ```
    /// use rnn_runtime::Targets;
    /// // Two sequences of three steps, one class id per step.
    /// let y = Targets::classes(vec![0, 1, 2, 2, 1, 0], vec![2, 3]).unwrap();
    /// assert!(y.is_classes());
    /// // Six ids cannot fill a (4, 2) shape.
    /// assert!(Targets::classes(vec![0; 6], vec![4, 2]).is_err());
    /// ```
    pub fn classes(ids: Vec<u32>, shape: Vec<usize>) -> Result<Self> {
        Self::checked(&shape, ids.len())?;
        Ok(Targets {
            shape,
            data: TargetData::Classes(ids),
        })
    }

    /// Real values, row-major with the given shape (`[batch]`, `[batch, classes]`,
    /// `[batch, time, classes]`, ...).
    ///
    /// ```
    /// use rnn_runtime::Targets;
    /// // One-hot rows of three classes for two samples.
    /// let y = Targets::values(vec![1.0, 0.0, 0.0, 0.0, 0.0, 1.0], vec![2, 3]).unwrap();
    /// assert_eq!(y.shape(), &[2, 3]);
    /// // Non-finite targets are an error.
    /// assert!(Targets::values(vec![f32::NAN], vec![1]).is_err());
    /// ```
    pub fn values(values: Vec<f32>, shape: Vec<usize>) -> Result<Self> {
        Self::checked(&shape, values.len())?;
        check_finite(&values, "targets", "the targets")?;
        Ok(Targets {
            shape,
            data: TargetData::Values(values),
        })
    }

    fn checked(shape: &[usize], len: usize) -> Result<()> {
        if shape.first().is_none_or(|&b| b == 0) {
            return Err(Error::Empty {
                layer: "targets".into(),
                what: "there are no targets; give one per input row".into(),
            });
        }
        if shape.contains(&0) {
            return Err(Error::Empty {
                layer: "targets".into(),
                what: format!(
                    "the targets have shape {}, with an empty axis",
                    fmt_shape(shape)
                ),
            });
        }
        let want = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if want != Some(len) {
            return Err(Error::shape(
                "targets",
                fmt_shape(shape),
                format!("{len} values"),
            ));
        }
        Ok(())
    }

    /// Shape, batch first.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of rows (samples).
    pub fn len(&self) -> usize {
        self.shape.first().copied().unwrap_or(0)
    }

    /// Always false: targets have at least one row.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether these are class ids.
    pub fn is_classes(&self) -> bool {
        matches!(self.data, TargetData::Classes(_))
    }

    pub(crate) fn data(&self) -> &TargetData {
        &self.data
    }

    /// The rows at `index`, in that order. The library passes rows of the batch only; an
    /// index beyond it is skipped rather than a panic.
    pub(crate) fn gather(&self, index: &[usize]) -> Targets {
        // The constructors checked that the shape's product is the data's length, so every
        // row is a whole chunk of this width.
        let w = self.shape.iter().skip(1).product::<usize>().max(1);
        fn pick<T: Copy>(data: &[T], w: usize, index: &[usize]) -> Vec<T> {
            index
                .iter()
                .filter_map(|&i| {
                    let start = i.checked_mul(w)?;
                    data.get(start..start.checked_add(w)?)
                })
                .flatten()
                .copied()
                .collect()
        }
        let data = match &self.data {
            TargetData::Classes(c) => TargetData::Classes(pick(c, w, index)),
            TargetData::Values(v) => TargetData::Values(pick(v, w, index)),
        };
        let len = match &data {
            TargetData::Classes(c) => c.len(),
            TargetData::Values(v) => v.len(),
        };
        let shape = std::iter::once(len.checked_div(w).unwrap_or(0))
            .chain(self.shape.iter().skip(1).copied())
            .collect();
        Targets { shape, data }
    }

    /// Rows `[start, end)`.
    pub(crate) fn rows(&self, start: usize, end: usize) -> Targets {
        self.gather(&(start..end).collect::<Vec<_>>())
    }
}

/// Anything `fit` and `evaluate` accept as targets.
///
/// ```
/// use rnn_runtime::{IntoTargets, Targets};
/// let per_step: Targets = vec![vec![1u32, 2], vec![0, 0]].into_targets().unwrap();
/// assert_eq!(per_step.shape(), &[2, 2]);
/// assert!(vec![vec![1u32], vec![]].into_targets().is_err()); // ragged
/// ```
pub trait IntoTargets {
    /// Converts, checking shape and values.
    fn into_targets(self) -> Result<Targets>;
}

impl IntoTargets for Targets {
    fn into_targets(self) -> Result<Targets> {
        Ok(self)
    }
}

impl IntoTargets for &Targets {
    fn into_targets(self) -> Result<Targets> {
        Ok(self.clone())
    }
}

impl IntoTargets for &[u32] {
    fn into_targets(self) -> Result<Targets> {
        Targets::classes(self.to_vec(), vec![self.len()])
    }
}

impl IntoTargets for Vec<u32> {
    fn into_targets(self) -> Result<Targets> {
        let n = self.len();
        Targets::classes(self, vec![n])
    }
}

impl IntoTargets for &Vec<u32> {
    fn into_targets(self) -> Result<Targets> {
        self.as_slice().into_targets()
    }
}

impl IntoTargets for &[f32] {
    fn into_targets(self) -> Result<Targets> {
        Targets::values(self.to_vec(), vec![self.len()])
    }
}

impl IntoTargets for Vec<f32> {
    fn into_targets(self) -> Result<Targets> {
        let n = self.len();
        Targets::values(self, vec![n])
    }
}

impl IntoTargets for &Vec<f32> {
    fn into_targets(self) -> Result<Targets> {
        self.as_slice().into_targets()
    }
}

/// Flattens equally long rows, rejecting ragged input.
fn flatten_rows<T: Copy>(rows: &[Vec<T>]) -> Result<(Vec<T>, usize)> {
    let width = rows.first().map_or(0, Vec::len);
    if let Some((row, r)) = rows.iter().enumerate().find(|(_, r)| r.len() != width) {
        return Err(Error::Ragged {
            layer: "targets".into(),
            row,
            len: r.len(),
            expected: width,
            unit: "values",
        });
    }
    if width == 0 && !rows.is_empty() {
        return Err(Error::Empty {
            layer: "targets".into(),
            what: "the target rows are empty".into(),
        });
    }
    Ok((rows.iter().flatten().copied().collect(), width))
}

impl IntoTargets for &[Vec<u32>] {
    fn into_targets(self) -> Result<Targets> {
        let (ids, w) = flatten_rows(self)?;
        Targets::classes(ids, vec![self.len(), w])
    }
}

impl IntoTargets for Vec<Vec<u32>> {
    fn into_targets(self) -> Result<Targets> {
        self.as_slice().into_targets()
    }
}

impl IntoTargets for &Vec<Vec<u32>> {
    fn into_targets(self) -> Result<Targets> {
        self.as_slice().into_targets()
    }
}

impl IntoTargets for &[Vec<f32>] {
    fn into_targets(self) -> Result<Targets> {
        let (v, w) = flatten_rows(self)?;
        Targets::values(v, vec![self.len(), w])
    }
}

impl IntoTargets for Vec<Vec<f32>> {
    fn into_targets(self) -> Result<Targets> {
        self.as_slice().into_targets()
    }
}

impl IntoTargets for &Vec<Vec<f32>> {
    fn into_targets(self) -> Result<Targets> {
        self.as_slice().into_targets()
    }
}

impl IntoTargets for &[Vec<Vec<f32>>] {
    fn into_targets(self) -> Result<Targets> {
        let rows: Vec<Vec<f32>> = self.iter().map(|r| r.concat()).collect();
        let time = self.first().map_or(0, Vec::len);
        if let Some(row) = self.iter().position(|r| r.len() != time) {
            return Err(Error::Ragged {
                layer: "targets".into(),
                row,
                len: self.get(row).map_or(0, Vec::len),
                expected: time,
                unit: "steps",
            });
        }
        let (v, w) = flatten_rows(&rows)?;
        let classes = w.checked_div(time).unwrap_or(0);
        if self.iter().flatten().any(|step| step.len() != classes) {
            return Err(Error::shape(
                "targets",
                format!("(batch, {time}, {classes})"),
                "steps of different lengths".to_string(),
            ));
        }
        Targets::values(v, vec![self.len(), time, classes])
    }
}

impl IntoTargets for Vec<Vec<Vec<f32>>> {
    fn into_targets(self) -> Result<Targets> {
        self.as_slice().into_targets()
    }
}

impl IntoTargets for &Vec<Vec<Vec<f32>>> {
    fn into_targets(self) -> Result<Targets> {
        self.as_slice().into_targets()
    }
}

impl<const N: usize> IntoTargets for (&[f32], [usize; N]) {
    fn into_targets(self) -> Result<Targets> {
        Targets::values(self.0.to_vec(), self.1.to_vec())
    }
}

impl<const N: usize> IntoTargets for (&[u32], [usize; N]) {
    fn into_targets(self) -> Result<Targets> {
        Targets::classes(self.0.to_vec(), self.1.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_and_gathering() {
        let y: Targets = vec![vec![vec![1.0f32, 0.0]; 3], vec![vec![0.0, 1.0]; 3]]
            .into_targets()
            .unwrap();
        assert_eq!(y.shape(), &[2, 3, 2]);
        let g = y.gather(&[1]);
        assert_eq!(g.shape(), &[1, 3, 2]);
        assert_eq!(
            g.data(),
            &TargetData::Values(vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0])
        );
        let c: Targets = vec![3u32, 4, 5].into_targets().unwrap();
        assert_eq!(c.rows(1, 3).data(), &TargetData::Classes(vec![4, 5]));
    }

    #[test]
    fn bad_targets_are_errors() {
        assert!(Vec::<u32>::new().into_targets().is_err());
        assert!(vec![f32::NAN].into_targets().is_err());
        assert!(vec![vec![1.0f32, 2.0], vec![1.0]].into_targets().is_err());
        assert!((&[1.0f32, 2.0, 3.0][..], [2, 2]).into_targets().is_err());
    }
}
