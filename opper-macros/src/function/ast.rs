//! The annotated item, read into the macro's own types and validated on the way.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::{
    Attribute, Block, Expr, FnArg, GenericArgument, Ident, Lit, Pat, PathArguments, ReturnType,
    Safety, Signature, Token, Type, Visibility,
};

use super::Ctxt;
use super::attr::Args;

/// `#[attrs] vis async fn name(params) -> Ret;` — a signature without a body (a body is
/// accepted by the parser so that it can be reported with a helpful message).
pub(crate) struct ItemSig {
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) sig: Signature,
    pub(crate) body: Option<Block>,
}

impl Parse for ItemSig {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        let body = if input.peek(syn::token::Brace) {
            Some(input.parse()?)
        } else {
            if !input.peek(Token![;]) {
                return Err(input
                    .error("expected `;`: #[opper::function] takes a signature without a body"));
            }
            input.parse::<Token![;]>()?;
            None
        };
        if !input.is_empty() {
            return Err(input.error("unexpected tokens after the function"));
        }
        Ok(ItemSig {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

/// How the call is made, from the return type.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `Result<T>`: `/call`, the output.
    Call,
    /// `Result<Response<T>>`: `/call`, the output and the metadata.
    Response,
    /// `Result<Stream<T>>`: `/call/stream`.
    Stream,
}

/// The output: how it is called for, its type, and whether it is text (`String`).
pub(crate) struct Output {
    pub(crate) mode: Mode,
    pub(crate) ty: Type,
    pub(crate) text: bool,
}

/// One parameter: a field of the input, or the whole input.
pub(crate) struct Param {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    /// `///` comments, copied onto the input's field.
    pub(crate) docs: Vec<Attribute>,
    /// `#[serde(...)]` and `#[schemars(...)]`, copied onto the input's field.
    pub(crate) forwarded: Vec<Attribute>,
}

/// The validated function.
pub(crate) struct Function<'a> {
    pub(crate) item: &'a ItemSig,
    pub(crate) task_name: String,
    /// An expression of type `&'static str`: a literal, or built from `#[doc = some_macro!(..)]`.
    pub(crate) instructions: Option<TokenStream>,
    pub(crate) params: Vec<Param>,
    /// The single parameter is marked `#[input]`: it is the whole input.
    pub(crate) whole_input: bool,
    pub(crate) output: Option<Output>,
}

const INPUT_MARKER: &str = "input";

const RETURN_HELP: &str = "#[opper::function] needs one of these return types: \
    `opper::Result<T>` (structured output), `opper::Result<String>` (text), \
    `opper::Result<opper::Response<T>>` (output with span id, usage and cost) or \
    `opper::Result<opper::Stream<T>>` (streamed, also with `String`)";

impl<'a> Function<'a> {
    pub(crate) fn from_syn(item: &'a ItemSig, args: &Args, cx: &mut Ctxt) -> Self {
        let sig = &item.sig;
        check_signature(item, cx);

        let mut params = Vec::new();
        let mut markers: Vec<Span> = Vec::new();
        for arg in &sig.inputs {
            match arg {
                FnArg::Receiver(receiver) => cx.error_spanned_by(
                    receiver,
                    "#[opper::function] generates a free function: remove this `self` parameter",
                ),
                FnArg::Typed(typed) => {
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
                                cx.error_spanned_by(
                                    attr,
                                    "write the marker as `#[input]`, without arguments",
                                );
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
                    if let Some(ident) = ident {
                        params.push(Param {
                            ident,
                            ty: (*typed.ty).clone(),
                            docs,
                            forwarded,
                        });
                    }
                }
            }
        }
        if let Some(variadic) = &sig.variadic {
            cx.error_spanned_by(
                variadic,
                "#[opper::function] cannot be variadic: remove `...`",
            );
        }
        let whole_input = !markers.is_empty();
        if whole_input && sig.inputs.len() != 1 {
            for span in &markers {
                cx.error(syn::Error::new(
                    *span,
                    "`#[input]` marks the whole input: it must be the only parameter (or remove it, and every \
                     parameter becomes a field of the input)",
                ));
            }
        }

        let output = output(sig, cx);
        let task_name = match &args.name {
            Some(name) => name.value(),
            None => sig.ident.unraw_string(),
        };
        let instructions = match &args.instructions {
            Some(instructions) => Some(instructions.to_token_stream()),
            None => docs(&item.attrs),
        };
        check_examples(args, &params, whole_input, cx);
        Function {
            item,
            task_name,
            instructions,
            params,
            whole_input,
            output,
        }
    }
}

trait UnrawString {
    fn unraw_string(&self) -> String;
}

impl UnrawString for Ident {
    fn unraw_string(&self) -> String {
        let name = self.to_string();
        name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
    }
}

fn check_signature(item: &ItemSig, cx: &mut Ctxt) {
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

/// Parameters are serialized and owned: no references, no lifetimes, no `impl Trait`.
fn check_param_type(ty: &Type, cx: &mut Ctxt) {
    if let Type::Reference(reference) = ty {
        let suggestion = match &*reference.elem {
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
        cx.error(syn::Error::new(
            token,
            "#[opper::function] cannot take `impl Trait`: it would make the function generic; use a concrete type",
        ));
        return;
    }
    if let Some(token) = find_token(
        ty.to_token_stream(),
        &|tt| matches!(tt, TokenTree::Punct(punct) if punct.as_char() == '\'' || punct.as_char() == '&'),
    ) {
        cx.error(syn::Error::new(
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

/// The last path segment of a type and its type arguments: `opper::Result<T>` -> (`Result`, [T]).
fn segment(ty: &Type) -> Option<(&Ident, Vec<&Type>, bool)> {
    match ty {
        Type::Group(group) => segment(&group.elem),
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

fn output(sig: &Signature, cx: &mut Ctxt) -> Option<Output> {
    let ReturnType::Type(_, ty) = &sig.output else {
        cx.error(syn::Error::new(sig.paren_token.span.close(), RETURN_HELP));
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
    if let Type::Infer(_) | Type::ImplTrait(_) = ty {
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

/// The doc comment, lines joined and trimmed (rustdoc's leading space removed). Doc attributes
/// that are macro calls, such as `#[doc = include_str!("task.md")]`, are joined in with
/// `concat!` and the whole trimmed when the task is built.
fn docs(attrs: &[Attribute]) -> Option<TokenStream> {
    let mut parts: Vec<TokenStream> = Vec::new();
    let mut lines: Vec<String> = Vec::new();
    let mut computed = false;
    for attr in attrs {
        let syn::Meta::NameValue(meta) = &attr.meta else {
            continue;
        };
        if !meta.path.is_ident("doc") {
            continue;
        }
        match &meta.value {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(lit), ..
            }) => {
                for line in lit.value().lines() {
                    lines.push(line.strip_prefix(' ').unwrap_or(line).trim_end().to_owned());
                }
            }
            other => {
                computed = true;
                if !lines.is_empty() {
                    parts.push(std::mem::take(&mut lines).join("\n").to_token_stream());
                }
                parts.push(other.to_token_stream());
            }
        }
    }
    if !computed {
        let text = lines.join("\n");
        let text = text.trim();
        return (!text.is_empty()).then(|| text.to_token_stream());
    }
    if !lines.is_empty() {
        parts.push(lines.join("\n").to_token_stream());
    }
    // One part per line, as rustdoc joins them.
    let mut joined = Vec::with_capacity(parts.len() * 2);
    for (i, part) in parts.into_iter().enumerate() {
        if i > 0 {
            joined.push("\n".to_token_stream());
        }
        joined.push(part);
    }
    Some(quote::quote!(::core::primitive::str::trim(
        ::core::concat!(#(#joined),*)
    )))
}

/// Examples match the signature's form: `input(...)` with parameters, `input = ...` with an
/// `#[input]` parameter; fields are checked by the compiler.
fn check_examples(args: &Args, params: &[Param], whole_input: bool, cx: &mut Ctxt) {
    use super::attr::ExampleInput;
    for example in &args.examples {
        match &example.input {
            Some(ExampleInput::Whole(key, _)) if !whole_input => cx.error_spanned_by(
                key,
                "this function's input is its parameters: write `input(parameter = value, ...)`",
            ),
            Some(ExampleInput::Fields(key, _)) if whole_input => cx.error_spanned_by(
                key,
                format!(
                    "this function's input is its `#[input]` parameter: write `input = {} {{ ... }}`",
                    params.first().map(|p| p.ty.to_token_stream().to_string()).unwrap_or_default()
                ),
            ),
            _ => {}
        }
    }
}
