"""Drives the official Python client (opperai 1.7.2) against a server; prints one JSON line per
result for tests/official_client.rs to check."""
import json
import sys

from opperai import Opper

base = sys.argv[1]


def out(kind, value):
    print(json.dumps({"kind": kind, "value": value}), flush=True)


with Opper(http_bearer="official-key", server_url=base + "/v2") as opper:
    res = opper.call(
        name="add_numbers",
        instructions="Calculate the sum of two numbers",
        input_schema={
            "properties": {"x": {"title": "X", "type": "integer"}, "y": {"title": "Y", "type": "integer"}},
            "required": ["x", "y"], "title": "OpperInputExample", "type": "object",
        },
        output_schema={
            "properties": {"sum": {"title": "Sum", "type": "integer"}},
            "required": ["sum"], "title": "OpperOutputExample", "type": "object",
        },
        input={"x": 4, "y": 5},
        examples=[{"input": {"x": 1, "y": 3}, "output": {"sum": 4}, "comment": "Adds two numbers"}],
        parent_span_id="123e4567-e89b-12d3-a456-426614174000",
        tags={"project": "project_456", "user": "company_123"},
    )
    out("call", {"span_id": res.span_id, "json_payload": res.json_payload, "usage": res.usage})

    res = opper.call(name="chat", input="hello")
    out("text", {"message": res.message})

    res = opper.stream(name="people", output_schema={
        "type": "object", "required": ["names"],
        "properties": {"names": {"type": "array", "items": {"type": "string"}}},
    }, input="x")
    with res.result as events:
        out("stream", [event.data.model_dump(mode="json", exclude_unset=True) for event in events])

    try:
        opper.call(name="missing")
        out("error", None)
    except Exception as error:  # the client's typed error for the 404
        out("error", {"class": type(error).__name__, "message": str(error)})

with Opper(http_bearer="wrong-key", server_url=base + "/v2") as stranger:
    try:
        stranger.call(name="chat", input="hello")
        out("unauthorized", None)
    except Exception as error:  # the client's typed error for the 401
        out("unauthorized", {"class": type(error).__name__, "message": str(error)})
