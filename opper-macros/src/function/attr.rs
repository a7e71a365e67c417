//! The attribute's arguments: `#[opper::function(model = "...", example(...), ...)]`.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::meta::ParseNestedMeta;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, Lit, LitStr, Token};

use super::Ctxt;
use super::symbol::{self, CONFIGURATION_KEYS};

/// Everything the attribute sets.
#[derive(Default)]
pub(crate) struct Args {
    /// `crate = "::opper2"`: the path of the `opper` crate.
    pub(crate) krate: Option<syn::Path>,
    pub(crate) name: Option<LitStr>,
    pub(crate) instructions: Option<LitStr>,
    pub(crate) model: Option<ModelSpec>,
    /// `tags(key = value)`, in order.
    pub(crate) tags: Vec<(LitStr, Expr)>,
    pub(crate) examples: Vec<ExampleSpec>,
    /// Configuration keys: the `Configuration` method and its value.
    pub(crate) configuration: Vec<(Ident, Expr)>,
    /// `validate = EXPR`: anything callable as `Fn(&T) -> Result<(), E>`.
    pub(crate) validate: Option<Expr>,
    /// `reasks = N`.
    pub(crate) reasks: Option<syn::LitInt>,
    /// Keys set so far (for "set multiple times").
    seen: Vec<String>,
}

/// `model = ...`.
pub(crate) enum ModelSpec {
    One(ModelItem),
    Fallback(Vec<ModelItem>),
}

/// `"provider/model"` or
/// `model("provider/model", option = value, ..., extra_headers("header-name" = value, ...))`.
pub(crate) struct ModelItem {
    pub(crate) name: LitStr,
    pub(crate) options: Vec<(LitStr, Expr)>,
    pub(crate) extra_headers: Vec<(LitStr, Expr)>,
}

/// `name = value` or `"name" = value`, as a key and a value.
fn key_value(expr: &Expr) -> Option<(LitStr, Expr)> {
    let Expr::Assign(assign) = expr else {
        return None;
    };
    match &*assign.left {
        Expr::Path(path) => {
            let ident = path.path.get_ident()?;
            Some((
                LitStr::new(&ident.to_string(), ident.span()),
                (*assign.right).clone(),
            ))
        }
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some((lit.clone(), (*assign.right).clone())),
        _ => None,
    }
}

/// `example(input(...), output = ..., comment = "...")`.
pub(crate) struct ExampleSpec {
    pub(crate) input: Option<ExampleInput>,
    pub(crate) output: Option<Expr>,
    pub(crate) comment: Option<Expr>,
}

/// The input of an example.
pub(crate) enum ExampleInput {
    /// `input(field = value, ...)`: the parameters by name.
    Fields(Ident, Vec<(Ident, Expr)>),
    /// `input = value`: the whole input (for an `#[input]` parameter).
    Whole(Ident, Expr),
}

impl Args {
    pub(crate) fn parse(tokens: TokenStream, cx: &mut Ctxt) -> Self {
        let mut args = Args::default();
        let parser = syn::meta::parser(|meta| args.parse_key(&meta, cx));
        if let Err(error) = parser.parse2(tokens) {
            cx.error(error);
        }
        args
    }

    /// The path of the `opper` crate in generated code.
    pub(crate) fn krate(&self) -> TokenStream {
        match &self.krate {
            Some(path) => path.to_token_stream(),
            None => quote!(::opper),
        }
    }

    fn first_time(&mut self, key: &Ident, cx: &mut Ctxt) -> bool {
        let name = key.to_string();
        if self.seen.contains(&name) {
            cx.error_spanned_by(key, format!("`{name}` is set multiple times"));
            false
        } else {
            self.seen.push(name);
            true
        }
    }

