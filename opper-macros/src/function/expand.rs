//! The generated code: the function, its `_with` twin taking a client, and a hidden helper that
//! holds the input struct and the task (built once, shared by both). Each piece is written by a
//! function of its own, from a [`Task`] that has been checked.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitStr};

use super::spec::{Example, ExampleInput, Input, Mode, ModelItem, ModelSpec, Param, Task};
use crate::case::pascal_case;

/// Names shared by the pieces of one expansion.
struct Names {
    /// `::opper::__private`, or under the path `crate = ...` gives.
    private: TokenStream,
    /// The hidden helper both public functions call.
    helper: Ident,
    /// The generated input struct (unused with an `#[input]` parameter).
    input_struct: Ident,
    /// Local functions whose bounds check the output type and the examples' outputs.
    schema_fn: Ident,
    example_fn: Ident,
    /// Locals of the generated code, hygienic so that parameters cannot shadow them.
    client: Ident,
    input: Ident,
    task: Ident,
    output: Ident,
}

impl Names {
    fn new(task: &Task<'_>) -> Self {
        let krate = &task.krate;
        let ident = task.function.ident;
        Names {
            private: quote!(#krate::__private),
            helper: format_ident!("__opper_{}", ident),
            input_struct: input_struct_name(ident, task.function.input.params()),
            schema_fn: Ident::new("__opper_output_schema", Span::mixed_site()),
            example_fn: Ident::new("__opper_example", Span::mixed_site()),
            client: Ident::new("__client", Span::mixed_site()),
            input: Ident::new("__input", Span::mixed_site()),
            task: Ident::new("__task", Span::mixed_site()),
            output: Ident::new("__output", Span::mixed_site()),
        }
    }
}

pub(crate) fn expand(task: &Task<'_>) -> TokenStream {
    let names = Names::new(task);
    let functions = public_functions(task, &names);
    let helper = helper(task, &names);
    quote! {
        #functions
        #helper
    }
}

/// The function the user declared and its `_with` twin, both calling the helper.
fn public_functions(task: &Task<'_>, names: &Names) -> TokenStream {
    let function = &task.function;
    let private = &names.private;
    let helper = &names.helper;
    let vis = function.vis;
    let ident = function.ident;
    let ret = function.ret;
    let with_ident = format_ident!("{}_with", ident);
    let params = function.input.params();
    let args: Vec<&Ident> = params.iter().map(|param| &param.ident).collect();
    let decls = params
        .iter()
        .map(|Param { ident, ty, .. }| quote!(#ident: #ty));
    let decls = quote!(#(#decls),*);
    let (docs, others): (Vec<&Attribute>, Vec<&Attribute>) = function
        .attrs
        .iter()
        .partition(|attr| attr.path().is_ident("doc"));
    let with_doc = format!("Like [`{ident}`], with an explicit client.");
    let client = if args.iter().any(|arg| *arg == "client") {
        format_ident!("opper_client")
    } else {
        format_ident!("client")
    };
    quote! {
        #(#docs)*
        #(#others)*
        #vis async fn #ident(#decls) #ret {
            #helper(::core::option::Option::None, #(#args),*).await
        }

        #[doc = #with_doc]
        #(#others)*
        #[allow(dead_code)]
        #vis async fn #with_ident(#client: &#private::Opper, #decls) #ret {
            #helper(::core::option::Option::Some(#client), #(#args),*).await
        }
    }
}

/// The hidden helper: the input, the checks, the task cell, and the call.
fn helper(task: &Task<'_>, names: &Names) -> TokenStream {
    let function = &task.function;
    let private = &names.private;
    let helper = &names.helper;
    let client = &names.client;
    let input = &names.input;
    let ret = function.ret;
    let params = function.input.params();
    let decls = params
        .iter()
        .map(|Param { ident, ty, .. }| quote!(#ident: #ty));
    let cfgs = function
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr"));
    let input_struct = input_struct(task, names);
    let input_checks = input_checks(task, names);
    let output_checks = output_checks(task, names);
    let task_cell = task_cell(task, names);
    let input_value = input_value(task, names);
    let call = call(task, names);
    quote! {
        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_snake_case, clippy::too_many_arguments, clippy::needless_question_mark)]
        async fn #helper(#client: ::core::option::Option<&#private::Opper>, #(#decls),*) #ret {
            #input_struct
            #input_checks
            #output_checks
            #task_cell
            let #input = #input_value;
            ::core::result::Result::Ok(#call(#client, &__TASK, #input).await?)
        }
    }
}

/// The struct of the parameters, when they are the input's fields.
fn input_struct(task: &Task<'_>, names: &Names) -> TokenStream {
    let Input::Fields(params) = &task.function.input else {
        return TokenStream::new();
    };
    let private = &names.private;
    let name = &names.input_struct;
    let serde_crate = LitStr::new(
        &format!("{}::serde", crate::crate_path::to_string(private)),
        Span::call_site(),
    );
    let schemars_crate = LitStr::new(
        &format!("{}::schemars", crate::crate_path::to_string(private)),
        Span::call_site(),
    );
    let title = LitStr::new(
        &format!(
            "{}Input",
            pascal_case(&task.function.ident.unraw().to_string())
        ),
        Span::call_site(),
    );
    let fields = params.iter().map(|param| {
        let Param {
            ident,
            ty,
            docs,
            forwarded,
        } = param;
        quote!(#(#docs)* #(#forwarded)* #ident: #ty)
    });
    quote! {
        #[derive(#private::serde::Serialize, #private::schemars::JsonSchema)]
        #[serde(crate = #serde_crate)]
        #[schemars(crate = #schemars_crate, rename = #title)]
        struct #name {
            #(#fields,)*
        }
    }
}

/// The type of the input.
fn input_ty(task: &Task<'_>, names: &Names) -> TokenStream {
    match &task.function.input {
        Input::Fields(_) => names.input_struct.to_token_stream(),
        Input::Whole(param) => param.ty.to_token_stream(),
    }
}

/// A reference to the input, built from the parameters.
fn input_value(task: &Task<'_>, names: &Names) -> TokenStream {
    match &task.function.input {
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

/// `assert_input::<T>()` per parameter, spanned on its type: a type that cannot be an input gets
/// `opper`'s message there.
fn input_checks(task: &Task<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let checks = task
        .function
        .input
        .params()
        .iter()
        .map(|Param { ty, .. }| quote_spanned!(ty.span()=> #private::assert_input::<#ty>();));
    quote!(#(#checks)*)
}

/// The local functions the output schema and the examples go through. Their bounds are the
/// diagnostic traits: a type that does not fit gets `opper`'s message, on the user's type.
fn output_checks(task: &Task<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let schema_fn = &names.schema_fn;
    let example_fn = &names.example_fn;
    let out_bound = match task.function.output.mode {
        Mode::Stream => quote!(#private::Streamable),
        _ => quote!(#private::Output),
    };
    let out_param = Ident::new("O", Span::mixed_site());
    quote! {
        #[allow(dead_code)]
        fn #schema_fn<#out_param: #out_bound>() -> #private::serde_json::Value {
            #private::schema_for::<#out_param>()
        }
        #[allow(dead_code)]
        fn #example_fn<I: #private::serde::Serialize, #out_param: #private::ExampleOutput>(
            task: #private::Task,
            input: &I,
            output: &#out_param,
            comment: ::core::option::Option<&str>,
        ) -> #private::Task {
            #private::example(task, input, output, comment)
        }
    }
}

/// `static __TASK`: the task, built once, on first use.
fn task_cell(task: &Task<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let output = &task.function.output;
    let out_ty = &output.ty;
    let schema_fn = &names.schema_fn;
    let name = LitStr::new(&task.name, Span::call_site());
    let mut builder = quote!(#private::Task::new(#name));
    if let Some(instructions) = &task.instructions {
        builder = quote!(#builder.instructions(#instructions));
    }
    let input_ty = input_ty(task, names);
    builder = quote!(#builder.input_schema(#private::schema_for::<#input_ty>()));
    if !output.text {
        let schema = quote_spanned!(out_ty.span()=> #schema_fn::<#out_ty>());
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
    let task_local = &names.task;
    let examples = task
        .examples
        .iter()
        .map(|example| self::example(task, names, example));
    quote! {
        static __TASK: #private::TaskCell = #private::TaskCell::new(|| {
            let #task_local = #builder;
            #(#examples)*
            #task_local
        });
    }
}

/// One example added to the task, its input and output type-checked against the signature.
fn example(task: &Task<'_>, names: &Names, example: &Example) -> TokenStream {
    let output = &task.function.output;
    let out_ty = &output.ty;
    let input_ty = input_ty(task, names);
    let input = match &example.input {
        ExampleInput::Fields { key, fields } => {
            let path = Ident::new(&names.input_struct.to_string(), key.span());
            let fields = fields.iter().map(|(field, expr)| {
                let value = quote_spanned!(expr.span()=> ::core::convert::Into::into(#expr));
                quote!(#field: #value)
            });
            quote!(#path { #(#fields),* })
        }
        ExampleInput::Whole(expr) => expr.to_token_stream(),
    };
    let expr = &example.output;
    let out = if output.text {
        quote_spanned!(expr.span()=> ::core::convert::Into::into(#expr))
    } else {
        expr.to_token_stream()
    };
    let example_fn = &names.example_fn;
    let add = quote_spanned!(expr.span()=> #example_fn::<_, #out_ty>);
    let comment = match &example.comment {
        Some(comment) => quote!(::core::option::Option::Some(#comment)),
        None => quote!(::core::option::Option::None),
    };
    let task_local = &names.task;
    let input_local = &names.input;
    let output_local = &names.output;
    quote! {
        let #task_local = {
            let #input_local: #input_ty = #input;
            let #output_local: #out_ty = #out;
            #add(#task_local, &#input_local, &#output_local, #comment)
        };
    }
}

/// The runtime function that makes the call: `call`, `call_response` or `stream`, spanned on
/// the output type (its bounds are the output's).
fn call(task: &Task<'_>, names: &Names) -> TokenStream {
    let private = &names.private;
    let out_ty = &task.function.output.ty;
    let call_name = match task.function.output.mode {
        Mode::Call => quote!(call),
        Mode::Response => quote!(call_response),
        Mode::Stream => quote!(stream),
    };
    quote_spanned!(out_ty.span()=> #private::#call_name::<_, #out_ty>)
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

fn mentions(tokens: TokenStream, name: &str) -> bool {
    tokens.into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Group(group) => mentions(group.stream(), name),
        proc_macro2::TokenTree::Ident(ident) => ident == name,
        _ => false,
    })
}
