//! The function the attribute is applied to, and the checks on its shape.
//!
//! The model keeps the user's tokens as they were written: the head (outer attributes,
//! visibility and signature) and the body are token slices of the input, so the expansion
//! re-emits them with their spans and nothing is lost in a round trip through `syn`. The
//! parsed signature is kept alongside for the decisions the expansion makes (`async`, return
//! type).

use proc_macro2::{Delimiter, Group, Ident, Spacing, Span, TokenStream, TokenTree};
use quote::ToTokens as _;
use syn::parse::{ParseStream, Parser as _};
use syn::{Attribute, Error, Result, ReturnType, Signature, Stmt, Token, Visibility};

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

    /// The type the body of an `async fn` evaluates to, when it can be named as a generic
    /// argument: `()` for no return type; `None` for `!` (unstable as a generic argument), for
    /// types containing `impl Trait` (not allowed there), and for types containing a macro call,
    /// which may expand to either.
    pub(crate) fn nameable_output(&self) -> Option<TokenStream> {
        match &self.sig.output {
            ReturnType::Default => Some(quote::quote!(())),
            ReturnType::Type(_, ty) => {
                let tokens = ty.to_token_stream();
                let unnameable = mentions(tokens.clone(), &|ident| ident == "impl") || mentions_bang(tokens.clone());
                (!unnameable).then_some(tokens)
            }
        }
    }

    /// The body's statements split in two: the items it starts with (nested `fn`s, `use`,
    /// `const`, ...) and the rest, both as written.
    ///
    /// The expansion puts its own statements between the two: an item after a statement sets
    /// off clippy's `items_after_statements` at the user's item, and since an item is visible
    /// in its whole block wherever it stands, moving the generated statements after the items
    /// changes nothing else. Stops at the first statement `syn` cannot read as an item.
    pub(crate) fn split_leading_items(&self) -> (TokenStream, TokenStream) {
        let split = |input: ParseStream<'_>| {
            let mut items = TokenStream::new();
            while !input.is_empty() {
                let fork = input.fork();
                if !matches!(fork.parse::<Stmt>(), Ok(Stmt::Item(_))) {
                    break;
                }
                let end = fork.cursor();
                let item = input.step(|cursor| {
                    let mut rest = *cursor;
                    let mut tokens = TokenStream::new();
                    while rest != end {
                        let Some((tree, next)) = rest.token_tree() else {
                            return Err(cursor.error("an item ends inside a group"));
                        };
                        tokens.extend([tree]);
                        rest = next;
                    }
                    Ok((tokens, rest))
                });
                match item {
                    Ok(item) => items.extend(item),
                    Err(_) => break,
                }
            }
            Ok((items, input.parse::<TokenStream>()?))
        };
        split.parse2(self.body.stream()).unwrap_or_else(|_| (TokenStream::new(), self.body.stream()))
    }

    /// Whether the body mentions `self`.
    pub(crate) fn body_mentions_self(&self) -> bool {
        mentions(self.body.stream(), &|ident| ident == "self")
    }

    /// The position in `head` of the parenthesised parameter list.
    ///
    /// The head is outer attributes (`#` and a bracket group each), then anything up to the
    /// `fn` keyword (visibility, qualifiers, ABI), the name, optional generics between `<` and
    /// `>` (where `->` of `Fn() -> T` bounds is not a closing bracket), and the parameters.
    pub(crate) fn params_position(head: &[TokenTree]) -> Option<usize> {
        let mut i = 0;
        while let [TokenTree::Punct(hash), TokenTree::Group(bracket), ..] = &head[i..]
            && hash.as_char() == '#'
            && bracket.delimiter() == Delimiter::Bracket
        {
            i += 2;
        }
        i += head[i..].iter().position(|tree| matches!(tree, TokenTree::Ident(ident) if ident == "fn"))? + 2;
        if matches!(head.get(i), Some(TokenTree::Punct(p)) if p.as_char() == '<') {
            let mut depth = 0usize;
            loop {
                match head.get(i)? {
                    TokenTree::Punct(p) if p.as_char() == '<' => depth += 1,
                    TokenTree::Punct(p) if p.as_char() == '>' && !follows_joint_minus(&head[..i]) => depth -= 1,
                    _ => {}
                }
                i += 1;
                if depth == 0 {
                    break;
                }
            }
        }
        matches!(head.get(i), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis).then_some(i)
    }
}

/// Whether the token before the end of `before` is a `-` joined to the next one (`->`).
fn follows_joint_minus(before: &[TokenTree]) -> bool {
    matches!(before.last(), Some(TokenTree::Punct(p)) if p.as_char() == '-' && p.spacing() == Spacing::Joint)
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
    let Some(body) = head.pop().as_ref().and_then(braced_body) else {
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
            format!("{NOT_A_FN} that have a body (for a trait method: put it on its implementations)"),
        ));
    }
    let body: TokenTree = input.parse()?;
    match braced_body(&body) {
        Some(_) if input.is_empty() => Ok(sig),
        _ => Err(Error::new(body.span(), NOT_A_FN)),
    }
}

