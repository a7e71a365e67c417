//! The attribute's top-level keys: `crate`, `name`, `instructions`, `model`, `tags`, `example`,
//! `configuration`, `validate`, `reasks` and the configuration keys.

use syn::{Expr, Ident, Lit, LitInt, LitStr};

use super::example::{self, RawExample};
use super::model;
use super::value::{expr, list};
use crate::ctxt::Ctxt;
use crate::function::attr::{Meta, Value};
use crate::function::spec::ModelSpec;
use crate::function::symbol::{self, CONFIGURATION_KEYS};
use crate::ungroup::{lit, lit_str};

/// The checked keys. A key with a mistake is reported and left out.
#[derive(Default)]
pub(super) struct Args {
    pub(super) krate: Option<syn::Path>,
    pub(super) name: Option<LitStr>,
    pub(super) instructions: Option<LitStr>,
    pub(super) model: Option<ModelSpec>,
    pub(super) tags: Vec<(LitStr, Expr)>,
    pub(super) examples: Vec<RawExample>,
    pub(super) configuration: Vec<(Ident, Expr)>,
    /// `validate = EXPR`: checked against the output type where the expansion places it.
    pub(super) validate: Option<Expr>,
    /// `reasks = N`, a `u32` literal.
    pub(super) reasks: Option<LitInt>,
    /// `tools = [a, b]`: paths of `#[opper::tool]` functions.
    pub(super) tools: Option<Vec<syn::Path>>,
    /// `max_iterations = N`, a `u32` literal.
    pub(super) max_iterations: Option<LitInt>,
    /// Keys set so far (for "set multiple times").
    seen: Vec<String>,
}

impl Args {
    pub(super) fn validate(metas: &[Meta], cx: &Ctxt) -> Self {
        let mut args = Args::default();
        for meta in metas {
            args.key(meta, cx);
        }
        args
    }

    fn first_time(&mut self, key: &Ident, cx: &Ctxt) -> bool {
        let name = key.to_string();
        if self.seen.contains(&name) {
            cx.error_spanned_by(key, format!("`{name}` is set multiple times"));
            false
        } else {
            self.seen.push(name);
            true
        }
    }

    fn key(&mut self, meta: &Meta, cx: &Ctxt) {
        let Some(key) = meta.key() else {
            cx.error_spanned_by(&meta.path, "expected a key such as `model`, not a path");
            return;
        };
        let name = key.to_string();
        match name.as_str() {
            symbol::CRATE => {
                let Some(expr) = expr(meta, cx) else { return };
                if self.first_time(key, cx) {
                    self.krate = crate_path(expr, cx);
                }
            }
            symbol::NAME | symbol::INSTRUCTIONS => {
                let Some(expr) = expr(meta, cx) else { return };
                let example = if name == symbol::NAME {
                    "\"extract_team\""
                } else {
                    "\"...\""
                };
                let lit = lit_str(expr).cloned();
                if lit.is_none() {
                    cx.error_spanned_by(
                        expr,
                        format!("`{name}` takes a string literal: `{name} = {example}`"),
                    );
                }
                if self.first_time(key, cx) {
                    if name == symbol::NAME {
                        self.name = lit;
                    } else {
                        self.instructions = lit;
                    }
                }
            }
            symbol::MODEL => {
                let model = match &meta.value {
                    Value::Args(args) => model::call(key, args, cx).map(ModelSpec::One),
                    _ => expr(meta, cx).and_then(|expr| model::spec(expr, cx)),
                };
                if self.first_time(key, cx) {
                    self.model = model;
                }
            }
            symbol::TAGS => {
                let first = self.first_time(key, cx);
                let Some(list) = list(meta, cx) else { return };
                let tags = tags(list, cx);
                if first {
                    self.tags = tags;
                }
            }
            symbol::VALIDATE => {
                let Some(expr) = expr(meta, cx) else { return };
                if self.first_time(key, cx) {
                    self.validate = Some(expr.clone());
                }
            }
            symbol::REASKS => {
                let Some(expr) = expr(meta, cx) else { return };
                let reasks = match lit(expr) {
                    Some(Lit::Int(int)) if int.base10_parse::<u32>().is_ok() => Some(int.clone()),
                    _ => {
                        cx.error_spanned_by(
                            expr,
                            "`reasks` takes a whole number of re-asks: `reasks = 2`",
                        );
                        None
                    }
                };
                if self.first_time(key, cx) {
                    self.reasks = reasks;
                }
            }
            symbol::TOOLS => {
                let Some(expr) = expr(meta, cx) else { return };
                let tools = tools(expr, cx);
                if self.first_time(key, cx) {
                    self.tools = tools;
                }
            }
            symbol::MAX_ITERATIONS => {
                let Some(expr) = expr(meta, cx) else { return };
                let max = match lit(expr) {
                    Some(Lit::Int(int)) if int.base10_parse::<u32>().is_ok_and(|n| n > 0) => {
                        Some(int.clone())
                    }
                    _ => {
                        cx.error_spanned_by(
                            expr,
                            "`max_iterations` takes a whole number of turns, at least 1: `max_iterations = 10`",
                        );
                        None
                    }
                };
                if self.first_time(key, cx) {
                    self.max_iterations = max;
                }
            }
            symbol::EXAMPLE => {
                let Some(list) = list(meta, cx) else { return };
                if let Some(example) = example::parse(key, list, cx) {
                    self.examples.push(example);
                }
            }
            symbol::CONFIGURATION => {
                self.first_time(key, cx);
                let Some(list) = list(meta, cx) else { return };
                for inner in list {
                    match inner.key() {
                        Some(inner_key)
                            if CONFIGURATION_KEYS.iter().any(|(k, _)| inner_key == k) =>
                        {
                            self.configuration_key(inner, inner_key, cx);
                        }
                        _ => {
                            let keys: Vec<&str> =
                                CONFIGURATION_KEYS.iter().map(|(k, _)| *k).collect();
                            cx.error_spanned_by(
                                &inner.path,
                                format!(
                                    "unknown configuration key `{}`; expected {}",
                                    crate::crate_path::to_string(&inner.path),
                                    symbol::list(&keys)
                                ),
                            );
                        }
                    }
                }
            }
            _ if CONFIGURATION_KEYS.iter().any(|(k, _)| key == k) => {
                self.configuration_key(meta, key, cx);
            }
            _ => cx.error_spanned_by(
                key,
                format!(
                    "unknown key `{name}`; expected {}",
                    symbol::list(symbol::TOP_LEVEL)
                ),
            ),
        }
    }

