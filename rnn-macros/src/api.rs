//! `#[model_api]`: the model API of the runtime, mirrored onto the stand-in that `model!`
//! emits for a model with errors.
//!
//! A model whose declaration has errors still gets a type, which dereferences to a stand-in
//! instead of a `Sequential`, so that code using the model type-checks and the user sees only
//! the model's own errors. The attribute sits on each public `impl` block of `Sequential`:
//! it keeps the block and adds the same public methods to the stand-in, so the stand-in
//! cannot fall behind the real API.
//!
//! A mirrored method keeps its name, receiver, generics and every type that does not involve
//! the block's own type parameters (`S` of `impl<S> Sequential<S>`) or `Self`. Those that do
//! are loosened. An argument of such a type becomes `impl Sized`, so any value is accepted and
//! a turbofish names the same explicit parameters as on the real method. A returned one
//! becomes the stand-in itself, so that a result bound to a variable has a known type rather
//! than an uninferable one; `&`, `&mut`, slices, arrays, tuples, `Result`, `Option`, `Vec` and
//! `Box` around it are kept, so `?` still works. Bounds that mention the block's parameters
//! are dropped. Bodies are `unreachable!()`: a program with a stand-in never compiles, so they
//! never run.

use std::collections::HashSet;

use proc_macro2::{TokenStream, TokenTree};
use quote::{ToTokens, quote};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    FnArg, GenericArgument, GenericParam, ImplItem, ImplItemConst, ImplItemFn, ItemImpl, Pat,
    PathArguments, ReturnType, Signature, Type, TypeParamBound, Visibility, WherePredicate,
    parse_quote,
};

/// The stand-in type, unless the attribute names another.
const DEFAULT_STANDIN: &str = "crate::placeholder::Placeholder";

/// Wrappers kept around a loosened return type, so that `?`, `if let Some` and iteration still
/// type-check on the stand-in's results. None of them bounds its parameters.
const KEPT_WRAPPERS: [&str; 4] = ["Result", "Option", "Vec", "Box"];

/// Expands `#[model_api]` (or `#[model_api(path::to::StandIn)]`) on an inherent `impl` block.
pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    match try_expand(args, item.clone()) {
        Ok(tokens) => tokens,
        // The block itself still compiles, so the only error is this one.
        Err(e) => {
            let error = e.to_compile_error();
            quote!(#error #item)
        }
    }
}

fn try_expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let standin: syn::Path = if args.is_empty() {
        syn::parse_str(DEFAULT_STANDIN)?
    } else {
        syn::parse2(args)?
    };
    let block: ItemImpl = syn::parse2(item)?;
    if let Some((_, path, _)) = &block.trait_ {
        return Err(syn::Error::new(
            path.span(),
            "#[model_api] mirrors inherent methods; put it on an `impl Type { .. }` block",
        ));
    }
    let params = ImplParams::of(&block);
    let mut mirrored = Vec::new();
    for item in &block.items {
        match item {
            ImplItem::Fn(f) if is_public(&f.vis) => mirrored.push(mirror_fn(f, &params)?),
            ImplItem::Const(c) if is_public(&c.vis) => mirrored.push(mirror_const(c, &params)?),
            ImplItem::Fn(_) | ImplItem::Const(_) => {}
            other => {
                return Err(syn::Error::new(
                    other.span(),
                    "#[model_api] mirrors methods and constants only; move this item to a \
                     block without the attribute",
                ));
            }
        }
    }
    Ok(quote! {
        #block

        #[doc(hidden)]
        #[allow(unused, missing_docs, clippy::all)]
        impl #standin {
            #(#mirrored)*
        }
    })
}

fn is_public(vis: &Visibility) -> bool {
    matches!(vis, Visibility::Public(_))
}

/// The names a mirrored signature must not mention: the block's generic parameters (type,
/// const and lifetime) and `Self`.
struct ImplParams {
    names: HashSet<String>,
}

