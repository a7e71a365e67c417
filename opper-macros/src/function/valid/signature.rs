//! The signature: an `async fn` with plain named parameters of concrete owned types and one of
//! the return types the attribute knows.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, Ident, Pat, PathArguments, ReturnType, Safety, Type};

use super::super::ast::ItemSig;
use super::super::spec::{Function, Input, Mode, Output, Param};
use crate::ctxt::Ctxt;
use crate::ungroup::ungroup_type;

const INPUT_MARKER: &str = "input";

const RETURN_HELP: &str = "#[opper::function] needs one of these return types: \
    `opper::Result<T>` (structured output), `opper::Result<String>` (text), \
    `opper::Result<opper::Response<T>>` (output with span id, usage and cost) or \
    `opper::Result<opper::Stream<T>>` (streamed, also with `String`)";

/// The function, or `None` when it cannot be called as written (reported).
pub(super) fn function<'a>(item: &'a ItemSig, cx: &Ctxt) -> Option<Function<'a>> {
    let sig = &item.sig;
    check_qualifiers(item, cx);
    let (params, markers) = params(item, cx);
    if let Some(variadic) = &sig.variadic {
        cx.error_spanned_by(
            variadic,
            "#[opper::function] cannot be variadic: remove `...`",
        );
    }
    let whole_input = !markers.is_empty();
    if whole_input && sig.inputs.len() != 1 {
        for span in &markers {
            cx.syn_error(syn::Error::new(
                *span,
                "`#[input]` marks the whole input: it must be the only parameter (or remove it, and every \
                 parameter becomes a field of the input)",
            ));
        }
    }
    let output = output(sig, cx);
    let mut params = params?;
    let input = if whole_input && params.len() == 1 {
        Input::Whole(Box::new(params.remove(0)))
    } else {
        Input::Fields(params)
    };
    Some(Function {
        attrs: &item.attrs,
        vis: &item.vis,
        ident: &sig.ident,
        ret: &sig.output,
        input,
        output: output?,
    })
}

/// Everything but the parameters and the return type: `async`, no `const`, `unsafe`, ABI,
/// generics, `where` clause or body.
fn check_qualifiers(item: &ItemSig, cx: &Ctxt) {
    let sig = &item.sig;
    if let Some(constness) = &sig.constness {
        cx.error_spanned_by(constness, "#[opper::function] cannot be `const`: remove it");
    }
    if sig.asyncness.is_none() {
        cx.error_spanned_by(
            sig.fn_token,
            "the `async` keyword is missing from the function declaration: #[opper::function] makes an `async fn`",
        );
    }
    if let Safety::Unsafe(token) = &sig.safety {
        cx.error_spanned_by(token, "#[opper::function] cannot be `unsafe`: remove it");
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(
            abi,
            "#[opper::function] cannot have an ABI: remove `extern`",
        );
    }
    for param in &sig.generics.params {
        let message = match param {
            syn::GenericParam::Lifetime(_) => {
                "#[opper::function] cannot have lifetime parameters: its input is serialized, so take owned \
                 values (e.g. `String` instead of `&str`)"
            }
            _ => {
                "#[opper::function] cannot be generic: its schemas are computed once, from concrete types; \
                 use a concrete type"
            }
        };
        cx.error_spanned_by(param, message);
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        cx.error_spanned_by(
            where_clause,
            "#[opper::function] cannot have a `where` clause: use concrete types",
        );
    }
    if let Some(body) = &item.body {
        cx.error_spanned_by(
            body,
            "remove the body: #[opper::function] generates it from the signature (end it with `;`)",
        );
    }
}

/// The parameters (`None` when one is not a plain name), and the spans of `#[input]` markers.
fn params(item: &ItemSig, cx: &Ctxt) -> (Option<Vec<Param>>, Vec<Span>) {
    let mut params = Some(Vec::new());
    let mut markers: Vec<Span> = Vec::new();
    for arg in &item.sig.inputs {
        let typed = match arg {
            FnArg::Receiver(receiver) => {
                cx.error_spanned_by(
                    receiver,
                    "#[opper::function] generates a free function: remove this `self` parameter",
                );
                continue;
            }
            FnArg::Typed(typed) => typed,
        };
        let mut docs = Vec::new();
        let mut forwarded = Vec::new();
        for attr in &typed.attrs {
            let path = attr.path();
            if path.is_ident("doc") {
                docs.push(attr.clone());
            } else if path.is_ident("serde") || path.is_ident("schemars") {
                forwarded.push(attr.clone());
            } else if path.is_ident(INPUT_MARKER) {
                if !matches!(attr.meta, syn::Meta::Path(_)) {
                    cx.error_spanned_by(attr, "write the marker as `#[input]`, without arguments");
                }
                markers.push(attr.span());
            } else {
                cx.error_spanned_by(
                    attr,
                    "a parameter of an #[opper::function] takes only `///` comments, `#[input]`, \
                     `#[serde(...)]` and `#[schemars(...)]`",
                );
            }
        }
        let ident = match &*typed.pat {
            Pat::Ident(pat) if pat.by_ref.is_none() && pat.subpat.is_none() => {
                Some(pat.ident.clone())
            }
            other => {
                cx.error_spanned_by(
                    other,
                    "a parameter of an #[opper::function] is a plain name: it becomes the name of \
                     an input field",
                );
                None
            }
        };
        check_param_type(&typed.ty, cx);
        match (ident, &mut params) {
            (Some(ident), Some(params)) => params.push(Param {
                ident,
                ty: (*typed.ty).clone(),
                docs,
                forwarded,
            }),
            _ => params = None,
        }
    }
    (params, markers)
}

