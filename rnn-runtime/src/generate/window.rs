//! Generation by re-running `predict` on the last ids, pre-padded to a fixed window, at every
//! step: the Keras tutorials' loop, and the only way for models that cannot step
//! (Bidirectional layers read each window from both ends).

use super::{Sampler, Workspace, append_tokens, prime_of, same_vocab};
use crate::error::{Error, Result};
use crate::init::{Rng, seeded_rng};
use crate::layer::Stack;
use crate::model::Sequential;
use crate::output::ModelOutput;
use crate::tensor::TokenBatch;
use crate::text::Tokenizer;

/// A model that gives the distribution of the next id after a window of ids (batch 1),
/// computed from the whole window each time.
///
/// ```
/// use rnn_runtime::generate::WindowModel;
/// /// Predicts the last id of the window again, over a vocabulary of 4.
/// struct Echo;
/// impl WindowModel for Echo {
///     fn next_probs(&mut self, window: &[u32]) -> rnn_runtime::Result<Vec<f32>> {
///         let mut p = vec![0.0; 4];
///         p[*window.last().unwrap() as usize] = 1.0;
///         Ok(p)
///     }
/// }
/// let ids = rnn_runtime::generate::generate_ids_window(
///     &mut Echo, &[2], 3, 4, &rnn_runtime::generate::Sampler::Greedy, &mut rnn_runtime::seeded_rng(0));
/// assert_eq!(ids.unwrap(), [2, 2, 2]);
/// ```
pub trait WindowModel {
    /// The probabilities of the next id after `window`, one per id of the vocabulary.
    fn next_probs(&mut self, window: &[u32]) -> Result<Vec<f32>>;
}

/// Any token-id model ending in a softmax: `predict` on the window as a batch of one, and
/// the last time step's row for `return_sequences` models. Layers that cannot step, such as
/// Bidirectional, are fine here. A model type made by `model!` is passed as `&mut *model`.
///
/// ```
/// use rnn_runtime::*;
/// use rnn_runtime::generate::WindowModel;
/// static SPEC: ModelSpec = ModelSpec { name: "sequential", input_time: None, input_batch: None, layers: &[] };
/// let mut rng = seeded_rng(0);
/// let mut model = Sequential::new(
///     stack::<TokenBatch, _>(Embedding::<6, 4>::new("sequential/embedding", false, &mut rng))
///         .then(Bidirectional::<Lstm<4, 3>, 6, Concat>::new(
///             "sequential/bidirectional", "lstm", RnnConfig::default(), &mut rng))
///         .then(Dense::<6, 6>::new("sequential/dense", Activation::Softmax, &mut rng)),
///     &SPEC,
/// );
/// let p = model.next_probs(&[0, 0, 3, 1]).unwrap();
/// assert_eq!(p.len(), 6);
/// assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
/// ```
impl<S> WindowModel for Sequential<S>
where
    S: Stack<In = TokenBatch>,
    S::Out: ModelOutput,
{
    fn next_probs(&mut self, window: &[u32]) -> Result<Vec<f32>> {
        super::sequential::check_softmax(self, "generate")?;
        let out = self.predict(TokenBatch::new(vec![window.to_vec()])?)?;
        let main = out.main();
        let vocab = main.shape.last().copied().unwrap_or(0);
        let start = main.data.len().saturating_sub(vocab);
        Ok(main.data.get(start..).unwrap_or_default().to_vec())
    }
}

/// Generates `n` ids after `prime` as the Keras tutorials do: at every step the last
/// `window` ids (prime and generated so far) are pre-padded with 0 to `window` ids
/// (`pad_sequences(.., maxlen = window, padding = 'pre')`), the model predicts from them,
/// and the sampler draws the next id. A drawn 0 (padding) is not added to the context, as
/// the tutorials' re-tokenizing of the text drops it; it is still returned.
///
/// Errors when `prime` is empty, `window` is 0, on invalid sampler parameters, and when the
/// model's rows are invalid or change length.
///
/// ```
/// # use rnn_runtime::generate::{WindowModel, Sampler, generate_ids_window};
/// # struct Count;
/// # impl WindowModel for Count {
/// #     fn next_probs(&mut self, w: &[u32]) -> rnn_runtime::Result<Vec<f32>> {
/// #         let mut p = vec![0.0; 8];
/// #         p[w.iter().filter(|&&id| id != 0).count()] = 1.0;
/// #         Ok(p)
/// #     }
/// # }
/// // `Count` predicts how many ids of the window are not padding: at most the window.
/// let mut rng = rnn_runtime::seeded_rng(0);
/// let ids = generate_ids_window(&mut Count, &[5], 4, 3, &Sampler::Greedy, &mut rng).unwrap();
/// assert_eq!(ids, [1, 2, 3, 3]);
/// assert!(generate_ids_window(&mut Count, &[], 4, 3, &Sampler::Greedy, &mut rng).is_err());
/// ```
pub fn generate_ids_window<M: WindowModel + ?Sized>(
    model: &mut M,
    prime: &[u32],
    n: usize,
    window: usize,
    sampler: &Sampler,
    rng: &mut Rng,
) -> Result<Vec<u32>> {
    sampler.check()?;
    if prime.is_empty() {
        return Err(Error::Empty {
            layer: "generate".into(),
            what: "the prime is empty; give at least one id to start from".into(),
        });
    }
    if window == 0 {
        return Err(Error::config(
            "generate",
            "the window is 0 ids; give the model's input length",
        ));
    }
    let mut context: Vec<u32> = prime.to_vec();
    let mut padded = vec![0u32; window];
    let mut ws = Workspace::default();
    let mut out = Vec::with_capacity(n);
    let mut vocab = None;
    while out.len() < n {
        let tail = context
            .get(context.len().saturating_sub(window)..)
            .unwrap_or_default();
        // `tail` holds at most `window` ids: the front of `padded` is padding.
        let (pad, rest) = padded.split_at_mut(window.saturating_sub(tail.len()));
        pad.fill(0);
        rest.copy_from_slice(tail);
        let probs = model.next_probs(&padded)?;
        same_vocab(&mut vocab, probs.len(), out.len().saturating_add(1))?;
        let id = sampler.sample_with(&probs, rng, &mut ws)?;
        if id != 0 {
            context.push(id);
        }
        out.push(id);
    }
    Ok(out)
}