    fn parse_key(&mut self, meta: &ParseNestedMeta<'_>, cx: &mut Ctxt) -> syn::Result<()> {
        let Some(key) = meta.path.get_ident().cloned() else {
            cx.error_spanned_by(&meta.path, "expected a key such as `model`, not a path");
            return skip_value(meta);
        };
        let name = key.to_string();
        match name.as_str() {
            symbol::CRATE => {
                let expr = value(meta, &key)?;
                if self.first_time(&key, cx) {
                    self.krate = crate_path(&expr, cx);
                }
            }
            symbol::NAME | symbol::INSTRUCTIONS => {
                let expr = value(meta, &key)?;
                let example = if name == symbol::NAME {
                    "\"extract_team\""
                } else {
                    "\"...\""
                };
                let lit = string(
                    &expr,
                    &format!("`{name}` takes a string literal: `{name} = {example}`"),
                    cx,
                );
                if self.first_time(&key, cx) {
                    if name == symbol::NAME {
                        self.name = lit;
                    } else {
                        self.instructions = lit;
                    }
                }
            }
            symbol::MODEL => {
                let model = if meta.input.peek(syn::token::Paren) {
                    // model("provider/model", option = value)
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let args = Punctuated::<Expr, Token![,]>::parse_terminated(&content)?;
                    model_call(&key, &args, cx).map(ModelSpec::One)
                } else {
                    let expr = value(meta, &key)?;
                    model_spec(&expr, cx)
                };
                if self.first_time(&key, cx) {
                    self.model = model;
                }
            }
            symbol::TAGS => {
                let first = self.first_time(&key, cx);
                let mut tags: Vec<(LitStr, Expr)> = Vec::new();
                nested(meta, &key, |meta| {
                    let Some(tag) = meta.path.get_ident().cloned() else {
                        cx.error_spanned_by(
                            &meta.path,
                            "a tag's key is a name: `tags(project = \"...\")`",
                        );
                        return skip_value(&meta);
                    };
                    let expr = value(&meta, &tag)?;
                    let tag_name = tag.to_string();
                    if tags
                        .iter()
                        .any(|(existing, _)| existing.value() == tag_name)
                    {
                        cx.error_spanned_by(
                            &tag,
                            format!("tag `{tag_name}` is set multiple times"),
                        );
                    } else {
                        tags.push((LitStr::new(&tag_name, tag.span()), expr));
                    }
                    Ok(())
                })?;
                if first {
                    self.tags = tags;
                }
            }
            symbol::VALIDATE => {
                let expr = value(meta, &key)?;
                if self.first_time(&key, cx) {
                    self.validate = Some(expr);
                }
            }
            symbol::REASKS => {
                let expr = value(meta, &key)?;
                let reasks = match &expr {
                    Expr::Lit(syn::ExprLit {
                        lit: Lit::Int(int), ..
                    }) if int.base10_parse::<u32>().is_ok() => Some(int.clone()),
                    _ => {
                        cx.error_spanned_by(
                            &expr,
                            "`reasks` takes a whole number of re-asks: `reasks = 2`",
                        );
                        None
                    }
                };
                if self.first_time(&key, cx) {
                    self.reasks = reasks;
                }
            }
            symbol::EXAMPLE => {
                let example = example(meta, &key, cx)?;
                self.examples.push(example);
            }
            symbol::CONFIGURATION => {
                let first = self.first_time(&key, cx);
                nested(meta, &key, |meta| match meta.path.get_ident().cloned() {
                    Some(inner) if CONFIGURATION_KEYS.iter().any(|(k, _)| inner == k) => {
                        self.configuration_key(&meta, inner, cx)
                    }
                    _ => {
                        let keys: Vec<&str> = CONFIGURATION_KEYS.iter().map(|(k, _)| *k).collect();
                        cx.error_spanned_by(
                            &meta.path,
                            format!(
                                "unknown configuration key `{}`; expected {}",
                                meta.path.to_token_stream(),
                                symbol::list(&keys)
                            ),
                        );
                        skip_value(&meta)
                    }
                })?;
                let _ = first;
            }
            _ if CONFIGURATION_KEYS.iter().any(|(k, _)| key == k) => {
                self.configuration_key(meta, key, cx)?;
            }
            _ => {
                cx.error_spanned_by(
                    &key,
                    format!(
                        "unknown key `{name}`; expected {}",
                        symbol::list(symbol::TOP_LEVEL)
                    ),
                );
                skip_value(meta)?;
            }
        }
        Ok(())
    }

