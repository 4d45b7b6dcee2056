//! What is generated for a model with errors.

use proc_macro2::{Ident, TokenStream};
use quote::quote;
use syn::{Attribute, Visibility};

/// What is emitted for a model with errors: the errors, and a stand-in type with the model
/// API, so that code using the model does not add a cascade of unrelated errors.
pub fn placeholder_item(attrs: &[Attribute], vis: &Visibility, ident: &Ident) -> TokenStream {
    quote! {
        #(#attrs)*
        #vis struct #ident {
            inner: ::rnn::__private::Placeholder,
        }

        impl #ident {
            /// Unknown: the model has errors.
            pub const PARAMS: usize = 0;
            /// Unavailable: the model has errors.
            pub fn new(_seed: u64) -> Self {
                ::core::unreachable!()
            }
        }

        impl ::core::ops::Deref for #ident {
            type Target = ::rnn::__private::Placeholder;
            fn deref(&self) -> &Self::Target {
                &self.inner
            }
        }

        impl ::core::ops::DerefMut for #ident {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.inner
            }
        }
    }
}

/// The stand-in value of a model expression with errors.
pub fn placeholder_expr() -> TokenStream {
    quote!(::rnn::__private::Placeholder::new())
}
