//! Reduced-precision inference: [`Precision`], the run-time choice of how `predict` and
//! stepping multiply by the weights (`f32`, bf16 or int8), and the per-layer copies of the
//! weights it needs.
//!
//! The `f32` weights stay the model's weights: training, `get_weights`, checkpoints and
//! gradients never see the copies. A copy is made from the current `f32` weights when a
//! product first needs it, and made again whenever they have changed since (each [`Param`]
//! carries a version that changes with its values), so it is never stale, whatever changed
//! the weights (`fit`, `set_weights`, `load`, `layers_mut`).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use rnn_macros::model_api;

use crate::input::ModelInput;
use crate::kernels::low::LowMatrix;
use crate::layer::Stack;
use crate::model::Sequential;
use crate::output::ModelOutput;
use crate::param::Param;

/// How inference (`predict`, `forward` in [`Mode::Inference`](crate::Mode), stepping) reads
/// the weight matrices. Training and gradients always run in `f32`.
///
/// ```
/// use rnn_runtime::Precision;
/// assert_eq!(Precision::default(), Precision::F32);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Precision {
    /// Single precision throughout: results match Keras to `1e-6 + 1e-5 |want|`.
    #[default]
    F32,
    /// Weight matrices rounded to bfloat16 (8 significant bits), products accumulated in
    /// `f32`; biases, states and activations stay `f32`. Where the CPU has AVX-512 BF16
    /// the inputs of each product are rounded to bfloat16 too and multiplied with
    /// `vdpbf16ps`; elsewhere the weights are widened and multiplied in `f32`.
    Bf16,
    /// Weight matrices quantized to 8-bit integers with one `f32` scale per output unit
    /// (`max |w| / 127`); the inputs of each product quantized the same way per row (per
    /// step in a recurrence), summed exactly in `i32` and scaled back. Biases, states, gate
    /// arithmetic and the Embedding stay `f32`. Where the CPU has AVX-512 VNNI the products
    /// use `vpdpbusd`; elsewhere a portable kernel gives the same results.
    Int8,
}

/// A layer's reduced-precision copies of its weight matrices, made on demand (see the
/// module's documentation). Cloning shares the copy until either side's weights change.
#[derive(Default)]
pub(crate) struct Reduced {
    precision: Precision,
    copies: Mutex<Option<Arc<Copies>>>,
}

/// Copies of some weight matrices and the versions they were made from.
pub(crate) struct Copies {
    stamps: Vec<u64>,
    /// One per weight, in the order given to [`Reduced::copies`].
    pub(crate) mats: Vec<LowMatrix>,
}

impl Copies {
    /// The copy of weight `i`.
    pub(crate) fn mat(&self, i: usize) -> Option<&LowMatrix> {
        self.mats.get(i)
    }
}

impl Reduced {
    /// Chooses the precision; copies in another format (or back at `F32`, all copies) are
    /// dropped.
    pub(crate) fn set(&mut self, precision: Precision) {
        if precision != self.precision {
            *self.slot() = None;
        }
        self.precision = precision;
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Arc<Copies>>> {
        // A panic while making a copy leaves `None` or a whole copy: either is usable.
        self.copies.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The copies of `weights`, each a matrix of `shape[0]` rows, made (again) if any of
    /// them changed since; `None` at `F32`.
    pub(crate) fn copies(&self, weights: &[&Param]) -> Option<Arc<Copies>> {
        if self.precision == Precision::F32 {
            return None;
        }
        let mut slot = self.slot();
        let fresh = slot.as_ref().is_some_and(|c| {
            c.stamps
                .iter()
                .copied()
                .eq(weights.iter().map(|w| w.stamp()))
        });
        if !fresh {
            let mats = weights
                .iter()
                .map(|w| {
                    let rows = w.shape().first().copied().unwrap_or(1).max(1);
                    let cols = w.len().checked_div(rows).unwrap_or(0);
                    LowMatrix::new(self.precision, w.values(), rows, cols)
                })
                .collect::<Option<_>>()?;
            let stamps = weights.iter().map(|w| w.stamp()).collect();
            *slot = Some(Arc::new(Copies { stamps, mats }));
        }
        slot.clone()
    }
}

impl Clone for Reduced {
    fn clone(&self) -> Self {
        Reduced {
            precision: self.precision,
            copies: Mutex::new(self.slot().clone()),
        }
    }
}

impl fmt::Debug for Reduced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reduced")
            .field("precision", &self.precision)
            .finish_non_exhaustive()
    }
}

/// Makes every reduced-precision product take its portable kernel even where the CPU has
/// the fast one (`true`): for bf16, widened weights and `f32` inputs instead of AVX-512
/// BF16; for int8, the same integer sums without AVX-512 VNNI. `false` chooses the fastest
/// kernels again. Setting `RNN_BF16_KERNEL=portable` (or `RNN_INT8_KERNEL=portable`) in the
/// environment starts that format with `true`. For comparing the kernels.
///
/// ```
/// rnn_runtime::precision::force_portable_kernels(false);
/// ```
#[doc(hidden)]
pub fn force_portable_kernels(on: bool) {
    crate::kernels::bf16::force_portable(on);
    crate::kernels::int8::force_portable(on);
}

#[model_api]
impl<S> Sequential<S>
where
    S: Stack,
    S::In: ModelInput,
    S::Out: ModelOutput,
{
    /// Chooses how inference (`predict`, `predict_batched`, `forward` in `Mode::Inference`,
    /// `step`) multiplies by the weight matrices of the recurrent and Dense layers. The `f32`
    /// weights are kept and stay what training, `get_weights` and checkpoints use; with
    /// [`Precision::Bf16`] (or [`Precision::Int8`]) each layer keeps a bfloat16 (int8) copy,
    /// made on first use and again whenever the weights change (after `fit`, `set_weights`,
    /// `load`...), so it never lags behind them. Back at [`Precision::F32`] the copies are
    /// dropped and the results are the `f32` ones again.
    ///
    /// ```
    /// use rnn_runtime::*;
    /// static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, input_batch: None, layers: &[] };
    /// let mut rng = seeded_rng(0);
    /// let mut model = Sequential::new(
    ///     stack::<Sequence<3>, _>(Lstm::<3, 8>::new("sequential/lstm", RnnConfig::default(), &mut rng))
    ///         .then(Dense::<8, 2>::new("sequential/dense", Activation::Softmax, &mut rng)),
    ///     &SPEC,
    /// );
    /// let x = vec![vec![vec![0.5f32, -1.0, 0.25]; 6]; 2];
    /// let exact = model.predict(&x)?.main().data.clone();
    /// model.set_inference_precision(Precision::Bf16);
    /// let fast = model.predict(&x)?.main().data.clone();
    /// assert!(exact.iter().zip(&fast).all(|(a, b)| (a - b).abs() < 1e-2));
    /// model.set_inference_precision(Precision::Int8);
    /// let int8 = model.predict(&x)?.main().data.clone();
    /// assert!(exact.iter().zip(&int8).all(|(a, b)| (a - b).abs() < 5e-2));
    /// model.set_inference_precision(Precision::F32);
    /// assert_eq!(model.predict(&x)?.main().data, exact);
    /// # Ok::<(), rnn_runtime::Error>(())
    /// ```
    pub fn set_inference_precision(&mut self, precision: Precision) {
        self.stack.set_inference_precision(precision);
    }
}
