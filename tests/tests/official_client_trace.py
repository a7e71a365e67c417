"""Drives the official Python client for Opper API v3 (opperai 2.1.1) through `opper.trace()`
against a server: nested traces with calls inside, and a trace whose block raises; prints one
JSON line per result for tests/official_client.rs to check."""
import json
import sys

from opperai import Opper

base = sys.argv[1]


def out(kind, value):
    print(json.dumps({"kind": kind, "value": value}), flush=True)


opper = Opper(api_key="official-key", base_url=base)

with opper.trace("outer", input="outer input", meta={"m": 1}, tags={"env": "test"}) as outer:
    opper.call("fn-a", input="a")
    with opper.trace("inner", input="inner input") as inner:
        opper.call("fn-b", input="b")
    # 2.1.1 loses the enclosing span here: this call goes out without a parent.
    opper.call("fn-c", input="c")
out("outer", {"id": outer.id, "trace_id": outer.trace_id})
out("inner", {"id": inner.id, "trace_id": inner.trace_id})

try:
    with opper.trace("failing"):
        raise ValueError("no trip: the city is closed")
except ValueError as error:
    out("raised", str(error))
