// Drives the official TypeScript client (npm `opperai` 3.x) against a server; prints one JSON
// line per result for tests/official_client.rs to check.
import { Opper } from "opperai";

const opper = new Opper({ httpBearer: "official-key", serverURL: process.argv[2] + "/v2" });
const out = (kind, value) => console.log(JSON.stringify({ kind, value }));

const call = await opper.call({
  name: "add_numbers",
  instructions: "Calculate the sum of two numbers",
  inputSchema: {
    properties: { x: { title: "X", type: "integer" }, y: { title: "Y", type: "integer" } },
    required: ["x", "y"], title: "OpperInputExample", type: "object",
  },
  outputSchema: {
    properties: { sum: { title: "Sum", type: "integer" } },
    required: ["sum"], title: "OpperOutputExample", type: "object",
  },
  input: { x: 4, y: 5 },
  examples: [{ input: { x: 1, y: 3 }, output: { sum: 4 }, comment: "Adds two numbers" }],
  parentSpanId: "123e4567-e89b-12d3-a456-426614174000",
  tags: { project: "project_456", user: "company_123" },
});
out("call", { span_id: call.spanId, json_payload: call.jsonPayload, usage: call.usage });

const text = await opper.call({ name: "chat", input: "hello" });
out("text", { message: text.message });

const stream = await opper.stream({
  name: "people",
  outputSchema: { type: "object", required: ["names"], properties: { names: { type: "array", items: { type: "string" } } } },
  input: "x",
});
const events = [];
for await (const event of stream.result) {
  const d = event.data;
  events.push({ span_id: d.spanId, delta: d.delta, json_path: d.jsonPath, chunk_type: d.chunkType });
}
out("stream", events);

try {
  await opper.call({ name: "missing" });
  out("error", null);
} catch (error) {
  out("error", { class: error.constructor.name, message: error.message });
}

const stranger = new Opper({ httpBearer: "wrong-key", serverURL: process.argv[2] + "/v2" });
try {
  await stranger.call({ name: "chat", input: "hello" });
  out("unauthorized", null);
} catch (error) {
  out("unauthorized", { class: error.constructor.name, message: error.message });
}