/// [`super::generate_words`] through a window model: `n` words after `seed_text`, each
/// predicted from the last `window` word ids (the model's `input_length`, `max_len - 1` in
/// the tutorials), returned as the seed text followed by `" " + word` for each.
///
/// ```
/// # use rnn_runtime::generate::{WindowModel, Sampler, generate_words_window};
/// # struct Echo;
/// # impl WindowModel for Echo {
/// #     fn next_probs(&mut self, w: &[u32]) -> rnn_runtime::Result<Vec<f32>> {
/// #         let mut p = vec![0.0; 4];
/// #         p[*w.last().unwrap() as usize] = 1.0;
/// #         Ok(p)
/// #     }
/// # }
/// let mut tok = rnn_runtime::text::Tokenizer::new();
/// tok.fit_on_texts(&["la la land"]);
/// // `Echo` predicts the last id of the window; "moon" is unknown and dropped.
/// let text = generate_words_window(&mut Echo, &tok, "Land moon", 2, 5, &Sampler::Greedy, 0).unwrap();
/// assert_eq!(text, "Land moon land land");
/// assert!(generate_words_window(&mut Echo, &tok, "moon", 2, 5, &Sampler::Greedy, 0).is_err());
/// ```
pub fn generate_words_window<M: WindowModel + ?Sized>(
    model: &mut M,
    tokenizer: &Tokenizer,
    seed_text: &str,
    n: usize,
    window: usize,
    sampler: &Sampler,
    seed: u64,
) -> Result<String> {
    if tokenizer.char_level() {
        return Err(Error::config(
            "generate_words_window",
            "the tokenizer is character-level; use generate_chars_window",
        ));
    }
    let prime = prime_of(tokenizer, seed_text)?;
    let ids = generate_ids_window(model, &prime, n, window, sampler, &mut seeded_rng(seed))?;
    Ok(append_tokens(seed_text, tokenizer, &ids, " "))
}

/// [`super::generate_chars`] through a window model: `n` characters after `seed_text`,
/// each predicted from the last `window` character ids.
///
/// ```
/// # use rnn_runtime::generate::{WindowModel, Sampler, generate_chars_window};
/// # struct Next;
/// # impl WindowModel for Next {
/// #     fn next_probs(&mut self, w: &[u32]) -> rnn_runtime::Result<Vec<f32>> {
/// #         let mut p = vec![0.0; 4];
/// #         p[(*w.last().unwrap() as usize % 3) + 1] = 1.0;
/// #         Ok(p)
/// #     }
/// # }
/// let mut tok = rnn_runtime::text::Tokenizer::builder().char_level(true).build().unwrap();
/// tok.fit_on_texts(&["aaabbc"]);
/// let text = generate_chars_window(&mut Next, &tok, "a", 4, 2, &Sampler::Greedy, 0).unwrap();
/// assert_eq!(text, "abcab");
/// ```
pub fn generate_chars_window<M: WindowModel + ?Sized>(
    model: &mut M,
    tokenizer: &Tokenizer,
    seed_text: &str,
    n: usize,
    window: usize,
    sampler: &Sampler,
    seed: u64,
) -> Result<String> {
    if !tokenizer.char_level() {
        return Err(Error::config(
            "generate_chars_window",
            "the tokenizer is word-level; use generate_words_window",
        ));
    }
    let prime = prime_of(tokenizer, seed_text)?;
    let ids = generate_ids_window(model, &prime, n, window, sampler, &mut seeded_rng(seed))?;
    Ok(append_tokens(seed_text, tokenizer, &ids, ""))
}
