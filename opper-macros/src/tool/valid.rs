//! The checks: a free `fn` or `async fn` with a body, plain named parameters of concrete types
//! (owned or `&`-borrowed), no generics. Every mistake is reported, spanned on the user's
//! token. What the types must implement is checked by the compiler where the expansion places
//! the assertions (on the types).

use syn::{FnArg, GenericArgument, PathArguments, ReturnType, Type};

use super::ast::{Args, ItemFn};
use super::spec::{Param, Tool};
use crate::ctxt::Ctxt;
use crate::docs::joined as doc;
use crate::param::{Refused, plain_name, refused};
use crate::ungroup::ungroup_type;

pub(super) fn validate<'a>(args: &Args, item: &'a ItemFn, cx: Ctxt) -> syn::Result<Tool<'a>> {
    let sig = &item.sig;
    if item.body.is_none() {
        cx.error_spanned_by(
            &sig.ident,
            "#[opper::tool] goes on a function with a body: the tool runs it (a bodiless \
             signature is an #[opper::function])",
        );
    }
    if let syn::Safety::Unsafe(token) = &sig.safety {
        cx.error_spanned_by(token, "#[opper::tool] cannot be `unsafe`: remove it");
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(abi, "#[opper::tool] cannot have an ABI: remove `extern`");
    }
    if let Some(variadic) = &sig.variadic {
        cx.error_spanned_by(variadic, "#[opper::tool] cannot be variadic: remove `...`");
    }
    for param in &sig.generics.params {
        let message = match param {
            syn::GenericParam::Lifetime(_) => LIFETIMES_ELIDED,
            _ => {
                "#[opper::tool] cannot be generic: its parameters' schema is computed from \
                 concrete types; use a concrete type"
            }
        };
        cx.error_spanned_by(param, message);
    }
    if let Some(where_clause) = &sig.generics.where_clause {
        cx.error_spanned_by(
            where_clause,
            "#[opper::tool] cannot have a `where` clause: use concrete types",
        );
    }
    let mut params = Vec::new();
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(receiver) => cx.error_spanned_by(
                receiver,
                "#[opper::tool] goes on a free function, not a method: a tool has no `self`; \
                 for a tool with state use `opper::Tool::new` with a closure",
            ),
            FnArg::Typed(typed) => {
                for attr in &typed.attrs {
                    if !attr.path().is_ident("doc") {
                        cx.error_spanned_by(
                            attr,
                            "a parameter of an #[opper::tool] takes only `///` comments",
                        );
                    }
                }
                let ident = plain_name(
                    &typed.pat,
                    &cx,
                    "a parameter of an #[opper::tool] is a plain name: it becomes the name of a \
                     property of the tool's parameters",
                );
                let refused = check_param_type(&typed.ty, &cx);
                if let (Some(ident), false) = (ident, refused) {
                    let (owned, borrowed) = owned(&typed.ty);
                    params.push(Param {
                        ident,
                        owned,
                        borrowed,
                        doc: doc(&typed.attrs).unwrap_or_else(|| quote::quote!("")),
                    });
                }
            }
        }
    }
    let ret = match &sig.output {
        ReturnType::Default => None,
        ReturnType::Type(_, ty) => Some(&**ty),
    };
    if let Some(ty @ Type::ImplTrait(_)) = ret.map(ungroup_type) {
        cx.error_spanned_by(
            ty,
            "the return type of an #[opper::tool] must be written out (`T` or `Result<T, E>`)",
        );
    }
    let tool = Tool {
        krate: args
            .krate
            .clone()
            .unwrap_or_else(crate::crate_path::default),
        name: match &args.name {
            Some(name) => name.value(),
            None => syn::ext::IdentExt::unraw(&sig.ident).to_string(),
        },
        description: doc(&item.attrs),
        item,
        params,
        ret,
        fallible: ret.is_some_and(is_result),
    };
    cx.finish(Some(tool))
}

const LIFETIMES_ELIDED: &str = "#[opper::tool] takes no lifetime parameters: write references \
     with their lifetimes elided (`&str`, `&[T]`, `&T`)";

/// Reports `&mut`, `impl Trait` and named lifetimes in a parameter's type; whether it found one.
fn check_param_type(ty: &Type, cx: &Ctxt) -> bool {
    let found = refused(ty);
    for (tokens, refused) in &found {
        let message = match refused {
            Refused::ImplTrait => {
                "#[opper::tool] cannot take `impl Trait`: it would make the tool generic; use a \
                 concrete type"
            }
            Refused::MutRef => {
                "a parameter of an #[opper::tool] cannot be `&mut`: the tool's arguments come \
                 from the model, read once; take `&T` or an owned value"
            }
            Refused::Lifetime => LIFETIMES_ELIDED,
        };
        cx.error_spanned_by(tokens, message);
    }
    !found.is_empty()
}

/// The type a parameter is read as, and whether it is borrowed: `&str` -> `String`, `&[T]` ->
/// `Vec<T>`, `&T` -> `T`, an owned type as it is.
fn owned(ty: &Type) -> (Type, bool) {
    let Type::Reference(reference) = ungroup_type(ty) else {
        return (ty.clone(), false);
    };
    let owned = match ungroup_type(&reference.elem) {
        Type::Path(path) if path.qself.is_none() && path.path.is_ident("str") => {
            syn::parse_quote!(::std::string::String)
        }
        Type::Slice(slice) => {
            let elem = &slice.elem;
            syn::parse_quote!(::std::vec::Vec<#elem>)
        }
        other => other.clone(),
    };
    (owned, true)
}

/// Whether a return type is a `Result` (by its last path segment: `Result<T, E>`,
/// `io::Result<T>`, `anyhow::Result<T>`).
fn is_result(ty: &Type) -> bool {
    match ungroup_type(ty) {
        Type::Paren(paren) => is_result(&paren.elem),
        Type::Path(path) if path.qself.is_none() => path.path.segments.last().is_some_and(|last| {
            last.ident == "Result"
                && matches!(&last.arguments, PathArguments::AngleBracketed(args)
                    if args.args.iter().any(|arg| matches!(arg, GenericArgument::Type(_))))
        }),
        _ => false,
    }
}
