//! Support for the code `#[opper::function]` and `#[derive(opper::Partial)]` generate. Not a
//! public API: names here may change in any release.

pub use ::schemars;
pub use ::serde;
pub use ::serde_json;
pub use serde_json::Value;

pub use crate::agent::generated::*;
pub use crate::client::handle::Opper;
pub use crate::partial::derive::{
    atomic, first_key, flat_ready, flattened, has_value, no_field, split_key, variant, with_object,
};
pub use crate::partial::field::PartialField;
pub use crate::partial::{Cx, PartialForm, Seg};
pub use crate::reask::validate::ValidatorForm;
pub use crate::reask::validate::{Validator, ValidatorFn};
pub use crate::reask::{Policy, instructions as reask_instructions};
pub use crate::task::Task;
pub use crate::task::configuration::Configuration;
pub use crate::task::model::Model;
pub use crate::task::schema::schema_for;
pub use crate::tool::generated::*;
pub use crate::tool::{Tool, ToolFuture};

use std::any::TypeId;
use std::collections::BTreeMap;
use std::sync::{OnceLock, PoisonError, RwLock};

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::default::given_or_default;
use crate::error::Result;
use crate::partial::Partial;
use crate::response::Response;
use crate::stream::typed::Stream;
use crate::task::example::Example;
use crate::task::json::input;
use crate::tool::generated::param_schema;
use crate::tool::schema_generator;

/// The validator of `validate = |x| ...`, a closure whose parameter's type is not written: its
/// type comes from this bound, `Fn(&T)`. The macro places this call on the closure.
pub fn closure_validator<T, E: std::fmt::Display, F: ValidatorFn<T, E>>(f: F) -> Validator<T> {
    Validator::new(f)
}

/// Any other `validate = EXPR`, in one of the forms of [`ValidatorForm`]. The macro writes
/// `(&__private::Validate::<Output, _>::new(EXPR)).validator()`, spanned on `EXPR`: a method
/// call picks, of the two `validator` methods, [`ByRefValidator`]'s (on `Validate`) when `EXPR`
/// may take `&T`, and [`FormValidator`]'s (on `&Validate`, one auto-ref later) otherwise. So a
/// generic method (`garde::Validate::validate`) is a validator of `&T` even where `&[U]` or
/// `&str` could fit too, and a validator that fits no form gets [`ValidatorForm`]'s message.
pub struct Validate<T, F> {
    f: std::cell::Cell<Option<F>>,
    output: std::marker::PhantomData<fn(&T)>,
}

impl<T, F> std::fmt::Debug for Validate<T, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Validate")
    }
}

impl<T, F> Validate<T, F> {
    /// Holds `f` until a `validator` method takes it.
    pub fn new(f: F) -> Self {
        Validate {
            f: std::cell::Cell::new(Some(f)),
            output: std::marker::PhantomData,
        }
    }

    /// The validator in the form `make` makes; taken once (the macro calls one method once).
    fn take(&self, make: impl FnOnce(F) -> Validator<T>) -> Option<Validator<T>> {
        self.f.take().map(make)
    }
}

/// [`Validate`]'s first choice: a validator of `&T`.
pub trait ByRefValidator<T> {
    /// The validator, `None` when taken already.
    fn validator(&self) -> Option<Validator<T>>;
}

impl<T, E, F> ByRefValidator<T> for Validate<T, F>
where
    F: Fn(&T) -> std::result::Result<(), E> + Send + Sync + 'static,
    E: std::fmt::Display,
{
    fn validator(&self) -> Option<Validator<T>> {
        self.take(Validator::new)
    }
}

/// [`Validate`]'s second choice: any form of [`ValidatorForm`], or its error.
pub trait FormValidator<T, F> {
    /// The validator, `None` when taken already.
    fn validator<E, M>(&self) -> Option<Validator<T>>
    where
        F: ValidatorForm<T, E, M>;
}