/// Parameters are serialized and owned: no references, no lifetimes, no `impl Trait`.
fn check_param_type(ty: &Type, cx: &Ctxt) {
    if let Type::Reference(reference) = ungroup_type(ty) {
        let suggestion = match ungroup_type(&reference.elem) {
            Type::Path(path) if path.path.is_ident("str") => "`String`".to_owned(),
            Type::Slice(slice) => format!("`Vec<{}>`", slice.elem.to_token_stream()),
            Type::Path(path) if path.path.is_ident("Path") => "`std::path::PathBuf`".to_owned(),
            elem => format!("`{}`", elem.to_token_stream()),
        };
        cx.error_spanned_by(
            ty,
            format!(
                "a parameter of an #[opper::function] is owned, so that the function has no lifetimes: \
                 use {suggestion} instead"
            ),
        );
        return;
    }
    if let Some(token) = find_token(
        ty.to_token_stream(),
        &|tt| matches!(tt, TokenTree::Ident(ident) if ident == "impl"),
    ) {
        cx.syn_error(syn::Error::new(
            token,
            "#[opper::function] cannot take `impl Trait`: it would make the function generic; use a concrete type",
        ));
        return;
    }
    if let Some(token) = find_token(
        ty.to_token_stream(),
        &|tt| matches!(tt, TokenTree::Punct(punct) if punct.as_char() == '\'' || punct.as_char() == '&'),
    ) {
        cx.syn_error(syn::Error::new(
            token,
            "a parameter of an #[opper::function] is owned, so that the function has no lifetimes: \
             use an owned type (e.g. `String` instead of `&str`, `Cow<'static, str>` is fine too)",
        ));
    }
}

fn find_token(tokens: TokenStream, pred: &dyn Fn(&TokenTree) -> bool) -> Option<Span> {
    for tt in tokens {
        if let TokenTree::Group(group) = &tt {
            if let Some(span) = find_token(group.stream(), pred) {
                return Some(span);
            }
        } else if pred(&tt) {
            if let TokenTree::Punct(punct) = &tt {
                if punct.as_char() == '\'' {
                    // `'static` is owned enough.
                    continue;
                }
            }
            return Some(tt.span());
        }
    }
    None
}

/// The last path segment of a type and its type arguments: `opper::Result<T>` -> (`Result`, [T]),
/// and whether every argument is a type.
fn segment(ty: &Type) -> Option<(&Ident, Vec<&Type>, bool)> {
    match ungroup_type(ty) {
        Type::Paren(paren) => segment(&paren.elem),
        Type::Path(path) if path.qself.is_none() => {
            let last = path.path.segments.last()?;
            match &last.arguments {
                PathArguments::None => Some((&last.ident, Vec::new(), true)),
                PathArguments::AngleBracketed(args) => {
                    let types: Vec<&Type> = args
                        .args
                        .iter()
                        .filter_map(|arg| match arg {
                            GenericArgument::Type(ty) => Some(ty),
                            _ => None,
                        })
                        .collect();
                    let only_types = types.len() == args.args.len();
                    Some((&last.ident, types, only_types))
                }
                PathArguments::Parenthesized(_) => None,
            }
        }
        _ => None,
    }
}

fn is_string(ty: &Type) -> bool {
    matches!(segment(ty), Some((ident, args, true)) if ident == "String" && args.is_empty())
}

/// The output, from the return type.
fn output(sig: &syn::Signature, cx: &Ctxt) -> Option<Output> {
    let ReturnType::Type(_, ty) = &sig.output else {
        cx.syn_error(syn::Error::new(sig.paren_token.span.close(), RETURN_HELP));
        return None;
    };
    let inner = match segment(ty) {
        Some((ident, args, true)) if ident == "Result" && (1..=2).contains(&args.len()) => args[0],
        _ => {
            cx.error_spanned_by(ty, RETURN_HELP);
            return None;
        }
    };
    let (mode, ty) = match segment(inner) {
        Some((ident, args, true)) if ident == "Response" && args.len() == 1 => {
            (Mode::Response, args[0])
        }
        Some((ident, args, true)) if ident == "Stream" && args.len() == 1 => {
            (Mode::Stream, args[0])
        }
        Some((ident, _, _)) if ident == "Response" || ident == "Stream" => {
            cx.error_spanned_by(
                inner,
                format!("write `opper::{ident}<T>` with the output type as `T`"),
            );
            return None;
        }
        _ => (Mode::Call, inner),
    };
    if let Type::Infer(_) | Type::ImplTrait(_) = ungroup_type(ty) {
        cx.error_spanned_by(
            ty,
            "the output type must be written out: it gives the output schema",
        );
        return None;
    }
    Some(Output {
        mode,
        ty: ty.clone(),
        text: is_string(ty),
    })
}
