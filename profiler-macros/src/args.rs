//! The arguments of `#[instrument_stage(...)]`.
//!
//! The whole grammar:
//!
//! ```text
//! args := ε
//!       | `name` `=` STRING `,`?
//! ```
//!
//! `STRING` is a string literal without a suffix (raw strings are fine), neither empty nor
//! blank, without control characters. Every other input is rejected with an error spanning
//! the offending token.

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens as _;
use syn::ext::IdentExt as _;
use syn::parse::{Parse, ParseStream};
use syn::{Error, Ident, Lit, LitStr, Result, Token};

/// What the user asked for.
#[derive(Default)]
pub(crate) struct Args {
    /// `name = "..."`; `None` means the default name (module path + fn name).
    pub(crate) name: Option<LitStr>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> Result<Self> {
        let mut args = Args::default();
        while !input.is_empty() {
            let key = parse_key(input)?;
            if key != "name" {
                return Err(Error::new(key.span(), format!("unknown argument `{key}`, expected `name`")));
            }
            if args.name.is_some() {
                return Err(Error::new(key.span(), "duplicate `name` argument"));
            }
            args.name = Some(parse_name_value(input, &key)?);
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(args)
    }
}

/// Input: `name` (or any identifier, keywords included, to report it as unknown).
fn parse_key(input: ParseStream<'_>) -> Result<Ident> {
    if input.peek(Ident::peek_any) {
        return input.call(Ident::parse_any);
    }
    if input.peek(Lit) {
        // `#[instrument_stage("parse")]`: the most likely slip, so say what to write instead.
        let lit: Lit = input.parse()?;
        return Err(Error::new(lit.span(), "expected `name = \"...\"`, the stage name needs the `name =` key"));
    }
    Err(input.error("expected `name = \"...\"`"))
}

/// Input: `= STRING`, up to the next `,` or the end. `key` is the `name` token, which the
/// errors for a missing value span.
fn parse_name_value(input: ParseStream<'_>, key: &Ident) -> Result<LitStr> {
    const MISSING: &str = "missing value for `name`, expected `name = \"...\"`";
    if !input.peek(Token![=]) {
        return Err(Error::new(key.span(), MISSING));
    }
    input.parse::<Token![=]>()?;
    let value = input.step(|cursor| {
        let mut rest = *cursor;
        let mut value = TokenStream::new();
        while let Some((tree, next)) = rest.token_tree() {
            if matches!(&tree, TokenTree::Punct(punct) if punct.as_char() == ',') {
                break;
            }
            value.extend([tree]);
            rest = next;
        }
        Ok((value, rest))
    })?;
    if value.is_empty() {
        return Err(Error::new(key.span(), MISSING));
    }
    // A lone literal, possibly wrapped in the invisible group of a `macro_rules!` fragment.
    let Ok(lit) = syn::parse2::<LitStr>(value.clone()) else {
        let mut trees = value.clone().into_iter();
        if let (Some(first), Some(_)) = (trees.next(), trees.clone().next())
            && syn::parse2::<LitStr>(first.into_token_stream()).is_ok()
        {
            let rest: TokenStream = trees.collect();
            return Err(Error::new_spanned(rest, "unexpected tokens after the stage name, expected `,` or the end"));
        }
        return Err(Error::new_spanned(value, "expected a string literal for `name`"));
    };
    if !lit.suffix().is_empty() {
        return Err(Error::new(lit.span(), "unexpected suffix on the string literal for `name`"));
    }
    let name = lit.value();
    if name.is_empty() {
        return Err(Error::new(lit.span(), "stage name must not be empty"));
    }
    if name.trim().is_empty() {
        return Err(Error::new(lit.span(), "stage name must not be blank"));
    }
    // Names go into one-line formats (the text table, folded stacks) and terminals.
    if let Some(control) = name.chars().find(|c| c.is_control()) {
        let code = u32::from(control);
        return Err(Error::new(
            lit.span(),
            format!("stage name must not contain control characters (found U+{code:04X})"),
        ));
    }
    Ok(lit)
}

#[cfg(test)]
mod tests {
    use quote::quote;

    use super::Args;

    fn error(tokens: proc_macro2::TokenStream) -> String {
        match syn::parse2::<Args>(tokens) {
            Ok(_) => String::from("<accepted>"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn accepts_the_grammar() {
        assert!(syn::parse2::<Args>(quote!()).unwrap().name.is_none());
        let args = syn::parse2::<Args>(quote!(name = "parse")).unwrap();
        assert_eq!(args.name.unwrap().value(), "parse");
        let args = syn::parse2::<Args>(quote!(name = r"raw",)).unwrap();
        assert_eq!(args.name.unwrap().value(), "raw");
    }

    #[test]
    fn rejects_everything_else() {
        assert_eq!(error(quote!(nam = "x")), "unknown argument `nam`, expected `name`");
        assert_eq!(error(quote!(type = "x")), "unknown argument `type`, expected `name`");
        assert_eq!(error(quote!(name = "a", name = "b")), "duplicate `name` argument");
        assert_eq!(error(quote!(name = 3)), "expected a string literal for `name`");
        assert_eq!(error(quote!(name = foo::bar)), "expected a string literal for `name`");
        assert_eq!(error(quote!(name = "a" "b")), "unexpected tokens after the stage name, expected `,` or the end");
        assert_eq!(error(quote!(name = "a" junk)), "unexpected tokens after the stage name, expected `,` or the end");
        assert_eq!(error(quote!(name = "")), "stage name must not be empty");
        assert_eq!(error(quote!(name = "  ")), "stage name must not be blank");
        assert_eq!(error(quote!(name = "a\nb")), "stage name must not contain control characters (found U+000A)");
        assert_eq!(error(quote!(name = "a\0b")), "stage name must not contain control characters (found U+0000)");
        assert_eq!(error(quote!(name = "a"x)), "unexpected suffix on the string literal for `name`");
        assert_eq!(error(quote!(name)), "missing value for `name`, expected `name = \"...\"`");
        assert_eq!(error(quote!(name =)), "missing value for `name`, expected `name = \"...\"`");
        assert_eq!(error(quote!(name = , )), "missing value for `name`, expected `name = \"...\"`");
        assert_eq!(error(quote!(name("x"))), "missing value for `name`, expected `name = \"...\"`");
        assert_eq!(error(quote!("x")), "expected `name = \"...\"`, the stage name needs the `name =` key");
        assert_eq!(error(quote!(, name = "x")), "expected `name = \"...\"`");
        assert_eq!(error(quote!(name = "x",,)), "expected `name = \"...\"`");
    }
}
