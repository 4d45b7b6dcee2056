//! `Dense` and `TimeDistributed(Dense)`: `y = act(x W + b)` over the last axis.

use crate::activation::Activation;
use crate::error::{Error, Result};
use crate::init::{Initializer, Rng};
use crate::kernels::gemm::{MatRef, gemm};
use crate::kernels::low;
use crate::layer::{Layer, Mode, no_state_grads};
use crate::layer_step::{LayerStep, StepContext, StepData, check_step_len};
use crate::param::{Param, Weights};
use crate::precision::{Precision, Reduced};
use crate::size::checked_len;
use crate::tensor::{Features, Sequence};

/// A fully connected layer from `IN` to `OUT` features (Keras `Dense`).
///
/// On a sequence it applies to every step, as Keras does; `BIAS = false` is `use_bias=False`.
///
/// ```
/// use rnn_runtime::{Activation, Dense, Layer, Mode, Sequence, Weights, seeded_rng};
/// let mut d = Dense::<3, 2>::new("sequential/dense", Activation::Tanh, &mut seeded_rng(0));
/// assert_eq!(<Dense<3, 2> as Weights>::PARAMS, 8);
/// let x = Sequence::<3>::from_batch_major(&[0.1; 12], 2, 2).unwrap();
/// let y = d.forward(&x, Mode::Inference).unwrap();
/// assert_eq!(y.shape(), [2, 2, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct Dense<const IN: usize, const OUT: usize, const BIAS: bool = true> {
    name: String,
    activation: Activation,
    kernel: Param,
    bias: Option<Param>,
    /// Outputs of the last training pass, for the activation's derivative.
    y: Vec<f32>,
    /// A bf16 or int8 copy of `kernel` for inference at that precision.
    low: Reduced,
}

impl<const IN: usize, const OUT: usize, const BIAS: bool> Dense<IN, OUT, BIAS> {
    /// A layer whose weights are named `{path}/kernel` and `{path}/bias`, initialised as Keras
    /// does (Glorot-uniform kernel, zero bias). `path` is the Keras variable path of the layer,
    /// e.g. `sequential/dense_1`; its last component names the layer in error messages.
    pub fn new(path: &str, activation: Activation, rng: &mut Rng) -> Self {
        let (kernel, bias) = (Initializer::GlorotUniform, Initializer::Zeros);
        Self::with_initializers(path, activation, kernel, bias, rng)
    }

    /// [`new`](Self::new) with Keras' `kernel_initializer` and `bias_initializer`.
    ///
    /// ```
    /// use rnn_runtime::{Activation, Dense, Initializer, Weights, seeded_rng};
    /// let d = Dense::<2, 3>::with_initializers(
    ///     "sequential/dense",
    ///     Activation::Linear,
    ///     Initializer::HeNormal,
    ///     Initializer::Constant(0.5),
    ///     &mut seeded_rng(0),
    /// );
    /// assert_eq!(d.params()[1].values(), [0.5; 3]);
    /// ```
    pub fn with_initializers(
        path: &str,
        activation: Activation,
        kernel_initializer: Initializer,
        bias_initializer: Initializer,
        rng: &mut Rng,
    ) -> Self {
        let kernel = Param::new(
            format!("{path}/kernel"),
            vec![IN, OUT],
            kernel_initializer.fill(&[IN, OUT], rng),
        );
        let bias = BIAS.then(|| {
            let values = bias_initializer.fill(&[OUT], rng);
            Param::new(format!("{path}/bias"), vec![OUT], values)
        });
        Dense {
            name: path.rsplit('/').next().unwrap_or(path).to_string(),
            activation,
            kernel,
            bias,
            y: Vec::new(),
            low: Reduced::default(),
        }
    }

    /// The activation.
    pub fn activation(&self) -> Activation {
        self.activation
    }

