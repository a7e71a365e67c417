//! The generated code: the function, its `_with` twin taking a client, and a hidden helper that
//! holds the input struct and the task (built once, shared by both).

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, Ident, LitStr};

use super::ast::{Function, Mode, Param};
use super::attr::{Args, ExampleInput, ModelItem, ModelSpec};

pub(crate) fn expand(args: &Args, function: &Function<'_>) -> TokenStream {
    let Some(output) = &function.output else {
        return TokenStream::new();
    };
    let krate = args.krate();
    let private = quote!(#krate::__private);
    let item = function.item;
    let vis = &item.vis;
    let ident = &item.sig.ident;
    let ret = &item.sig.output;
    let with_ident = format_ident!("{}_with", ident);
    let helper = format_ident!("__opper_{}", ident);
    let params = &function.params;
    let names: Vec<&Ident> = params.iter().map(|param| &param.ident).collect();
    let decls: Vec<TokenStream> = params
        .iter()
        .map(|Param { ident, ty, .. }| quote!(#ident: #ty))
        .collect();

    let docs: Vec<&Attribute> = item
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"))
        .collect();
    let others: Vec<&Attribute> = item
        .attrs
        .iter()
        .filter(|attr| !attr.path().is_ident("doc"))
        .collect();
    let cfgs: Vec<&Attribute> = item
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("cfg") || attr.path().is_ident("cfg_attr"))
        .collect();
    let with_doc = format!("Like [`{ident}`], with an explicit client.");
    let client = if names.iter().any(|name| *name == "client") {
        format_ident!("opper_client")
    } else {
        format_ident!("client")
    };

    let client_local = Ident::new("__client", Span::mixed_site());
    let input_local = Ident::new("__input", Span::mixed_site());
    let task_static = Ident::new("__TASK", Span::call_site());
    let policy_static = Ident::new("__POLICY", Span::call_site());

    // The input: the `#[input]` parameter, or a struct of the parameters.
    let input_struct_name = input_struct_name(ident, params);
    let (input_struct, input_ty, input_value, input_checks) = if function.whole_input {
        let param = &params[0];
        let ty = &param.ty;
        let name = &param.ident;
        let check = quote_spanned!(ty.span()=> #private::assert_input::<#ty>(););
        (
            TokenStream::new(),
            ty.to_token_stream(),
            quote!(&#name),
            check,
        )
    } else {
        let serde_crate = LitStr::new(
            &format!("{}::serde", path_string(&private)),
            Span::call_site(),
        );
        let schemars_crate = LitStr::new(
            &format!("{}::schemars", path_string(&private)),
            Span::call_site(),
        );
        let title = LitStr::new(
            &format!("{}Input", pascal(&ident.to_string())),
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
        let checks = params
            .iter()
            .map(|Param { ty, .. }| quote_spanned!(ty.span()=> #private::assert_input::<#ty>();));
        let struct_def = quote! {
            #[derive(#private::serde::Serialize, #private::schemars::JsonSchema)]
            #[serde(crate = #serde_crate)]
            #[schemars(crate = #schemars_crate, rename = #title)]
            struct #input_struct_name {
                #(#fields,)*
            }
        };
        let value = quote!(&#input_struct_name { #(#names: #names),* });
        (
            struct_def,
            input_struct_name.to_token_stream(),
            value,
            quote!(#(#checks)*),
        )
    };

    let out_ty = &output.ty;
    // The output schema and the examples go through these local functions, whose bounds are the
    // diagnostic traits: a type that does not fit gets `opper`'s message, on the user's type.
    let out_bound = match output.mode {
        Mode::Stream => quote!(#private::Streamable),
        _ => quote!(#private::Output),
    };
    let out_param = Ident::new("O", Span::mixed_site());
    let schema_fn = Ident::new("__opper_output_schema", Span::mixed_site());
    let example_fn = Ident::new("__opper_example", Span::mixed_site());
    let call_name = match output.mode {
        Mode::Call => quote!(call),
        Mode::Response => quote!(call_response),
        Mode::Stream => quote!(stream),
    };
    let local_fns = quote! {
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
            task.example_values(input, output, comment)
        }
    };

    // The task, built once.
    let name = LitStr::new(&function.task_name, Span::call_site());
    let mut task = quote!(#private::Task::new(#name));
    if let Some(instructions) = &function.instructions {
        task = quote!(#task.instructions(#instructions));
    }
    task = quote!(#task.input_schema(#private::schema_for::<#input_ty>()));
    if !output.text {
        let schema = quote_spanned!(out_ty.span()=> #schema_fn::<#out_ty>());
        task = quote!(#task.output_schema(#schema));
    }
    if let Some(model) = &args.model {
        let model = model_tokens(model, &private);
        task = quote!(#task.model(#model));
    }
    for (key, value) in &args.tags {
        task = quote!(#task.tag(#key, #value));
    }
    if !args.configuration.is_empty() {
        let settings = args
            .configuration
            .iter()
            .map(|(method, value)| quote!(.#method(#value)));
        task = quote!(#task.configuration(#private::Configuration::new() #(#settings)*));
    }
    let task_local = Ident::new("__task", Span::mixed_site());
    let output_local = Ident::new("__output", Span::mixed_site());
    let examples = args.examples.iter().map(|example| {
        let input = match &example.input {
            Some(ExampleInput::Fields(key, fields)) => {
                let path = Ident::new(&input_struct_name.to_string(), key.span());
                let fields = fields.iter().map(|(field, expr)| {
                    let value = quote_spanned!(expr.span()=> ::core::convert::Into::into(#expr));
                    quote!(#field: #value)
                });
                quote!(#path { #(#fields),* })
            }
            Some(ExampleInput::Whole(_, expr)) => expr.to_token_stream(),
            None => quote!(::core::unreachable!()),
        };
        let out = match &example.output {
            Some(expr) if output.text => {
                quote_spanned!(expr.span()=> ::core::convert::Into::into(#expr))
            }
            Some(expr) => expr.to_token_stream(),
            None => quote!(::core::unreachable!()),
        };
        let out_span = example
            .output
            .as_ref()
            .map_or_else(Span::call_site, Spanned::span);
        let add = quote_spanned!(out_span=> #example_fn::<_, #out_ty>);
        let comment = match &example.comment {
            Some(comment) => quote!(::core::option::Option::Some(#comment)),
            None => quote!(::core::option::Option::None),
        };
        quote! {
            let #task_local = {
                let #input_local: #input_ty = #input;
                let #output_local: #out_ty = #out;
                #add(#task_local, &#input_local, &#output_local, #comment)
            };
        }
    });

    let call = quote_spanned!(out_ty.span()=> #private::#call_name::<_, #out_ty>);
    // `validate = EXPR` goes through `validator::<Out, _, _>`, placed on EXPR: a wrong signature
    // is reported there, in the words of `ValidatorFn`.
    let validator = match &args.validate {
        Some(expr) => {
            let check = quote_spanned!(expr.span()=> #private::validator::<#out_ty, _, _>);
            quote!(::core::option::Option::Some(#check(#expr)))
        }
        None => quote!(::core::option::Option::None),
    };
    let reasks = match &args.reasks {
        Some(reasks) => quote!(::core::option::Option::Some(#reasks)),
        None => quote!(::core::option::Option::None),
    };

    quote! {
        #(#docs)*
        #(#others)*
        #vis async fn #ident(#(#decls),*) #ret {
            #helper(::core::option::Option::None, #(#names),*).await
        }

        #[doc = #with_doc]
        #(#others)*
        #[allow(dead_code)]
        #vis async fn #with_ident(#client: &#private::Opper, #(#decls),*) #ret {
            #helper(::core::option::Option::Some(#client), #(#names),*).await
        }

        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_snake_case, clippy::too_many_arguments, clippy::needless_question_mark)]
        async fn #helper(#client_local: ::core::option::Option<&#private::Opper>, #(#decls),*) #ret {
            #input_struct
            #input_checks
            #local_fns
            static #task_static: #private::TaskCell = #private::TaskCell::new(|| {
                let #task_local = #task;
                #(#examples)*
                #task_local
            });
            static #policy_static: #private::PolicyCell<#out_ty> =
                #private::PolicyCell::new(|| #private::Policy::new(#validator, #reasks));
            let #input_local = #input_value;
            ::core::result::Result::Ok(
                #call(#client_local, &#task_static, #input_local, &#policy_static).await?
            )
        }
    }
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
    let name = format!("{}Input", pascal(&ident.to_string()));
    let clash = params.iter().any(|param| {
        param
            .ty
            .to_token_stream()
            .into_iter()
            .any(|tt| tt.to_string() == name)
            || mentions(param.ty.to_token_stream(), &name)
    });
    if clash {
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

fn pascal(snake: &str) -> String {
    let snake = snake.strip_prefix("r#").unwrap_or(snake);
    snake
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// `::opper::__private` as a string for `#[serde(crate = "...")]`.
fn path_string(path: &TokenStream) -> String {
    path.to_string().replace(' ', "")
}