    fn configuration_key(
        &mut self,
        meta: &ParseNestedMeta<'_>,
        key: Ident,
        cx: &mut Ctxt,
    ) -> syn::Result<()> {
        let expr = value(meta, &key)?;
        let boolean = CONFIGURATION_KEYS.iter().any(|(k, b)| key == k && *b);
        if let Expr::Lit(lit) = &expr {
            let ok = match &lit.lit {
                Lit::Bool(_) => boolean,
                Lit::Int(_) => !boolean,
                _ => false,
            };
            if !ok {
                let (kind, example) = if boolean {
                    ("a boolean", "true")
                } else {
                    ("an integer", "3")
                };
                cx.error_spanned_by(&expr, format!("`{key}` takes {kind}: `{key} = {example}`"));
                return Ok(());
            }
        }
        if self.first_time(&key, cx) {
            self.configuration.push((key, expr));
        }
        Ok(())
    }
}

/// `= expr` after `key`, with a message that says what is expected.
fn value(meta: &ParseNestedMeta<'_>, key: &Ident) -> syn::Result<Expr> {
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format!("expected `{key} = ...`")));
    }
    meta.value()?.parse()
}

/// `key(...)`, with a message that says what is expected.
fn nested(
    meta: &ParseNestedMeta<'_>,
    key: &Ident,
    logic: impl FnMut(ParseNestedMeta<'_>) -> syn::Result<()>,
) -> syn::Result<()> {
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("expected `{key}(...)`")));
    }
    meta.parse_nested_meta(logic)
}

/// Skips `= expr` or `(...)` after a key that was reported.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.input.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}

fn string(expr: &Expr, message: &str, cx: &mut Ctxt) -> Option<LitStr> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(lit.clone()),
        _ => {
            cx.error_spanned_by(expr, message);
            None
        }
    }
}

fn crate_path(expr: &Expr, cx: &mut Ctxt) -> Option<syn::Path> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => match lit.parse::<syn::Path>() {
            Ok(path) => Some(path),
            Err(_) => {
                cx.error_spanned_by(
                    lit,
                    "`crate` takes the path of the opper crate: `crate = \"::opper\"`",
                );
                None
            }
        },
        Expr::Path(path) if path.qself.is_none() => Some(path.path.clone()),
        _ => {
            cx.error_spanned_by(
                expr,
                "`crate` takes the path of the opper crate: `crate = \"::opper\"`",
            );
            None
        }
    }
}

const MODEL_HELP: &str = "`model` takes \"provider/model\", `model(\"provider/model\", option = value, ...)` \
     or a fallback list of those: `model = [\"a/b\", model(\"c/d\", temperature = 0.2)]`";

fn model_spec(expr: &Expr, cx: &mut Ctxt) -> Option<ModelSpec> {
    match expr {
        Expr::Array(array) => {
            if array.elems.is_empty() {
                cx.error_spanned_by(expr, "a fallback list needs at least one model");
                return None;
            }
            let items: Vec<Option<ModelItem>> = array
                .elems
                .iter()
                .map(|elem| model_item(elem, cx))
                .collect();
            items
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(ModelSpec::Fallback)
        }
        _ => model_item(expr, cx).map(ModelSpec::One),
    }
}

fn model_item(expr: &Expr, cx: &mut Ctxt) -> Option<ModelItem> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        }) => Some(ModelItem {
            name: lit.clone(),
            options: Vec::new(),
            extra_headers: Vec::new(),
        }),
        Expr::Call(call) if matches!(&*call.func, Expr::Path(p) if p.path.is_ident(symbol::MODEL)) =>
        {
            let Expr::Path(func) = &*call.func else {
                return None;
            };
            let key = func.path.get_ident()?.clone();
            model_call(&key, &call.args, cx)
        }
        _ => {
            cx.error_spanned_by(expr, MODEL_HELP);
            None
        }
    }
}