    /// `max_attempts = 3` and the like: an integer or a boolean, as the key takes.
    fn configuration_key(&mut self, meta: &Meta, key: &Ident, cx: &Ctxt) {
        let Some(expr) = expr(meta, cx) else { return };
        let boolean = CONFIGURATION_KEYS.iter().any(|(k, b)| key == k && *b);
        if let Some(lit) = lit(expr) {
            let ok = match lit {
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
                cx.error_spanned_by(expr, format!("`{key}` takes {kind}: `{key} = {example}`"));
                return;
            }
        }
        if self.first_time(key, cx) {
            self.configuration.push((key.clone(), expr.clone()));
        }
    }
}

/// `tags(key = value, ...)`: each key once.
fn tags(list: &[Meta], cx: &Ctxt) -> Vec<(LitStr, Expr)> {
    let mut tags: Vec<(LitStr, Expr)> = Vec::new();
    for meta in list {
        let Some(tag) = meta.key() else {
            cx.error_spanned_by(
                &meta.path,
                "a tag's key is a name: `tags(project = \"...\")`",
            );
            continue;
        };
        let Some(value) = expr(meta, cx) else {
            continue;
        };
        let tag_name = tag.to_string();
        if tags
            .iter()
            .any(|(existing, _)| existing.value() == tag_name)
        {
            cx.error_spanned_by(tag, format!("tag `{tag_name}` is set multiple times"));
        } else {
            tags.push((LitStr::new(&tag_name, tag.span()), value.clone()));
        }
    }
    tags
}

/// `tools = [a, b, path::c]`: each a path to an `#[opper::tool]` function.
fn tools(expr: &Expr, cx: &Ctxt) -> Option<Vec<syn::Path>> {
    let Expr::Array(array) = crate::ungroup::ungroup(expr) else {
        cx.error_spanned_by(
            expr,
            "`tools` takes a list of #[opper::tool] functions: `tools = [get_weather, add]`",
        );
        return None;
    };
    let mut paths = Vec::new();
    for elem in &array.elems {
        match crate::ungroup::ungroup(elem) {
            Expr::Path(path) if path.qself.is_none() && path.attrs.is_empty() => {
                paths.push(path.path.clone());
            }
            other => cx.error_spanned_by(
                other,
                "a tool is the path of an #[opper::tool] function (its `<name>_tool()` is called)",
            ),
        }
    }
    Some(paths)
}

/// `crate = "::opper"` or `crate = ::opper`.
fn crate_path(expr: &Expr, cx: &Ctxt) -> Option<syn::Path> {
    let path = crate::crate_path::from_expr(expr);
    if path.is_none() {
        let span: &dyn quote::ToTokens = match lit_str(expr) {
            Some(lit) => lit,
            None => expr,
        };
        cx.error_spanned_by(
            span,
            "`crate` takes the path of the opper crate: `crate = \"::opper\"`",
        );
    }
    path
}
