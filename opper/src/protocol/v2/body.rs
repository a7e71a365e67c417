//! The body of a v2 request (`/v2/call` and `/v2/call/stream`).

use serde::Serialize;
use serde_json::value::RawValue;

use crate::error::Result;
use crate::protocol::json;
use crate::task::Task;
use crate::task::configuration::Configuration;
use crate::task::example::Example;
use crate::task::json::Pairs;
use crate::task::model::Model;
use crate::task::schema::Schema;

/// The body of `POST /v2/call` and `/v2/call/stream`: keys in the order the official
/// clients send them, unset fields omitted. Schemas are copied in as the JSON they were
/// serialized to when set.
pub(crate) fn encode(
    task: &Task,
    input: Option<&RawValue>,
    parent_span_id: Option<&str>,
) -> Result<Vec<u8>> {
    task.check()?;
    let body = Body {
        name: &task.name,
        instructions: task.instructions.as_deref(),
        input_schema: task.input_schema.as_ref().map(Schema::json),
        output_schema: task.output_schema.as_ref().map(Schema::json),
        input,
        model: task.model.as_ref(),
        examples: (!task.examples.is_empty()).then_some(&task.examples),
        parent_span_id,
        tags: (!task.tags.is_empty()).then_some(Pairs(&task.tags)),
        configuration: (!task.configuration.is_empty()).then_some(&task.configuration),
    };
    json::write(&body, [body.input_schema, body.output_schema, input])
}

/// The request body, borrowed from the task and the call; fields in the wire order.
#[derive(Serialize)]
struct Body<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    instructions: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input_schema: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_schema: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    input: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a Model>,
    #[serde(skip_serializing_if = "Option::is_none")]
    examples: Option<&'a Vec<Example>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_span_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tags: Option<Pairs<'a, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    configuration: Option<&'a Configuration>,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn encoded(task: &Task, input: Option<&Value>, parent: Option<&str>) -> String {
        let input = input.map(|input| serde_json::value::to_raw_value(input).unwrap());
        String::from_utf8(encode(task, input.as_deref(), parent).unwrap()).unwrap()
    }

    #[test]
    fn the_body_has_the_official_key_order_and_omits_what_is_unset() {
        assert_eq!(encoded(&Task::new("t"), None, None), r#"{"name":"t"}"#);
        let task = Task::new("t")
            .instructions("i")
            .input_schema(json!({"type": "object"}))
            .output_schema(json!({"type": "string"}))
            .model("m")
            .example(Example::new(json!(1), json!(2)))
            .tag("k", "v")
            .configuration(Configuration::new().cache_ttl(0));
        assert_eq!(
            encoded(&task, Some(&json!({"x": 1})), Some("p\"1")),
            concat!(
                r#"{"name":"t","instructions":"i","input_schema":{"type":"object"},"#,
                r#""output_schema":{"type":"string"},"input":{"x":1},"model":"m","#,
                r#""examples":[{"input":1,"output":2}],"parent_span_id":"p\"1","#,
                r#""tags":{"k":"v"},"configuration":{"invocation.cache.ttl":0}}"#
            )
        );
        assert_eq!(
            encoded(&Task::new("t").tag("k", "v"), None, Some("p")),
            r#"{"name":"t","parent_span_id":"p","tags":{"k":"v"}}"#
        );
    }

    #[test]
    fn the_body_follows_every_change() {
        let task = Task::new("t")
            .model("a")
            .output_schema(json!({"type": "string"}));
        assert_eq!(
            encoded(&task, None, None),
            r#"{"name":"t","output_schema":{"type":"string"},"model":"a"}"#
        );
        let changed = task
            .clone()
            .model("b")
            .tag("k", "v")
            .output_schema(json!({"type": "integer"}));
        assert_eq!(
            encoded(&changed, None, None),
            r#"{"name":"t","output_schema":{"type":"integer"},"model":"b","tags":{"k":"v"}}"#
        );
        assert_eq!(
            encoded(&task, None, None),
            r#"{"name":"t","output_schema":{"type":"string"},"model":"a"}"#
        );
        assert_eq!(
            task,
            Task::new("t")
                .model("a")
                .output_schema(json!({"type": "string"}))
        );
    }
}
