//! The expression that builds the task on the first call: name, instructions, schemas, model,
//! tags, configuration and examples.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::LitStr;
use syn::spanned::Spanned;

use super::example;
use super::input::{input_ty, param_names};
use super::names::Names;
use crate::function::spec::{ModelItem, ModelSpec, Task};

/// The expression that builds the task: name, instructions, schemas, model, tags,
/// configuration and examples. It runs once per instantiation, on the first call.
pub(super) fn build_task(task: &Task<'_>, names: &Names) -> TokenStream {
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
        example::example(task, names, example, built)
    })
}

/// A parameter's doc comment as `schemars` joins a field's; `""` without one.
fn doc(attrs: &[syn::Attribute]) -> TokenStream {
    crate::docs::joined(attrs).unwrap_or_else(|| quote!(""))
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
