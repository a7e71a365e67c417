//! The validated task: what [`expand`](super::expand) writes code from. [`valid`](super::valid) builds it only when every
//! check passed, so nothing here is missing or contradictory.

use proc_macro2::TokenStream;
use syn::{Attribute, Expr, Ident, LitInt, LitStr, ReturnType, Type, Visibility};

/// A task and the function that calls it.
pub(crate) struct Task<'a> {
    /// The path of the `opper` crate.
    pub(crate) krate: syn::Path,
    /// The task's name on the wire.
    pub(crate) name: String,
    /// An expression of type `&'static str`: a literal, or built from `#[doc = some_macro!(..)]`.
    pub(crate) instructions: Option<TokenStream>,
    pub(crate) model: Option<ModelSpec>,
    /// `tags(key = value)`, in order.
    pub(crate) tags: Vec<(LitStr, Expr)>,
    /// Configuration keys: the `opper::Configuration` method and its value.
    pub(crate) configuration: Vec<(Ident, Expr)>,
    pub(crate) examples: Vec<Example>,
    /// `validate = EXPR`, as written (its signature is checked by the compiler, on it).
    pub(crate) validate: Option<Expr>,
    /// `reasks = N`; without it, the runtime default (2 with `validate`, else 0).
    pub(crate) reasks: Option<LitInt>,
    /// `tools = [a, b]`: the task is an agent calling `a_tool()`, `b_tool()`.
    pub(crate) tools: Option<Vec<syn::Path>>,
    /// `max_iterations = N`, for an agent.
    pub(crate) max_iterations: Option<LitInt>,
    pub(crate) function: Function<'a>,
}

/// The user's function.
pub(crate) struct Function<'a> {
    pub(crate) attrs: &'a [Attribute],
    pub(crate) vis: &'a Visibility,
    pub(crate) ident: &'a Ident,
    /// The return type as written.
    pub(crate) ret: &'a ReturnType,
    /// `&self`, for a method whose client comes from `self`.
    pub(crate) receiver: Option<syn::Receiver>,
    pub(crate) input: Input,
    pub(crate) output: Output,
}

/// The task's input.
pub(crate) enum Input {
    /// Every parameter is a field of a generated input struct.
    Fields(Vec<Param>),
    /// The single parameter, marked `#[input]`, is the whole input.
    Whole(Box<Param>),
}

impl Input {
    /// The function's parameters.
    pub(crate) fn params(&self) -> &[Param] {
        match self {
            Input::Fields(params) => params,
            Input::Whole(param) => std::slice::from_ref(&**param),
        }
    }
}

/// One parameter.
pub(crate) struct Param {
    pub(crate) ident: Ident,
    pub(crate) ty: Type,
    /// The type borrows or names `Self`: the input struct, an item inside the function body,
    /// takes it as a type parameter.
    pub(crate) generic: bool,
    /// `///` comments, copied onto the input's field.
    pub(crate) docs: Vec<Attribute>,
    /// `#[serde(...)]` and `#[schemars(...)]`, copied onto the input's field.
    pub(crate) forwarded: Vec<Attribute>,
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
    /// `Result<AgentRun<T>>`: an agent's run.
    AgentRun,
    /// `Result<AgentStream<T>>`: an agent's run, streamed.
    AgentStream,
}

/// The output: how it is called for, its type, and whether it is text (`String`).
pub(crate) struct Output {
    pub(crate) mode: Mode,
    pub(crate) ty: Type,
    pub(crate) text: bool,
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

/// `example(input(...), output = ..., comment = "...")`, in the form the signature takes.
pub(crate) struct Example {
    pub(crate) input: ExampleInput,
    pub(crate) output: Expr,
    pub(crate) comment: Option<Expr>,
}

/// The input of an example.
pub(crate) enum ExampleInput {
    /// `input(field = value, ...)`: the parameters by name; `key` is the `input` token.
    Fields {
        key: Ident,
        fields: Vec<(Ident, Expr)>,
    },
    /// `input = value`: the whole input (for an `#[input]` parameter).
    Whole(Expr),
}