impl<T, F> FormValidator<T, F> for &Validate<T, F> {
    fn validator<E, M>(&self) -> Option<Validator<T>>
    where
        F: ValidatorForm<T, E, M>,
    {
        self.take(ValidatorForm::into_validator)
    }
}

/// The task of one generated function, built on its first call: once per instantiation of the
/// function. A task in a generic `impl` (`impl<T: ...> Repo<T>`) is one function with one
/// `static` for every `T`, yet `Repo::<A>::get` and `Repo::<B>::get` have schemas of their own.
///
/// The key of an instantiation is the type of the closure that builds its task: a closure's type
/// carries every generic parameter of the function it is written in, the `impl`'s included,
/// which the attribute cannot see. [`typeid::of`] gives its id even when it is not `'static`
/// (an `impl<'a>`, a borrowed parameter); lifetimes are erased, and no schema depends on one.
#[derive(Debug)]
pub struct TaskCell {
    /// The instantiation that called first: the common case of one, without a lock.
    first: OnceLock<Slot>,
    /// The others. An entry is never removed and lives as long as the `static`, the cell.
    others: RwLock<BTreeMap<TypeId, &'static OnceLock<Task>>>,
}

#[derive(Debug)]
struct Slot {
    key: TypeId,
    task: OnceLock<Task>,
}

impl TaskCell {
    /// An empty cell, for a `static`.
    pub const fn new() -> Self {
        TaskCell {
            first: OnceLock::new(),
            others: RwLock::new(BTreeMap::new()),
        }
    }

    /// The task of the instantiation `build` is written in, built by `build` on its first call.
    pub fn get_or_init<F: FnOnce() -> Task>(&'static self, build: F) -> &'static Task {
        let key = typeid::of::<F>();
        let first = self.first.get_or_init(|| Slot {
            key,
            task: OnceLock::new(),
        });
        let cell = if first.key == key {
            &first.task
        } else {
            self.other(key)
        };
        cell.get_or_init(build)
    }

    /// The cell of an instantiation that did not call first. The lock is held to find or insert
    /// the cell, not while the task is built. A panic while it was held left the map whole.
    fn other(&'static self, key: TypeId) -> &'static OnceLock<Task> {
        let found = self
            .others
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
            .copied();
        if let Some(cell) = found {
            return cell;
        }
        let mut others = self.others.write().unwrap_or_else(PoisonError::into_inner);
        let cell: &'static OnceLock<Task> = others
            .entry(key)
            .or_insert_with(|| Box::leak(Box::default()));
        cell
    }
}

impl Default for TaskCell {
    fn default() -> Self {
        TaskCell::new()
    }
}

/// What the input needs of a parameter's type, from [`assert_input`], the one place that checks
/// it: its schema and its serialization, as plain function pointers, so that nothing else the
/// macro writes has a bound a wrong type could fail (each body would report it again).
pub struct Param<T: ?Sized> {
    schema: ParamSchema,
    value: fn(&T) -> serde_json::Result<Value>,
}

impl<T: ?Sized> Clone for Param<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: ?Sized> Copy for Param<T> {}

impl<T: ?Sized> std::fmt::Debug for Param<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Param")
    }
}

fn param_value<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Value> {
    crate::task::json::finite_value(value)
}

/// A parameter's value with what serializes it.
#[derive(Debug)]
pub struct Field<T> {
    /// The value.
    pub value: T,
    /// Its type's [`Param`].
    pub param: Param<T>,
}

/// The parameters' [`Field`]s, a tuple in their order: 1 to [`MAX_PARAMS`] of them.
pub trait Fields {
    /// How many.
    const LEN: usize;
    /// Serializes each, named by `names` in order.
    fn serialize_fields<S: serde::ser::SerializeStruct>(
        &self,
        names: &'static [&'static str],
        state: &mut S,
    ) -> std::result::Result<(), S::Error>;
}

/// The most parameters [`Fields`] takes; a function with more gets a derived input struct.
pub const MAX_PARAMS: usize = 16;

/// The `index`th name (`""` past the end, which the macro never reaches).
fn name(names: &'static [&'static str], index: usize) -> &'static str {
    names.get(index).copied().unwrap_or_default()
}

