//! The signature: an `async fn`, maybe an `&self` method, with plain named parameters of
//! concrete types (owned or borrowed) and one of the return types the attribute knows.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{FnArg, GenericArgument, Ident, PathArguments, ReturnType, Safety, Type};

use crate::ctxt::Ctxt;
use crate::function::ast::ItemSig;
use crate::function::spec::{Function, Input, Mode, Output, Param};
use crate::param::{Refused, plain_name, refused};
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
    let typed = sig
        .inputs
        .iter()
        .filter(|arg| matches!(arg, FnArg::Typed(_)))
        .count();
    if whole_input && typed != 1 {
        for span in &markers {
            cx.syn_error(syn::Error::new(
                *span,
                "`#[input]` marks the whole input: it must be the only parameter (or remove it, and every \
                 parameter becomes a field of the input)",
            ));
        }
    }
    let receiver = receiver(sig, cx);
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
        receiver: receiver?,
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
            syn::GenericParam::Lifetime(_) => LIFETIMES_ELIDED,
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
            FnArg::Receiver(_) => continue,
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
        let ident = plain_name(
            &typed.pat,
            cx,
            "a parameter of an #[opper::function] is a plain name: it becomes the name of an \
             input field",
        );
        check_param_type(&typed.ty, cx);
        match (ident, &mut params) {
            (Some(ident), Some(params)) => params.push(Param {
                ident,
                generic: borrows_or_names_self(&typed.ty),
                ty: (*typed.ty).clone(),
                docs,
                forwarded,
            }),
            _ => params = None,
        }
    }
    (params, markers)
}

/// Parameters are serialized at the call: owned or borrowed (`&T`), never `&mut`, with elided
/// lifetimes and no `impl Trait`.
fn check_param_type(ty: &Type, cx: &Ctxt) {
    for (tokens, refused) in refused(ty) {
        let message = match refused {
            Refused::ImplTrait => {
                "#[opper::function] cannot take `impl Trait`: it would make the function generic; use a \
                 concrete type"
            }
            Refused::MutRef => {
                "a parameter of an #[opper::function] cannot be `&mut`: its value is only read, to be \
                 serialized into the input; take `&T` or an owned value"
            }
            Refused::Lifetime => LIFETIMES_ELIDED,
        };
        cx.error_spanned_by(tokens, message);
    }
}

const LIFETIMES_ELIDED: &str = "#[opper::function] takes no lifetime parameters: write references with \
     their lifetimes elided (`&str`, `&[T]`, `&T`); the input is serialized and sent before the call returns";

/// Whether a type borrows (`&`, `'_`) or names `Self`: an item inside the function body, such
/// as the generated input struct, cannot name it, so the struct takes it as a type parameter.
fn borrows_or_names_self(ty: &Type) -> bool {
    fn walk(tokens: TokenStream) -> bool {
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        tokens.iter().enumerate().any(|(i, tt)| match tt {
            TokenTree::Group(group) => walk(group.stream()),
            TokenTree::Ident(ident) => ident == "Self",
            TokenTree::Punct(punct) if punct.as_char() == '&' => true,
            TokenTree::Punct(punct) if punct.as_char() == '\'' => {
                !matches!(tokens.get(i + 1), Some(TokenTree::Ident(ident)) if ident == "static")
            }
            _ => false,
        })
    }
    walk(ty.to_token_stream())
}

/// The receiver: none, or `&self`. `None` when it is another form (reported).
fn receiver(sig: &syn::Signature, cx: &Ctxt) -> Option<Option<syn::Receiver>> {
    let Some(receiver) = sig.receiver() else {
        return Some(None);
    };
    let message = match &receiver.kind {
        syn::ReceiverKind::Reference(_, _, Some(_)) => {
            "an #[opper::function] method takes `&self`, not `&mut self`: the call only reads the \
             client `self` provides; remove `mut`"
        }
        syn::ReceiverKind::Reference(_, Some(lifetime), None) if lifetime.ident != "_" => {
            LIFETIMES_ELIDED
        }
        syn::ReceiverKind::Reference(_, _, None) => return Some(Some(receiver.clone())),
        syn::ReceiverKind::Value => {
            "an #[opper::function] method takes `&self`, not `self`: the call only needs the client \
             `self` provides; write `&self`"
        }
        _ => "an #[opper::function] method takes `&self`: write `&self`, not `self: Type`",
    };
    cx.error_spanned_by(receiver, message);
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
        Some((ident, args, true)) if ident == "AgentRun" && args.len() == 1 => {
            (Mode::AgentRun, args[0])
        }
        Some((ident, args, true)) if ident == "AgentStream" && args.len() == 1 => {
            (Mode::AgentStream, args[0])
        }
        Some((ident, _, _))
            if ["Response", "Stream", "AgentRun", "AgentStream"]
                .iter()
                .any(|name| ident == name) =>
        {
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