/// The arguments of `model("provider/model", option = value, ...)`.
fn model_call(key: &Ident, args: &Punctuated<Expr, Token![,]>, cx: &mut Ctxt) -> Option<ModelItem> {
    let mut args = args.iter();
    let name = match args.next() {
        Some(Expr::Lit(syn::ExprLit {
            lit: Lit::Str(lit), ..
        })) => lit.clone(),
        Some(other) => {
            cx.error_spanned_by(
                other,
                "the model's name comes first: `model(\"provider/model\", ...)`",
            );
            return None;
        }
        None => {
            cx.error_spanned_by(
                key,
                "the model's name comes first: `model(\"provider/model\", ...)`",
            );
            return None;
        }
    };
    let mut options: Vec<(LitStr, Expr)> = Vec::new();
    let mut extra_headers: Vec<(LitStr, Expr)> = Vec::new();
    let mut ok = true;
    for arg in args {
        if let Expr::Call(call) = arg {
            if matches!(&*call.func, Expr::Path(path) if path.path.is_ident("extra_headers")) {
                for header in &call.args {
                    match key_value(header) {
                        Some(header) => extra_headers.push(header),
                        None => {
                            cx.error_spanned_by(
                                header,
                                "an extra header is `\"header-name\" = value`",
                            );
                            ok = false;
                        }
                    }
                }
                continue;
            }
        }
        let option = key_value(arg);
        match option {
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
    ok.then_some(ModelItem {
        name,
        options,
        extra_headers,
    })
}

fn example(meta: &ParseNestedMeta<'_>, key: &Ident, cx: &mut Ctxt) -> syn::Result<ExampleSpec> {
    let mut spec = ExampleSpec {
        input: None,
        output: None,
        comment: None,
    };
    let mut seen: Vec<String> = Vec::new();
    nested(meta, key, |meta| {
        let Some(inner) = meta.path.get_ident().cloned() else {
            cx.error_spanned_by(&meta.path, "expected `input`, `output` or `comment`");
            return skip_value(&meta);
        };
        let name = inner.to_string();
        let known = [symbol::INPUT, symbol::OUTPUT, symbol::COMMENT].contains(&name.as_str());
        if !known {
            cx.error_spanned_by(
                &inner,
                format!("unknown key `{name}` in `example(...)`; expected `input`, `output` or `comment`"),
            );
            return skip_value(&meta);
        }
        if seen.contains(&name) {
            cx.error_spanned_by(
                &inner,
                format!("`{name}` is set multiple times in this example"),
            );
            return skip_value(&meta);
        }
        seen.push(name.clone());
        match name.as_str() {
            symbol::INPUT if meta.input.peek(syn::token::Paren) => {
                let mut fields: Vec<(Ident, Expr)> = Vec::new();
                meta.parse_nested_meta(|field| {
                    let Some(ident) = field.path.get_ident().cloned() else {
                        cx.error_spanned_by(
                            &field.path,
                            "expected a parameter name: `input(text = \"...\")`",
                        );
                        return skip_value(&field);
                    };
                    let expr = value(&field, &ident)?;
                    if fields.iter().any(|(existing, _)| *existing == ident) {
                        cx.error_spanned_by(
                            &ident,
                            format!("`{ident}` is set multiple times in this example"),
                        );
                    } else {
                        fields.push((ident, expr));
                    }
                    Ok(())
                })?;
                spec.input = Some(ExampleInput::Fields(inner, fields));
            }
            symbol::INPUT => {
                if !meta.input.peek(Token![=]) {
                    return Err(
                        meta.error("expected `input(parameter = value, ...)` or `input = value`")
                    );
                }
                let expr = meta.value()?.parse()?;
                spec.input = Some(ExampleInput::Whole(inner, expr));
            }
            symbol::OUTPUT => spec.output = Some(value(&meta, &inner)?),
            _ => spec.comment = Some(value(&meta, &inner)?),
        }
        Ok(())
    })?;
    if spec.input.is_none() {
        cx.error_spanned_by(
            key,
            "this example has no input: add `input(parameter = value, ...)`",
        );
    }
    if spec.output.is_none() {
        cx.error_spanned_by(key, "this example has no output: add `output = ...`");
    }
    Ok(spec)
}
