//! The function the attribute is applied to, and the checks on its shape.
//!
//! The model keeps the user's tokens as they were written: the head (outer attributes,
//! visibility and signature) and the body are token slices of the input, so the expansion
//! re-emits them with their spans and nothing is lost in a round trip through `syn`. The
//! parsed signature is kept alongside for the decisions the expansion makes (`async`, return
//! type).

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::ToTokens as _;
use syn::parse::{ParseStream, Parser as _};
use syn::{Attribute, Error, FnArg, Pat, Result, ReturnType, Signature, Token, Type, Visibility};

/// The message every rejection of a non-function starts with.
const NOT_A_FN: &str = "`#[instrument_stage]` can only be applied to functions";

/// A function with a body: a free fn, a method, or a trait method with a default body.
pub(crate) struct StageFn {
    /// Outer attributes, visibility, `default` and signature, as written.
    pub(crate) head: TokenStream,
    /// The body's inner attributes (`#![...]` and `//!`), as written.
    pub(crate) inner_attrs: TokenStream,
    /// The body without its inner attributes, in its original braces.
    pub(crate) body: Group,
    /// The parsed signature, for the decisions of the expansion.
    pub(crate) sig: Signature,
}

impl StageFn {
    /// Whether the body is an `async fn` body.
    pub(crate) fn is_async(&self) -> bool {
        self.sig.asyncness.is_some()
    }

    /// The type the body of an `async fn` evaluates to, when it can be named in a `let`
    /// statement: `()` for no return type; `None` for types containing `impl Trait` (not
    /// allowed in a `let`) and for `!` (a type only allowed in return position).
    pub(crate) fn nameable_output(&self) -> Option<TokenStream> {
        match &self.sig.output {
            ReturnType::Default => Some(quote::quote!(())),
            ReturnType::Type(_, ty) if matches!(**ty, Type::Never(_)) => None,
            ReturnType::Type(_, ty) => {
                let tokens = ty.to_token_stream();
                (!mentions_impl(tokens.clone())).then_some(tokens)
            }
        }
    }
}

impl StageFn {
    /// The argument bindings (and `self`) that the body mentions, with the user's spans.
    ///
    /// The `async move` block an `async fn` body moves into would capture only the fields it
    /// uses of such a binding (disjoint capture), which changes drop order and sets off
    /// `unused_assignments` when the body assigns a field before reading it. The expansion
    /// borrows each of these bindings whole inside the block, so it captures them whole, as
    /// the original `async fn` does. Bindings the body does not mention are left out, so an
    /// unused argument is still reported as unused.
    pub(crate) fn mentioned_bindings(&self) -> Vec<TokenStream> {
        let mut bindings = Vec::new();
        for input in &self.sig.inputs {
            match input {
                FnArg::Receiver(receiver) => bindings.push(receiver.self_token.to_token_stream()),
                FnArg::Typed(typed) => collect_bindings(&typed.pat, &mut bindings),
            }
        }
        let body = self.body.stream();
        bindings.retain(|binding| {
            let name = binding.to_string();
            mentions(body.clone(), &|ident| *ident == name)
        });
        bindings
    }
}

/// The identifiers a pattern binds, in order.
fn collect_bindings(pat: &Pat, out: &mut Vec<TokenStream>) {
    match pat {
        Pat::Ident(ident) => {
            out.push(ident.ident.to_token_stream());
            if let Some((_, sub)) = &ident.subpat {
                collect_bindings(sub, out);
            }
        }
        Pat::Tuple(tuple) => tuple.elems.iter().for_each(|pat| collect_bindings(pat, out)),
        Pat::TupleStruct(tuple) => tuple.elems.iter().for_each(|pat| collect_bindings(pat, out)),
        Pat::Slice(slice) => slice.elems.iter().for_each(|pat| collect_bindings(pat, out)),
        Pat::Struct(pat) => pat.fields.iter().for_each(|field| collect_bindings(&field.pat, out)),
        Pat::Reference(reference) => collect_bindings(&reference.pat, out),
        Pat::Paren(paren) => collect_bindings(&paren.pat, out),
        Pat::Type(typed) => collect_bindings(&typed.pat, out),
        // Every alternative binds the same names.
        Pat::Or(or) => {
            if let Some(first) = or.cases.first() {
                collect_bindings(first, out);
            }
        }
        _ => {}
    }
}

