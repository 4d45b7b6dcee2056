//! The `model!` macro of the `rnn` crate.
//!
//! The macro runs three separate stages:
//!
//! - parse: `parse` turns tokens into the plain syntax tree of `ast`;
//! - check: `check` walks the layer chain, binding (`bind`) each layer's arguments to its
//!   parameters, checking it in `layers` against the shape that flows in (`shapes`) and
//!   naming it as Keras does (`naming`), into the typed model of `ir`; every error, worded
//!   in `messages`, is collected in a `ctxt::Ctxt`;
//! - expand: `expand` writes the statically shaped network from the `ir` alone, or
//!   `fallback` a stand-in when the model has errors, whose API `api` mirrors from the
//!   runtime's `#[model_api]` blocks.
//!
//! `model_from_keras!` (`from_keras`) adds a stage in front: a `.keras` archive's config
//! becomes the layer calls of `model!`, which then go through the same check and expand;
//! `keras` writes the Keras architecture that the runtime checks Keras files against.
//!
//! Keras' facts (names, arguments and defaults, parameter formulas) come from `rnn_spec`.
//! Use the macro through the `rnn` crate: `use rnn::prelude::*;`.

mod api;
mod ast;
mod bind;
mod check;
mod ctxt;
mod expand;
mod fallback;
mod from_keras;
mod ir;
mod keras;
mod layers;
mod messages;
mod naming;
mod parse;
mod shapes;
mod suggest;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;
use quote::quote;

use crate::ast::Invocation;

/// Declares a recurrent network as a chain of Keras layers, checked at compile time.
///
/// Named models (one or more per invocation; attributes and doc comments pass through,
/// `#[params = N]` is checked against the real count):
///
/// ```ignore
/// model! {
///     /// Sentiment of a movie review.
///     #[params = 529_441]
///     pub struct Quiz = Embedding(5000, 100) => SimpleRNN(128) => Dense(1, sigmoid);
/// }
/// let mut model = Quiz::new(42);
/// ```
///
/// `Embedding(_, 16)` takes its vocabulary at construction (`Name::with_vocab(vocab, seed)`,
/// `Name::try_with_vocab`) instead of `new(seed)`; `try_new(seed)` returns an allocation
/// failure as an error. A model above 64 billion parameters is a compile error;
/// `#[max_params = N]` changes the limit.
///
/// Or a value of a generated type (`#[seed = N]` optional, default 0):
///
/// ```ignore
/// let mut net = model!(Input(10, 5) => LSTM(3) => Dense(2, softmax));
/// ```
///
/// See the `rnn` crate's README for the layers, their arguments and defaults.
#[proc_macro]
pub fn model(input: TokenStream) -> TokenStream {
    expand_invocation(input.into()).into()
}

/// A model generated from a Keras 3 `.keras` archive: its `config.json` is read at compile
/// time (the path is relative to the crate's `Cargo.toml`) and becomes the same typed model
/// that `model!` would generate from the same layers, with the same names, shapes and
/// `PARAMS`. `from_keras()` builds it with the archive's weights, embedded in the binary.
/// A config this library cannot express is a compile error naming the layer and field.
///
/// ```ignore
/// model_from_keras! {
///     pub struct Sentiment = "models/sentiment.keras";
/// }
/// let model = Sentiment::from_keras()?;
/// // Or a value: `let model = model_from_keras!("models/sentiment.keras")?;`
/// ```
#[proc_macro]
pub fn model_from_keras(input: TokenStream) -> TokenStream {
    from_keras::expand(input.into()).into()
}

/// Mirrors the public methods of an inherent `impl` block of the runtime's model onto the
/// stand-in that `model!` emits for a model with errors (see the `api` module).
#[doc(hidden)]
#[proc_macro_attribute]
pub fn model_api(args: TokenStream, item: TokenStream) -> TokenStream {
    api::expand(args.into(), item.into()).into()
}

fn expand_invocation(input: TokenStream2) -> TokenStream2 {
    let invocation: Invocation = match syn::parse2(input) {
        Ok(inv) => inv,
        Err(e) => return e.to_compile_error(),
    };
    match invocation {
        Invocation::Items(items) => items
            .iter()
            .map(|item| {
                let checked = check::check(
                    &item.layers,
                    item.params.as_ref(),
                    item.max_params.as_ref(),
                    item.ident.span(),
                );
                let errors = checked.errors.iter().map(syn::Error::to_compile_error);
                let code = match &checked.model {
                    Some(model) => expand::model_item(&item.attrs, &item.vis, &item.ident, model),
                    None => fallback::placeholder_item(&item.attrs, &item.vis, &item.ident),
                };
                quote!(#(#errors)* #code)
            })
            .collect(),
        Invocation::Expr(expr) => {
            let checked = check::check(
                &expr.layers,
                expr.params.as_ref(),
                expr.max_params.as_ref(),
                expr.span,
            );
            let errors = checked.errors.iter().map(syn::Error::to_compile_error);
            let seed = match &expr.seed {
                Some(seed) => quote!(#seed),
                None => quote!(0),
            };
            let code = match &checked.model {
                Some(model) => expand::model_expr(model, seed),
                None => fallback::placeholder_expr(),
            };
            quote!({ #(#errors)* #code })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_a_named_model_with_its_chain_and_assertions() {
        let out = expand_invocation(quote! {
            #[params = 42] pub struct M = Input(2, 10) => SimpleRNN(3);
        })
        .to_string();
        assert!(out.contains("pub struct M"), "{out}");
        assert!(
            out.contains(":: rnn :: SimpleRnn < 10 , 3 , :: rnn :: Last , true >"),
            "{out}"
        );
        assert!(out.contains("\"sequential/simple_rnn\""), "{out}");
        assert!(out.contains("PARAMS == 42"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn errors_come_with_a_placeholder() {
        let out = expand_invocation(quote!(struct M = Input(_, 8) => Lstm(4);)).to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(out.contains("Placeholder"), "{out}");
    }

    #[test]
    fn expression_form_returns_a_value() {
        let out = expand_invocation(quote!(#[seed = 3] Input(_, 4) => GRU(2))).to_string();
        assert!(out.contains("Model :: new (3)"), "{out}");
    }
}
