//! What `compile` sets up (loss, optimizer, metrics) and what it does with the outputs and
//! parameters a training step hands it. It knows nothing of models: it scores arrays against
//! targets and steps parameter lists.

use crate::activation::Activation;
use crate::error::{Error, Result, check_finite, fmt_shape};
use crate::loss::{Loss, Target};
use crate::optim::{Optimizer, OptimizerState};
use crate::output::Array;
use crate::param::Param;
use crate::train::history::History;
use crate::train::metrics::Metric;
use crate::train::targets::{TargetData, Targets};

/// The loss, the optimizer and the metrics of a compiled model.
pub(crate) struct Compiled {
    loss: Loss,
    optimizer: Box<dyn Optimizer>,
    metrics: Vec<Metric>,
    /// Optimizer steps taken: Keras counts the optimizer's state once it has been built.
    steps: usize,
    /// The weights and optimizer state before the current step, to undo a step whose update
    /// is not finite; the buffers are reused from step to step.
    before: Snapshot,
    /// The epochs of the last `fit`, kept when it stopped with an error.
    pub(crate) history: Option<History>,
}

#[derive(Default)]
struct Snapshot {
    weights: Vec<Vec<f32>>,
    optimizer: OptimizerState,
}

/// Where a training step is, for error messages (1-based).
#[derive(Clone, Copy)]
pub(crate) struct StepAt {
    pub epoch: usize,
    pub step: usize,
}

/// The loss of one batch and, per metric, its (hits, weight) sums.
pub(crate) struct BatchScore {
    pub loss: f64,
    pub metrics: Vec<(f64, f64)>,
}

impl Compiled {
    pub(crate) fn new(loss: Loss, optimizer: Box<dyn Optimizer>, metrics: &[Metric]) -> Self {
        Compiled {
            loss,
            optimizer,
            metrics: metrics.to_vec(),
            steps: 0,
            before: Snapshot::default(),
            history: None,
        }
    }

    /// The optimizer's hyper-parameters, checked before the first step.
    pub(crate) fn validate(&self) -> Result<()> {
        self.optimizer.validate()
    }

    pub(crate) fn metrics(&self) -> &[Metric] {
        &self.metrics
    }

    /// Scalars of optimizer state for `params`, once the optimizer has taken a step.
    pub(crate) fn state_size(&self, params: &[&Param]) -> Option<usize> {
        if self.steps == 0 {
            return None;
        }
        let count = params.iter().map(|p| p.len()).sum();
        Some(self.optimizer.state_size(count, params.len()))
    }

    /// Checks targets against the shape of the output they are compared with (batch first):
    /// their shape, their kind (class ids or values) for the loss, and every class id.
    pub(crate) fn check_targets(&self, y: &Targets, out_shape: &[usize]) -> Result<()> {
        let classes = out_shape.last().copied().unwrap_or(1);
        let mut converted = Vec::new();
        if let Target::Classes(ids) = loss_target(&self.loss, y, out_shape, &mut converted)?
            && let Some((row, &class)) = ids
                .iter()
                .enumerate()
                .find(|&(_, &c)| c as usize >= classes)
        {
            return Err(Error::ClassOutOfRange {
                loss: self.loss.keras_name().to_string(),
                class,
                row,
                classes,
            });
        }
        Ok(())
    }

    /// The loss and metrics of one batch's output (`mask`: the weight of each row of a masked
    /// sequence output).
    pub(crate) fn score(
        &self,
        out: &Array,
        mask: Option<&[f32]>,
        y: &Targets,
    ) -> Result<BatchScore> {
        let mut converted = Vec::new();
        let (target, metrics) = self.prepare(out, mask, y, &mut converted)?;
        let classes = classes(out);
        let loss = self.loss.compute(&out.data, target, classes, mask, None)?;
        Ok(BatchScore {
            loss: loss as f64,
            metrics,
        })
    }

    /// Like [`Compiled::score`], plus the loss gradient: with respect to the output, or, when
    /// the loss fuses with the output's `activation` (a cross-entropy after sigmoid or
    /// softmax), with respect to that activation's input; the flag says which. A loss that is
    /// not finite is an error naming the step.
    pub(crate) fn score_with_grad(
        &self,
        out: &Array,
        mask: Option<&[f32]>,
        y: &Targets,
        activation: Option<Activation>,
        at: StepAt,
    ) -> Result<(BatchScore, Vec<f32>, bool)> {
        let mut converted = Vec::new();
        let (target, metrics) = self.prepare(out, mask, y, &mut converted)?;
        let classes = classes(out);
        let pred = &out.data;
        let mut grad = vec![0.0f32; pred.len()];
        let fused = match activation {
            Some(act) => self
                .loss
                .logits_grad(act, pred, target, classes, mask, &mut grad)?,
            None => false,
        };
        let value = if fused {
            self.loss.compute(pred, target, classes, mask, None)?
        } else {
            self.loss
                .compute(pred, target, classes, mask, Some(&mut grad))?
        };
        if !value.is_finite() {
            return Err(Error::NonFiniteLoss {
                epoch: at.epoch,
                step: at.step,
                value,
            });
        }
        let score = BatchScore {
            loss: value as f64,
            metrics,
        };
        Ok((score, grad, fused))
    }