impl ImplParams {
    fn of(block: &ItemImpl) -> Self {
        let mut names: HashSet<String> = block
            .generics
            .params
            .iter()
            .map(|p| match p {
                GenericParam::Type(t) => t.ident.to_string(),
                GenericParam::Const(c) => c.ident.to_string(),
                GenericParam::Lifetime(l) => l.lifetime.ident.to_string(),
            })
            .collect();
        names.insert("Self".to_string());
        ImplParams { names }
    }

    /// Whether the tokens name one of the parameters (lifetimes are compared by their
    /// identifier, so a clash with a type's name only loosens a signature further).
    fn mentioned_in(&self, tokens: impl ToTokens) -> bool {
        fn walk(stream: TokenStream, names: &HashSet<String>) -> bool {
            stream.into_iter().any(|tt| match tt {
                TokenTree::Ident(i) => names.contains(&i.to_string()),
                TokenTree::Group(g) => walk(g.stream(), names),
                _ => false,
            })
        }
        walk(tokens.into_token_stream(), &self.names)
    }
}

/// Where a type appears in a signature.
#[derive(Clone, Copy, PartialEq)]
enum Position {
    Argument,
    Return,
}

impl ImplParams {
    /// The stand-in's version of a type of a mirrored signature.
    fn loosen(&self, ty: &Type, at: Position) -> syn::Result<Type> {
        if at == Position::Return && matches!(ty, Type::ImplTrait(_)) {
            return Err(syn::Error::new(
                ty.span(),
                "#[model_api] cannot mirror an `impl Trait` return type; name the type",
            ));
        }
        if !self.mentioned_in(ty) {
            return Ok(ty.clone());
        }
        Ok(match ty {
            Type::Reference(r) => {
                let mut r = r.clone();
                if self.mentioned_in(&r.lifetime) {
                    r.lifetime = None;
                }
                *r.elem = self.loosen(&r.elem, at)?;
                Type::Reference(r)
            }
            Type::Slice(s) => {
                let mut s = s.clone();
                *s.elem = self.loosen(&s.elem, at)?;
                Type::Slice(s)
            }
            Type::Array(a) if !self.mentioned_in(&a.len) => {
                let mut a = a.clone();
                *a.elem = self.loosen(&a.elem, at)?;
                Type::Array(a)
            }
            Type::Paren(p) => self.loosen(&p.elem, at)?,
            Type::Group(g) => self.loosen(&g.elem, at)?,
            Type::Tuple(t) => {
                let mut t = t.clone();
                for elem in t.elems.iter_mut() {
                    *elem = self.loosen(elem, at)?;
                }
                Type::Tuple(t)
            }
            Type::Path(p) if p.qself.is_none() && self.is_kept_wrapper(&p.path) => {
                let mut p = p.clone();
                let last = p.path.segments.last_mut().expect("a path has a segment");
                if let PathArguments::AngleBracketed(args) = &mut last.arguments {
                    for arg in args.args.iter_mut() {
                        match arg {
                            GenericArgument::Type(t) => *t = self.loosen(t, at)?,
                            GenericArgument::Lifetime(l) if self.mentioned_in(&*l) => {
                                *l = syn::Lifetime::new("'static", l.span());
                            }
                            _ => {}
                        }
                    }
                }
                Type::Path(p)
            }
            _ => self.leaf(at),
        })
    }

    /// A wrapper from [`KEPT_WRAPPERS`] whose only generic arguments are on its last segment.
    fn is_kept_wrapper(&self, path: &syn::Path) -> bool {
        let mut segments = path.segments.iter().rev();
        let Some(last) = segments.next() else {
            return false;
        };
        KEPT_WRAPPERS.contains(&last.ident.to_string().as_str())
            && matches!(last.arguments, PathArguments::AngleBracketed(_))
            && segments.all(|s| s.arguments.is_none() && !self.mentioned_in(&s.ident))
    }

    /// A type that involves the block's parameters and is not one of the kept shapes.
    fn leaf(&self, at: Position) -> Type {
        match at {
            Position::Argument => parse_quote!(impl ::core::marker::Sized),
            Position::Return => parse_quote!(Self),
        }
    }
}

