//! `model = "provider/model"`, `model("provider/model", option = value, ...)` and fallback lists
//! of those.

use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token};

use crate::ctxt::Ctxt;
use crate::function::spec::{ModelItem, ModelSpec};
use crate::function::symbol;
use crate::ungroup::{lit_str, ungroup};

const MODEL_HELP: &str = "`model` takes \"provider/model\", `model(\"provider/model\", option = value, ...)` \
     or a fallback list of those: `model = [\"a/b\", model(\"c/d\", temperature = 0.2)]`";

const EXTRA_HEADERS: &str = "extra_headers";

/// The value of `model = ...`.
pub(super) fn spec(expr: &Expr, cx: &Ctxt) -> Option<ModelSpec> {
    match ungroup(expr) {
        Expr::Array(array) => {
            if array.elems.is_empty() {
                cx.error_spanned_by(expr, "a fallback list needs at least one model");
                return None;
            }
            let items: Vec<Option<ModelItem>> =
                array.elems.iter().map(|elem| item(elem, cx)).collect();
            items
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(ModelSpec::Fallback)
        }
        _ => item(expr, cx).map(ModelSpec::One),
    }
}

/// One model: `"provider/model"` or `model(...)`.
fn item(expr: &Expr, cx: &Ctxt) -> Option<ModelItem> {
    if let Some(name) = lit_str(expr) {
        return Some(ModelItem {
            name: name.clone(),
            options: Vec::new(),
            extra_headers: Vec::new(),
        });
    }
    if let Expr::Call(call) = ungroup(expr)
        && let Some(key) = path_ident(&call.func).filter(|key| *key == symbol::MODEL)
    {
        return self::call(key, &call.args, cx);
    }
    cx.error_spanned_by(expr, MODEL_HELP);
    None
}

/// The arguments of `model("provider/model", option = value, ...)`.
pub(super) fn call(
    key: &Ident,
    args: &Punctuated<Expr, Token![,]>,
    cx: &Ctxt,
) -> Option<ModelItem> {
    let mut args = args.iter();
    let first = args.next();
    let Some(name) = first.and_then(lit_str) else {
        let span: &dyn quote::ToTokens = match first {
            Some(other) => other,
            None => key,
        };
        cx.error_spanned_by(
            span,
            "the model's name comes first: `model(\"provider/model\", ...)`",
        );
        return None;
    };
    let mut options: Vec<(LitStr, Expr)> = Vec::new();
    let mut extra_headers: Vec<(LitStr, Expr)> = Vec::new();
    let mut ok = true;
    for arg in args {
        if let Expr::Call(call) = ungroup(arg)
            && path_ident(&call.func).is_some_and(|func| func == EXTRA_HEADERS)
        {
            for header in &call.args {
                match key_value(header) {
                    Some(header) => extra_headers.push(header),
                    None => {
                        cx.error_spanned_by(header, "an extra header is `\"header-name\" = value`");
                        ok = false;
                    }
                }
            }
            continue;
        }
        match key_value(arg) {
            Some((key, _))
                if options
                    .iter()
                    .any(|(existing, _)| existing.value() == key.value()) =>
            {
                cx.error_spanned_by(
                    &key,
                    format!("option `{}` is set multiple times", key.value()),
                );
                ok = false;
            }
            Some(option) => options.push(option),
            None => {
                cx.error_spanned_by(
                    arg,
                    "a model option is `name = value`, e.g. `temperature = 0.2`, or `extra_headers(\"name\" = value, ...)`",
                );
                ok = false;
            }
        }
    }
    ok.then(|| ModelItem {
        name: name.clone(),
        options,
        extra_headers,
    })
}

/// `name = value` or `"name" = value`, as a key and a value.
fn key_value(expr: &Expr) -> Option<(LitStr, Expr)> {
    let Expr::Assign(assign) = ungroup(expr) else {
        return None;
    };
    let key = match path_ident(&assign.left) {
        Some(ident) => LitStr::new(&ident.to_string(), ident.span()),
        None => lit_str(&assign.left)?.clone(),
    };
    Some((key, (*assign.right).clone()))
}

/// The single name a path expression is, if it is one.
fn path_ident(expr: &Expr) -> Option<&Ident> {
    match ungroup(expr) {
        Expr::Path(path) if path.qself.is_none() => path.path.get_ident(),
        _ => None,
    }
}