/// Parses the item and checks that it is a function the attribute supports.
///
/// Errors span the offending token: the item's first token (after attributes and visibility)
/// for non-functions, `fn` for a missing body, `const` for a `const fn`.
pub(crate) fn parse(item: TokenStream) -> Result<StageFn> {
    let sig = classify.parse2(item.clone())?;
    if let Some(constness) = sig.constness {
        return Err(Error::new(constness.span, "`#[instrument_stage]` cannot be applied to `const fn`"));
    }
    // `classify` saw a brace-delimited body last, so the split below cannot fail; report an
    // error rather than panic should that ever change.
    let mut head: Vec<TokenTree> = item.into_iter().collect();
    let Some(TokenTree::Group(body)) = head.pop() else {
        return Err(Error::new(Span::call_site(), NOT_A_FN));
    };
    let (inner_attrs, body) = split_inner_attrs(&body);
    Ok(StageFn { head: head.into_iter().collect(), inner_attrs, body, sig })
}

/// Input: `#[outer]* vis default? sig { ... }`. Output: the signature, or the error for
/// anything else.
fn classify(input: ParseStream<'_>) -> Result<Signature> {
    let attrs = input.call(Attribute::parse_outer)?;
    if let Some(again) =
        attrs.iter().find(|attr| attr.path().segments.last().is_some_and(|s| s.ident == "instrument_stage"))
    {
        return Err(Error::new_spanned(again, "duplicate `#[instrument_stage]` attribute"));
    }
    input.parse::<Visibility>()?;
    if input.peek(Token![default]) && !input.peek2(Token![!]) {
        input.parse::<Token![default]>()?;
    }
    let fork = input.fork();
    let Ok(sig) = fork.parse::<Signature>() else {
        return Err(not_a_fn(input));
    };
    syn::parse::discouraged::Speculative::advance_to(input, &fork);
    if input.peek(Token![;]) {
        return Err(Error::new(
            sig.fn_token.span,
            format!("{NOT_A_FN} that have a body, put it on the implementations of this method instead"),
        ));
    }
    let body: TokenTree = input.parse()?;
    match body {
        TokenTree::Group(group) if group.delimiter() == Delimiter::Brace && input.is_empty() => Ok(sig),
        other => Err(Error::new(other.span(), NOT_A_FN)),
    }
}

/// The error for an item that is not a function, spanning its first token (its keyword,
/// attributes and visibility aside), with a hint for the items that contain functions.
fn not_a_fn(input: ParseStream<'_>) -> Error {
    let Some((first, _)) = input.cursor().token_tree() else {
        return Error::new(Span::call_site(), NOT_A_FN);
    };
    let hint = match &first {
        TokenTree::Ident(ident) if ident == "impl" => ", put it on the methods inside the `impl` block",
        TokenTree::Ident(ident) if ident == "trait" => ", put it on the methods of the trait that have a body",
        TokenTree::Ident(ident) if ident == "mod" => ", put it on the functions inside the module",
        _ => "",
    };
    Error::new(first.span(), format!("{NOT_A_FN}{hint}"))
}

/// Splits `{ #![a] //! b  stmts }` into the inner attributes and `{ stmts }`, keeping the
/// braces' span.
///
/// Input: a brace group. An inner attribute is always the three token trees `#`, `!` and a
/// bracket group (doc comments reach a macro in that form too), and nothing else starts with
/// `#!` inside a block.
fn split_inner_attrs(body: &Group) -> (TokenStream, Group) {
    let tokens: Vec<TokenTree> = body.stream().into_iter().collect();
    let mut end = 0;
    while let [TokenTree::Punct(hash), TokenTree::Punct(bang), TokenTree::Group(bracket), ..] = &tokens[end..]
        && hash.as_char() == '#'
        && bang.as_char() == '!'
        && bracket.delimiter() == Delimiter::Bracket
    {
        end += 3;
    }
    let mut rest = Group::new(Delimiter::Brace, tokens[end..].iter().cloned().collect());
    rest.set_span(body.span());
    (tokens[..end].iter().cloned().collect(), rest)
}

