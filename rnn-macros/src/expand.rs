//! Code generation: a checked model becomes a struct around `rnn::Sequential` whose layer
//! chain is spelled out with literal feature sizes, so that the runtime types check every
//! connection again and a compile-time assertion ties the macro's parameter count to theirs.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use rnn_spec::Activation;
use syn::{Attribute, Visibility};

use crate::ir::{Dense, Input, Layer, LayerKind, Model, Rnn, RnnCell, Size};
use crate::shapes;

fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

/// A size as a const generic argument: a literal, or the user's constant expression in a
/// block (`{ VOCAB + 1 }`), which the compiler evaluates.
pub(crate) fn size(s: Size) -> TokenStream {
    match s {
        Size::Lit(n) => lit(n).into_token_stream(),
        Size::Const(e, at) => match syn::parse_str::<syn::Expr>(e) {
            // At the constant's place, so that the compiler's errors about it (a constant
            // that is no `usize`, say) point there.
            Ok(e) => respan(quote!({ #e }), at.0),
            // The text was parsed from the user's own expression.
            Err(err) => err.to_compile_error(),
        },
    }
}

/// Every token of `tokens` at `span`.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(g) = &tree {
                let mut group = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                group.set_span(span);
                tree = group.into();
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// Every constant size of the model, with the argument and layer it sizes.
fn constant_sizes(model: &Model) -> Vec<(Size, String)> {
    let mut out = Vec::new();
    // `layer`: the layer as messages name it, `gru` (GRU).
    let mut add = |s: Size, arg: &str, layer: String| {
        if let Size::Const(..) = s {
            out.push((s, format!("`{arg}` of {layer}")));
        }
    };
    if let Input::Sequence(f) | Input::Features(f) = model.input {
        add(f, "features", "the input".into());
    }
    for l in &model.layers {
        let named = format!("layer `{}` ({})", l.name, l.class.keras_name());
        match &l.kind {
            LayerKind::Embedding(e) => {
                add(e.vocab, "input_dim", named.clone());
                add(e.dim, "output_dim", named);
            }
            LayerKind::Recurrent(r) => add(r.units, "units", named),
            LayerKind::Bidirectional(b) => add(b.inner.units, "units", named),
            LayerKind::Dense(d) | LayerKind::TimeDistributed { dense: d, .. } => {
                add(d.units, "units", named)
            }
            LayerKind::Dropout { .. } | LayerKind::Pooling => {}
        }
    }
    out
}

pub(crate) fn activation(activation: Activation) -> TokenStream {
    let v = Ident::new(activation.variant_name(), Span::call_site());
    quote!(::rnn::Activation::#v)
}

fn rnn_type(rnn: &Rnn) -> TokenStream {
    let (i, h, bias) = (size(rnn.input), size(rnn.units), rnn.use_bias);
    let mode = if rnn.return_sequences {
        quote!(::rnn::Sequences)
    } else {
        quote!(::rnn::Last)
    };
    match rnn.cell {
        RnnCell::Simple => quote!(::rnn::SimpleRnn<#i, #h, #mode, #bias>),
        RnnCell::Lstm { .. } => quote!(::rnn::Lstm<#i, #h, #mode, #bias>),
        RnnCell::Gru { reset_after } => {
            quote!(::rnn::Gru<#i, #h, #mode, #reset_after, #bias>)
        }
    }
}

fn rnn_config(rnn: &Rnn) -> TokenStream {
    let act = activation(rnn.activation);
    let ract = activation(rnn.recurrent_activation);
    let (state, back) = (rnn.return_state, rnn.go_backwards);
    let forget = rnn.cell.unit_forget_bias();
    quote! {
        ::rnn::RnnConfig::default()
            .activation(#act)
            .recurrent_activation(#ract)
            .return_state(#state)
            .go_backwards(#back)
            .unit_forget_bias(#forget)
    }
}

fn dense_type(d: &Dense) -> TokenStream {
    let (i, u, bias) = (size(d.input), size(d.units), d.use_bias);
    quote!(::rnn::Dense<#i, #u, #bias>)
}

/// The runtime type of a layer and the expression that builds it (`rng` in scope).
fn layer_code(model: &Model, layer: &Layer) -> (TokenStream, TokenStream) {
    let path = format!("{}/{}", model.name, layer.name);
    match &layer.kind {
        LayerKind::Embedding(e) => {
            let ty = {
                let (v, d) = (size(e.vocab), size(e.dim));
                quote!(::rnn::Embedding<#v, #d>)
            };
            let mask_zero = e.mask_zero;
            let new = quote!(<#ty>::new(#path, #mask_zero, &mut rng));
            (ty, new)
        }
        LayerKind::Recurrent(rnn) => {
            let ty = rnn_type(rnn);
            let cfg = rnn_config(rnn);
            (ty.clone(), quote!(<#ty>::new(#path, #cfg, &mut rng)))
        }
        LayerKind::Bidirectional(bi) => {
            let inner_ty = rnn_type(&bi.inner);
            let merge = format_ident!("{}", bi.merge.type_name());
            let out = size(bi.out);
            let inner_name = &bi.inner_name;
            let ty = quote!(::rnn::Bidirectional<#inner_ty, #out, ::rnn::#merge>);
            let cfg = rnn_config(&bi.inner);
            (
                ty.clone(),
                quote!(<#ty>::new(#path, #inner_name, #cfg, &mut rng)),
            )
        }
        LayerKind::Dense(d) => {
            let ty = dense_type(d);
            let act = activation(d.activation);
            (ty.clone(), quote!(<#ty>::new(#path, #act, &mut rng)))
        }
        LayerKind::TimeDistributed { dense, dense_name } => {
            let dty = dense_type(dense);
            let act = activation(dense.activation);
            let inner_path = format!("{path}/{dense_name}");
            let ty = quote!(::rnn::TimeDistributed<#dty>);
            let new = quote!(::rnn::TimeDistributed::new(<#dty>::new(#inner_path, #act, &mut rng)));
            (ty, new)
        }
        LayerKind::Dropout { rate } => {
            let rate = *rate as f32;
            let name = &layer.name;
            (
                quote!(::rnn::Dropout),
                quote!(::rnn::Dropout::new(#name, #rate, &mut rng)),
            )
        }
        LayerKind::Pooling => {
            let name = &layer.name;
            (
                quote!(::rnn::GlobalAveragePooling1D),
                quote!(::rnn::GlobalAveragePooling1D::new(#name)),
            )
        }
    }
}

fn input_type(input: Input) -> TokenStream {
    match input {
        Input::Tokens => quote!(::rnn::TokenBatch),
        Input::Sequence(d) => {
            let d = size(d);
            quote!(::rnn::Sequence<#d>)
        }
        Input::Features(d) => {
            let d = size(d);
            quote!(::rnn::Features<#d>)
        }
    }
}

/// The pieces of a generated model: its stack type, constructor body, spec and assertions.
struct Parts {
    stack_ty: TokenStream,
    build: TokenStream,
    spec: TokenStream,
    asserts: TokenStream,
}

fn parts(model: &Model, ident: &Ident) -> Parts {
    let in_ty = input_type(model.input);
    let mut stack_ty = TokenStream::new();
    let mut build = TokenStream::new();
    let mut checks = Vec::new();
    let mut types = Vec::new();
    for (i, layer) in model.layers.iter().enumerate() {
        let (ty, new) = layer_code(model, layer);
        if i == 0 {
            stack_ty = quote!(::rnn::First<#in_ty, #ty>);
            build = quote!(::rnn::stack::<#in_ty, _>(#new));
        } else {
            stack_ty = quote!(::rnn::Chain<#stack_ty, #ty>);
            build = quote!(::rnn::Stack::then(#build, #new));
        }
        // With constant sizes the count is the runtime type's, which computes Keras'
        // formula from the same sizes.
        if let Some(params) = layer.params {
            let count = lit(params);
            let message = format!(
                "rnn: the runtime's parameter count of layer `{}` differs from the macro's ({})",
                layer.name, params
            );
            checks.push(
                quote!(::core::assert!(<#ty as ::rnn::Weights>::PARAMS == #count, #message);),
            );
        }
        types.push(ty);
    }
    if let Some(params) = model.params {
        let total = lit(params);
        let message =
            format!("rnn: the runtime's parameter count of `{ident}` differs from {params}");
        checks.push(
            quote!(::core::assert!(<#stack_ty as ::rnn::Weights>::PARAMS == #total, #message);),
        );
    }
    let mut positive = Vec::new();
    for (s, what) in constant_sizes(model) {
        let (value, span) = match s {
            Size::Const(_, at) => (size(s), at.0),
            Size::Lit(_) => continue,
        };
        // `assert!` reads its message as a format string.
        let message = format!("rnn: {what} is `{s}`, which must be at least 1")
            .replace('{', "{{")
            .replace('}', "}}");
        // Spanned at the constant, so that the compiler's error points there.
        positive.push(quote_spanned! {span=>
            const _: () = ::core::assert!(#value > 0, #message);
        });
    }
    let declared = model.declared_params.map(|d| {
        let (declared, span) = (d.count, d.span);
        let n = Literal::u128_unsuffixed(declared);
        let message = format!(
            "rnn: `#[params = {declared}]` differs from the parameter count of `{ident}` \
             (`{ident}::PARAMS`, per layer in `{ident}::SPEC` and `summary()`); its sizes \
             depend on constants, so the count is computed by the compiler"
        );
        // Spanned at `N`, so that the compiler's error points there.
        quote_spanned! {span=>
            const _: () = ::core::assert!(
                <#stack_ty as ::rnn::Weights>::PARAMS as u128 == #n,
                #message
            );
        }
    });
    let asserts = quote! {
        const _: () = {
            #(#checks)*
        };
        #(#positive)*
        #declared
    };
    let rows = model.layers.iter().zip(&types).map(|(l, ty)| {
        let (name, class) = (&l.name, l.class.keras_name());
        // Constant sizes print from `sizes`, which the compiler evaluates: `{0}` stands for
        // the first.
        let mut sizes = Vec::new();
        let shape = shapes::describe_all_with(&l.outputs, model.input_batch, &mut |s| match s {
            Size::Lit(n) => n.to_string(),
            Size::Const(..) => {
                sizes.push(size(s));
                format!("{{{}}}", sizes.len() - 1)
            }
        });
        let params = match l.params {
            Some(n) => lit(n).into_token_stream(),
            None => quote!(<#ty as ::rnn::Weights>::PARAMS),
        };
        quote!(::rnn::LayerSpec {
            name: #name,
            class: #class,
            output_shape: #shape,
            sizes: &[#(#sizes),*],
            params: #params,
        })
    });
    let time = match model.input_time {
        Some(t) => {
            let t = lit(t);
            quote!(::core::option::Option::Some(#t))
        }
        None => quote!(::core::option::Option::None),
    };
    let batch = match model.input_batch {
        Some(b) => {
            let b = lit(b);
            quote!(::core::option::Option::Some(#b))
        }
        None => quote!(::core::option::Option::None),
    };
    let name = model.name;
    let spec = quote! {
        ::rnn::ModelSpec {
            name: #name,
            input_time: #time,
            input_batch: #batch,
            layers: &[#(#rows),*],
        }
    };
    Parts {
        stack_ty,
        build,
        spec,
        asserts,
    }
}

/// What fills in the items of a generated model: the checked model's, or its stand-in's.
pub(crate) struct Filling {
    /// The type the model dereferences to.
    pub(crate) inner_ty: TokenStream,
    pub(crate) params: TokenStream,
    pub(crate) params_doc: String,
    pub(crate) spec: TokenStream,
    /// The body of `new(seed)`.
    pub(crate) build: TokenStream,
    /// Compile-time checks emitted beside the model.
    pub(crate) asserts: TokenStream,
}

/// The type of a named model and its items, declared once for a checked model and for the
/// stand-in of a model with errors, so that both offer the same API: `PARAMS`, `SPEC`,
/// `new(seed)`, `into_inner()` and `Deref` to the model API (a `Sequential`, or the stand-in
/// that mirrors every public method of `Sequential`).
pub(crate) fn model_type(
    attrs: &[Attribute],
    vis: &Visibility,
    ident: &Ident,
    fill: Filling,
) -> TokenStream {
    let Filling {
        inner_ty,
        params,
        params_doc,
        spec,
        build,
        asserts,
    } = fill;
    quote! {
        #(#attrs)*
        #[allow(clippy::type_complexity)]
        #vis struct #ident {
            inner: #inner_ty,
        }

        #[allow(clippy::type_complexity)]
        impl #ident {
            #[doc = #params_doc]
            pub const PARAMS: usize = #params;

            /// The model's static description: Keras layer names, classes, output shapes and
            /// parameter counts, as `summary()` prints them.
            pub const SPEC: ::rnn::ModelSpec = #spec;

            /// Builds the model with Keras' default initializers, drawn from a generator
            /// seeded with `seed`: the same seed gives the same weights.
            pub fn new(seed: u64) -> Self {
                #build
            }

            /// The underlying `Sequential` model.
            pub fn into_inner(self) -> #inner_ty {
                self.inner
            }
        }

        impl ::core::ops::Deref for #ident {
            type Target = #inner_ty;
            fn deref(&self) -> &Self::Target {
                &self.inner
            }
        }

        impl ::core::ops::DerefMut for #ident {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.inner
            }
        }

        #asserts
    }
}

/// A named model: `pub struct Quiz { .. }` with `PARAMS`, `SPEC`, `new(seed)` and `Deref` to
/// its `Sequential`.
pub fn model_item(
    attrs: &[Attribute],
    vis: &Visibility,
    ident: &Ident,
    model: &Model,
) -> TokenStream {
    let Parts {
        stack_ty,
        build,
        spec,
        asserts,
    } = parts(model, ident);
    let keras = crate::keras::keras_impl(model, ident, &stack_ty);
    let fill = Filling {
        inner_ty: quote!(::rnn::Sequential<#stack_ty>),
        params: match model.params {
            Some(n) => lit(n).into_token_stream(),
            None => quote!(<#stack_ty as ::rnn::Weights>::PARAMS),
        },
        params_doc: match model.params {
            Some(n) => format!("The number of trainable parameters: {n}."),
            None => "The number of trainable parameters (its sizes depend on constants).".into(),
        },
        spec,
        build: quote! {
            let mut rng = ::rnn::seeded_rng(seed);
            let stack = #build;
            #ident { inner: ::rnn::Sequential::new(stack, &Self::SPEC) }
        },
        asserts,
    };
    let item = model_type(attrs, vis, ident, fill);
    quote!(#item #keras)
}

/// An anonymous model expression: the struct in a block, and its value.
pub fn model_expr(model: &Model, seed: TokenStream) -> TokenStream {
    let ident = Ident::new("Model", Span::call_site());
    let item = model_item(&[], &Visibility::Inherited, &ident, model);
    quote! {
        {
            #item
            #ident::new(#seed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Bidirectional, Embedding, Shape};
    use rnn_spec::{LayerClass, MergeMode};

    fn gru(return_sequences: bool) -> Rnn {
        Rnn {
            cell: RnnCell::Gru { reset_after: false },
            input: Size::Lit(4),
            units: Size::Lit(3),
            activation: Activation::Relu,
            recurrent_activation: Activation::HardSigmoid,
            use_bias: true,
            return_sequences,
            return_state: false,
            go_backwards: true,
        }
    }

    fn model(layers: Vec<Layer>) -> Model {
        let params = layers.iter().map(|l| l.params).sum();
        Model {
            name: "sequential",
            input: Input::Tokens,
            input_time: Some(7),
            input_batch: None,
            layers,
            params,
            declared_params: None,
        }
    }

    fn code(model: &Model) -> String {
        let ident = Ident::new("M", Span::call_site());
        model_item(&[], &Visibility::Inherited, &ident, model).to_string()
    }

    #[test]
    fn writes_the_runtime_types_and_configuration() {
        let rnn = gru(true);
        let layers = vec![
            Layer {
                name: "embedding".into(),
                class: LayerClass::Embedding,
                outputs: vec![Shape::Sequence {
                    time: Some(7),
                    features: Size::Lit(4),
                }],
                params: Some(40),
                kind: LayerKind::Embedding(Embedding {
                    vocab: Size::Lit(10),
                    dim: Size::Lit(4),
                    mask_zero: true,
                }),
            },
            Layer {
                name: "bidirectional".into(),
                class: LayerClass::Bidirectional,
                outputs: vec![Shape::Sequence {
                    time: Some(7),
                    features: Size::Lit(3),
                }],
                params: rnn.params().map(|n| 2 * n),
                kind: LayerKind::Bidirectional(Bidirectional {
                    inner: rnn,
                    inner_name: "gru".into(),
                    merge: MergeMode::Sum,
                    out: Size::Lit(3),
                }),
            },
        ];
        let out = code(&model(layers));
        assert!(out.contains(":: rnn :: Embedding < 10 , 4 >"), "{out}");
        assert!(
            out.contains(
                ":: rnn :: Bidirectional < :: rnn :: Gru < 4 , 3 , :: rnn :: Sequences , false , true > , 3 , :: rnn :: Sum >"
            ),
            "{out}"
        );
        assert!(
            out.contains(". activation (:: rnn :: Activation :: Relu)"),
            "{out}"
        );
        assert!(
            out.contains(". recurrent_activation (:: rnn :: Activation :: HardSigmoid)"),
            "{out}"
        );
        assert!(out.contains(". go_backwards (true)"), "{out}");
        // Only LSTM reads it; the shared configuration gets Keras' default.
        assert!(out.contains(". unit_forget_bias (true)"), "{out}");
        assert!(
            out.contains("\"sequential/bidirectional\" , \"gru\""),
            "{out}"
        );
        assert!(
            out.contains("input_time : :: core :: option :: Option :: Some (7)"),
            "{out}"
        );
    }

    #[test]
    fn summary_rows_come_from_the_ir() {
        let rnn = gru(false);
        let layer = Layer {
            name: "encoder".into(),
            class: LayerClass::Gru,
            outputs: vec![Shape::Vector {
                features: Size::Lit(3),
            }],
            params: rnn.params(),
            kind: LayerKind::Recurrent(rnn),
        };
        let out = code(&model(vec![layer]));
        let row = format!(
            "name : \"encoder\" , class : \"GRU\" , output_shape : \"(None, 3)\" , sizes : & [] , params : {}",
            rnn.params().unwrap()
        );
        assert!(out.contains(&row), "{out}");
        assert!(out.contains(":: rnn :: Last"), "{out}");
        // 3 * 3 * (4 + 3) + 3 * 3: GRU without `reset_after` has one bias row.
        assert!(out.contains("pub const PARAMS : usize = 72"), "{out}");
    }

    #[test]
    fn constant_sizes_are_left_to_the_compiler() {
        let mut rnn = gru(false);
        rnn.units = Size::constant("2 * H".into(), Span::call_site());
        let layer = Layer {
            name: "gru".into(),
            class: LayerClass::Gru,
            outputs: vec![Shape::Vector {
                features: rnn.units,
            }],
            params: rnn.params(),
            kind: LayerKind::Recurrent(rnn),
        };
        let mut m = model(vec![layer]);
        m.declared_params = Some(crate::ir::DeclaredParams {
            count: 100,
            span: Span::call_site(),
        });
        let out = code(&m);
        assert!(out.contains(":: rnn :: Gru < 4 , { 2 * H } ,"), "{out}");
        assert!(
            out.contains("output_shape : \"(None, {0})\" , sizes : & [{ 2 * H }]"),
            "{out}"
        );
        assert!(out.contains("params : < :: rnn :: Gru <"), "{out}");
        assert!(
            out.contains("`units` of layer `gru` (GRU) is `2 * H`, which must be at least 1"),
            "{out}"
        );
        assert!(out.contains("PARAMS as u128 == 100"), "{out}");
    }
}
