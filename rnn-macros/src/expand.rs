//! Code generation: a checked model becomes a struct around `rnn::Sequential` whose layer
//! chain is spelled out with literal feature sizes, so that the runtime types check every
//! connection again and a compile-time assertion ties the macro's parameter count to theirs.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use rnn_spec::{Activation, Initializer, defaults};
use syn::{Attribute, Visibility};

use crate::ir::{Dense, Init, Input, Layer, LayerKind, Model, Rnn, RnnCell, Size};
use crate::shapes;

fn lit(n: usize) -> Literal {
    Literal::usize_unsuffixed(n)
}

/// A parameter count, checked against the limit (which is below `usize::MAX`) before this.
fn count(n: u128) -> Literal {
    Literal::u128_unsuffixed(n)
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
                if let Some(vocab) = e.vocab {
                    add(vocab, "input_dim", named.clone());
                }
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

/// A number as an `f32` literal, negative ones with a leading minus.
fn float(v: f64) -> TokenStream {
    let lit = Literal::f32_suffixed(v.abs() as f32);
    if v < 0.0 { quote!(-#lit) } else { quote!(#lit) }
}

/// The runtime's `Initializer` value: `::rnn::Initializer::Constant(0.1f32)`.
fn initializer(init: Init) -> TokenStream {
    let v = Ident::new(init.class.keras_name(), Span::call_site());
    let [a, b] = init.args.map(float);
    match init.class {
        Initializer::Constant => quote!(::rnn::Initializer::#v(#a)),
        Initializer::Orthogonal | Initializer::Identity => {
            quote!(::rnn::Initializer::#v { gain: #a })
        }
        Initializer::RandomUniform => quote!(::rnn::Initializer::#v { minval: #a, maxval: #b }),
        Initializer::RandomNormal | Initializer::TruncatedNormal => {
            quote!(::rnn::Initializer::#v { mean: #a, stddev: #b })
        }
        _ => quote!(::rnn::Initializer::#v),
    }
}

/// `.name(initializer)` for a builder, unless it is Keras' default.
fn initializer_setter(name: &str, init: Init, default: Initializer) -> TokenStream {
    if init == Init::default_of(default) {
        return TokenStream::new();
    }
    let method = Ident::new(name, Span::call_site());
    let value = initializer(init);
    quote!(.#method(#value))
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
    let inits = [
        (
            "kernel_initializer",
            rnn.kernel_initializer,
            defaults::KERNEL_INITIALIZER,
        ),
        (
            "recurrent_initializer",
            rnn.recurrent_initializer,
            defaults::RECURRENT_INITIALIZER,
        ),
        (
            "bias_initializer",
            rnn.bias_initializer,
            defaults::BIAS_INITIALIZER,
        ),
    ]
    .map(|(name, init, default)| initializer_setter(name, init, default));
    let (drop, rdrop) = (rnn.dropout.0 as f32, rnn.recurrent_dropout.0 as f32);
    quote! {
        ::rnn::RnnConfig::default()
            .activation(#act)
            .recurrent_activation(#ract)
            .return_state(#state)
            .go_backwards(#back)
            .unit_forget_bias(#forget)
            #(#inits)*
            .dropout(#drop)
            .recurrent_dropout(#rdrop)
    }
}

fn dense_type(d: &Dense) -> TokenStream {
    let (i, u, bias) = (size(d.input), size(d.units), d.use_bias);
    quote!(::rnn::Dense<#i, #u, #bias>)
}

/// The expression that builds a `Dense` of type `ty` (`rng` in scope).
fn dense_new(ty: &TokenStream, path: &str, d: &Dense) -> TokenStream {
    let act = activation(d.activation);
    let (k, b) = (d.kernel_initializer, d.bias_initializer);
    if k == Init::default_of(defaults::KERNEL_INITIALIZER)
        && b == Init::default_of(defaults::BIAS_INITIALIZER)
    {
        return quote!(<#ty>::new(#path, #act, &mut rng));
    }
    let (k, b) = (initializer(k), initializer(b));
    quote!(<#ty>::with_initializers(#path, #act, #k, #b, &mut rng))
}

/// The runtime type of a layer and the expression that builds it (`rng` in scope).
fn layer_code(model: &Model, layer: &Layer) -> (TokenStream, TokenStream) {
    let path = format!("{}/{}", model.name, layer.name);
    match &layer.kind {
        LayerKind::Embedding(e) => {
            let d = size(e.dim);
            let mask_zero = e.mask_zero;
            let init = e.embeddings_initializer;
            let default_init = init == Init::default_of(defaults::EMBEDDINGS_INITIALIZER);
            match e.vocab {
                Some(v) => {
                    let v = size(v);
                    let ty = quote!(::rnn::Embedding<#v, #d>);
                    let new = if default_init {
                        quote!(<#ty>::new(#path, #mask_zero, &mut rng))
                    } else {
                        let init = initializer(init);
                        quote!(<#ty>::with_initializer(#path, #mask_zero, #init, &mut rng))
                    };
                    (ty, new)
                }
                // `vocab` is the argument of the generated `try_with_vocab`.
                None => {
                    let ty = quote!(::rnn::Embedding<{ ::rnn::ANY_VOCAB }, #d>);
                    let new = if default_init {
                        quote!(<#ty>::with_vocab(#path, vocab, #mask_zero, &mut rng)?)
                    } else {
                        let init = initializer(init);
                        quote!(<#ty>::with_vocab_and_initializer(#path, vocab, #mask_zero, #init, &mut rng)?)
                    };
                    (ty, new)
                }
            }
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
            (ty.clone(), dense_new(&ty, &path, d))
        }
        LayerKind::TimeDistributed { dense, dense_name } => {
            let dty = dense_type(dense);
            let inner_path = format!("{path}/{dense_name}");
            let ty = quote!(::rnn::TimeDistributed<#dty>);
            let inner = dense_new(&dty, &inner_path, dense);
            let new = quote!(::rnn::TimeDistributed::new(#inner));
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
    /// Checks that each layer's weights (sized when compiling) can be allocated, the largest
    /// first.
    reserve: TokenStream,
    spec: TokenStream,
    asserts: TokenStream,
}

fn parts(model: &Model, ident: &Ident) -> Parts {
    let in_ty = input_type(model.input);
    let mut stack_ty = TokenStream::new();
    let mut build = TokenStream::new();
    let mut checks = Vec::new();
    let mut types = Vec::new();
    let mut reserve = Vec::new();
    for (i, layer) in model.layers.iter().enumerate() {
        let (ty, new) = layer_code(model, layer);
        let name = &layer.name;
        reserve.push((
            layer.params.unwrap_or(0),
            quote!(::rnn::reserve_params(#name, <#ty as ::rnn::Weights>::PARAMS)?;),
        ));
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
            let count = count(params);
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
        let total = count(params);
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
            Some(n) => count(n).into_token_stream(),
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
    // Known counts first, largest first: the layer that cannot fit is named before any
    // smaller one is tried.
    reserve.sort_by_key(|r| std::cmp::Reverse(r.0));
    let reserve = reserve.into_iter().map(|(_, r)| r).collect();
    Parts {
        stack_ty,
        build,
        reserve,
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
    /// The constructors: `new(seed)` and `try_new(seed)`, or `with_vocab(vocab, seed)` and
    /// `try_with_vocab(vocab, seed)` for `Embedding(_, ..)`.
    pub(crate) ctors: TokenStream,
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
        ctors,
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

            #ctors

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
        reserve,
        spec,
        asserts,
    } = parts(model, ident);
    let body = quote! {
        #reserve
        let mut rng = ::rnn::seeded_rng(seed);
        let stack = #build;
        ::core::result::Result::Ok(#ident { inner: ::rnn::Sequential::new(stack, &Self::SPEC) })
    };
    let vocab = model.run_time_vocab();
    let keras = crate::keras::keras_impl(model, ident, &stack_ty);
    let fill = Filling {
        inner_ty: quote!(::rnn::Sequential<#stack_ty>),
        params: match model.params {
            Some(n) => count(n).into_token_stream(),
            None => quote!(<#stack_ty as ::rnn::Weights>::PARAMS),
        },
        params_doc: match model.params {
            _ if vocab => "The number of trainable parameters fixed when compiling: every \
                           layer's but the `Embedding` table, whose `vocab * output_dim` \
                           values are added by `with_vocab` (`count_params()` and `summary()` \
                           count them)."
                .into(),
            Some(n) => format!("The number of trainable parameters: {n}."),
            None => "The number of trainable parameters (its sizes depend on constants).".into(),
        },
        spec,
        ctors: if vocab {
            vocab_ctors(body)
        } else {
            seed_ctors(body)
        },
        asserts,
    };
    let item = model_type(attrs, vis, ident, fill);
    quote!(#item #keras)
}

/// `new(seed)` and `try_new(seed)`, around `body`, which returns the model or an error.
pub(crate) fn seed_ctors(body: TokenStream) -> TokenStream {
    quote! {
        /// Builds the model with Keras' default initializers, drawn from a generator
        /// seeded with `seed`: the same seed gives the same weights.
        ///
        /// # Panics
        /// Only when a layer's weights cannot be allocated; `try_new` returns that as an
        /// error.
        pub fn new(seed: u64) -> Self {
            match Self::try_new(seed) {
                ::core::result::Result::Ok(model) => model,
                ::core::result::Result::Err(e) => ::core::panic!("{}", e),
            }
        }

        /// `new(seed)`, or an error naming the layer and the byte size when its weights
        /// cannot be allocated (each layer's memory is reserved with `try_reserve` first).
        pub fn try_new(seed: u64) -> ::core::result::Result<Self, ::rnn::Error> {
            #body
        }
    }
}

/// `with_vocab(vocab, seed)` and `try_with_vocab(vocab, seed)` for a model whose first layer
/// is `Embedding(_, ..)`, around `body`, which reads `vocab` and `seed`.
pub(crate) fn vocab_ctors(body: TokenStream) -> TokenStream {
    quote! {
        /// Builds the model with an `Embedding` of `vocab` rows (ids 0 to `vocab - 1`: a
        /// tokenizer's `vocab_size()`, Keras' `len(word_index) + 1`) and Keras' default
        /// initializers, drawn from a generator seeded with `seed`.
        ///
        /// # Panics
        /// When `vocab` is 0 or above 2^32, or the weights cannot be allocated;
        /// `try_with_vocab` returns these as errors.
        pub fn with_vocab(vocab: usize, seed: u64) -> Self {
            match Self::try_with_vocab(vocab, seed) {
                ::core::result::Result::Ok(model) => model,
                ::core::result::Result::Err(e) => ::core::panic!("{}", e),
            }
        }

        /// `with_vocab(vocab, seed)`, or an error naming the layer when `vocab` is 0 or above
        /// 2^32, or when the weights cannot be allocated (with the byte size).
        pub fn try_with_vocab(
            vocab: usize,
            seed: u64,
        ) -> ::core::result::Result<Self, ::rnn::Error> {
            #body
        }
    }
}

/// An anonymous model expression: the struct in a block, and its value.
pub fn model_expr(model: &Model, seed: TokenStream) -> TokenStream {
    if model.run_time_vocab() {
        let message = crate::messages::vocab_in_expression();
        let fallback = crate::fallback::placeholder_expr();
        return quote!({ ::core::compile_error!(#message); #fallback });
    }
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
            kernel_initializer: Init {
                class: Initializer::Constant,
                args: [0.1, 0.0],
            },
            recurrent_initializer: Init::default_of(Initializer::Orthogonal),
            bias_initializer: Init {
                class: Initializer::RandomUniform,
                args: [-0.5, 0.25],
            },
            return_sequences,
            return_state: false,
            go_backwards: true,
            dropout: crate::ir::Rate(0.25),
            recurrent_dropout: crate::ir::Rate(0.0),
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
                    vocab: Some(Size::Lit(10)),
                    dim: Size::Lit(4),
                    embeddings_initializer: Init::default_of(Initializer::RandomUniform),
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
        // Initializers other than Keras' defaults, negative arguments with a leading minus.
        assert!(
            out.contains(". kernel_initializer (:: rnn :: Initializer :: Constant (0.1f32))"),
            "{out}"
        );
        assert!(!out.contains("recurrent_initializer"), "{out}");
        assert!(
            out.contains(
                ". bias_initializer (:: rnn :: Initializer :: RandomUniform { minval : - 0.5f32 , maxval : 0.25f32 })"
            ),
            "{out}"
        );
        assert!(out.contains(". dropout (0.25f32)"), "{out}");
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
