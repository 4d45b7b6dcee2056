//! What is generated for a model with errors: the same type and items as for a checked model
//! (declared once, in [`crate::expand::model_type`]), dereferencing to the stand-in whose
//! methods `#[model_api]` mirrors from the runtime (see [`crate::api`]).

use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use rnn_spec::MODEL_NAME;
use syn::{Attribute, Visibility};

use crate::expand::{Filling, model_type, seed_ctors, vocab_ctors};

/// What is emitted for a model with errors, beside the errors: the same type and items as for
/// a checked model, dereferencing to the stand-in, so that code using the model does not add
/// a cascade of unrelated errors.
pub fn placeholder_item(attrs: &[Attribute], vis: &Visibility, ident: &Ident) -> TokenStream {
    let fill = Filling {
        inner_ty: quote!(::rnn::__private::Placeholder),
        params: quote!(0),
        params_doc: "Unknown: the model has errors.".to_string(),
        spec: quote! {
            ::rnn::ModelSpec { name: #MODEL_NAME, input_time: ::core::option::Option::None, input_batch: ::core::option::Option::None, layers: &[] }
        },
        // Both kinds of constructors, so that code using either adds no error.
        ctors: {
            let body = quote! {
                let _ = seed;
                ::core::unreachable!("a model with compile errors cannot be built")
            };
            let seed = seed_ctors(body.clone());
            let vocab = vocab_ctors(quote!(let _ = vocab; #body));
            quote!(#seed #vocab)
        },
        asserts: TokenStream::new(),
    };
    model_type(attrs, vis, ident, fill)
}

/// The stand-in value of a model expression with errors: a value of a stand-in model type,
/// as [`crate::expand::model_expr`] gives a value of a model type.
pub fn placeholder_expr() -> TokenStream {
    let ident = Ident::new("Model", Span::call_site());
    let item = placeholder_item(&[], &Visibility::Inherited, &ident);
    quote! {
        {
            #item
            #ident::new(0)
        }
    }
}
