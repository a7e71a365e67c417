//! The body of a v3 request (`/v3/functions/{name}/call` and `/stream`).

use serde::Serialize;
use serde_json::value::RawValue;

use crate::api::Api;
use crate::error::Error;
use crate::error::Result;
use crate::protocol::json;
use crate::protocol::v3::segment;
use crate::task::Task;
use crate::task::model::Model;
use crate::task::schema::Schema;
use crate::trace::once::OncePerName;

/// A task name is a path segment of its own: `.` and `..`, which are kept as they are by the
/// percent-encoding, would be read as the URL's dot segments (`..` would send the call to
/// `/v3/call`), so they are refused ([`Error::InvalidTask`]) before any request.
fn one_segment(name: &str) -> Result<()> {
    if segment::is_dot(name) {
        return Err(Error::InvalidTask {
            task: name.to_owned(),
            reason: "its name would be read as a dot segment of the URL's path on Opper API v3; \
                     give the task another name"
                .into(),
        });
    }
    Ok(())
}

/// The body of `POST /v3/functions/{name}/call` and `/stream`: keys in the order the official
/// client 2.1.1 sends them. `input` is required by v3: `null` when the call has none. A task
/// with `examples` is refused ([`Error::Unsupported`]); `tags` and `configuration`, which v3
/// does not have, are not sent, and logged at `warn` once per task name.
pub(crate) fn encode(
    task: &Task,
    input: Option<&RawValue>,
    parent_span_id: Option<&str>,
) -> Result<Vec<u8>> {
    task.check()?;
    one_segment(&task.name)?;
    if !task.examples.is_empty() {
        return Err(Error::Unsupported {
            task: task.name.clone(),
            field: "examples",
            api: Api::V3,
        });
    }
    let dropped: Vec<&str> = [
        (!task.tags.is_empty()).then_some("tags"),
        (!task.configuration.is_empty()).then_some("configuration"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !dropped.is_empty() {
        warn_once(&task.name, &dropped);
    }
    let body = Body {
        input,
        input_schema: task.input_schema.as_ref().map(Schema::json),
        output_schema: task.output_schema.as_ref().map(Schema::json),
        instructions: task.instructions.as_deref(),
        model: task.model.as_ref(),
        parent_span_id,
    };
    json::write(&body, [body.input_schema, body.output_schema, input])
}

/// The request body, borrowed from the task and the call; fields in the wire order.
#[derive(Serialize)]
struct Body<'a> {
    input: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_schema: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_schema: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a Model>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_span_id: Option<&'a str>,
}

/// The task names the "not sent on v3" warning was logged for.
static WARNED: OncePerName = OncePerName::new();

/// Logs at `warn`, the first time for a task name, that its `fields` are not sent.
fn warn_once(task: &str, fields: &[&str]) {
    if WARNED.first(task) {
        tracing::warn!(
            task,
            fields = %fields.join(", "),
            "Opper API v3 has no such request fields; they are not sent"
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::task::configuration::Configuration;
    use crate::task::example::Example;

    use super::*;

    fn encoded(task: &Task, input: Option<&Value>, parent: Option<&str>) -> Result<String> {
        let input = input.map(|input| serde_json::value::to_raw_value(input).unwrap());
        encode(task, input.as_deref(), parent).map(|bytes| String::from_utf8(bytes).unwrap())
    }

    #[test]
    fn the_body_has_the_official_key_order_and_leaves_out_what_v3_lacks() {
        assert_eq!(
            encoded(&Task::new("t"), None, None).unwrap(),
            r#"{"input":null}"#
        );
        let task = Task::new("t")
            .instructions("i")
            .input_schema(json!({"type": "object"}))
            .output_schema(json!({"type": "string"}))
            .model(Model::new("m").option("temperature", 0.5))
            .tag("k", "v")
            .configuration(Configuration::new().cache_ttl(0));
        assert_eq!(
            encoded(&task, Some(&json!({"x": 1})), Some("p")).unwrap(),
            concat!(
                r#"{"input":{"x":1},"input_schema":{"type":"object"},"#,
                r#""output_schema":{"type":"string"},"instructions":"i","#,
                r#""model":{"name":"m","options":{"temperature":0.5}},"parent_span_id":"p"}"#
            )
        );
        let examples = Task::new("t").example(Example::new(json!(1), json!(2)));
        assert!(matches!(
            encoded(&examples, None, None),
            Err(Error::Unsupported {
                field: "examples",
                api: Api::V3,
                ..
            })
        ));
    }
}
