"""Drives the official Python agent (opperai 2.1.1 `Agent`) against a server: two tools and a
structured output (traced: it sends its spans), then a text answer (untraced). Prints one JSON line per result for
tests/official_client.rs to check."""
import asyncio
import json
import sys

from pydantic import BaseModel

from opperai import Agent, tool

base = sys.argv[1]
client = {"api_key": "official-key", "base_url": base}


def out(kind, value):
    print(json.dumps({"kind": kind, "value": value}), flush=True)


@tool
def get_weather(city: str) -> dict:
    """Current weather in a city."""
    return {"city": city, "temperature_c": 21, "conditions": "sunny"}


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


class Report(BaseModel):
    summary: str


async def main():
    planner = Agent(
        name="planner",
        instructions="Plan the day.",
        tools=[get_weather, add],
        model="openai/gpt-4o-mini",
        output_schema=Report,
        client=client,
    )
    result = await planner.run("Weather in Paris, and 2+3?")
    out(
        "structured",
        {
            "type": type(result.output).__name__,
            "summary": result.output.summary,
            "iterations": result.meta.iterations,
            "tool_calls": [
                {"name": c.name, "call_id": c.call_id, "error": c.error}
                for c in result.meta.tool_calls
            ],
        },
    )
    texter = Agent(name="texter", instructions="Say hello.", tracing=False, client=client)
    result = await texter.run("hi")
    out("text", {"output": result.output})


asyncio.run(main())