macro_rules! fields {
    ($len:literal: $($ty:ident $index:tt),+) => {
        impl<$($ty),+> Fields for ($(Field<$ty>,)+) {
            const LEN: usize = $len;

            fn serialize_fields<S: serde::ser::SerializeStruct>(
                &self,
                names: &'static [&'static str],
                state: &mut S,
            ) -> std::result::Result<(), S::Error> {
                use serde::ser::Error as _;
                $(
                    let field = &self.$index;
                    let value = (field.param.value)(&field.value).map_err(S::Error::custom)?;
                    state.serialize_field(name(names, $index), &value)?;
                )+
                Ok(())
            }
        }
    };
}

fields!(1: A 0);
fields!(2: A 0, B 1);
fields!(3: A 0, B 1, C 2);
fields!(4: A 0, B 1, C 2, D 3);
fields!(5: A 0, B 1, C 2, D 3, E 4);
fields!(6: A 0, B 1, C 2, D 3, E 4, F 5);
fields!(7: A 0, B 1, C 2, D 3, E 4, F 5, G 6);
fields!(8: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
fields!(9: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
fields!(10: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
fields!(11: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
fields!(12: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
fields!(13: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12);
fields!(14: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13);
fields!(15: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14);
fields!(16: A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11, M 12, N 13, O 14, P 15);

/// A generated function's input: its parameters, named. It serializes as the struct of those
/// fields would, derived (`{"x": 1, "y": 3}`); [`input_schema`] gives that struct's schema.
/// Without a struct and two derives in every body, a body costs little to compile; its auto
/// traits are its values', as the struct's were.
///
/// The macro writes it as a struct expression, not a call: a borrowed temporary among an
/// example's values then lives as long as the example.
pub struct Args<T> {
    /// The input's title: `AddNumbersInput`.
    pub title: &'static str,
    /// The parameters' names, in order.
    pub names: &'static [&'static str],
    /// Their [`Field`]s, in the same order.
    pub values: T,
}

impl<T> std::fmt::Debug for Args<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Args")
            .field("title", &self.title)
            .finish_non_exhaustive()
    }
}

impl<T: Fields> Serialize for Args<T> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut state = serializer.serialize_struct(self.title, T::LEN)?;
        self.values.serialize_fields(self.names, &mut state)?;
        state.end()
    }
}

/// A doc comment's title (its first line, when it starts with `#`) and description (the rest),
/// both trimmed: how `schemars` reads a field's doc comment.
fn title_and_description(doc: &str) -> (&str, &str) {
    fn trim(text: &str) -> &str {
        text.trim_matches(|c: char| c.is_ascii_whitespace())
    }
    let doc = trim(doc);
    match doc.strip_prefix('#') {
        Some(_) => {
            let (title, rest) = doc.split_once('\n').unwrap_or((doc, ""));
            (trim(title.trim_start_matches('#')), trim(rest))
        }
        None => ("", doc),
    }
}

/// The schema of a generated function's input: what `schema_for` gives for the struct of its
/// parameters, derived with `title` as its name: each property gets its doc comment's title
/// and description and is required unless it is an `Option`, as the derive writes them, with
/// `schemars`' public API only (`tests/tests/suite/function.rs` compares the two). `docs` are the
/// parameters' doc comments, joined as `schemars` joins a field's (`""` without one); `params`
/// their types' [`Param`] schemas.
pub fn input_schema(
    title: &'static str,
    names: &[&str],
    docs: &[&str],
    params: &[ParamSchema],
) -> Value {
    let mut generator = schema_generator();
    let mut schema = schemars::json_schema!({"type": "object"});
    for (index, (name, param)) in names.iter().zip(params).enumerate() {
        let (mut sub, optional) = param(&mut generator);
        let doc = docs.get(index).copied().unwrap_or_default();
        let (title, description) = title_and_description(doc);
        for (key, text) in [("title", title), ("description", description)] {
            if !text.is_empty() {
                sub.insert(key.into(), text.into());
            }
        }
        let object = schema.ensure_object();
        if let Some(properties) = object
            .entry("properties")
            .or_insert_with(|| Value::Object(serde_json::Map::new()))
            .as_object_mut()
        {
            properties.insert((*name).to_owned(), sub.into());
        }
        if !optional
            && let Some(required) = object
                .entry("required")
                .or_insert_with(|| Value::Array(Vec::new()))
                .as_array_mut()
        {
            required.push((*name).into());
        }
    }
    schema
        .ensure_object()
        .entry("title")
        .or_insert_with(|| title.into());
    let definitions = generator.take_definitions(false);
    if !definitions.is_empty() {
        schema
            .ensure_object()
            .insert("$defs".into(), Value::Object(definitions));
    }
    for transform in generator.transforms_mut() {
        transform.transform(&mut schema);
    }
    schema.to_value()
}

