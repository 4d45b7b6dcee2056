//! Sampling the next token from a model's probabilities, and generating text one token at a
//! time with a model that keeps its state between steps.
//!
//! The Keras tutorials generate by calling `predict` on the whole window of the last
//! `maxlen` ids (pre-padded) at every step and sampling from the last output. For a model
//! whose padding is masked (`mask_zero`) and whose recurrence starts from zero, that output
//! is the one obtained by feeding the window's ids one step at a time from a fresh state, so
//! [`generate_ids`] gives the same ids while computing each step once, as long as the text
//! fits the window; beyond it, the tutorials forget the ids that slid out of the window
//! while a step model keeps them in its state. The tutorials also re-tokenize the growing
//! text at every step, which drops a generated padding id (0) and turns ids at or beyond
//! `num_words` into the OOV id; stepping feeds the sampled id back as it is.
//!
//! Which path a model takes:
//! - token-id models built with `model!` (`Embedding => SimpleRNN/LSTM/GRU => Dense(vocab,
//!   softmax)`, stacked, with `TimeDistributed` heads) implement [`StepModel`]: pass
//!   `&mut *model` to [`generate_ids`], [`generate_words`] or [`generate_chars`];
//! - one-hot character models (`Input(_, V) => ..`) step through [`OneHot`]`::new(&model)`;
//! - models that cannot step (a Bidirectional layer, `go_backwards`, pooling over time)
//!   implement [`WindowModel`] like every token model: [`generate_ids_window`],
//!   [`generate_words_window`] and [`generate_chars_window`] re-run `predict` on the last
//!   `window` ids, pre-padded, as the tutorials do.
//!
//! A model whose output is not a softmax is an error on either path.

use rand::RngExt;

mod sequential;
mod window;

pub use sequential::{OneHot, OneHotState};
pub use window::{WindowModel, generate_chars_window, generate_ids_window, generate_words_window};

use crate::error::{Error, Result};
use crate::init::{Rng, seeded_rng};
use crate::text::Tokenizer;

/// A model that can be fed one token per row at a time, keeping its state between calls.
///
/// ```
/// use rnn_runtime::generate::StepModel;
/// /// Always predicts the id after the one fed, over a vocabulary of 3.
/// struct Next;
/// impl StepModel for Next {
///     type State = Vec<f32>;
///     fn start(&mut self, batch: usize) -> rnn_runtime::Result<Vec<f32>> {
///         Ok(vec![0.0; batch * 3])
///     }
///     fn feed<'s>(&mut self, state: &'s mut Vec<f32>, ids: &[u32]) -> rnn_runtime::Result<&'s [f32]> {
///         state.fill(0.0);
///         for (row, &id) in ids.iter().enumerate() {
///             state[row * 3 + (id as usize + 1) % 3] = 1.0;
///         }
///         Ok(state)
///     }
/// }
/// let mut rng = rnn_runtime::seeded_rng(0);
/// let ids = rnn_runtime::generate::generate_ids(
///     &mut Next, &[0], 4, &rnn_runtime::generate::Sampler::Greedy, &mut rng).unwrap();
/// assert_eq!(ids, vec![1, 2, 0, 1]);
/// ```
pub trait StepModel {
    /// What the model carries from one step to the next (recurrent states, output buffer).
    type State;
    /// A fresh state for `batch` rows, as before the first time step.
    fn start(&mut self, batch: usize) -> Result<Self::State>;
    /// Feeds one id per row; returns (batch, vocab) probabilities row-major, borrowed from the state.
    fn feed<'s>(&mut self, state: &'s mut Self::State, ids: &[u32]) -> Result<&'s [f32]>;
}

