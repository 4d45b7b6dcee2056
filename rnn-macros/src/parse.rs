//! Parsing: tokens to [`crate::ast`]. Only syntax is checked here; names, argument types and
//! shapes are the checker's business, so that all such errors can be reported together.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, Meta, Token, Visibility, parenthesized};

use crate::ast::{Arg, Invocation, LayerCall, ModelExpr, ModelItem, Value};

impl Parse for Invocation {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "model! needs at least one layer, e.g. `model!(Input(_, 8) => LSTM(16))`",
            ));
        }
        let fork = input.fork();
        fork.call(Attribute::parse_outer)?;
        fork.parse::<Visibility>()?;
        if fork.peek(Token![struct]) {
            let mut items = Vec::new();
            while !input.is_empty() {
                items.push(input.parse()?);
            }
            Ok(Invocation::Items(items))
        } else {
            input.parse().map(|e| Invocation::Expr(Box::new(e)))
        }
    }
}

/// Our own attributes.
#[derive(Default)]
struct Ours {
    params: Option<Expr>,
    max_params: Option<Expr>,
    seed: Option<Expr>,
}

/// Separates our own attributes (`#[params = N]`, `#[max_params = N]`, `#[seed = N]`) from
/// the ones to pass through.
fn split_attrs(attrs: Vec<Attribute>, seed_allowed: bool) -> syn::Result<(Vec<Attribute>, Ours)> {
    let (mut rest, mut ours) = (Vec::new(), Ours::default());
    let Ours {
        params,
        max_params,
        seed,
    } = &mut ours;
    for attr in attrs {
        let slot = if attr.path().is_ident("params") {
            &mut *params
        } else if attr.path().is_ident("max_params") {
            &mut *max_params
        } else if seed_allowed && attr.path().is_ident("seed") {
            &mut *seed
        } else {
            rest.push(attr);
            continue;
        };
        let name = attr
            .path()
            .get_ident()
            .map(Ident::to_string)
            .unwrap_or_default();
        let Meta::NameValue(nv) = attr.meta else {
            return Err(syn::Error::new_spanned(
                attr,
                format!("write `#[{name} = N]` with an integer, e.g. `#[{name} = 529_441]`"),
            ));
        };
        if slot.is_some() {
            return Err(syn::Error::new_spanned(
                nv,
                format!("`#[{name}]` is given twice"),
            ));
        }
        *slot = Some(nv.value);
    }
    Ok((rest, ours))
}

impl Parse for ModelItem {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let (attrs, ours) = split_attrs(attrs, false)?;
        let vis = input.parse()?;
        input.parse::<Token![struct]>()?;
        let ident = input.parse()?;
        input.parse::<Token![=]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `=` and the layers: `struct Name = Layer(..) => Layer(..);`",
            )
        })?;
        let layers = parse_chain(input)?;
        input.parse::<Token![;]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected `=>` and another layer, or `;` to end the model",
            )
        })?;
        Ok(ModelItem {
            attrs,
            params: ours.params,
            max_params: ours.max_params,
            vis,
            ident,
            layers,
        })
    }
}

impl Parse for ModelExpr {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let span = input.span();
        let attrs = input.call(Attribute::parse_outer)?;
        let (rest, ours) = split_attrs(attrs, true)?;
        if let Some(attr) = rest.first() {
            return Err(syn::Error::new_spanned(
                attr,
                "a model expression takes only `#[params = N]`, `#[max_params = N]` and \
                 `#[seed = N]`; \
                 other attributes belong on a named model: `model! { #[..] struct Name = ..; }`",
            ));
        }
        let layers = parse_chain(input)?;
        input.parse::<Option<Token![;]>>()?;
        if !input.is_empty() {
            return Err(input.error("expected `=>` and another layer, or the end of the model"));
        }
        Ok(ModelExpr {
            params: ours.params,
            max_params: ours.max_params,
            seed: ours.seed,
            layers,
            span,
        })
    }
}

