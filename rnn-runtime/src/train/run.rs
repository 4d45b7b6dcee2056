//! The training loop behind `fit`, `evaluate` and `train_on_batch`, over any [`Network`].

use rand::seq::SliceRandom;

use crate::error::{Error, Result};
use crate::init::seeded_rng;
use crate::input::{IntoInput, ModelInput};
use crate::layer::Mode;
use crate::output::ModelOutput;
use crate::param::Param;
use crate::tensor::Tensor;
use crate::train::compiled::{BatchScore, Compiled, StepAt};
use crate::train::history::{History, Logs};
use crate::train::metrics::Metric;
use crate::train::network::Network;
use crate::train::options::{Fit, ValidationData};
use crate::train::progress::Progress;
use crate::train::stopper::Stopper;
use crate::train::targets::{IntoTargets, Targets};
use crate::train::totals::Totals;

/// Keras' `train_on_batch`: one step on one batch, returning its loss and metrics.
pub(crate) fn train_on_batch<N, X, Y>(
    net: &mut N,
    compiled: &mut Compiled,
    x: X,
    y: Y,
) -> Result<Logs>
where
    N: Network,
    X: IntoInput<N::In>,
    Y: IntoTargets,
{
    compiled.validate()?;
    let mut run = Run::new(net, compiled, "train_on_batch");
    let (x, y) = (x.into_input()?, y.into_targets()?);
    run.check_data(&x, &y)?;
    let mut totals = Totals::default();
    let score = run.batch(&x, &y, Some(StepAt { epoch: 1, step: 1 }))?;
    totals.add(&score, x.batch());
    Ok(totals.logs(run.compiled.metrics()))
}

/// Keras' `evaluate`: loss and metrics in inference mode, in batches.
pub(crate) fn evaluate<N, X, Y>(
    net: &mut N,
    compiled: &mut Compiled,
    x: X,
    y: Y,
    batch_size: usize,
) -> Result<Logs>
where
    N: Network,
    X: IntoInput<N::In>,
    Y: IntoTargets,
{
    let mut run = Run::new(net, compiled, "evaluate");
    let (x, y) = (x.into_input()?, y.into_targets()?);
    run.check_data(&x, &y)?;
    run.evaluate(&x, &y, batch_size)
}

/// Keras' `fit`: epochs of shuffled mini-batches, validation, early stopping.
pub(crate) fn fit<N, X, Y, V>(
    net: &mut N,
    compiled: &mut Compiled,
    x: X,
    y: Y,
    options: Fit<V>,
) -> Result<History>
where
    N: Network,
    X: IntoInput<N::In>,
    Y: IntoTargets,
    V: ValidationData<N::In>,
{
    compiled.validate()?;
    compiled.history = None;
    let mut run = Run::new(net, compiled, "fit");
    let metrics = run.compiled.metrics().to_vec();
    let (x, y) = (x.into_input()?, y.into_targets()?);
    run.check_data(&x, &y)?;
    if options.batch_size == 0 {
        return Err(Error::config("fit", "batch_size must be at least 1"));
    }
    run.net.check_batch_size(options.batch_size, "fit")?;
    if !(0.0..1.0).contains(&options.validation_split) {
        return Err(Error::config(
            "fit",
            format!(
                "validation_split must be in [0, 1), got {}",
                options.validation_split
            ),
        ));
    }
    let validation = options.validation.into_validation()?;
    let (train_x, train_y, validation) = match validation {
        Some((vx, vy)) => {
            run.check_data(&vx, &vy)?;
            (x, y, Some((vx, vy)))
        }
        None if options.validation_split > 0.0 => {
            // Keras holds out the last samples, before any shuffling.
            let n = x.batch();
            let split = (n as f64 * (1.0 - options.validation_split)).floor() as usize;
            if split == 0 || split == n {
                return Err(Error::config(
                    "fit",
                    format!(
                        "validation_split {} of {n} samples leaves {split} for training and \
                         {} for validation; both need at least one",
                        options.validation_split,
                        n.saturating_sub(split)
                    ),
                ));
            }
            (
                x.rows(0, split),
                y.rows(0, split),
                Some((x.rows(split, n), y.rows(split, n))),
            )
        }
        None => (x, y, None),
    };
    if let Some((vx, _)) = &validation {
        run.net.check_input(&train_x, "fit")?;
        run.net.check_input(vx, "fit (validation)")?;
    }
    let mut stopper = options.early_stopping.clone().map(Stopper::new);
    if let Some(s) = &stopper {
        check_monitor(&s.config.monitor, &metrics, validation.is_some())?;
    }

    run.net.params_mut().into_iter().for_each(Param::zero_grad);
    let mut rng = seeded_rng(options.seed);
    let n = train_x.batch();
    let bs = options.batch_size;
    let steps = n.div_ceil(bs);
    let mut order: Vec<usize> = (0..n).collect();
    let mut history = History::default();
    // The epochs done so far stay readable (`history()`) when a later one fails.
    let outcome = (|| -> Result<()> {
        for epoch in 1..=options.epochs {
            if options.shuffle {
                order.shuffle(&mut rng);
            }
            let progress = Progress::start(options.verbose, epoch, options.epochs, steps);
            let mut totals = Totals::default();
            for (step, index) in (1..).zip(order.chunks(bs)) {
                let (xb, yb) = (train_x.gather(index), train_y.gather(index));
                let at = StepAt { epoch, step };
                totals.add(&run.batch(&xb, &yb, Some(at))?, index.len());
                progress.step(step, &totals.logs(&metrics));
            }
            let mut logs = totals.logs(&metrics);
            if let Some((vx, vy)) = &validation {
                let val = run.evaluate(vx, vy, bs)?;
                logs.extend("val_", &val);
            }
            progress.finish(&logs);
            let stop = match &mut stopper {
                Some(s) => s.should_stop(epoch.saturating_sub(1), &logs, run.net)?,
                None => false,
            };
            history.push(logs);
            if stop {
                break;
            }
        }
        Ok(())
    })();
    run.compiled.history = Some(history.clone());
    outcome.map(|()| history)
}