impl<T: ?Sized> Param<T> {
    /// The schema half, for [`input_schema`].
    pub fn schema(self) -> ParamSchema {
        self.schema
    }
}

/// Adds an example from typed values; a value that cannot be serialized makes every call of
/// the task fail with [`Error::Input`](crate::Error::Input). The macro places this call on the
/// example's output: an output type that cannot be sent gets [`ExampleOutput`]'s message.
pub fn example<I: Serialize, O: ExampleOutput>(
    task: Task,
    input: &I,
    output: &O,
    comment: Option<&str>,
) -> Task {
    let example = Example::from_values(input, output).map(|example| match comment {
        Some(comment) => example.comment(comment),
        None => example,
    });
    task.try_example(example)
}

/// A call (`POST /v2/call`, or v3's `/v3/functions/{name}/call`): the output, deserialized (text mode when the task has no output schema and
/// `O` is `String`).
pub async fn call<I: Serialize + ?Sized, O: DeserializeOwned>(
    client_: Option<&Opper>,
    task: &Task,
    input_: &I,
    policy: &Policy<O>,
) -> Result<O> {
    call_response(client_, task, input_, policy)
        .await
        .map(Response::into_output)
}

/// A call (`POST /v2/call`, or v3's `/v3/functions/{name}/call`): the output with the call's
/// metadata.
pub async fn call_response<I: Serialize + ?Sized, O: DeserializeOwned>(
    client_: Option<&Opper>,
    task: &Task,
    input_: &I,
    policy: &Policy<O>,
) -> Result<Response<O>> {
    let input_ = input(input_)?;
    let client_ = given_or_default(client_)?;
    crate::call::attempts::execute(&client_, task, Some(&input_), None, policy).await
}

/// A stream (`POST /v2/call/stream`, or v3's `/v3/functions/{name}/stream`): typed updates,
/// then the output.
pub async fn stream<I: Serialize + ?Sized, O: Partial + DeserializeOwned + 'static>(
    client_: Option<&Opper>,
    task: &Task,
    input_: &I,
    policy: &Policy<O>,
) -> Result<Stream<O>> {
    let input_ = input(input_)?;
    let client_ = given_or_default(client_)?;
    let task = std::borrow::Cow::Borrowed(task);
    crate::call::open_stream(&client_, task, Some(input_), None, policy.clone()).await
}

/// Compile-time check: `T` can be the output of a task.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the output of an #[opper::function]",
    label = "needs `serde::Deserialize` and `schemars::JsonSchema`",
    note = "add `#[derive(serde::Deserialize, schemars::JsonSchema)]` to `{Self}`"
)]
pub trait Output: DeserializeOwned + JsonSchema {}
impl<T: DeserializeOwned + JsonSchema> Output for T {}

/// Compile-time check: `T` can be a parameter (or the whole input) of a task.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an input of an #[opper::function]",
    label = "needs `serde::Serialize` and `schemars::JsonSchema`",
    note = "add `#[derive(serde::Serialize, schemars::JsonSchema)]` to `{Self}`"
)]
pub trait Input: Serialize + JsonSchema {}
impl<T: Serialize + JsonSchema + ?Sized> Input for T {}

