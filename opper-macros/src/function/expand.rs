//! The generated code: the function and, unless it is an `&self` method, its `_with` twin
//! taking a client. Every item they need (the task cell, a derived input struct if any) is
//! inside their bodies, so the same code works in a module and in an `impl` block. Each piece is
//! written by a function of its own, from a [`Task`] that has been checked.
//!
//! Two bodies, each cheap and each reporting what the other reports. Neither can call the
//! other: the attribute cannot tell a module (`f_with(..)`) from an `impl` block
//! (`Self::f_with(..)`), and no path names a sibling in both. So what a body repeats is kept
//! small: the parameters are the input as a `__private::Args`, not a struct with two derives
//! (most of a body's compile time); and what the compiler checks, it checks so that both bodies
//! report the same error on the same token, which it prints once. A type that does not fit is
//! reported by `assert_input` alone, whose `Param` carries what the input needs of it; an
//! example's parameter names are checked by the attribute, since a struct's field errors name
//! each body's struct.
//!
//! Hygiene: the user's parameters and the items of their module share the body's scope, so the
//! generated code binds as few names as it can. Its locals are `Span::mixed_site()`, which no
//! parameter shadows, and named `__opper_*`, which no unit struct or constant in scope is (a
//! pattern naming one of those would match it instead of binding). Its items are in blocks of
//! their own or under names no parameter type mentions; its helpers are `__private` functions.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Type};

use super::spec::{Example, ExampleInput, Input, Mode, ModelItem, ModelSpec, Param, Task};
use crate::case::pascal_case;
use crate::ungroup::ungroup_type;

/// The most parameters `__private::Args` takes: `__private::MAX_PARAMS`, the same number.
const MAX_PARAMS: usize = 16;

/// Names shared by the pieces of one expansion.
struct Names {
    /// `::opper::__private`, or under the path `crate = ...` gives.
    private: TokenStream,
    /// The generated input struct (unused with an `#[input]` parameter or `args`).
    input_struct: Ident,
    /// The input's title: `AddNumbersInput`.
    title: LitStr,
    /// The parameters are the input as a `__private::Args`, with no struct: the function's
    /// two bodies cost little to compile, and what the input needs of each parameter's type
    /// comes from `assert_input`, so a type that does not fit is reported there alone. A
    /// parameter with `#[serde]` or `#[schemars]` attributes (which only a derive reads), none
    /// or more than `MAX_PARAMS` make a derived struct instead.
    args: bool,
    /// With `args`, the tuple of the parameters' `__private::Param`s.
    params: Ident,
    /// The `static` task cell, alone in a block of its own.
    cell: Ident,
    /// The `_with` twin's client parameter: hygienic, so a user parameter of the same name is
    /// another binding.
    client: Ident,
    /// An example's locals.
    input: Ident,
    output: Ident,
}