/// How the next id is drawn from a row of probabilities (a softmax output).
///
/// Temperature works on probabilities as in the Keras char-RNN tutorial: `log(p) / t`, then
/// softmax, so `t < 1` sharpens the distribution and `t > 1` flattens it. `TopK` and `TopP`
/// apply the temperature first, then keep only the `k` most likely ids, or the fewest most
/// likely ids whose probability adds up to at least `p`, and draw among them.
///
/// ```
/// use rnn_runtime::generate::Sampler;
/// let probs = [0.1, 0.6, 0.3];
/// let mut rng = rnn_runtime::seeded_rng(1);
/// assert_eq!(Sampler::Greedy.sample(&probs, &mut rng).unwrap(), 1);
/// let top2 = Sampler::TopK { k: 2, temperature: 1.0 };
/// assert_ne!(top2.sample(&probs, &mut rng).unwrap(), 0);
/// assert!(Sampler::Temperature(0.0).sample(&probs, &mut rng).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Sampler {
    /// The most likely id (the first one on ties), as `np.argmax`.
    Greedy,
    /// A draw from the distribution sharpened or flattened by this temperature (> 0).
    Temperature(f32),
    /// A draw among the `k` (>= 1) most likely ids, after the temperature.
    TopK {
        /// How many ids to keep.
        k: usize,
        /// Applied before keeping the best `k`.
        temperature: f32,
    },
    /// Nucleus sampling: a draw among the fewest most likely ids whose probability (after the
    /// temperature) adds up to at least `p` (0 < p <= 1).
    TopP {
        /// The probability mass to keep.
        p: f32,
        /// Applied before choosing the nucleus.
        temperature: f32,
    },
}

/// Buffers reused from one draw to the next.
#[derive(Default)]
struct Workspace {
    weights: Vec<f64>,
    order: Vec<u32>,
}

impl Sampler {
    /// Checks the parameters: temperature finite and > 0, `k >= 1`, `0 < p <= 1`.
    ///
    /// ```
    /// use rnn_runtime::generate::Sampler;
    /// assert!(Sampler::TopP { p: 0.9, temperature: 0.7 }.check().is_ok());
    /// let err = Sampler::TopK { k: 0, temperature: 1.0 }.check().unwrap_err();
    /// assert!(err.to_string().contains("k is 0"));
    /// ```
    pub fn check(&self) -> Result<()> {
        let temperature = match *self {
            Sampler::Greedy => return Ok(()),
            Sampler::Temperature(t) => t,
            Sampler::TopK { k, temperature } => {
                if k == 0 {
                    return Err(Error::config("Sampler::TopK", "k is 0; keep at least 1 id"));
                }
                temperature
            }
            Sampler::TopP { p, temperature } => {
                if !(p > 0.0 && p <= 1.0) {
                    return Err(Error::config(
                        "Sampler::TopP",
                        format!("p is {p}; it must be in (0, 1]"),
                    ));
                }
                temperature
            }
        };
        if !(temperature.is_finite() && temperature > 0.0) {
            return Err(Error::config(
                "Sampler",
                format!(
                    "temperature is {temperature}; it must be finite and > 0 (use Greedy for \
                     the limit at 0)"
                ),
            ));
        }
        Ok(())
    }

    /// Draws one id from `probs`, one row of probabilities (they need not add up to 1
    /// exactly: they are normalized). Errors on invalid parameters, and on a row that is
    /// empty, has a negative or non-finite value, or adds up to 0.
    ///
    /// ```
    /// use rnn_runtime::generate::Sampler;
    /// let mut rng = rnn_runtime::seeded_rng(3);
    /// let id = Sampler::Temperature(0.5).sample(&[0.2, 0.0, 0.8], &mut rng).unwrap();
    /// assert!(id == 0 || id == 2);
    /// assert!(Sampler::Greedy.sample(&[0.5, f32::NAN], &mut rng).is_err());
    /// ```
    pub fn sample(&self, probs: &[f32], rng: &mut Rng) -> Result<u32> {
        self.check()?;
        self.sample_with(probs, rng, &mut Workspace::default())
    }