/// Compile-time check: `T` can be streamed.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be streamed: it does not implement `opper::Partial`",
    label = "streamed outputs need `opper::Partial`",
    note = "add `#[derive(opper::Partial)]` to `{Self}`; a unit enum is streamed as a field of a struct"
)]
pub trait Streamable: Partial + Output {}
impl<T: Partial + Output> Streamable for T {}

/// Compile-time check: an example's output can be sent.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is used in an `example(...)` but does not implement `serde::Serialize`",
    label = "examples are sent as JSON",
    note = "add `#[derive(serde::Serialize)]` to `{Self}`"
)]
pub trait ExampleOutput: Serialize {}
impl<T: Serialize> ExampleOutput for T {}

/// Asserts `T: Input` where the macro places it, so the error points at the user's type; what
/// the input needs of `T` then comes from here.
pub fn assert_input<T: Input + ?Sized>() -> Param<T> {
    Param {
        schema: param_schema::<T>,
        value: param_value::<T>,
    }
}

/// Asserts `T: Output` where the macro places it: before the call, whose own bounds would
/// otherwise be reported first, in the compiler's words.
pub const fn assert_output<T: Output>() {}

/// [`assert_output`] for a streamed output.
pub const fn assert_streamable<T: Streamable>() {}

/// The client of an `&self` task method: what `self` gives through `AsRef<Opper>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not provide the `opper::Opper` client its `&self` task methods call with",
    label = "`&self` task methods take their client from `self` through `AsRef<opper::Opper>`",
    note = "implement it, e.g. `impl AsRef<opper::Opper> for {Self} {{ fn as_ref(&self) -> &opper::Opper {{ &self.opper }} }}`"
)]
pub trait ClientSource {
    /// The client.
    fn opper_client(&self) -> &Opper;
}
impl<T: AsRef<Opper> + ?Sized> ClientSource for T {
    fn opper_client(&self) -> &Opper {
        self.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::{Task, TaskCell};

    static CELL: TaskCell = TaskCell::new();
    static BUILDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    /// One function, one `static`, as in a generic `impl`: each `T` gets the task its own
    /// closure builds, once.
    fn task<T>() -> &'static Task {
        CELL.get_or_init(|| {
            BUILDS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Task::new(std::any::type_name::<T>())
        })
    }

    #[test]
    fn each_instantiation_has_its_own_task_built_once() {
        let names: Vec<&str> = [task::<u8>(), task::<String>(), task::<&str>()]
            .iter()
            .map(|task| task.get_name())
            .collect();
        assert_eq!(names, ["u8", "alloc::string::String", "&str"]);
        for _ in 0..3 {
            assert!(std::ptr::eq(task::<u8>(), task::<u8>()));
            assert!(std::ptr::eq(task::<String>(), task::<String>()));
            assert_eq!(task::<&str>().get_name(), "&str");
        }
        assert_eq!(BUILDS.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    static RACED: TaskCell = TaskCell::new();
    static RACED_BUILDS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

    fn raced<T>() -> &'static Task {
        RACED.get_or_init(|| {
            RACED_BUILDS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::thread::yield_now();
            Task::new(std::any::type_name::<T>())
        })
    }

    #[test]
    fn threads_that_race_build_each_instantiation_once() {
        let barrier = std::sync::Barrier::new(8);
        std::thread::scope(|scope| {
            for thread in 0..8 {
                let barrier = &barrier;
                scope.spawn(move || {
                    barrier.wait();
                    for _ in 0..10 {
                        let (task, name) = match thread % 4 {
                            0 => (raced::<u8>(), "u8"),
                            1 => (raced::<u16>(), "u16"),
                            2 => (raced::<u32>(), "u32"),
                            _ => (raced::<u64>(), "u64"),
                        };
                        assert_eq!(task.get_name(), name);
                    }
                });
            }
        });
        assert_eq!(RACED_BUILDS.load(std::sync::atomic::Ordering::SeqCst), 4);
    }
}
