//! Any parameter name and any item in scope work: the generated code's names are not shadowed
//! by the user's parameters, nor turned into the user's unit structs and constants.
#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals, dead_code)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, JsonSchema, opper::Partial)]
pub struct Out {
    text: String,
}

fn not_empty(out: &Out) -> Result<(), &'static str> {
    if out.text.is_empty() { Err("empty") } else { Ok(()) }
}

/// Parameters named like the generated code's names, and both names of a client.
mod params {
    use super::{Out, not_empty};

    /// The names of the old expansion's locals, its task cell and its helper functions.
    #[opper::function(
        validate = not_empty,
        example(
            input(__policy = 1, __TASK = 2, __opper_example = 3, __opper_output_schema = 4, __input = 5, __task = 6, __output = 7),
            output = Out { text: "x".into() },
            comment = "names",
        ),
    )]
    pub async fn generated(
        __policy: i64,
        __TASK: i64,
        __opper_example: i64,
        __opper_output_schema: i64,
        __input: i64,
        __task: i64,
        __output: i64,
    ) -> opper::Result<Out>;

    /// Both names the `_with` twin's client took.
    #[opper::function(example(input(client = "a", opper_client = "b"), output = Out { text: "x".into() }))]
    pub async fn clients(client: &str, opper_client: &str) -> opper::Result<opper::Response<Out>>;

    /// Streamed, with the names of the old example helper's parameters.
    #[opper::function(example(
        input(task = 1, input = 2, output = 3, comment = 4),
        output = Out { text: "x".into() },
    ))]
    pub async fn streamed(task: i64, input: i64, output: i64, comment: i64) -> opper::Result<opper::Stream<Out>>;

    /// The whole input, named `input`.
    #[opper::function(example(input = Out { text: "x".into() }, output = "y"))]
    pub async fn whole(#[input] input: &Out) -> opper::Result<String>;

    pub struct Service(pub opper::Opper);

    impl AsRef<opper::Opper> for Service {
        fn as_ref(&self) -> &opper::Opper {
            &self.0
        }
    }

    impl Service {
        /// A method.
        #[opper::function(
            validate = not_empty,
            example(input(task = "t", output = 1, __policy = 2, __TASK = 3, client = 4), output = Out { text: "x".into() }),
        )]
        pub async fn method(&self, task: &str, output: i64, __policy: i64, __TASK: i64, client: i64) -> opper::Result<Out>;

        /// An associated function with both client names, one of them `Self`.
        #[opper::function]
        pub async fn associated(client: &str, opper_client: &Self) -> opper::Result<opper::Stream<Out>>;
    }

    impl serde::Serialize for Service {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            serializer.serialize_unit()
        }
    }

    impl schemars::JsonSchema for Service {
        fn schema_name() -> std::borrow::Cow<'static, str> {
            "Service".into()
        }
        fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
            schemars::json_schema!({ "type": "null" })
        }
    }
}

/// Items named like the names the generated code binds or declares, in the module of tasks
/// that use examples, validators and streams.
mod items {
    use schemars::JsonSchema;
    use serde::{Deserialize, Serialize};

    use super::{Out, not_empty};

    struct task;
    struct input;
    const output: i32 = 0;
    struct comment;
    static __TASK: i32 = 0;
    const __policy: i32 = 0;
    struct __input;
    const __task: i32 = 0;
    struct __output;
    struct opper_client;
    static __opper_example: i32 = 0;
    const __opper_output_schema: i32 = 0;
    struct TaskCell;
    struct Policy;
    struct Task;
    const example: i32 = 0;

    /// Types named like the type parameters of the old helpers and of the input struct.
    #[derive(Debug, Serialize, Deserialize, JsonSchema, opper::Partial)]
    pub struct O {
        pub text: String,
    }
    #[derive(Debug, Serialize, Deserialize, JsonSchema)]
    pub struct I {
        pub n: u32,
    }
    #[derive(Debug, Serialize, JsonSchema)]
    pub struct __T0 {
        pub n: u32,
    }
    #[derive(Debug, Serialize, JsonSchema)]
    pub struct __T1 {
        pub n: u32,
    }

