//! The Keras architecture of a checked model (`rnn::interop::keras::KerasArchitecture`),
//! generated beside it so that the runtime can check a Keras file's config against it and
//! write one.

use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::expand::{activation, size};
use crate::ir::{Dense, Input, LayerKind, Model, Rnn, RnnCell};

fn recurrent(rnn: &Rnn) -> TokenStream {
    let class = rnn.cell.cell().layer().keras_name();
    let units = size(rnn.units);
    let (act, ract) = (
        activation(rnn.activation),
        activation(rnn.recurrent_activation),
    );
    let (bias, seq, state, back) = (
        rnn.use_bias,
        rnn.return_sequences,
        rnn.return_state,
        rnn.go_backwards,
    );
    let forget = rnn.cell.unit_forget_bias();
    let reset_after = matches!(rnn.cell, RnnCell::Gru { reset_after: true });
    quote!(::rnn::interop::keras::KerasRecurrent {
        class: #class,
        units: #units,
        activation: #act,
        recurrent_activation: #ract,
        use_bias: #bias,
        return_sequences: #seq,
        return_state: #state,
        go_backwards: #back,
        unit_forget_bias: #forget,
        reset_after: #reset_after,
    })
}

fn dense(d: &Dense) -> TokenStream {
    let (units, act, bias) = (size(d.units), activation(d.activation), d.use_bias);
    quote!(::rnn::interop::keras::KerasDense { units: #units, activation: #act, use_bias: #bias })
}

/// `impl KerasModel for #ident`, for a model whose chain of layers is `stack_ty`.
pub fn keras_impl(model: &Model, ident: &Ident, stack_ty: &TokenStream) -> TokenStream {
    let input = match model.input {
        Input::Tokens => quote!(::rnn::interop::keras::KerasInput::Tokens),
        Input::Sequence(f) => {
            let f = size(f);
            quote!(::rnn::interop::keras::KerasInput::Sequence(#f))
        }
        Input::Features(f) => {
            let f = size(f);
            quote!(::rnn::interop::keras::KerasInput::Features(#f))
        }
    };
    let layers = model.layers.iter().map(|layer| {
        let name = &layer.name;
        let kind = match &layer.kind {
            LayerKind::Embedding(e) => {
                // A vocabulary chosen at run time is `ANY_VOCAB` here, the table's rows there.
                let v = e.vocab.map_or_else(|| quote!(::rnn::ANY_VOCAB), size);
                let (d, mask) = (size(e.dim), e.mask_zero);
                quote!(::rnn::interop::keras::KerasLayerKind::Embedding {
                    input_dim: #v,
                    output_dim: #d,
                    mask_zero: #mask,
                })
            }
            LayerKind::Recurrent(rnn) => {
                let r = recurrent(rnn);
                quote!(::rnn::interop::keras::KerasLayerKind::Recurrent(#r))
            }
            LayerKind::Bidirectional(bi) => {
                let r = recurrent(&bi.inner);
                let (inner, merge) = (&bi.inner_name, bi.merge.keras_name());
                quote!(::rnn::interop::keras::KerasLayerKind::Bidirectional {
                    layer: #r,
                    inner_name: #inner,
                    merge_mode: #merge,
                })
            }
            LayerKind::Dense(d) => {
                let d = dense(d);
                quote!(::rnn::interop::keras::KerasLayerKind::Dense(#d))
            }
            LayerKind::TimeDistributed {
                dense: d,
                dense_name,
            } => {
                let d = dense(d);
                quote!(::rnn::interop::keras::KerasLayerKind::TimeDistributed {
                    dense: #d,
                    dense_name: #dense_name,
                })
            }
            LayerKind::Dropout { rate } => {
                quote!(::rnn::interop::keras::KerasLayerKind::Dropout { rate: #rate })
            }
            LayerKind::Pooling => {
                quote!(::rnn::interop::keras::KerasLayerKind::GlobalAveragePooling1D)
            }
        };
        quote!(::rnn::interop::keras::KerasLayer { name: #name, kind: #kind })
    });
    quote! {
        #[allow(clippy::type_complexity)]
        impl ::rnn::interop::keras::KerasModel for #ident {
            type Stack = #stack_ty;
            const ARCHITECTURE: ::rnn::interop::keras::KerasArchitecture =
                ::rnn::interop::keras::KerasArchitecture {
                    input: #input,
                    layers: &[#(#layers),*],
                };
        }
    }
}