/// Checks that early stopping monitors a value that `fit` logs: the loss or a compiled
/// metric, with `val_` only when there is validation data.
fn check_monitor(monitor: &str, metrics: &[Metric], validation: bool) -> Result<()> {
    let names: Vec<&str> = metrics
        .iter()
        .map(|m| m.keras_name())
        .chain(["loss"])
        .collect();
    let logged = |name: &str| names.contains(&name);
    if logged(monitor) || (validation && monitor.strip_prefix("val_").is_some_and(logged)) {
        return Ok(());
    }
    let mut valid: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    if validation {
        valid.extend(names.iter().map(|n| format!("`val_{n}`")));
    }
    let hint = if monitor.starts_with("val_") && !validation {
        "; there is no validation data: set validation_split or validation_data"
    } else {
        ""
    };
    Err(Error::config(
        "fit",
        format!(
            "early stopping monitors `{monitor}`, which fit does not log; valid names: {}{hint}",
            valid.join(", ")
        ),
    ))
}

/// One call of `fit`, `evaluate` or `train_on_batch`: the model, what `compile` set up, and
/// the name of the call for error messages.
struct Run<'a, N: Network> {
    net: &'a mut N,
    compiled: &'a mut Compiled,
    what: &'static str,
    /// Whether a forward pass has shown that the model returns no final states, which only a
    /// forward pass tells (`return_state` is a run-time setting).
    states_checked: bool,
}

impl<'a, N: Network> Run<'a, N> {
    fn new(net: &'a mut N, compiled: &'a mut Compiled, what: &'static str) -> Self {
        Run {
            net,
            compiled,
            what,
            states_checked: false,
        }
    }

    /// Checks inputs and targets against the model (rows, token ids, time steps, target shape,
    /// class ids) before any step, so that bad data is reported before a weight changes. The
    /// output shape comes from the output type and the input's length.
    fn check_data(&self, x: &N::In, y: &Targets) -> Result<()> {
        if x.batch() != y.len() {
            return Err(Error::shape(
                "targets",
                format!("{} rows, one per input row", x.batch()),
                format!("{} rows", y.len()),
            ));
        }
        self.net.check_input(x, self.what)?;
        if N::Out::ARRAYS != 1 {
            return Err(several_outputs(self.what));
        }
        let shape = N::Out::shape_for(y.len(), x.time_steps());
        self.compiled.check_targets(y, &shape)
    }

    /// One batch: forward, loss, metrics and, when training, backward and an optimizer step.
    /// The batch comes from data that passed [`Run::check_data`]; a model with final states
    /// is rejected after its first forward pass, before anything changes.
    fn batch(&mut self, x: &N::In, y: &Targets, train: Option<StepAt>) -> Result<BatchScore> {
        let mode = if train.is_some() {
            Mode::Training
        } else {
            Mode::Inference
        };
        let out = self.net.forward(x, mode)?;
        if !self.states_checked {
            if self.net.extra_outputs() > 0 {
                return Err(several_outputs(self.what));
            }
            self.states_checked = true;
        }
        // `check_data` has made sure that the output type is a single array.
        let arrays = out.to_arrays();
        let main = arrays.first().ok_or_else(|| several_outputs(self.what))?;
        let mask = out.row_mask();
        let Some(at) = train else {
            return self.compiled.score(main, mask.as_deref(), y);
        };
        let activation = self.net.output_activation();
        let (score, grad, fused) =
            self.compiled
                .score_with_grad(main, mask.as_deref(), y, activation, at)?;
        let dy = out.grad_from_arrays(&[&grad])?;
        self.net.backward(x, dy, fused)?;
        self.compiled.apply(&mut self.net.params_mut(), at)?;
        Ok(score)
    }

    /// Loss and metrics over data that passed [`Run::check_data`], in batches.
    fn evaluate(&mut self, x: &N::In, y: &Targets, batch_size: usize) -> Result<Logs> {
        if batch_size == 0 {
            return Err(Error::config("evaluate", "batch_size must be at least 1"));
        }
        self.net.check_batch_size(batch_size, "evaluate")?;
        let n = x.batch();
        let mut totals = Totals::default();
        for start in (0..n).step_by(batch_size) {
            let end = start.saturating_add(batch_size).min(n);
            let score = self.batch(&x.rows(start, end), &y.rows(start, end), None)?;
            totals.add(&score, end.saturating_sub(start));
        }
        Ok(totals.logs(self.compiled.metrics()))
    }
}

fn several_outputs(what: &str) -> Error {
    Error::config(
        what,
        "the model returns several outputs (return_state or merge_mode = none); \
         training and evaluation need a single output",
    )
}