    /// [`Sampler::sample`] without checking the parameters again and without allocating
    /// once the workspace has grown to the vocabulary.
    fn sample_with(&self, probs: &[f32], rng: &mut Rng, ws: &mut Workspace) -> Result<u32> {
        let max = check_row(probs)?;
        let (weights, order) = (&mut ws.weights, &mut ws.order);
        match *self {
            Sampler::Greedy => {
                // The first maximum, as `np.argmax`.
                let best = probs.iter().position(|&p| p == max).unwrap_or(0);
                Ok(best as u32)
            }
            Sampler::Temperature(t) => {
                tempered(probs, max, t, weights);
                Ok(draw(weights, rng))
            }
            Sampler::TopK { k, temperature } => {
                tempered(probs, max, temperature, weights);
                ranked(weights, order);
                let keep = k.min(order.len());
                // A total order (weight, then id), so the `k` kept are the same on every run.
                if keep < order.len() {
                    let nth = keep.saturating_sub(1);
                    order.select_nth_unstable_by(nth, |&a, &b| by_weight(weights, a, b));
                    order.truncate(keep);
                }
                order.sort_unstable_by(|&a, &b| by_weight(weights, a, b));
                Ok(draw_among(weights, order, rng))
            }
            Sampler::TopP { p, temperature } => {
                tempered(probs, max, temperature, weights);
                ranked(weights, order);
                order.sort_unstable_by(|&a, &b| by_weight(weights, a, b));
                let total: f64 = weights.iter().sum();
                if p < 1.0 {
                    // Probabilities and p are float32: a mass equal to p at that precision
                    // reaches it (0.4 + 0.25 + 0.2 reaches 0.85).
                    let goal = f64::from(p) * total * (1.0 - f64::from(f32::EPSILON));
                    let mut mass = 0.0;
                    let mut keep = order.len();
                    for (n, &i) in order.iter().enumerate() {
                        mass += weight(weights, i);
                        if mass >= goal {
                            keep = n.saturating_add(1);
                            break;
                        }
                    }
                    order.truncate(keep);
                }
                Ok(draw_among(weights, order, rng))
            }
        }
    }
}

/// Checks one row of probabilities and returns its largest value.
fn check_row(probs: &[f32]) -> Result<f32> {
    if probs.is_empty() {
        return Err(Error::Empty {
            layer: "Sampler".into(),
            what: "the row of probabilities is empty".into(),
        });
    }
    let mut max = 0.0f32;
    for (i, &p) in probs.iter().enumerate() {
        if !p.is_finite() {
            return Err(Error::NonFinite {
                layer: "Sampler".into(),
                what: "the probabilities".into(),
                index: i,
                value: p,
            });
        }
        if p < 0.0 {
            return Err(Error::config(
                "Sampler",
                format!("probability {i} is {p}; probabilities must be >= 0"),
            ));
        }
        max = max.max(p);
    }
    if max == 0.0 {
        return Err(Error::config(
            "Sampler",
            "every probability is 0; there is nothing to draw from",
        ));
    }
    Ok(max)
}

/// `exp(log(p) / t)` up to a constant factor, in float64 as the tutorial's numpy code: the
/// largest probability's term is taken out so that small temperatures cannot overflow.
fn tempered(probs: &[f32], max: f32, t: f32, weights: &mut Vec<f64>) {
    let (log_max, t) = (f64::from(max).ln(), f64::from(t));
    weights.clear();
    weights.extend(probs.iter().map(|&p| {
        if p == 0.0 {
            0.0
        } else {
            ((f64::from(p).ln() - log_max) / t).exp()
        }
    }));
}

/// The ids with a positive weight.
fn ranked(weights: &[f64], order: &mut Vec<u32>) {
    order.clear();
    order.extend((0..weights.len() as u32).filter(|&i| weight(weights, i) > 0.0));
}

/// The weight of id `i`, 0 for an id beyond the weights (ids come from `0..weights.len()`).
fn weight(weights: &[f64], i: u32) -> f64 {
    weights.get(i as usize).copied().unwrap_or(0.0)
}

/// Larger weight first, then smaller id.
fn by_weight(weights: &[f64], a: u32, b: u32) -> std::cmp::Ordering {
    weight(weights, b)
        .total_cmp(&weight(weights, a))
        .then(a.cmp(&b))
}