    /// The layer's Keras name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `rows x IN` to `rows x OUT`.
    pub(crate) fn forward_rows(&mut self, x: &[f32], rows: usize, mode: Mode) -> Result<Vec<f32>> {
        let mut y = vec![0.0f32; checked_len(&self.name, &[rows, OUT])?];
        if let Some(b) = &self.bias {
            y.chunks_exact_mut(OUT)
                .for_each(|r| r.copy_from_slice(b.values()));
        }
        let beta = if self.bias.is_some() { 1.0 } else { 0.0 };
        let low = (mode == Mode::Inference)
            .then(|| self.low.copies(&[&self.kernel]))
            .flatten();
        match low.as_deref().and_then(|c| c.mat(0)) {
            Some(w) => low::product(x, rows, w, 0..OUT, &mut y, OUT),
            None => gemm(
                1.0,
                MatRef::new(x, rows, IN),
                MatRef::new(self.kernel.values(), IN, OUT),
                beta,
                &mut y,
                OUT,
            ),
        }
        self.activation.apply(&mut y, OUT);
        if mode.records() {
            self.y.clear();
            self.y.extend_from_slice(&y);
        }
        Ok(y)
    }

    /// Accumulates weight gradients from `dy` (`rows x OUT`, overwritten) and returns `dx`.
    /// With `logits`, `dy` is already the gradient with respect to the pre-activation.
    pub(crate) fn backward_rows(
        &mut self,
        x: &[f32],
        dy: &mut [f32],
        rows: usize,
        logits: bool,
    ) -> Result<Vec<f32>> {
        if self.y.len() != dy.len() {
            return Err(Error::config(
                self.name.clone(),
                "backward needs the output of a recording forward pass on the same batch",
            ));
        }
        if Some(x.len()) != rows.checked_mul(IN) || Some(dy.len()) != rows.checked_mul(OUT) {
            return Err(Error::shape(
                format!("{}: output gradient", self.name),
                format!("({rows}, {OUT}) for an input of {rows} rows"),
                format!("{} values for an input of {} values", dy.len(), x.len()),
            ));
        }
        if !logits {
            self.activation.backward(&self.y, dy, OUT);
        }
        gemm(
            1.0,
            MatRef::new(x, rows, IN).t(),
            MatRef::new(dy, rows, OUT),
            1.0,
            self.kernel.grad_mut(),
            OUT,
        );
        if let Some(b) = &mut self.bias {
            let db = b.grad_mut();
            for r in dy.chunks_exact(OUT) {
                db.iter_mut().zip(r).for_each(|(g, d)| *g += d);
            }
        }
        let mut dx = vec![0.0f32; x.len()];
        gemm(
            1.0,
            MatRef::new(dy, rows, OUT),
            MatRef::new(self.kernel.values(), IN, OUT).t(),
            0.0,
            &mut dx,
            IN,
        );
        Ok(dx)
    }

    /// One time step: `(batch, IN)` to the step's `(batch, OUT)` output in `state`.
    fn step_rows(&self, x: StepData<'_>, state: &mut LayerStep) -> Result<()> {
        let x = x.values(&self.name)?;
        state.check_owner(&self.name, OUT)?;
        let batch = state.batch();
        check_step_len(&self.name, x.len(), batch, IN)?;
        let y = &mut state.out[..];
        match &self.bias {
            Some(b) => y
                .chunks_exact_mut(OUT)
                .for_each(|r| r.copy_from_slice(b.values())),
            None => y.fill(0.0),
        }
        // A single row is a matrix-vector product, which reads each weight once.
        let low = self.low.copies(&[&self.kernel]);
        match low.as_deref().and_then(|c| c.mat(0)) {
            Some(w) => low::product(x, batch, w, 0..OUT, y, OUT),
            None => gemm(
                1.0,
                MatRef::new(x, batch, IN),
                MatRef::new(self.kernel.values(), IN, OUT),
                1.0,
                y,
                OUT,
            ),
        }
        self.activation.apply(y, OUT);
        Ok(())
    }

    /// Sigmoid and softmax: the activations a cross-entropy loss fuses with.
    fn fusable_activation(&self) -> Option<Activation> {
        matches!(self.activation, Activation::Sigmoid | Activation::Softmax)
            .then_some(self.activation)
    }
}