    fn o_not_empty(o: &O) -> Result<(), &'static str> {
        if o.text.is_empty() { Err("empty") } else { Ok(()) }
    }

    /// Examples, a validator, an output named `O` and an input field of type `I`.
    #[opper::function(
        validate = o_not_empty,
        example(input(text = "a", i = I { n: 1 }), output = O { text: "x".into() }, comment = "one"),
        example(input(text = "b", i = I { n: 2 }), output = O { text: "y".into() }),
    )]
    pub async fn checked(text: &str, i: I) -> opper::Result<O>;

    /// Streamed, with an example.
    #[opper::function(example(input(text = "a"), output = Out { text: "x".into() }, comment = "c"))]
    pub async fn streamed(text: String) -> opper::Result<opper::Stream<Out>>;

    /// Text, with an example and a validator.
    #[opper::function(
        validate = |text: &String| if text.is_empty() { Err("empty") } else { Ok(()) },
        example(input(text = "a"), output = "b", comment = "short"),
    )]
    pub async fn text(text: &str) -> opper::Result<String>;

    /// The user's types named like the input struct's type parameters, beside a borrowed
    /// parameter (which makes its field a type parameter).
    #[opper::function(example(
        input(a = "a", b = __T0 { n: 1 }, c = __T1 { n: 2 }),
        output = O { text: "x".into() },
    ))]
    pub async fn type_params(a: &str, b: __T0, c: __T1) -> opper::Result<O>;

    /// The whole input, of type `I`.
    #[opper::function(example(input = I { n: 1 }, output = O { text: "x".into() }))]
    pub async fn whole(#[input] value: I) -> opper::Result<opper::Response<O>>;

    pub struct Service(pub opper::Opper);

    impl AsRef<opper::Opper> for Service {
        fn as_ref(&self) -> &opper::Opper {
            &self.0
        }
    }

    impl Service {
        /// A method with an example and a validator.
        #[opper::function(validate = not_empty, example(input(text = "t"), output = Out { text: "x".into() }))]
        pub async fn method(&self, text: &str) -> opper::Result<Out>;

        /// A streamed method.
        #[opper::function(example(input(text = "t"), output = O { text: "x".into() }))]
        pub async fn live(&self, text: &str) -> opper::Result<opper::Stream<O>>;
    }
}

async fn calls(client: &opper::Opper) -> opper::Result<()> {
    let _: Out = params::generated(1, 2, 3, 4, 5, 6, 7).await?;
    let _: Out = params::generated_with(client, 1, 2, 3, 4, 5, 6, 7).await?;
    let _: opper::Response<Out> = params::clients_with(client, "a", "b").await?;
    let _: opper::Stream<Out> = params::streamed_with(client, 1, 2, 3, 4).await?;
    let _: String = params::whole_with(client, &Out { text: "x".into() }).await?;
    let service = params::Service(client.clone());
    let _: Out = service.method("t", 1, 2, 3, 4).await?;
    let _: opper::Stream<Out> = params::Service::associated_with(client, "c", &service).await?;

    let _: items::O = items::checked_with(client, "a", items::I { n: 1 }).await?;
    let _: opper::Stream<Out> = items::streamed_with(client, "a".into()).await?;
    let _: String = items::text_with(client, "a").await?;
    let _: items::O =
        items::type_params_with(client, "a", items::__T0 { n: 1 }, items::__T1 { n: 2 }).await?;
    let _: opper::Response<items::O> = items::whole_with(client, items::I { n: 1 }).await?;
    let service = items::Service(client.clone());
    let _: Out = service.method("t").await?;
    let _: opper::Stream<items::O> = service.live("t").await?;
    Ok(())
}

fn main() {
    let _ = calls;
}