fn draw_among(weights: &[f64], order: &[u32], rng: &mut Rng) -> u32 {
    let total: f64 = order.iter().map(|&i| weight(weights, i)).sum();
    let mut u = rng.random::<f64>() * total;
    for &i in order {
        let w = weight(weights, i);
        if u < w {
            return i;
        }
        u -= w;
    }
    // Rounding can leave `u` just above the last weight.
    order.last().copied().unwrap_or(0)
}

/// A draw from `weights` (not normalized).
fn draw(weights: &[f64], rng: &mut Rng) -> u32 {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    let mut last = 0;
    for (i, &w) in weights.iter().enumerate() {
        if w > 0.0 {
            if u < w {
                return i as u32;
            }
            u -= w;
            last = i;
        }
    }
    last as u32
}

/// Feeds `prime` one id at a time, then draws `n` ids, feeding each back; returns the `n`
/// drawn ids (without the prime).
///
/// Errors when `prime` is empty (there is no distribution to draw the first id from), on
/// invalid sampler parameters, and when the model's rows are invalid or change length.
///
/// ```
/// # use rnn_runtime::generate::{StepModel, Sampler, generate_ids};
/// # struct Repeat;
/// # impl StepModel for Repeat {
/// #     type State = Vec<f32>;
/// #     fn start(&mut self, _: usize) -> rnn_runtime::Result<Vec<f32>> { Ok(vec![0.0; 4]) }
/// #     fn feed<'s>(&mut self, s: &'s mut Vec<f32>, ids: &[u32]) -> rnn_runtime::Result<&'s [f32]> {
/// #         s.fill(0.0);
/// #         s[ids[0] as usize] = 1.0;
/// #         Ok(s)
/// #     }
/// # }
/// let mut rng = rnn_runtime::seeded_rng(0);
/// // `Repeat` predicts the id it was fed.
/// assert_eq!(generate_ids(&mut Repeat, &[1, 3], 2, &Sampler::Greedy, &mut rng).unwrap(), [3, 3]);
/// assert!(generate_ids(&mut Repeat, &[], 2, &Sampler::Greedy, &mut rng).is_err());
/// ```
pub fn generate_ids<M: StepModel + ?Sized>(
    model: &mut M,
    prime: &[u32],
    n: usize,
    sampler: &Sampler,
    rng: &mut Rng,
) -> Result<Vec<u32>> {
    sampler.check()?;
    let Some((&last, rest)) = prime.split_last() else {
        return Err(Error::Empty {
            layer: "generate".into(),
            what: "the prime is empty; give at least one id to start from".into(),
        });
    };
    let mut state = model.start(1)?;
    for &id in rest {
        model.feed(&mut state, &[id])?;
    }
    let mut ws = Workspace::default();
    let mut out = Vec::with_capacity(n);
    let mut fed = last;
    let mut vocab = None;
    while out.len() < n {
        let probs = model.feed(&mut state, &[fed])?;
        same_vocab(&mut vocab, probs.len(), out.len().saturating_add(1))?;
        fed = sampler.sample_with(probs, rng, &mut ws)?;
        out.push(fed);
    }
    Ok(out)
}