impl<const IN: usize, const OUT: usize, const BIAS: bool> Weights for Dense<IN, OUT, BIAS> {
    const PARAMS: usize = rnn_spec::dense_params(IN, OUT, BIAS);

    fn params(&self) -> Vec<&Param> {
        let mut all = vec![&self.kernel];
        all.extend(self.bias.as_ref());
        all
    }

    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut all = vec![&mut self.kernel];
        all.extend(self.bias.as_mut());
        all
    }
}

impl<const IN: usize, const OUT: usize, const BIAS: bool> Layer<Features<IN>>
    for Dense<IN, OUT, BIAS>
{
    type Output = Features<OUT>;

    fn forward(&mut self, x: &Features<IN>, mode: Mode) -> Result<Features<OUT>> {
        let y = self.forward_rows(x.as_slice(), x.batch(), mode)?;
        Ok(Features::from_vec(x.batch(), y))
    }

    fn backward(
        &mut self,
        x: &Features<IN>,
        mut dy: Features<OUT>,
        dstates: &[&[f32]],
    ) -> Result<Features<IN>> {
        no_state_grads(&self.name, dstates)?;
        if dy.batch() != x.batch() {
            return Err(Error::shape(
                format!("{}: output gradient", self.name),
                format!("({}, {OUT})", x.batch()),
                format!("({}, {OUT})", dy.batch()),
            ));
        }
        let dx = self.backward_rows(x.as_slice(), dy.as_mut_slice(), x.batch(), false)?;
        Ok(Features::from_vec(x.batch(), dx))
    }

    fn output_activation(&self) -> Option<Activation> {
        self.fusable_activation()
    }

    fn backward_logits(
        &mut self,
        x: &Features<IN>,
        mut dz: Features<OUT>,
        dstates: &[&[f32]],
    ) -> Result<Features<IN>> {
        no_state_grads(&self.name, dstates)?;
        let dx = self.backward_rows(x.as_slice(), dz.as_mut_slice(), x.batch(), true)?;
        Ok(Features::from_vec(x.batch(), dx))
    }

    fn step_init(&self, batch: usize) -> Result<LayerStep> {
        LayerStep::plain(&self.name, batch, OUT)
    }

    fn step(&self, x: StepData<'_>, _: &mut StepContext, state: &mut LayerStep) -> Result<()> {
        self.step_rows(x, state)
    }

    fn set_inference_precision(&mut self, precision: Precision) {
        self.low.set(precision);
    }
}

/// On a sequence, Dense applies to every step and passes the mask on, as in Keras.
impl<const IN: usize, const OUT: usize, const BIAS: bool> Layer<Sequence<IN>>
    for Dense<IN, OUT, BIAS>
{
    type Output = Sequence<OUT>;

    fn forward(&mut self, x: &Sequence<IN>, mode: Mode) -> Result<Sequence<OUT>> {
        let rows = checked_len(&self.name, &[x.batch(), x.time()])?;
        let y = self.forward_rows(x.as_slice(), rows, mode)?;
        Ok(Sequence::from_time_major(x.batch(), x.time(), y).with_mask(x.mask().cloned()))
    }

    fn backward(
        &mut self,
        x: &Sequence<IN>,
        dy: Sequence<OUT>,
        dstates: &[&[f32]],
    ) -> Result<Sequence<IN>> {
        sequence_backward(self, x, dy, dstates, false)
    }

    fn output_activation(&self) -> Option<Activation> {
        self.fusable_activation()
    }

    fn backward_logits(
        &mut self,
        x: &Sequence<IN>,
        dz: Sequence<OUT>,
        dstates: &[&[f32]],
    ) -> Result<Sequence<IN>> {
        sequence_backward(self, x, dz, dstates, true)
    }

    fn step_init(&self, batch: usize) -> Result<LayerStep> {
        LayerStep::plain(&self.name, batch, OUT)
    }

    fn step(&self, x: StepData<'_>, _: &mut StepContext, state: &mut LayerStep) -> Result<()> {
        self.step_rows(x, state)
    }

    fn set_inference_precision(&mut self, precision: Precision) {
        self.low.set(precision);
    }
}

