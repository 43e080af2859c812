//! Code generation for `#[instrument_stage]`.
//!
//! Everything generated uses `Span::mixed_site()`, so its bindings are invisible to the user's
//! code and the user's bindings to it, and every path starts with `::`. The user's tokens
//! (attributes, signature, body) are re-emitted as written, with their own spans.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};

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
///     #[allow(unused_braces)] // only when `stmts` is a lone expression
///     {
///         stmts
///     }
/// }
/// ```
///
/// The guard records the call when dropped: after the body's value is computed and its locals
/// are dropped, on every `return` and `?`, and while unwinding.
fn expand_sync(args: &Args, func: &StageFn) -> TokenStream {
    let span = Span::mixed_site();
    let site = Ident::new("__PROFILER_CALLSITE", span);
    let guard = Ident::new("__profiler_guard", span);
    let callsite = callsite(args, &site);
    let StageFn { head, inner_attrs, body, .. } = func;
    let allow = allow_unused_braces(body);
    let statements = quote_spanned! {span=>
        #inner_attrs
        let #guard = {
            #callsite
            ::profiler_core::__private::enter(&#site)
        };
        #allow
        #body
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
/// #[attrs] vis async fn f(args) -> R {
///     #![inner]
///     stmts
/// }
/// ```
///
/// Output:
///
/// ```text
/// #[attrs] vis async fn f(args) -> R {
///     #![inner]
///     <callsite>
///     ::profiler_core::__private::instrument_future(&__PROFILER_CALLSITE, async move {
///         let _ = (&self, &arg, ...); // the arguments `stmts` mentions
///         #[allow(unreachable_code, ...)]
///         if false {
///             let __profiler_fake_return: R = loop {};
///             return __profiler_fake_return;
///         }
///         #[allow(unused_braces)] // only when `stmts` is a lone expression
///         {
///             stmts
///         }
///     })
///     .await
/// }
/// ```
///
/// The `if false` block (tracing's trick) fixes the output type of the `async` block to `R`,
/// so `return` and `?` in `stmts` infer exactly as in the original body. It is left out when
/// `R` mentions `impl Trait` (not allowed in a `let`) or is `!`.
///
/// `async move` takes the arguments the body mentions, including `self`; the `let _` borrows
/// each whole so the block captures it whole rather than only the fields the body uses (see
/// [`StageFn::mentioned_bindings`]). The outer future owns the other arguments, as before.
fn expand_async(args: &Args, func: &StageFn) -> TokenStream {
    let span = Span::mixed_site();
    let site = Ident::new("__PROFILER_CALLSITE", span);
    let callsite = callsite(args, &site);
    let StageFn { head, inner_attrs, body, .. } = func;
    let fake_return = func.nameable_output().map(|output| {
        let fake = Ident::new("__profiler_fake_return", span);
        quote_spanned! {span=>
            #[allow(
                unknown_lints,
                unreachable_code,
                clippy::diverging_sub_expression,
                clippy::empty_loop,
                clippy::let_unit_value,
                clippy::let_with_type_underscore,
                clippy::needless_return,
                clippy::unreachable
            )]
            if false {
                let #fake: #output = loop {};
                return #fake;
            }
        }
    });
    let bindings = func.mentioned_bindings();
    let capture_whole = (!bindings.is_empty()).then(|| quote_spanned!(span=> let _ = (#(&#bindings,)*);));
    let allow = allow_unused_braces(body);
    let statements = quote_spanned! {span=>
        #inner_attrs
        #callsite
        ::profiler_core::__private::instrument_future(&#site, async move {
            #capture_whole
            #fake_return
            #allow
            #body
        })
        .await
    };
    let body = braced(statements, body.span());
    quote!(#head #body)
}

/// `#[allow(unused_braces)]` for a body that is a lone expression, `None` otherwise.
///
/// Nested as the value of the generated block, a one-line body such as `{ x + 1 }` would set
/// off `unused_braces`, pointing at the user's braces (rustc checks the braces' spans, which
/// are the user's, and the suggested fix would not compile). The attribute silences that lint
/// inside such a body only; bodies with statements (a top-level `;`) cannot set it off and get
/// no attribute, so their own `unused_braces` warnings are kept.
fn allow_unused_braces(body: &Group) -> Option<TokenStream> {
    let lone_expression =
        !body.stream().into_iter().any(|tree| matches!(tree, TokenTree::Punct(p) if p.as_char() == ';'));
    lone_expression.then(|| quote_spanned!(Span::mixed_site()=> #[allow(unused_braces)]))
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
        assert!(output.ends_with("{ x + 1 } }"), "{output}");
        assert!(output.contains(":: profiler_core :: __private :: enter"), "{output}");
        assert!(output.contains("from_marker :: < __ProfilerMarker >"), "{output}");
        let named = instrument_stage(quote!(name = "add"), quote! { fn f() {} }, Mode::Instrument).to_string();
        assert!(named.contains("Callsite :: named (\"add\")") && !named.contains("Marker"), "{named}");
    }

    #[test]
    fn async_bodies_get_the_fake_return_unless_unnameable() {
        let output = instrument_stage(quote!(), quote! { async fn f() -> u8 { 1 } }, Mode::Instrument).to_string();
        assert!(output.contains("let __profiler_fake_return : u8 = loop { }"), "{output}");
        assert!(output.contains("instrument_future"), "{output}");
        let output =
            instrument_stage(quote!(), quote! { async fn f() -> impl Sized { 1 } }, Mode::Instrument).to_string();
        assert!(!output.contains("__profiler_fake_return"), "{output}");
    }
}
