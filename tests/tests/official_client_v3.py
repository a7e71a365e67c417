"""Drives the official Python client for Opper API v3 (opperai 2.1.1) against a server; prints one
JSON line per result for tests/official_client.rs to check."""
import json
import sys

from pydantic import BaseModel

from opperai import Opper
from opperai.types import CompleteChunk, ContentChunk, DoneChunk

base = sys.argv[1]


def out(kind, value):
    print(json.dumps({"kind": kind, "value": value}), flush=True)


class In(BaseModel):
    x: int
    y: int


class Out(BaseModel):
    sum: int


class People(BaseModel):
    names: list[str]


opper = Opper(api_key="official-key", base_url=base)

res = opper.call(
    "add_numbers",
    input=In(x=4, y=5),
    input_schema=In,
    output_schema=Out,
    instructions="Calculate the sum of two numbers",
    model="openai/gpt-4o-mini",
    parent_span_id="123e4567-e89b-12d3-a456-426614174000",
)
out("call", {"type": type(res.data).__name__, "sum": res.data.sum, "meta": res.meta})

res = opper.call("my/chat", input="hello")
out("text", {"data": res.data})

chunks = []
for chunk in opper.stream("people", input="x", output_schema=People):
    if isinstance(chunk, ContentChunk):
        chunks.append({"type": "content", "delta": chunk.delta})
    elif isinstance(chunk, DoneChunk):
        usage = chunk.usage
        chunks.append({"type": "done", "output_tokens": usage.output_tokens if usage else None})
    elif isinstance(chunk, CompleteChunk):
        chunks.append({"type": "complete", "data": chunk.data, "meta": chunk.meta})
    else:
        chunks.append({"type": type(chunk).__name__})
out("stream", chunks)
# The complete chunk's data, typed by the caller as the docs show.
out("typed_stream", People.model_validate(chunks[-1]["data"]).names)

try:
    opper.call("missing", input=1)
    out("error", None)
except Exception as error:  # the client's typed error for the 404
    out("error", {"class": type(error).__name__, "code": (error.error or {}).get("code")})

stranger = Opper(api_key="wrong-key", base_url=base)
try:
    stranger.call("my/chat", input="hello")
    out("unauthorized", None)
except Exception as error:  # the client's typed error for the 401
    out("unauthorized", {"class": type(error).__name__, "code": (error.error or {}).get("code")})