/// Generates `n` words after `seed_text` with a word-level tokenizer, and returns the seed
/// text followed by `" " + word` for each, as the Keras tutorials print it (an id without a
/// word, such as the padding id 0, adds only the space).
///
/// Errors when the tokenizer is character-level (use [`generate_chars`]) or when the seed
/// text has no word the tokenizer knows.
///
/// ```
/// # use rnn_runtime::generate::{StepModel, Sampler, generate_words};
/// # struct Repeat;
/// # impl StepModel for Repeat {
/// #     type State = Vec<f32>;
/// #     fn start(&mut self, _: usize) -> rnn_runtime::Result<Vec<f32>> { Ok(vec![0.0; 4]) }
/// #     fn feed<'s>(&mut self, s: &'s mut Vec<f32>, ids: &[u32]) -> rnn_runtime::Result<&'s [f32]> {
/// #         s.fill(0.0);
/// #         s[ids[0] as usize] = 1.0;
/// #         Ok(s)
/// #     }
/// # }
/// let mut tok = rnn_runtime::text::Tokenizer::new();
/// tok.fit_on_texts(&["la la land"]);
/// // `Repeat` predicts the id it was fed.
/// let text = generate_words(&mut Repeat, &tok, "Land", 2, &Sampler::Greedy, 0).unwrap();
/// assert_eq!(text, "Land land land");
/// ```
pub fn generate_words<M: StepModel + ?Sized>(
    model: &mut M,
    tokenizer: &Tokenizer,
    seed_text: &str,
    n: usize,
    sampler: &Sampler,
    seed: u64,
) -> Result<String> {
    if tokenizer.char_level() {
        return Err(Error::config(
            "generate_words",
            "the tokenizer is character-level; use generate_chars",
        ));
    }
    let ids = generate_from_text(model, tokenizer, seed_text, n, sampler, seed)?;
    Ok(append_tokens(seed_text, tokenizer, &ids, " "))
}

/// Generates `n` characters after `seed_text` with a character-level tokenizer, and returns
/// the seed text followed by them (an id without a character adds nothing).
///
/// Errors when the tokenizer is not character-level (use [`generate_words`]) or when the
/// seed text has no character the tokenizer knows.
///
/// ```
/// # use rnn_runtime::generate::{StepModel, Sampler, generate_chars};
/// # struct Next;
/// # impl StepModel for Next {
/// #     type State = Vec<f32>;
/// #     fn start(&mut self, _: usize) -> rnn_runtime::Result<Vec<f32>> { Ok(vec![0.0; 4]) }
/// #     fn feed<'s>(&mut self, s: &'s mut Vec<f32>, ids: &[u32]) -> rnn_runtime::Result<&'s [f32]> {
/// #         s.fill(0.0);
/// #         s[(ids[0] as usize % 3) + 1] = 1.0;
/// #         Ok(s)
/// #     }
/// # }
/// let mut tok = rnn_runtime::text::Tokenizer::builder().char_level(true).build().unwrap();
/// tok.fit_on_texts(&["aaabbc"]);
/// // `Next` predicts the id after the one fed: a -> b -> c -> a.
/// let text = generate_chars(&mut Next, &tok, "A", 4, &Sampler::Greedy, 0).unwrap();
/// assert_eq!(text, "Abcab");
/// ```
pub fn generate_chars<M: StepModel + ?Sized>(
    model: &mut M,
    tokenizer: &Tokenizer,
    seed_text: &str,
    n: usize,
    sampler: &Sampler,
    seed: u64,
) -> Result<String> {
    if !tokenizer.char_level() {
        return Err(Error::config(
            "generate_chars",
            "the tokenizer is word-level; use generate_words",
        ));
    }
    let ids = generate_from_text(model, tokenizer, seed_text, n, sampler, seed)?;
    Ok(append_tokens(seed_text, tokenizer, &ids, ""))
}

fn generate_from_text<M: StepModel + ?Sized>(
    model: &mut M,
    tokenizer: &Tokenizer,
    seed_text: &str,
    n: usize,
    sampler: &Sampler,
    seed: u64,
) -> Result<Vec<u32>> {
    let prime = prime_of(tokenizer, seed_text)?;
    generate_ids(model, &prime, n, sampler, &mut seeded_rng(seed))
}

/// Checks that step `step` returned as many probabilities as the first step did (recorded in
/// `vocab`), so that a model whose output width changes is an error, not a wrong id.
fn same_vocab(vocab: &mut Option<usize>, len: usize, step: usize) -> Result<()> {
    let first = *vocab.get_or_insert(len);
    if first != len {
        return Err(Error::config(
            "generate",
            format!(
                "the model returned {first} probabilities at the first step and {len} at step {step}"
            ),
        ));
    }
    Ok(())
}

