//! Code generation for `#[instrument_stage]`.
//!
//! Everything generated uses `Span::mixed_site()`, so its bindings are invisible to the user's
//! code and the user's bindings to it, and every path starts with `::`. The user's tokens
//! (attributes, signature, body) are re-emitted as written, with their own spans.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{ToTokens as _, quote, quote_spanned};
use syn::{FnArg, Pat, PatIdent, PatType};

use crate::args::Args;
use crate::item::{self, StageFn};

/// Whether the attribute instruments or only validates (feature `off`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Rewrite the function to report each call.
    Instrument,
    /// Check the arguments and the function's shape, then return the item unchanged.
    Validate,
}

/// The whole attribute: `args` are the tokens inside `#[instrument_stage(...)]`, `item` the
/// annotated item.
///
/// On any error the output is the errors followed by the item unchanged, so the user sees
/// only the mistake and no follow-on errors about a missing function.
pub(crate) fn instrument_stage(args: TokenStream, item: TokenStream, mode: Mode) -> TokenStream {
    let args = syn::parse2::<Args>(args);
    let func = item::parse(item.clone());
    match (args, func) {
        (Ok(_), Ok(_)) if mode == Mode::Validate => item,
        (Ok(args), Ok(func)) => {
            if func.is_async() {
                expand_async(&args, &func)
            } else {
                expand_sync(&args, &func)
            }
        }
        (args, func) => {
            let errors = [args.err(), func.err()].into_iter().flatten().reduce(|mut all, error| {
                all.combine(error);
                all
            });
            let errors = errors.map(|errors| errors.to_compile_error());
            quote!(#errors #item)
        }
    }
}

/// The `static` call site and, for the default name, the marker type that names it.
///
/// Output, default name:
///
/// ```text
/// struct __ProfilerMarker;
/// static __PROFILER_CALLSITE: ::profiler_core::__private::Callsite =
///     ::profiler_core::__private::Callsite::from_marker::<__ProfilerMarker>();
/// ```
///
/// Output, `name = "parse"`:
///
/// ```text
/// static __PROFILER_CALLSITE: ::profiler_core::__private::Callsite =
///     ::profiler_core::__private::Callsite::named("parse");
/// ```
fn callsite(args: &Args, site: &Ident) -> TokenStream {
    let span = Span::mixed_site();
    if let Some(name) = &args.name {
        return quote_spanned! {span=>
            static #site: ::profiler_core::__private::Callsite = ::profiler_core::__private::Callsite::named(#name);
        };
    }
    let marker = Ident::new("__ProfilerMarker", span);
    quote_spanned! {span=>
        struct #marker;
        static #site: ::profiler_core::__private::Callsite =
            ::profiler_core::__private::Callsite::from_marker::<#marker>();
    }
}

/// A synchronous function (including one returning `impl Future`: only the call that builds
/// the future is timed).
///
/// Input:
///
/// ```text
/// #[attrs] vis fn f(args) -> R {
///     #![inner]
///     stmts
/// }
/// ```
///
/// Output:
///
/// ```text
/// #[attrs] vis fn f(args) -> R {
///     #![inner]
///     let __profiler_guard = {
///         <callsite>
///         ::profiler_core::__private::enter(&__PROFILER_CALLSITE)
///     };
///     stmts
/// }
/// ```
///
/// The statements stay in the function's own block, so their scopes, temporaries and drop
/// order are the original's, one local earlier. The guard records the call when dropped: after
/// the body's value is computed and its locals are dropped, on every `return` and `?`, and
/// while unwinding.
fn expand_sync(args: &Args, func: &StageFn) -> TokenStream {
    let span = Span::mixed_site();
    let site = Ident::new("__PROFILER_CALLSITE", span);
    let guard = Ident::new("__profiler_guard", span);
    let callsite = callsite(args, &site);
    let StageFn { head, inner_attrs, body, .. } = func;
    let (items, stmts) = func.split_leading_items();
    let statements = quote_spanned! {span=>
        #inner_attrs
        #items
        let #guard = {
            #callsite
            ::profiler_core::__private::enter(&#site)
        };
        #stmts
    };
    let body = braced(statements, body.span());
    quote!(#head #body)
}

/// An `async fn` (free, method, trait default or trait impl): the future is timed from its
/// first poll to its completion.
///
/// Input:
///
/// ```text
/// #[attrs] vis async fn f(self, a: A, (b, c): B, _: C) -> R {
///     #![inner]
///     stmts
/// }
/// ```
///
/// Output:
///
/// ```text
/// #[attrs] vis async fn f(self, a: A, __profiler_arg1: B, __profiler_arg2: C) -> R {
///     #![inner]
///     ::profiler_core::__private::instrument_future(
///         { <callsite> &__PROFILER_CALLSITE },
///         async move {
///             if false {
///                 return ::profiler_core::__private::output_of::<R>();
///             }
///             let a = a;
///             let __profiler_arg1 = __profiler_arg1;
///             let (b, c) = __profiler_arg1;
///             let __profiler_arg2 = __profiler_arg2;
///             let _ = &self; // when `stmts` mention `self`
///             stmts
///         },
///     )
///     .await
/// }
/// ```
///
/// This is how the compiler itself lowers an `async fn`: each argument is moved into the body
/// and bound there, in order, so the arguments drop after the body's locals in reverse order,
/// as they would without the attribute; an argument the body does not use is still reported
/// as unused, and `mut` is still checked, at the user's own tokens. A parameter's `#[cfg]` and
/// lint attributes go on its `let` (only `cfg` and `cfg_attr` stay on the parameter, which is
/// always used now). A pattern parameter gets a generated name (shown as such by rustdoc);
/// a plain name stays, without `mut`.
///
/// `self` cannot be rebound: the block captures it when the body mentions it, whole (the
/// `let _ = &self`) rather than only the fields the body uses, and drops it last, as the
/// original does with its first argument.
///
/// The `if false` statement fixes the output type of the `async` block to `R`, so `return`
/// and `?` in `stmts` infer and coerce exactly as in the original body. It is left out when
/// `R` cannot be named as a generic argument ([`StageFn::nameable_output`]).
///
/// The call site is declared inside a block: a `static` is an item, which `Span::mixed_site`
/// would not hide from `stmts` in the same scope.
fn expand_async(args: &Args, func: &StageFn) -> TokenStream {
    let span = Span::mixed_site();
    let site = Ident::new("__PROFILER_CALLSITE", span);
    let callsite = callsite(args, &site);
    let StageFn { head, inner_attrs, body, .. } = func;
    let (head, bindings) = bind_arguments_in_body(head, func);
    let fake_return = func.nameable_output().map(|output| {
        quote_spanned! {span=>
            if false {
                return ::profiler_core::__private::output_of::<#output>();
            }
        }
    });
    // The receiver's own `self` token: a `self` with a generated span would not resolve.
    let receiver = func.sig.receiver().filter(|_| func.body_mentions_self()).map(|receiver| receiver.self_token);
    let capture_self = receiver.map(|self_token| quote_spanned!(span=> let _ = &#self_token;));
    let (items, stmts) = func.split_leading_items();
    let statements = quote_spanned! {span=>
        #inner_attrs
        ::profiler_core::__private::instrument_future(
            {
                #callsite
                &#site
            },
            async move {
                #items
                #fake_return
                #bindings
                #capture_self
                #stmts
            },
        )
        .await
    };
    let body = braced(statements, body.span());
    quote!(#head #body)
}

/// The head of an `async fn` with its parameters rewritten for [`expand_async`], and the `let`
/// statements that move them into the body. A head whose parameter list cannot be found
/// (never seen) is kept, with no statements: the body then captures what it uses.
fn bind_arguments_in_body(head: &TokenStream, func: &StageFn) -> (TokenStream, TokenStream) {
    let mut tokens: Vec<TokenTree> = head.clone().into_iter().collect();
    let Some(position) = StageFn::params_position(&tokens) else {
        return (head.clone(), TokenStream::new());
    };
    let mut params = Vec::new();
    let mut bindings = TokenStream::new();
    for (index, input) in func.sig.inputs.iter().enumerate() {
        let FnArg::Typed(typed) = input else {
            params.push(input.to_token_stream());
            continue;
        };
        let PatType { attrs, pat, colon_token, ty } = typed;
        // `cfg` decides whether the parameter exists at all; lint attributes (`allow`,
        // `expect`) belong on the binding the body uses, and once only (an `expect` on a
        // binding that cannot set the lint off would itself warn).
        let kept_attrs: Vec<_> =
            attrs.iter().filter(|attr| attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr")).collect();
        if let Pat::Ident(PatIdent { by_ref: None, mutability, ident, subpat: None, .. }) = &**pat {
            params.push(quote!(#(#kept_attrs)* #ident #colon_token #ty));
            // The value moved is named with the call site's span: it resolves to the parameter
            // like the user's token, but lints see it as generated (`_arg` would otherwise set
            // off clippy's `used_underscore_binding` at the user's parameter).
            let mut parameter = ident.clone();
            parameter.set_span(Span::call_site());
            bindings.extend(quote!(#(#attrs)* let #mutability #ident = #parameter;));
        } else {
            let name = Ident::new(&format!("__profiler_arg{index}"), Span::mixed_site());
            params.push(quote!(#(#kept_attrs)* #name #colon_token #ty));
            bindings.extend(quote!(#(#kept_attrs)* let #name = #name; #(#attrs)* let #pat = #name;));
        }
    }
    if let Some(variadic) = &func.sig.variadic {
        params.push(variadic.to_token_stream());
    }
    let mut group = Group::new(Delimiter::Parenthesis, quote!(#(#params),*));
    group.set_span(tokens[position].span());
    tokens[position] = TokenTree::Group(group);
    (tokens.into_iter().collect(), bindings)
}

/// `{ statements }` with the span of the user's body braces, so diagnostics about the body as
/// a whole point at the user's code.
fn braced(statements: TokenStream, span: Span) -> Group {
    let mut group = Group::new(Delimiter::Brace, statements);
    group.set_span(span);
    group
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::{Mode, instrument_stage};

    /// Items of every shape, all valid.
    fn shapes() -> Vec<proc_macro2::TokenStream> {
        vec![
            quote! { fn f() {} },
            quote! {
                /// Docs.
                #[inline]
                #[must_use]
                pub(crate) fn g<'a, T: Clone, const N: usize>(x: &'a [T; N]) -> Option<T>
                where
                    T: Send,
                {
                    #![allow(clippy::all)]
                    let first = x.first()?;
                    Some(first.clone())
                }
            },
            quote! { async fn h(mut self: Pin<&mut Self>) -> Result<u8, E> { Ok(1) } },
            quote! { unsafe extern "C" fn i((a, b): (u32, u32)) -> ! { loop {} } },
        ]
    }

    #[test]
    fn validate_mode_returns_the_item_unchanged() {
        for item in shapes() {
            for args in [quote!(), quote!(name = "stage")] {
                let output = instrument_stage(args, item.clone(), Mode::Validate);
                assert_eq!(output.to_string(), item.to_string());
            }
        }
    }

    #[test]
    fn validate_mode_still_rejects_mistakes() {
        let output = instrument_stage(quote!(nam = "x"), quote! { fn f() {} }, Mode::Validate);
        assert!(output.to_string().contains("compile_error"), "{output}");
        let output = instrument_stage(quote!(), quote! { const fn f() {} }, Mode::Validate);
        assert!(output.to_string().contains("compile_error"), "{output}");
    }

    #[test]
    fn errors_come_with_the_item_unchanged() {
        let item = quote! { const fn f() -> u8 { 1 } };
        let output = instrument_stage(quote!(name = ""), item.clone(), Mode::Instrument);
        let output = output.to_string();
        assert_eq!(output.matches("compile_error").count(), 2, "{output}");
        assert!(output.ends_with(&item.to_string()), "{output}");
    }

    #[test]
    fn instrument_mode_keeps_the_head_and_the_body() {
        let item = quote! { #[inline] pub fn f(x: u8) -> u8 { #![allow(unused)] x + 1 } };
        let output = instrument_stage(quote!(), item, Mode::Instrument).to_string();
        let head = quote! { #[inline] pub fn f(x: u8) -> u8 }.to_string();
        assert!(output.starts_with(&format!("{head} {{ # ! [allow (unused)] let __profiler_guard")), "{output}");
        assert!(output.ends_with("; x + 1 }"), "the statements stay in the function's block: {output}");
        assert!(output.contains(":: profiler_core :: __private :: enter"), "{output}");
        assert!(output.contains("from_marker :: < __ProfilerMarker >"), "{output}");
        let named = instrument_stage(quote!(name = "add"), quote! { fn f() {} }, Mode::Instrument).to_string();
        assert!(named.contains("Callsite :: named (\"add\")") && !named.contains("Marker"), "{named}");
    }

    #[test]
    fn async_bodies_get_the_fake_return_unless_unnameable() {
        let output = instrument_stage(quote!(), quote! { async fn f() -> u8 { 1 } }, Mode::Instrument).to_string();
        assert!(output.contains("return :: profiler_core :: __private :: output_of :: < u8 > ()"), "{output}");
        assert!(output.contains("instrument_future"), "{output}");
        let output =
            instrument_stage(quote!(), quote! { async fn f() -> impl Sized { 1 } }, Mode::Instrument).to_string();
        assert!(!output.contains("output_of"), "{output}");
    }

    #[test]
    fn async_arguments_are_bound_in_the_body_in_order() {
        let item = quote! {
            async fn f(&self, mut a: u8, (b, c): (u8, u8), #[cfg(x)] #[allow(unused)] _: u8) -> u8 { a + b + c }
        };
        let output = instrument_stage(quote!(), item, Mode::Instrument).to_string();
        let head =
            "async fn f (& self , a : u8 , __profiler_arg2 : (u8 , u8) , # [cfg (x)] __profiler_arg3 : u8) -> u8";
        assert!(output.starts_with(head), "{output}");
        let bindings = "let mut a = a ; let __profiler_arg2 = __profiler_arg2 ; let (b , c) = __profiler_arg2 ; \
             # [cfg (x)] let __profiler_arg3 = __profiler_arg3 ; \
             # [cfg (x)] # [allow (unused)] let _ = __profiler_arg3 ; a + b + c";
        assert!(output.contains(bindings), "{output}");
        assert!(!output.contains("let _ = & self"), "the body does not mention `self`: {output}");
    }
}