/// `backward` on a sequence, every step a row; with `logits`, `backward_logits`.
fn sequence_backward<const IN: usize, const OUT: usize, const BIAS: bool>(
    dense: &mut Dense<IN, OUT, BIAS>,
    x: &Sequence<IN>,
    mut dy: Sequence<OUT>,
    dstates: &[&[f32]],
    logits: bool,
) -> Result<Sequence<IN>> {
    no_state_grads(&dense.name, dstates)?;
    check_sequence_grad(&dense.name, x, &dy)?;
    let rows = checked_len(&dense.name, &[x.batch(), x.time()])?;
    let dx = dense.backward_rows(x.as_slice(), dy.as_mut_slice(), rows, logits)?;
    Ok(Sequence::from_time_major(x.batch(), x.time(), dx))
}

/// Checks that a sequence gradient has the batch and time of the input.
fn check_sequence_grad<const IN: usize, const OUT: usize>(
    layer: &str,
    x: &Sequence<IN>,
    dy: &Sequence<OUT>,
) -> Result<()> {
    if (dy.batch(), dy.time()) != (x.batch(), x.time()) {
        return Err(Error::shape(
            format!("{layer}: output gradient"),
            format!("({}, {}, {OUT})", x.batch(), x.time()),
            format!("({}, {}, {OUT})", dy.batch(), dy.time()),
        ));
    }
    Ok(())
}

/// Keras `TimeDistributed(Dense(...))`: the wrapped layer applied to every time step.
///
/// It takes sequences only. Its weights are named `{path}/{dense name}/kernel`, as in Keras.
///
/// ```
/// use rnn_runtime::{Activation, Dense, TimeDistributed, seeded_rng};
/// let td = TimeDistributed::new(Dense::<4, 3>::new(
///     "sequential/time_distributed/dense", Activation::Sigmoid, &mut seeded_rng(0)));
/// ```
#[derive(Clone, Debug)]
pub struct TimeDistributed<L> {
    inner: L,
}

impl<L> TimeDistributed<L> {
    /// Wraps a layer.
    pub fn new(inner: L) -> Self {
        TimeDistributed { inner }
    }

    /// The wrapped layer.
    pub fn inner(&self) -> &L {
        &self.inner
    }
}

impl<L: Weights> Weights for TimeDistributed<L> {
    const PARAMS: usize = L::PARAMS;
    fn params(&self) -> Vec<&Param> {
        self.inner.params()
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.inner.params_mut()
    }
}

impl<const IN: usize, const OUT: usize, const BIAS: bool> Layer<Sequence<IN>>
    for TimeDistributed<Dense<IN, OUT, BIAS>>
{
    type Output = Sequence<OUT>;

    fn forward(&mut self, x: &Sequence<IN>, mode: Mode) -> Result<Sequence<OUT>> {
        self.inner.forward(x, mode)
    }

    fn backward(
        &mut self,
        x: &Sequence<IN>,
        dy: Sequence<OUT>,
        dstates: &[&[f32]],
    ) -> Result<Sequence<IN>> {
        self.inner.backward(x, dy, dstates)
    }

    fn output_activation(&self) -> Option<Activation> {
        Layer::<Sequence<IN>>::output_activation(&self.inner)
    }

    fn backward_logits(
        &mut self,
        x: &Sequence<IN>,
        dz: Sequence<OUT>,
        dstates: &[&[f32]],
    ) -> Result<Sequence<IN>> {
        self.inner.backward_logits(x, dz, dstates)
    }

    fn step_init(&self, batch: usize) -> Result<LayerStep> {
        Layer::<Sequence<IN>>::step_init(&self.inner, batch)
    }

    fn step(&self, x: StepData<'_>, _: &mut StepContext, state: &mut LayerStep) -> Result<()> {
        self.inner.step_rows(x, state)
    }

    fn set_inference_precision(&mut self, precision: Precision) {
        self.inner.low.set(precision);
    }
}