/// The seed text followed by the tokens of `ids`, each after `sep` (a space for words, as the
/// tutorials print them; nothing for characters). An id without a token adds only `sep`.
fn append_tokens(seed_text: &str, tokenizer: &Tokenizer, ids: &[u32], sep: &str) -> String {
    let mut out = seed_text.to_string();
    for &id in ids {
        out.push_str(sep);
        out.push_str(tokenizer.word(id).unwrap_or(""));
    }
    out
}

/// The seed text's ids, as `texts_to_sequences` gives them: unknown words are dropped, or
/// become the OOV id when the tokenizer has an OOV token. Errors when no id is left.
fn prime_of(tokenizer: &Tokenizer, seed_text: &str) -> Result<Vec<u32>> {
    let prime = tokenizer.text_to_sequence(seed_text);
    if prime.is_empty() {
        return Err(Error::Empty {
            layer: "generate".into(),
            what: format!("the seed text {seed_text:?} has no token the tokenizer knows"),
        });
    }
    Ok(prime)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROBS: [f32; 5] = [0.1, 0.25, 0.05, 0.4, 0.2];

    fn frequencies(sampler: Sampler, probs: &[f32], draws: usize, seed: u64) -> Vec<f64> {
        let mut rng = seeded_rng(seed);
        let mut counts = vec![0usize; probs.len()];
        for _ in 0..draws {
            counts[sampler.sample(probs, &mut rng).unwrap() as usize] += 1;
        }
        counts.iter().map(|&c| c as f64 / draws as f64).collect()
    }

    /// Every frequency within 5 standard deviations of its probability.
    fn assert_matches(freq: &[f64], want: &[f64], draws: usize) {
        for (i, (&f, &p)) in freq.iter().zip(want).enumerate() {
            let sd = (p * (1.0 - p) / draws as f64).sqrt();
            assert!(
                (f - p).abs() <= 5.0 * sd + 1e-12,
                "id {i}: frequency {f}, probability {p} (sd {sd})"
            );
        }
    }

    fn normalized(w: &[f64]) -> Vec<f64> {
        let s: f64 = w.iter().sum();
        w.iter().map(|v| v / s).collect()
    }

    #[test]
    fn greedy_is_argmax_first_on_ties() {
        let mut rng = seeded_rng(0);
        assert_eq!(Sampler::Greedy.sample(&PROBS, &mut rng).unwrap(), 3);
        assert_eq!(
            Sampler::Greedy.sample(&[0.3, 0.4, 0.4], &mut rng).unwrap(),
            1
        );
    }

    #[test]
    fn temperature_one_draws_the_distribution() {
        let draws = 40_000;
        let freq = frequencies(Sampler::Temperature(1.0), &PROBS, draws, 1);
        let want: Vec<f64> = PROBS.iter().map(|&p| f64::from(p)).collect();
        assert_matches(&freq, &normalized(&want), draws);
    }

    #[test]
    fn temperature_sharpens_as_log_p_over_t() {
        // softmax(log(p) / 0.5) is p^2, normalized.
        let draws = 40_000;
        let freq = frequencies(Sampler::Temperature(0.5), &PROBS, draws, 2);
        let want: Vec<f64> = PROBS.iter().map(|&p| f64::from(p).powi(2)).collect();
        assert_matches(&freq, &normalized(&want), draws);
        // And t = 2 flattens to sqrt(p).
        let freq = frequencies(Sampler::Temperature(2.0), &PROBS, draws, 3);
        let want: Vec<f64> = PROBS.iter().map(|&p| f64::from(p).sqrt()).collect();
        assert_matches(&freq, &normalized(&want), draws);
    }

    #[test]
    fn small_temperature_approaches_greedy() {
        let freq = frequencies(Sampler::Temperature(1e-3), &PROBS, 2_000, 4);
        assert_eq!(freq[3], 1.0);
        // Overflow-free even for tiny probabilities.
        let mut rng = seeded_rng(5);
        let tiny = [1e-30, 1e-38, 2e-30];
        assert_eq!(
            Sampler::Temperature(1e-4).sample(&tiny, &mut rng).unwrap(),
            2
        );
    }

    #[test]
    fn top_k_stays_within_the_k_best_and_renormalizes() {
        let draws = 40_000;
        let freq = frequencies(
            Sampler::TopK {
                k: 2,
                temperature: 1.0,
            },
            &PROBS,
            draws,
            6,
        );
        assert_eq!((freq[0], freq[2], freq[4]), (0.0, 0.0, 0.0));
        assert_matches(&freq, &normalized(&[0.0, 0.25, 0.0, 0.4, 0.0]), draws);
        // k = 1 is greedy; k beyond the vocabulary keeps everything.
        let freq = frequencies(
            Sampler::TopK {
                k: 1,
                temperature: 3.0,
            },
            &PROBS,
            500,
            7,
        );
        assert_eq!(freq[3], 1.0);
        let freq = frequencies(
            Sampler::TopK {
                k: 50,
                temperature: 1.0,
            },
            &PROBS,
            draws,
            8,
        );
        let want: Vec<f64> = PROBS.iter().map(|&p| f64::from(p)).collect();
        assert_matches(&freq, &normalized(&want), draws);
    }

    #[test]
    fn top_p_keeps_the_smallest_set_reaching_p() {
        let draws = 40_000;
        // Sorted: 0.4, 0.25, 0.2, 0.1, 0.05; 0.4 + 0.25 = 0.65 >= 0.6.
        let freq = frequencies(
            Sampler::TopP {
                p: 0.6,
                temperature: 1.0,
            },
            &PROBS,
            draws,
            9,
        );
        assert_matches(&freq, &normalized(&[0.0, 0.25, 0.0, 0.4, 0.0]), draws);
        // Exactly reaching p: 0.4 + 0.25 + 0.2 = 0.85.
        let freq = frequencies(
            Sampler::TopP {
                p: 0.85,
                temperature: 1.0,
            },
            &PROBS,
            draws,
            10,
        );
        assert_eq!((freq[0], freq[2]), (0.0, 0.0));
        assert!(freq[4] > 0.0);
        // A small p keeps only the best; p = 1 keeps all.
        let freq = frequencies(
            Sampler::TopP {
                p: 0.01,
                temperature: 1.0,
            },
            &PROBS,
            500,
            11,
        );
        assert_eq!(freq[3], 1.0);
        let freq = frequencies(
            Sampler::TopP {
                p: 1.0,
                temperature: 1.0,
            },
            &PROBS,
            draws,
            12,
        );
        let want: Vec<f64> = PROBS.iter().map(|&p| f64::from(p)).collect();
        assert_matches(&freq, &normalized(&want), draws);
    }

    #[test]
    fn the_same_seed_draws_the_same_ids() {
        for sampler in [
            Sampler::Temperature(0.8),
            Sampler::TopK {
                k: 3,
                temperature: 1.2,
            },
            Sampler::TopP {
                p: 0.9,
                temperature: 0.7,
            },
        ] {
            let draw = |seed| {
                let mut rng = seeded_rng(seed);
                (0..50)
                    .map(|_| sampler.sample(&PROBS, &mut rng).unwrap())
                    .collect::<Vec<_>>()
            };
            assert_eq!(draw(13), draw(13));
            assert_ne!(draw(13), draw(14));
        }
    }

    #[test]
    fn bad_parameters_and_rows_are_refused() {
        let mut rng = seeded_rng(0);
        for bad in [
            Sampler::Temperature(0.0),
            Sampler::Temperature(-1.0),
            Sampler::Temperature(f32::NAN),
            Sampler::Temperature(f32::INFINITY),
            Sampler::TopK {
                k: 0,
                temperature: 1.0,
            },
            Sampler::TopP {
                p: 0.0,
                temperature: 1.0,
            },
            Sampler::TopP {
                p: 1.5,
                temperature: 1.0,
            },
            Sampler::TopP {
                p: f32::NAN,
                temperature: 1.0,
            },
        ] {
            assert!(bad.sample(&PROBS, &mut rng).is_err(), "{bad:?}");
        }
        let msg = |probs: &[f32]| {
            Sampler::Greedy
                .sample(probs, &mut rng.clone())
                .unwrap_err()
                .to_string()
        };
        assert!(msg(&[]).contains("empty"));
        assert!(msg(&[0.5, -0.1]).contains("probability 1 is -0.1"));
        assert!(msg(&[0.5, f32::INFINITY]).contains("inf at index 1"));
        assert!(msg(&[0.0, 0.0]).contains("every probability is 0"));
    }

    /// A bigram table over 4 ids: row `i` is the distribution of the id after `i`. Counts
    /// its steps, and checks that it is fed one id per row.
    struct Bigram {
        table: [[f32; 4]; 4],
        steps: usize,
    }

    impl StepModel for Bigram {
        type State = Vec<f32>;
        fn start(&mut self, batch: usize) -> Result<Vec<f32>> {
            Ok(vec![0.0; batch * 4])
        }
        fn feed<'s>(&mut self, state: &'s mut Vec<f32>, ids: &[u32]) -> Result<&'s [f32]> {
            assert_eq!(ids.len() * 4, state.len());
            self.steps += 1;
            for (row, &id) in state.chunks_exact_mut(4).zip(ids) {
                row.copy_from_slice(&self.table[id as usize]);
            }
            Ok(state)
        }
    }

    fn bigram() -> Bigram {
        Bigram {
            table: [
                [0.0, 0.9, 0.1, 0.0],
                [0.0, 0.0, 0.8, 0.2],
                [0.0, 0.3, 0.0, 0.7],
                [0.0, 0.6, 0.4, 0.0],
            ],
            steps: 0,
        }
    }

    #[test]
    fn greedy_generation_follows_the_table() {
        let mut model = bigram();
        let ids = generate_ids(
            &mut model,
            &[0, 0, 1],
            5,
            &Sampler::Greedy,
            &mut seeded_rng(0),
        );
        // After 1: 2; after 2: 3; after 3: 1; ...
        assert_eq!(ids.unwrap(), [2, 3, 1, 2, 3]);
        // Three prime steps, then four of the five generated ids fed back... plus the last
        // prime step that produced the first one: 3 + 4 feeds.
        assert_eq!(model.steps, 7);
        let none = generate_ids(&mut bigram(), &[1], 0, &Sampler::Greedy, &mut seeded_rng(0));
        assert_eq!(none.unwrap(), Vec::<u32>::new());
    }

    #[test]
    fn sampled_generation_is_reproducible_and_follows_the_table() {
        let sampler = Sampler::Temperature(1.0);
        let run = |seed| generate_ids(&mut bigram(), &[1], 400, &sampler, &mut seeded_rng(seed));
        let ids = run(21).unwrap();
        assert_eq!(ids, run(21).unwrap());
        let mut prev = 1;
        let mut after_one = [0usize; 4];
        for &id in &ids {
            assert!(
                bigram().table[prev as usize][id as usize] > 0.0,
                "{prev} -> {id}"
            );
            if prev == 1 {
                after_one[id as usize] += 1;
            }
            prev = id;
        }
        assert!(after_one[2] > after_one[3] && after_one[3] > 0);
    }

    #[test]
    fn generation_errors_are_clear() {
        let mut rng = seeded_rng(0);
        let err = generate_ids(&mut bigram(), &[], 3, &Sampler::Greedy, &mut rng).unwrap_err();
        assert!(err.to_string().contains("the prime is empty"));
        let bad = Sampler::TopK {
            k: 0,
            temperature: 1.0,
        };
        assert!(generate_ids(&mut bigram(), &[1], 3, &bad, &mut rng).is_err());
        // A row of zeros (after id 0 the table never returns to 0; make it all zero).
        let mut dead = bigram();
        dead.table[2] = [0.0; 4];
        let err = generate_ids(&mut dead, &[1], 3, &Sampler::Greedy, &mut rng).unwrap_err();
        assert!(err.to_string().contains("every probability is 0"));
    }
}
