//! What the code `#[opper::tool]` generates calls (through `__private`): a parameter's schema
//! and its value read from the arguments, the return value's form, and the tool put together.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::tool::output::ToolOutput;
pub use crate::tool::output::{Fallible, Plain};
use crate::tool::{Tool, ToolFuture, bad_arguments};

/// A parameter type's subschema and whether the property is optional, given the generator.
pub type ParamSchema = fn(&mut schemars::SchemaGenerator) -> (schemars::Schema, bool);

/// The subschema of a property of type `T` and whether it is optional, as the `JsonSchema`
/// derive writes them for a field.
pub(crate) fn param_schema<T: JsonSchema + ?Sized>(
    generator: &mut schemars::SchemaGenerator,
) -> (schemars::Schema, bool) {
    let optional = generator.contract().is_deserialize() && T::_schemars_private_is_option();
    (generator.subschema_for::<T>(), optional)
}

/// A tool's arguments, by parameter name.
pub type ToolArgs = Map<String, Value>;

/// Compile-time check: `T` can be a parameter of a tool (a borrowed parameter, `&str`, `&[T]`
/// or `&T`, is read as `String`, `Vec<T>` or `T`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a parameter of an #[opper::tool]",
    label = "needs `serde::Deserialize` and `schemars::JsonSchema`",
    note = "add `#[derive(serde::Deserialize, schemars::JsonSchema)]` to `{Self}`"
)]
pub trait ToolParameter: DeserializeOwned + JsonSchema {}
impl<T: DeserializeOwned + JsonSchema> ToolParameter for T {}

/// What a tool needs of a parameter's type, from [`tool_param`], the one place that checks it.
pub struct ToolParam<T> {
    schema: ParamSchema,
    read: fn(&mut ToolArgs, &str) -> Result<T, String>,
}

impl<T> Clone for ToolParam<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ToolParam<T> {}

impl<T> std::fmt::Debug for ToolParam<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ToolParam")
    }
}

/// Asserts `T: ToolParameter` where the macro places it, so the error points at the user's type.
pub fn tool_param<T: ToolParameter>() -> ToolParam<T> {
    ToolParam {
        schema: param_schema::<T>,
        read: read::<T>,
    }
}

/// The argument `name`, taken out of `args` (a missing one reads as `null`: an `Option` is
/// `None`).
fn read<T: DeserializeOwned>(args: &mut ToolArgs, name: &str) -> Result<T, String> {
    match args.remove(name) {
        Some(value) => serde_json::from_value(value)
            .map_err(|error| bad_arguments(&format_args!("parameter `{name}`: {error}"))),
        None => serde_json::from_value(Value::Null)
            .map_err(|_| bad_arguments(&format_args!("missing field `{name}`"))),
    }
}

impl<T> ToolParam<T> {
    /// The schema half, for `input_schema`.
    pub fn schema(self) -> ParamSchema {
        self.schema
    }

    /// The argument `name`, or the message the model reads.
    pub fn read(self, args: &mut ToolArgs, name: &str) -> Result<T, String> {
        (self.read)(args, name)
    }
}

/// Asserts that `R` can be returned by a tool in the form `M` (`Fallible` for a `Result`, as
/// the macro reads the return type), where the macro places it, on the return type; gives what
/// turns a return value into the output's JSON text or the error's message, so that nothing
/// else the macro writes has the bound (it would be reported again).
pub fn assert_tool_output<M, R: ToolOutput<M>>() -> fn(R) -> Result<String, String> {
    R::into_output
}

/// A call that fails before the tool runs.
pub fn tool_failed(message: String) -> ToolFuture {
    Box::pin(std::future::ready(Err(message)))
}

/// The tool: `call` runs on the arguments' object. `parameters` lose their `title` (the
/// official client sends `{"type", "properties", "required"}` for a function's parameters).
pub fn tool<F>(name: &str, description: &str, mut parameters: Option<Value>, call: F) -> Tool
where
    F: Fn(ToolArgs) -> ToolFuture + Send + Sync + 'static,
{
    if let Some(Value::Object(schema)) = &mut parameters {
        schema.remove("title");
    }
    let call = move |arguments: Value| match arguments {
        Value::Object(arguments) => call(arguments),
        _ => tool_failed(bad_arguments(&"expected a JSON object")),
    };
    Tool::from_parts(
        name.to_owned(),
        description.to_owned(),
        parameters,
        Box::new(call),
    )
}
