//! The parsed form of a `model!` invocation, before any checking.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::{Attribute, Expr, Ident, Visibility, token};

/// A whole invocation: one or more named models, or one anonymous model expression.
pub enum Invocation {
    Items(Vec<ModelItem>),
    Expr(Box<ModelExpr>),
}

/// `/// doc  #[params = N]  pub struct Name = Layer(..) => Layer(..);`
pub struct ModelItem {
    /// Attributes other than ours, passed through to the generated struct.
    pub attrs: Vec<Attribute>,
    pub params: Option<Expr>,
    /// `#[max_params = N]`: the limit on the parameter count, raised or lowered.
    pub max_params: Option<Expr>,
    pub vis: Visibility,
    pub ident: Ident,
    pub layers: Vec<LayerCall>,
}

/// `model!(#[params = N] #[seed = S] Layer(..) => Layer(..))`
pub struct ModelExpr {
    pub params: Option<Expr>,
    pub max_params: Option<Expr>,
    pub seed: Option<Expr>,
    pub layers: Vec<LayerCall>,
    /// Where to report "a model needs layers" and similar whole-model problems.
    pub span: Span,
}

/// `Name` or `Name(arg, key = value, ...)`.
#[derive(Clone)]
pub struct LayerCall {
    pub name: Ident,
    pub paren: Option<token::Paren>,
    pub args: Vec<Arg>,
}

/// One argument: positional (`64`) or keyword (`return_sequences = true`).
#[derive(Clone)]
pub struct Arg {
    pub key: Option<Ident>,
    pub value: Value,
}

/// An argument value: a nested layer (inside `Bidirectional`/`TimeDistributed`) or an
/// expression that the checker interprets (integer, float, bool, name, string, `_`).
#[derive(Clone)]
pub enum Value {
    Layer(Box<LayerCall>),
    Expr(Expr),
}

impl ToTokens for LayerCall {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.name.to_tokens(tokens);
        if let Some(paren) = &self.paren {
            paren.surround(tokens, |inner| {
                for (i, arg) in self.args.iter().enumerate() {
                    if i > 0 {
                        inner.extend(quote!(,));
                    }
                    arg.to_tokens(inner);
                }
            });
        }
    }
}

impl ToTokens for Arg {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        if let Some(key) = &self.key {
            key.to_tokens(tokens);
            tokens.extend(quote!(=));
        }
        self.value.to_tokens(tokens);
    }
}

impl ToTokens for Value {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Value::Layer(l) => l.to_tokens(tokens),
            Value::Expr(e) => e.to_tokens(tokens),
        }
    }
}

impl LayerCall {
    /// The call as a user would write it: `LSTM(64, return_sequences = true)`.
    pub fn source(&self) -> String {
        let mut s = self.name.to_string();
        if self.paren.is_some() {
            let args: Vec<String> = self.args.iter().map(Arg::source).collect();
            s.push('(');
            s.push_str(&args.join(", "));
            s.push(')');
        }
        s
    }

    /// The call without a keyword argument, e.g. to show a fix.
    pub fn without(&self, key: &str) -> LayerCall {
        let mut call = self.clone();
        call.args
            .retain(|a| a.key.as_ref().is_none_or(|k| k != key));
        call
    }

    /// The call with one more keyword argument (replacing it if present), e.g. to show a fix.
    pub fn source_with(&self, key: &str, value: &str) -> String {
        let call = self.without(key);
        let mut s = call.source();
        let extra = format!("{key} = {value}");
        if call.paren.is_none() {
            s.push_str(&format!("({extra})"));
        } else if call.args.is_empty() {
            s.insert_str(s.len() - 1, &extra);
        } else {
            s.insert_str(s.len() - 1, &format!(", {extra}"));
        }
        s
    }
}

impl Arg {
    pub fn source(&self) -> String {
        let value = match &self.value {
            Value::Layer(l) => l.source(),
            Value::Expr(e) => expr_source(e),
        };
        match &self.key {
            Some(k) => format!("{k} = {value}"),
            None => value,
        }
    }
}

/// An expression as written, without the spaces `TokenStream::to_string` puts between
/// tokens (`-0.5`, not `- 0.5`; `(10, 5)`, not `(10 , 5)`).
pub fn expr_source(e: &Expr) -> String {
    let s = e.to_token_stream().to_string();
    s.replace("- ", "-").replace(" . ", ".").replace(" ,", ",")
}