/// `Layer(..) => Layer(..) => ...`
fn parse_chain(input: ParseStream) -> syn::Result<Vec<LayerCall>> {
    let mut layers = vec![input.parse()?];
    while input.peek(Token![=>]) {
        input.parse::<Token![=>]>()?;
        layers.push(input.parse()?);
    }
    Ok(layers)
}

impl Parse for LayerCall {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let name: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected a layer, e.g. `LSTM(64)` or `Dense(1, sigmoid)`",
            )
        })?;
        if !input.peek(syn::token::Paren) {
            return Ok(LayerCall {
                name,
                paren: None,
                args: Vec::new(),
            });
        }
        let content;
        let paren = parenthesized!(content in input);
        let args = Punctuated::<Arg, Token![,]>::parse_terminated(&content)?;
        Ok(LayerCall {
            name,
            paren: Some(paren),
            args: args.into_iter().collect(),
        })
    }
}

impl Parse for Arg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = if input.peek(Ident) && input.peek2(Token![=]) && !input.peek2(Token![==]) {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            Some(key)
        } else {
            None
        };
        let value = if input.peek(Ident) && input.peek2(syn::token::Paren) {
            Value::Layer(Box::new(input.parse()?))
        } else {
            Value::Expr(input.parse()?)
        };
        Ok(Arg { key, value })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: proc_macro2::TokenStream) -> Invocation {
        syn::parse2(tokens).expect("parses")
    }

    #[test]
    fn item_form_keeps_attributes_and_params() {
        let inv = parse(quote! {
            /// Doc.
            #[params = 529_441]
            #[derive(Clone)]
            pub struct Quiz = Embedding(5000, 100) => SimpleRNN(128) => Dense(1, sigmoid);
            struct Other = Input(_, 3) => GlobalAveragePooling1D;
        });
        let Invocation::Items(items) = inv else {
            panic!("items")
        };
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].attrs.len(), 2, "doc and derive pass through");
        assert!(items[0].params.is_some());
        assert_eq!(items[0].ident, "Quiz");
        let names: Vec<String> = items[0].layers.iter().map(|l| l.name.to_string()).collect();
        assert_eq!(names, ["Embedding", "SimpleRNN", "Dense"]);
        assert!(items[1].layers[1].paren.is_none());
    }

    #[test]
    fn expression_form_and_nested_layers() {
        let inv = parse(
            quote!(#[seed = 7] Input(10, 5) => Bidirectional(LSTM(3, return_sequences = true), merge_mode = sum)),
        );
        let Invocation::Expr(e) = inv else {
            panic!("expr")
        };
        assert!(e.seed.is_some());
        let bi = &e.layers[1];
        assert!(matches!(bi.args[0].value, Value::Layer(_)));
        assert_eq!(bi.args[1].key.as_ref().unwrap(), "merge_mode");
        assert_eq!(
            bi.source(),
            "Bidirectional(LSTM(3, return_sequences = true), merge_mode = sum)"
        );
    }

    #[test]
    fn source_with_adds_or_replaces_a_keyword() {
        let Invocation::Expr(e) = parse(quote!(LSTM(64) => LSTM(8, return_sequences = false) => X))
        else {
            panic!()
        };
        assert_eq!(
            e.layers[0].source_with("return_sequences", "true"),
            "LSTM(64, return_sequences = true)"
        );
        assert_eq!(
            e.layers[1].source_with("return_sequences", "true"),
            "LSTM(8, return_sequences = true)"
        );
        assert_eq!(e.layers[2].source_with("a", "1"), "X(a = 1)");
    }

    #[test]
    fn syntax_errors_say_what_was_expected() {
        let err = syn::parse2::<Invocation>(quote!(struct A = LSTM(3) LSTM(4);))
            .err()
            .unwrap();
        assert!(err.to_string().contains("expected `=>`"), "{err}");
        let err = syn::parse2::<Invocation>(quote!(struct A LSTM(3);))
            .err()
            .unwrap();
        assert!(err.to_string().contains("expected `=`"), "{err}");
        assert!(syn::parse2::<Invocation>(quote!()).is_err());
    }
}