/// Whether a type mentions `impl Trait` anywhere, including inside groups.
fn mentions_impl(tokens: TokenStream) -> bool {
    mentions(tokens, &|ident| ident == "impl")
}

/// Whether an identifier matching `is_match` occurs in `tokens`, including inside groups.
fn mentions(tokens: TokenStream, is_match: &dyn Fn(&Ident) -> bool) -> bool {
    tokens.into_iter().any(|tree| match tree {
        TokenTree::Ident(ident) => is_match(&ident),
        TokenTree::Group(group) => mentions(group.stream(), is_match),
        TokenTree::Punct(_) | TokenTree::Literal(_) => false,
    })
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::parse;

    fn error(tokens: proc_macro2::TokenStream) -> String {
        match parse(tokens) {
            Ok(_) => String::from("<accepted>"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn splits_inner_attributes_from_the_body() {
        let func = parse(quote! { #[inline] pub fn f() { #![allow(unused)] #![doc = "x"] let x = 1; x } }).unwrap();
        assert_eq!(func.head.to_string(), quote! { #[inline] pub fn f() }.to_string());
        assert_eq!(func.inner_attrs.to_string(), quote!(#![allow(unused)] #![doc = "x"]).to_string());
        assert_eq!(
            func.body.to_string(),
            quote!({
                let x = 1;
                x
            })
            .to_string()
        );
    }

    #[test]
    fn names_the_output_of_async_bodies() {
        let output = |tokens| parse(tokens).unwrap().nameable_output().map(|t| t.to_string());
        assert_eq!(output(quote! { async fn f() {} }), Some(quote!(()).to_string()));
        assert_eq!(output(quote! { async fn f() -> Result<u8, E> {} }), Some(quote!(Result<u8, E>).to_string()));
        assert_eq!(output(quote! { async fn f() -> Box<impl Sized> {} }), None);
        assert_eq!(output(quote! { async fn f() -> ! {} }), None);
    }

    #[test]
    fn finds_the_bindings_the_body_mentions() {
        let func = parse(quote! {
            async fn f(self, (a, b): (u8, u8), Point { x, y: why }: Point, _unused: u8, [c, ..]: [u8; 2]) {
                a + x + why + c + { self }
            }
        })
        .unwrap();
        let names: Vec<String> = func.mentioned_bindings().iter().map(ToString::to_string).collect();
        assert_eq!(names, ["self", "a", "x", "why", "c"]);
    }

    #[test]
    fn accepts_every_fn_shape() {
        for item in [
            quote! { fn f() {} },
            quote! { pub(crate) unsafe extern "C" fn f() {} },
            quote! { async fn f(&self) {} },
            quote! { default fn f(self: Box<Self>) {} },
            quote! { fn f<T: Clone, const N: usize>(x: [T; N]) -> impl Iterator<Item = T> where T: Send { x.into_iter() } },
        ] {
            assert_eq!(error(item), "<accepted>");
        }
    }

    #[test]
    fn rejects_other_items() {
        let not_a_fn = "`#[instrument_stage]` can only be applied to functions";
        assert_eq!(error(quote! { pub struct S; }), not_a_fn);
        assert_eq!(
            error(quote!(
                const X: u8 = 1;
            )),
            not_a_fn
        );
        assert_eq!(error(quote!()), not_a_fn);
        assert_eq!(error(quote! { impl S {} }), format!("{not_a_fn}, put it on the methods inside the `impl` block"));
        assert_eq!(
            error(quote! { fn f(&self); }),
            format!("{not_a_fn} that have a body, put it on the implementations of this method instead")
        );
        assert_eq!(error(quote! { pub const fn f() {} }), "`#[instrument_stage]` cannot be applied to `const fn`");
        assert_eq!(error(quote! { #[instrument_stage] fn f() {} }), "duplicate `#[instrument_stage]` attribute");
    }
}