    /// The loss's view of the targets, and the metrics of one batch.
    fn prepare<'t>(
        &self,
        out: &Array,
        mask: Option<&[f32]>,
        y: &'t Targets,
        converted: &'t mut Vec<f32>,
    ) -> Result<(Target<'t>, Vec<(f64, f64)>)> {
        let target = loss_target(&self.loss, y, &out.shape, converted)?;
        let classes = classes(out);
        let metrics = self
            .metrics
            .iter()
            .map(|m| m.batch(&out.data, y.data(), classes, mask))
            .collect::<Result<Vec<_>>>()?;
        Ok((target, metrics))
    }

    /// One optimizer step on parameters holding a batch's gradients, which are then reset.
    /// A gradient with NaN or infinity is an error naming the weight, and changes nothing; so
    /// is an update that makes a weight NaN or infinite: the weights and the optimizer's
    /// state are put back as they were before the step.
    pub(crate) fn apply(&mut self, params: &mut [&mut Param], at: StepAt) -> Result<()> {
        if let Some(p) = params
            .iter()
            .find(|p| p.grad().iter().any(|g| !g.is_finite()))
        {
            let weight = p.name().to_string();
            params.iter_mut().for_each(|p| p.zero_grad());
            return Err(Error::NonFiniteGradient {
                epoch: at.epoch,
                step: at.step,
                weight,
            });
        }
        // An optimizer that tells beforehand whether its update stays finite needs no copy
        // of the weights and of its state (as large as the weights, or twice) to undo it.
        if let Some(check) = self.optimizer.check_step(params) {
            if let Err(k) = check {
                let weight = params.get(k).map(|p| p.name().to_string());
                params.iter_mut().for_each(|p| p.zero_grad());
                return Err(Error::NonFiniteUpdate {
                    epoch: at.epoch,
                    step: at.step,
                    weight: weight.unwrap_or_default(),
                });
            }
            self.optimizer.step(params);
            params.iter_mut().for_each(|p| p.zero_grad());
            self.steps = self.steps.saturating_add(1);
            return Ok(());
        }
        let before = &mut self.before;
        before.weights.resize_with(params.len(), Vec::new);
        for (saved, p) in before.weights.iter_mut().zip(params.iter()) {
            saved.clear();
            saved.extend_from_slice(p.values());
        }
        self.optimizer.save_state(&mut before.optimizer);
        self.optimizer.step(params);
        params.iter_mut().for_each(|p| p.zero_grad());
        if let Some(p) = params
            .iter()
            .find(|p| check_finite(p.values(), "", "").is_err())
        {
            let weight = p.name().to_string();
            for (p, saved) in params.iter_mut().zip(&before.weights) {
                // Copies of these very weights: the lengths match.
                p.values_mut().copy_from_slice(saved);
            }
            self.optimizer.restore_state(&before.optimizer);
            return Err(Error::NonFiniteUpdate {
                epoch: at.epoch,
                step: at.step,
                weight,
            });
        }
        self.steps = self.steps.saturating_add(1);
        Ok(())
    }
}

/// The size of an output's last axis.
fn classes(out: &Array) -> usize {
    // Outputs have a batch axis and features; 1 keeps a malformed one an error downstream.
    out.shape.last().copied().unwrap_or(1)
}

/// The loss's view of the targets, given the output shape, after checking they fit.
fn loss_target<'t>(
    loss: &Loss,
    y: &'t Targets,
    out_shape: &[usize],
    converted: &'t mut Vec<f32>,
) -> Result<Target<'t>> {
    let Some((&classes, rest)) = out_shape.split_last() else {
        return Err(Error::shape("targets", "an output with features", "()"));
    };
    let sparse = matches!(loss, Loss::SparseCategoricalCrossentropy { .. });
    match y.data() {
        TargetData::Classes(ids) if sparse => {
            if y.shape() != rest {
                return Err(Error::shape(
                    "targets",
                    format!("class ids of shape {}", fmt_shape(rest)),
                    fmt_shape(y.shape()),
                ));
            }
            Ok(Target::Classes(ids))
        }
        TargetData::Values(_) if sparse => Err(Error::config(
            "targets",
            "sparse_categorical_crossentropy takes class ids (u32), not real values: \
             give the class of each sample, or use categorical_crossentropy with one-hot rows",
        )),
        data => {
            let squeezed = classes == 1 && y.shape() == rest;
            if y.shape() != out_shape && !squeezed {
                return Err(Error::shape(
                    "targets",
                    format!(
                        "{}{}",
                        fmt_shape(out_shape),
                        if classes == 1 {
                            format!(" or {}", fmt_shape(rest))
                        } else {
                            String::new()
                        }
                    ),
                    fmt_shape(y.shape()),
                ));
            }
            match data {
                TargetData::Values(v) => Ok(Target::Dense(v)),
                TargetData::Classes(ids) if classes == 1 => {
                    // 0/1 labels given as integers, as Keras accepts them.
                    *converted = ids.iter().map(|&c| c as f32).collect();
                    Ok(Target::Dense(converted))
                }
                TargetData::Classes(_) => Err(Error::config(
                    "targets",
                    format!(
                        "{} takes one-hot rows of {classes} values (f32), not class ids: use \
                         sparse_categorical_crossentropy for class ids",
                        loss.keras_name()
                    ),
                )),
            }
        }
    }
}