/// The stand-in of a public method: same name, receiver and generics; loosened types; no
/// bounds on the block's parameters; an unreachable body.
fn mirror_fn(f: &ImplItemFn, params: &ImplParams) -> syn::Result<TokenStream> {
    let mut sig: Signature = f.sig.clone();
    for arg in sig.inputs.iter_mut() {
        if let FnArg::Typed(typed) = arg {
            *typed.ty = params.loosen(&typed.ty, Position::Argument)?;
            // Patterns may bind names the unreachable body does not use.
            *typed.pat = Pat::Verbatim(quote!(_));
        }
    }
    if let ReturnType::Type(_, ty) = &mut sig.output {
        **ty = params.loosen(ty, Position::Return)?;
    }
    drop_bounds_on_params(&mut sig, params);
    let cfgs = f
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("cfg") || a.path().is_ident("cfg_attr"));
    let vis = &f.vis;
    Ok(quote! {
        #(#cfgs)*
        #vis #sig {
            ::core::unreachable!("a model with compile errors cannot run")
        }
    })
}

/// Removes every bound, inline or in the `where` clause, that names the block's parameters.
fn drop_bounds_on_params(sig: &mut Signature, params: &ImplParams) {
    let keep = |b: &TypeParamBound| !params.mentioned_in(b);
    for p in sig.generics.params.iter_mut() {
        if let GenericParam::Type(t) = p {
            t.bounds = t.bounds.iter().filter(|b| keep(b)).cloned().collect();
            if t.bounds.is_empty() {
                t.colon_token = None;
            }
        }
    }
    if let Some(clause) = &mut sig.generics.where_clause {
        let predicates: Punctuated<WherePredicate, syn::Token![,]> = clause
            .predicates
            .iter()
            .filter_map(|pred| match pred {
                WherePredicate::Type(t) if !params.mentioned_in(&t.bounded_ty) => {
                    let mut t = t.clone();
                    t.bounds = t.bounds.iter().filter(|b| keep(b)).cloned().collect();
                    (!t.bounds.is_empty()).then_some(WherePredicate::Type(t))
                }
                other if !params.mentioned_in(other) => Some(other.clone()),
                _ => None,
            })
            .collect();
        if predicates.is_empty() {
            sig.generics.where_clause = None;
        } else {
            clause.predicates = predicates;
        }
    }
}