impl Names {
    fn new(task: &Task<'_>) -> Self {
        let krate = &task.krate;
        Names {
            private: quote!(#krate::__private),
            input_struct: input_struct_name(task.function.ident, task.function.input.params()),
            title: LitStr::new(
                &format!(
                    "{}Input",
                    pascal_case(&task.function.ident.unraw().to_string())
                ),
                Span::call_site(),
            ),
            args: matches!(&task.function.input, Input::Fields(params)
                if (1..=MAX_PARAMS).contains(&params.len())
                    && params.iter().all(|param| param.forwarded.is_empty())),
            params: Ident::new("__opper_params", Span::mixed_site()),
            cell: Ident::new("__OPPER_TASK", Span::mixed_site()),
            client: Ident::new("client", Span::mixed_site()),
            input: Ident::new("__opper_input", Span::mixed_site()),
            output: Ident::new("__opper_output", Span::mixed_site()),
        }
    }
}

pub(crate) fn expand(task: &Task<'_>) -> TokenStream {
    let names = Names::new(task);
    let function = function(task, &names);
    let with_client = with_client(task, &names);
    let trait_impl_guard = trait_impl_guard(task);
    quote! {
        #function
        #with_client
        #trait_impl_guard
    }
}

/// The parameters as declared, without attributes: `x: i64, text: &str`.
fn declarations(task: &Task<'_>) -> TokenStream {
    let decls = task
        .function
        .input
        .params()
        .iter()
        .map(|Param { ident, ty, .. }| quote!(#ident: #ty));
    quote!(#(#decls),*)
}

/// The function the user declared: with the default client, or an `&self` method with the
/// client `self` provides.
fn function(task: &Task<'_>, names: &Names) -> TokenStream {
    let function = &task.function;
    let private = &names.private;
    let vis = function.vis;
    let ident = function.ident;
    let ret = function.ret;
    let decls = declarations(task);
    let (receiver, client) = match &function.receiver {
        Some(receiver) => {
            let self_token = &receiver.self_token;
            let client = quote_spanned! {receiver.span()=>
                ::core::option::Option::Some(#private::ClientSource::opper_client(#self_token))
            };
            (quote!(#receiver,), client)
        }
        None => (TokenStream::new(), quote!(::core::option::Option::None)),
    };
    let body = body(task, names, &client);
    let attrs = function.attrs;
    quote! {
        #(#attrs)*
        #[allow(clippy::needless_question_mark)]
        #vis async fn #ident(#receiver #decls) #ret #body
    }
}

/// `name_with(client, ..)`: the same call with an explicit client. Not for `&self` methods,
/// whose client is `self`'s.
fn with_client(task: &Task<'_>, names: &Names) -> TokenStream {
    let function = &task.function;
    if function.receiver.is_some() {
        return TokenStream::new();
    }
    let private = &names.private;
    let vis = function.vis;
    let ident = function.ident;
    let ret = function.ret;
    let with_ident = format_ident!("{}_with", ident);
    let decls = declarations(task);
    let others = function
        .attrs
        .iter()
        .filter(|attr| !attr.path().is_ident("doc"));
    let with_doc = format!("Like [`{ident}`], with an explicit client.");
    let client = &names.client;
    let body = body(task, names, &quote!(::core::option::Option::Some(#client)));
    quote! {
        #[doc = #with_doc]
        #(#others)*
        #[allow(dead_code, clippy::needless_question_mark)]
        #vis async fn #with_ident(#client: &#private::Opper, #decls) #ret #body
    }
}

/// An `&self` method cannot be a trait's: the task and its support live in an inherent impl.
/// This hidden constant is not a member of any trait, so in a trait impl the compiler reports it,
/// and its name says what to do.
fn trait_impl_guard(task: &Task<'_>) -> TokenStream {
    if task.function.receiver.is_none() {
        return TokenStream::new();
    }
    let guard = Ident::new(
        &format!(
            "{}__opper_tasks_go_in_an_inherent_impl__call_it_from_the_trait_method",
            task.function.ident.unraw()
        ),
        task.function.ident.span(),
    );
    quote! {
        #[doc(hidden)]
        #[allow(dead_code, non_upper_case_globals)]
        const #guard: () = ();
    }
}

/// The body of either function: the input struct, the checks, then the call with `client`, an
/// `Option<&Opper>`, of the task (built on first use, once per instantiation of the function:
/// see `TaskCell`). It binds no name: the task cell is a `static` alone in its block.
fn body(task: &Task<'_>, names: &Names, client: &TokenStream) -> TokenStream {
    let private = &names.private;
    let cell = &names.cell;
    let input_struct = input_struct(task, names);
    let checks = checks(task, names);
    let build = build_task(task, names);
    let input_value = input_value(task, names);
    let call = call(task, names);
    let policy = policy(task, names);
    let agent = agent_args(task);
    quote!({
        #input_struct
        #checks
        ::core::result::Result::Ok(#call(
            #client,
            #private::TaskCell::get_or_init(
                {
                    static #cell: #private::TaskCell = #private::TaskCell::new();
                    &#cell
                },
                || #build,
            ),
            #input_value,
            &#policy,
            #agent
        ).await?)
    })
}

/// The struct of the parameters, when they are the input's fields and not an `Args`. It is an
/// item inside the function body, which cannot name `Self` nor the function's elided lifetimes:
/// a field whose type does is a type parameter of the struct, given at each use.
fn input_struct(task: &Task<'_>, names: &Names) -> TokenStream {
    let Input::Fields(params) = &task.function.input else {
        return TokenStream::new();
    };
    let private = &names.private;
    let name = &names.input_struct;
    if names.args {
        return TokenStream::new();
    }
    let title = &names.title;
    let serde_crate = LitStr::new(
        &format!("{}::serde", crate::crate_path::to_string(private)),
        Span::call_site(),
    );
    let schemars_crate = LitStr::new(
        &format!("{}::schemars", crate::crate_path::to_string(private)),
        Span::call_site(),
    );
    let mut type_params = Vec::new();
    let fields: Vec<TokenStream> = params
        .iter()
        .map(|param| {
            let Param {
                ident,
                ty,
                docs,
                forwarded,
                generic,
            } = param;
            let ty = if *generic {
                let type_param = type_param_name(type_params.len(), params);
                type_params.push(type_param.clone());
                type_param.into_token_stream()
            } else {
                ty.to_token_stream()
            };
            quote!(#(#docs)* #(#forwarded)* #ident: #ty)
        })
        .collect();
    let generics = (!type_params.is_empty()).then(|| quote!(<#(#type_params),*>));
    quote! {
        #[derive(#private::serde::Serialize, #private::schemars::JsonSchema)]
        #[serde(crate = #serde_crate)]
        #[schemars(crate = #schemars_crate, rename = #title)]
        struct #name #generics {
            #(#fields,)*
        }
    }
}

/// The type of the input: the input struct with its type parameters given, or the `#[input]`
/// parameter's type.
fn input_ty(task: &Task<'_>, names: &Names) -> TokenStream {
    match &task.function.input {
        Input::Fields(_) if names.args => {
            let private = &names.private;
            quote!(#private::Args<_>)
        }
        Input::Fields(params) => {
            let name = &names.input_struct;
            let args: Vec<&Type> = params
                .iter()
                .filter(|param| param.generic)
                .map(|param| &param.ty)
                .collect();
            if args.is_empty() {
                name.to_token_stream()
            } else {
                quote!(#name<#(#args),*>)
            }
        }
        Input::Whole(param) => param.ty.to_token_stream(),
    }
}

/// A `__private::Args` of `values`, one per parameter, in order. The parameters' values take
/// their `Param`s from the checks; an example's, whose borrows live shorter, from checks of
/// their own, the same tokens on the same spans (so a type that does not fit is still reported
/// once).
fn args(
    task: &Task<'_>,
    names: &Names,
    values: impl Iterator<Item = TokenStream>,
    example: bool,
) -> TokenStream {
    let private = &names.private;
    let title = &names.title;
    let params = &names.params;
    let param_names = param_names(task);
    let tys = task.function.input.params().iter().map(|param| &param.ty);
    // `param` first: it gives the value its type, so that `&("a")` coerces to a `&str` field.
    let fields = values.zip(tys).enumerate().map(|(index, (value, ty))| {
        let param = if example {
            assert_input(names, ty)
        } else {
            let index = syn::Index::from(index);
            quote!(#params.#index)
        };
        quote!(#private::Field { param: #param, value: #value })
    });
    quote!(#private::Args {
        title: #title,
        names: &[#(#param_names),*],
        values: (#(#fields,)*),
    })
}

/// The parameters' names, as string literals.
fn param_names(task: &Task<'_>) -> Vec<LitStr> {
    task.function
        .input
        .params()
        .iter()
        .map(|param| LitStr::new(&param.ident.unraw().to_string(), Span::call_site()))
        .collect()
}

/// A reference to the input, built from the parameters.
fn input_value(task: &Task<'_>, names: &Names) -> TokenStream {
    match &task.function.input {
        Input::Fields(params) if names.args => {
            let values = params.iter().map(|param| param.ident.to_token_stream());
            let args = args(task, names, values, false);
            quote!(&#args)
        }
        Input::Fields(params) => {
            let name = &names.input_struct;
            let args = params.iter().map(|param| &param.ident);
            quote!(&#name { #(#args: #args),* })
        }
        Input::Whole(param) => {
            let ident = &param.ident;
            quote!(&#ident)
        }
    }
}

/// `assert_input::<T>()` per parameter and `assert_output::<T>()` (`assert_streamable`), spanned
/// on the types: a type that does not fit gets `opper`'s message there. They come before the
/// call, so that the call's own bounds, on the same types, are not reported first.
fn checks(task: &Task<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let inputs = task
        .function
        .input
        .params()
        .iter()
        .map(|Param { ty, .. }| assert_input(names, ty));
    let inputs = if names.args {
        let params = &names.params;
        quote!(let #params = (#(#inputs,)*);)
    } else {
        quote!(#(#inputs;)*)
    };
    let out_ty = &task.function.output.ty;
    let assert_output = match task.function.output.mode {
        Mode::Stream | Mode::AgentStream => quote!(assert_streamable),
        _ => quote!(assert_output),
    };
    let output = quote_spanned!(out_ty.span()=> #private::#assert_output::<#out_ty>(););
    quote!(#inputs #output)
}

/// `assert_input::<T>()`, spanned on the type.
fn assert_input(names: &Names, ty: &Type) -> TokenStream {
    let private = &names.private;
    quote_spanned!(ty.span()=> #private::assert_input::<#ty>())
}

/// The expression that builds the task: name, instructions, schemas, model, tags,
/// configuration and examples. It runs once per instantiation, on the first call.
fn build_task(task: &Task<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let output = &task.function.output;
    let out_ty = &output.ty;
    let name = LitStr::new(&task.name, Span::call_site());
    let mut builder = quote!(#private::Task::new(#name));
    if let Some(instructions) = &task.instructions {
        builder = quote!(#builder.instructions(#instructions));
    }
    let input_schema = if names.args {
        let title = &names.title;
        let param_names = param_names(task);
        let docs = task
            .function
            .input
            .params()
            .iter()
            .map(|param| doc(&param.docs));
        let params = &names.params;
        let schemas = (0..param_names.len()).map(|index| {
            let index = syn::Index::from(index);
            quote!(#params.#index.schema())
        });
        quote!(#private::input_schema(
            #title,
            &[#(#param_names),*],
            &[#(#docs),*],
            &[#(#schemas),*],
        ))
    } else {
        let input_ty = input_ty(task, names);
        quote!(#private::schema_for::<#input_ty>())
    };
    builder = quote!(#builder.input_schema(#input_schema));
    if !output.text {
        let schema = quote_spanned!(out_ty.span()=> #private::schema_for::<#out_ty>());
        builder = quote!(#builder.output_schema(#schema));
    }
    if let Some(model) = &task.model {
        let model = model_tokens(model, private);
        builder = quote!(#builder.model(#model));
    }
    for (key, value) in &task.tags {
        builder = quote!(#builder.tag(#key, #value));
    }
    if !task.configuration.is_empty() {
        let settings = task
            .configuration
            .iter()
            .map(|(method, value)| quote!(.#method(#value)));
        builder = quote!(#builder.configuration(#private::Configuration::new() #(#settings)*));
    }
    task.examples.iter().fold(builder, |built, example| {
        self::example(task, names, example, built)
    })
}

/// The policy: the validator and the re-asks, a temporary of the call (a `static` could not name
/// an output type that mentions `Self`). `validate = EXPR` goes through
/// `validator::<Output, _, _>`, spanned on EXPR: a wrong signature is reported there, in the
/// words of `opper::ValidatorFn`.
fn policy(task: &Task<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let out_ty = &task.function.output.ty;
    let validator = match &task.validate {
        Some(expr) => {
            let check = quote_spanned!(expr.span()=> #private::validator::<#out_ty, _, _>);
            quote!(::core::option::Option::Some(#check(#expr)))
        }
        None => quote!(::core::option::Option::None),
    };
    let reasks = match &task.reasks {
        Some(reasks) => quote!(::core::option::Option::Some(#reasks)),
        None => quote!(::core::option::Option::None),
    };
    quote!(#private::Policy::<#out_ty>::new(#validator, #reasks))
}

/// `built` with one example added, its input and output type-checked against the signature by
/// the types of two locals (a mismatch points at the signature's type too). `example` is
/// spanned on the output: an output that cannot be sent gets `ExampleOutput`'s message there.
fn example(task: &Task<'_>, names: &Names, example: &Example, built: TokenStream) -> TokenStream {
    let private = &names.private;
    let output = &task.function.output;
    let out_ty = &output.ty;
    let input_ty = input_ty(task, names);
    let input = match &example.input {
        ExampleInput::Fields { fields, .. } if names.args => {
            // In the parameters' order; the attribute's check made `fields` name each once.
            let values = task.function.input.params().iter().filter_map(|param| {
                let (_, expr) = fields.iter().find(|(field, _)| *field == param.ident)?;
                Some(example_value(Some(&param.ty), expr))
            });
            args(task, names, values, true)
        }
        ExampleInput::Fields { key, fields } => {
            let path = Ident::new(&names.input_struct.to_string(), key.span());
            let params = task.function.input.params();
            let fields = fields.iter().map(|(field, expr)| {
                let ty = params
                    .iter()
                    .find(|param| param.ident == *field)
                    .map(|param| &param.ty);
                let value = example_value(ty, expr);
                quote!(#field: #value)
            });
            quote!(#path { #(#fields),* })
        }
        ExampleInput::Whole(expr) => match &task.function.input {
            Input::Whole(param) if is_reference(&param.ty) => example_value(Some(&param.ty), expr),
            _ => expr.to_token_stream(),
        },
    };
    let expr = &example.output;
    let out = if output.text {
        quote_spanned!(expr.span()=> ::core::convert::Into::into(#expr))
    } else {
        expr.to_token_stream()
    };
    let add = quote_spanned!(expr.span()=> #private::example::<_, #out_ty>);
    let comment = match &example.comment {
        Some(comment) => quote!(::core::option::Option::Some(#comment)),
        None => quote!(::core::option::Option::None),
    };
    let input_local = &names.input;
    let output_local = &names.output;
    quote!({
        let #input_local: #input_ty = #input;
        let #output_local: #out_ty = #out;
        #add(#built, &#input_local, &#output_local, #comment)
    })
}

/// A parameter's doc comment as `schemars` joins a field's: one line per `#[doc]`, without the
/// space `///` leaves first, in `concat!`; `""` without one.
fn doc(attrs: &[syn::Attribute]) -> TokenStream {
    let mut joined = TokenStream::new();
    let lines = attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .filter_map(|attr| attr.meta.require_name_value().ok());
    for (index, line) in lines.enumerate() {
        if index > 0 {
            joined.extend(quote!(, "\n",));
        }
        match &line.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(text),
                ..
            }) => {
                let value = text.value();
                let value = value.strip_prefix(' ').unwrap_or(&value);
                LitStr::new(value, text.span()).to_tokens(&mut joined);
            }
            other => other.to_tokens(&mut joined),
        }
    }
    if joined.is_empty() {
        return quote!("");
    }
    quote!(::core::concat!(#joined))
}

/// An example's value for a parameter of type `ty`: borrowed for a reference (so that `"Ann"`,
/// a `String` or a `Vec` fit `&str` and `&[T]`), else converted with `Into`.
fn example_value(ty: Option<&Type>, expr: &syn::Expr) -> TokenStream {
    if ty.is_some_and(is_reference) {
        quote_spanned!(expr.span()=> &(#expr))
    } else {
        quote_spanned!(expr.span()=> ::core::convert::Into::into(#expr))
    }
}

fn is_reference(ty: &Type) -> bool {
    matches!(ungroup_type(ty), Type::Reference(_))
}

/// The runtime function that makes the call: `call`, `call_response` or `stream`, spanned on
/// the output type (its bounds are the output's).
fn call(task: &Task<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let out_ty = &task.function.output.ty;
    let call_name = match (task.function.output.mode, task.tools.is_some()) {
        (Mode::Call, false) => quote!(call),
        (Mode::Response, false) => quote!(call_response),
        (Mode::Stream, false) => quote!(stream),
        (Mode::Call, true) => quote!(agent_call),
        (Mode::AgentRun, _) => quote!(agent_run),
        (Mode::AgentStream, _) => quote!(agent_stream),
        // Refused by the checks: `Response` and `Stream` are a task's, not an agent's.
        (Mode::Response | Mode::Stream, true) => quote!(agent_call),
    };
    quote_spanned!(out_ty.span()=> #private::#call_name::<_, #out_ty>)
}

/// An agent's extra arguments: its tools (`|| vec![a_tool(), ...]`, each call spanned on the
/// user's path) and `max_iterations`; nothing for a task.
fn agent_args(task: &Task<'_>) -> TokenStream {
    let Some(tools) = &task.tools else {
        return TokenStream::new();
    };
    let calls = tools.iter().map(|path| {
        let mut path = path.clone();
        if let Some(last) = path.segments.last_mut() {
            let ident = last.ident.unraw();
            last.ident = format_ident!("{}_tool", ident, span = last.ident.span());
        }
        quote_spanned!(path.span()=> #path())
    });
    let max = match &task.max_iterations {
        Some(max) => quote!(::core::option::Option::Some(#max)),
        None => quote!(::core::option::Option::None),
    };
    quote!(|| ::std::vec![#(#calls),*], #max,)
}

fn model_tokens(model: &ModelSpec, private: &TokenStream) -> TokenStream {
    let item = |item: &ModelItem| {
        let name = &item.name;
        let options = item
            .options
            .iter()
            .map(|(key, value)| quote!(.option(#key, #value)));
        let headers = item
            .extra_headers
            .iter()
            .map(|(key, value)| quote!(.extra_header(#key, #value)));
        quote!(#private::Model::new(#name) #(#options)* #(#headers)*)
    };
    match model {
        ModelSpec::One(one) => item(one),
        ModelSpec::Fallback(chain) => {
            let chain = chain.iter().map(item);
            quote!(#private::Model::fallback([#(#chain),*]))
        }
    }
}

/// `AddNumbersInput` for `add_numbers`, unless a parameter's type already uses that name.
fn input_struct_name(ident: &Ident, params: &[Param]) -> Ident {
    let name = format!("{}Input", pascal_case(&ident.unraw().to_string()));
    if params
        .iter()
        .any(|param| mentions(param.ty.to_token_stream(), &name))
    {
        format_ident!("__Opper{}", name)
    } else {
        Ident::new(&name, Span::call_site())
    }
}

/// The input struct's `index`th type parameter: `__T0`, or with `_`s appended until no
/// parameter's type mentions it (inside the struct, it would shadow the user's type).
fn type_param_name(index: usize, params: &[Param]) -> Ident {
    let mut name = format!("__T{index}");
    while params
        .iter()
        .any(|param| mentions(param.ty.to_token_stream(), &name))
    {
        name.push('_');
    }
    Ident::new(&name, Span::call_site())
}

fn mentions(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Group(group) => mentions(group.stream(), name),
        proc_macro2::TokenTree::Ident(ident) => ident == name,
        _ => false,
    })
}