/// The body `{ ... }`, also when it comes in the invisible group of a `macro_rules!` `$b:block`
/// fragment.
fn braced_body(tree: &TokenTree) -> Option<Group> {
    let TokenTree::Group(group) = tree else { return None };
    match group.delimiter() {
        Delimiter::Brace => Some(group.clone()),
        Delimiter::None => {
            let mut inner = group.stream().into_iter();
            match (inner.next(), inner.next()) {
                (Some(only), None) => braced_body(&only),
                _ => None,
            }
        }
        Delimiter::Parenthesis | Delimiter::Bracket => None,
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

/// Whether `tokens` hold a `!` anywhere, including inside groups: in a type, the never type or
/// a macro call.
fn mentions_bang(tokens: TokenStream) -> bool {
    any_token(tokens, &|tree| matches!(tree, TokenTree::Punct(punct) if punct.as_char() == '!'))
}

/// Whether an identifier matching `is_match` occurs in `tokens`, including inside groups.
fn mentions(tokens: TokenStream, is_match: &dyn Fn(&Ident) -> bool) -> bool {
    any_token(tokens, &|tree| matches!(tree, TokenTree::Ident(ident) if is_match(ident)))
}

/// Whether a token that is not a group matches `is_match`, in `tokens` or inside its groups.
fn any_token(tokens: TokenStream, is_match: &dyn Fn(&TokenTree) -> bool) -> bool {
    tokens.into_iter().any(|tree| match &tree {
        TokenTree::Group(group) => any_token(group.stream(), is_match),
        TokenTree::Ident(_) | TokenTree::Punct(_) | TokenTree::Literal(_) => is_match(&tree),
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
        assert_eq!(output(quote! { async fn f() -> Vec<ty!()> {} }), None);
        let never = proc_macro2::Group::new(proc_macro2::Delimiter::None, quote!(!));
        assert_eq!(output(quote! { async fn f() -> #never {} }), None, "`$t:ty` holding `!`");
    }

    #[test]
    fn finds_the_parameters_in_the_head() {
        let position = |tokens: proc_macro2::TokenStream| {
            let head: Vec<_> = parse(tokens).unwrap().head.into_iter().collect();
            super::StageFn::params_position(&head).map(|i| head[i].to_string())
        };
        let params = Some(quote!((x: u8)).to_string());
        assert_eq!(position(quote! { fn f(x: u8) {} }), params);
        assert_eq!(position(quote! { #[a(b)] pub(crate) async unsafe extern "C" fn f(x: u8) {} }), params);
        assert_eq!(
            position(quote! { fn f<F: Fn(u8) -> u8, const N: usize>(x: u8) -> u8 where F: Fn() -> () {} }),
            params
        );
        assert_eq!(position(quote! { fn f<'a, T: Iterator<Item = Vec<u8>>>(x: u8) {} }), params);
    }

    #[test]
    fn splits_the_leading_items_from_the_statements() {
        let split = |tokens| {
            let (items, rest) = parse(tokens).unwrap().split_leading_items();
            (items.to_string(), rest.to_string())
        };
        let (items, rest) =
            split(quote! { fn f() { use std::fmt::Write; #[inline] fn g() {} let x = 1; fn h() {} x } });
        assert_eq!(items, quote! { use std::fmt::Write; #[inline] fn g() {} }.to_string());
        assert_eq!(rest, quote! { let x = 1; fn h() {} x }.to_string());
        assert_eq!(split(quote! { fn f() { 1 } }), (String::new(), quote!(1).to_string()));
        assert_eq!(split(quote! { fn f() {} }), (String::new(), String::new()));
        let (items, rest) = split(quote! { fn f() { struct S; } });
        assert_eq!(
            (items, rest),
            (
                quote!(
                    struct S;
                )
                .to_string(),
                String::new()
            )
        );
    }

    #[test]
    fn accepts_a_body_in_an_invisible_group() {
        let body = proc_macro2::Group::new(proc_macro2::Delimiter::None, quote!({ 1 }));
        let func = parse(quote! { fn f() -> u8 #body }).unwrap();
        assert_eq!(func.body.to_string(), quote!({ 1 }).to_string());
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
            format!("{not_a_fn} that have a body (for a trait method: put it on its implementations)")
        );
        assert_eq!(error(quote! { pub const fn f() {} }), "`#[instrument_stage]` cannot be applied to `const fn`");
        assert_eq!(error(quote! { #[instrument_stage] fn f() {} }), "duplicate `#[instrument_stage]` attribute");
    }
}