/// A public constant, copied when it does not depend on the block's parameters.
fn mirror_const(c: &ImplItemConst, params: &ImplParams) -> syn::Result<TokenStream> {
    if params.mentioned_in(&c.ty) || params.mentioned_in(&c.expr) || !c.generics.params.is_empty() {
        return Err(syn::Error::new(
            c.ident.span(),
            "#[model_api] cannot mirror a constant that depends on the block's type \
             parameters; make it a method",
        ));
    }
    let (vis, ident, ty, expr) = (&c.vis, &c.ident, &c.ty, &c.expr);
    Ok(quote!(#vis const #ident: #ty = #expr;))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mirrored(block: TokenStream) -> String {
        let out = expand(TokenStream::new(), block).to_string();
        let at = out
            .find("impl crate :: placeholder :: Placeholder")
            .unwrap_or_else(|| panic!("no stand-in block in {out}"));
        out[at..].to_string()
    }

    #[test]
    fn keeps_the_block_and_mirrors_public_methods_only() {
        let block = quote! {
            impl<S: Stack> Sequential<S> {
                pub fn summary(&self) -> String { render(self) }
                fn private(&self) {}
                pub(crate) fn internal(&self) {}
            }
        };
        let out = expand(TokenStream::new(), block).to_string();
        assert!(
            out.contains("pub fn summary (& self) -> String { render (self) }"),
            "{out}"
        );
        let standin = mirrored(quote! {
            impl<S: Stack> Sequential<S> {
                pub fn summary(&self) -> String { render(self) }
                fn private(&self) {}
                pub(crate) fn internal(&self) {}
            }
        });
        assert!(
            standin.contains("pub fn summary (& self) -> String"),
            "{standin}"
        );
        assert!(standin.contains("unreachable !"), "{standin}");
        assert!(
            !standin.contains("private") && !standin.contains("internal"),
            "{standin}"
        );
    }

    #[test]
    fn arguments_on_the_parameters_take_anything_and_bounds_on_them_go() {
        let standin = mirrored(quote! {
            impl<S> Sequential<S> where S: Stack {
                pub fn fit<X, Y: IntoTargets>(&mut self, x: X, y: Y, options: Fit<V>) -> Result<History>
                where X: IntoInput<S::In>, V: ValidationData<S::In> + Clone {}
                pub fn forward(&mut self, x: &S::In, mode: Mode) -> Result<Outputs> {}
                pub fn save(&self, path: impl AsRef<Path>, other: impl Into<S>) {}
            }
        });
        assert!(
            standin.contains(
                "pub fn fit < X , Y : IntoTargets > (& mut self , _ : X , _ : Y , _ : Fit < V >) -> Result < History > where V : Clone {"
            ),
            "{standin}"
        );
        assert!(
            standin.contains(
                "pub fn forward (& mut self , _ : & impl :: core :: marker :: Sized , _ : Mode) -> Result < Outputs >"
            ),
            "{standin}"
        );
        assert!(
            standin.contains(
                "pub fn save (& self , _ : impl AsRef < Path > , _ : impl :: core :: marker :: Sized)"
            ),
            "{standin}"
        );
    }

    #[test]
    fn returns_on_the_parameters_become_the_stand_in_inside_kept_wrappers() {
        let standin = mirrored(quote! {
            impl<S: Stack> Sequential<S> {
                pub fn backward(&mut self, g: &[&[f32]]) -> Result<<S::In as Tensor>::Grad> {}
                pub fn layers(&self) -> &S {}
                pub fn new(stack: S, spec: &'static ModelSpec) -> Self {}
                pub fn state(&self) -> StepState<S> {}
                pub fn step(&mut self, state: &mut StepState<S>, x: Option<S::In>) -> Result<Outputs> {}
                pub fn pair(&self) -> (Vec<S::Out>, usize) {}
            }
        });
        for want in [
            "pub fn backward (& mut self , _ : & [& [f32]]) -> Result < Self >",
            "pub fn layers (& self) -> & Self",
            "pub fn new (_ : impl :: core :: marker :: Sized , _ : & 'static ModelSpec) -> Self",
            "pub fn state (& self) -> Self",
            "pub fn step (& mut self , _ : & mut impl :: core :: marker :: Sized , _ : Option < impl :: core :: marker :: Sized >) -> Result < Outputs >",
            "pub fn pair (& self) -> (Vec < Self > , usize)",
        ] {
            assert!(standin.contains(want), "{want} not in {standin}");
        }
    }

    #[test]
    fn constants_are_copied_unless_they_depend_on_the_parameters() {
        let standin = mirrored(quote! {
            impl<S: Stack> Sequential<S> { pub const NAME: &'static str = "sequential"; }
        });
        assert!(
            standin.contains("pub const NAME : & 'static str = \"sequential\" ;"),
            "{standin}"
        );
        let out = expand(
            TokenStream::new(),
            quote!(
                impl<S: Stack> Sequential<S> {
                    pub const P: usize = S::PARAMS;
                }
            ),
        )
        .to_string();
        assert!(out.contains("compile_error"), "{out}");
        assert!(
            out.contains("pub const P : usize = S :: PARAMS"),
            "the block is kept: {out}"
        );
    }

    #[test]
    fn unsupported_items_are_errors_that_keep_the_block() {
        let out = expand(
            TokenStream::new(),
            quote!(
                impl<S> Sequential<S> {
                    pub fn iter(&self) -> impl Iterator<Item = u8> {}
                }
            ),
        )
        .to_string();
        assert!(
            out.contains("compile_error") && out.contains("impl Trait"),
            "{out}"
        );
        let out = expand(TokenStream::new(), quote!(impl Clone for Sequential { })).to_string();
        assert!(out.contains("inherent"), "{out}");
    }

    #[test]
    fn another_stand_in_can_be_named() {
        let out = expand(
            quote!(my::StandIn),
            quote!(
                impl<S> Sequential<S> {
                    pub fn spec(&self) -> &'static ModelSpec {}
                }
            ),
        )
        .to_string();
        assert!(out.contains("impl my :: StandIn"), "{out}");
    }
}
