// Checks the running Ops API (ops' HTTP server) against docs/openapi.json, from outside
// C++: every call the document describes is made, its status is one the document lists,
// and its body validates (ajv, JSON Schema 2020-12) against the schema the document gives
// for that status; the bus messages' schemas come from subjects/schemas.
//
//   OPS_URL=http://127.0.0.1:PORT OPS_USER=operator OPS_PASSWORD=... \
//   SERVICE_USER=execution SERVICE_PASSWORD=... node tests/js/openapi_check.mjs
//
// Exits 0 and prints "all checks passed" only if every check holds.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const Ajv2020 = (await import("ajv/dist/2020.js")).default;
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const doc = JSON.parse(readFileSync(join(root, "docs", "openapi.json"), "utf8"));
const ajv = new Ajv2020({ strict: false, allErrors: true });
for (const f of readdirSync(join(root, "subjects", "schemas")))
  ajv.addSchema(JSON.parse(readFileSync(join(root, "subjects", "schemas", f), "utf8")));

const base = process.env.OPS_URL;
const user = process.env.OPS_USER;
const password = process.env.OPS_PASSWORD;
let failures = 0;
const fail = (what) => { console.error(`FAIL ${what}`); failures++; };
const covered = new Set();

/// A "#/..." pointer into the document.
const pointer = (ref) => ref.slice(2).split("/").reduce((o, k) => o[k.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
const deref = (x) => (x && x.$ref && x.$ref.startsWith("#/") ? deref(pointer(x.$ref)) : x);

/// The JSON schema the document gives for `method path` answering `status` (null: none).
function schemaFor(method, path, status) {
  const op = doc.paths[path]?.[method.toLowerCase()];
  if (!op) return undefined;
  const resp = deref(op.responses[String(status)]);
  if (!resp) return undefined;
  const content = resp.content?.["application/json"];
  if (!content) return null;
  return deref(content.schema);
}

const auth = (u, p) => ({ Authorization: "Basic " + Buffer.from(`${u}:${p}`).toString("base64") });

/// Calls `method path`, checks the status is `expect` and documented (under `docPath`, the
/// document's template, when the path has parameters), validates the body.
async function call(what, method, path, { headers = {}, body, expect, check, docPath = path } = {}) {
  const res = await fetch(base + path, { method, headers: { ...headers, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) }, body });
  const text = await res.text();
  if (res.status !== expect) return fail(`${what}: ${method} ${path} answered ${res.status}, expected ${expect}: ${text}`);
  const schema = schemaFor(method, docPath, res.status);
  if (schema === undefined) return fail(`${what}: ${method} ${docPath} ${res.status} is not in docs/openapi.json`);
  covered.add(`${method} ${docPath} ${res.status}`);
  if (schema === null) return;  // not JSON (metrics)
  let json;
  try { json = JSON.parse(text); } catch { return fail(`${what}: body is not JSON: ${text}`); }
  const validate = schema.$ref ? ajv.getSchema(schema.$ref) : ajv.compile(schema);
  if (!validate) return fail(`${what}: no schema ${schema.$ref}`);
  if (!validate(json)) return fail(`${what}: body does not match the document: ${ajv.errorsText(validate.errors)}: ${text}`);
  if (res.status === 401 && !res.headers.get("www-authenticate")) fail(`${what}: 401 without WWW-Authenticate`);
  if (check) { const why = check(json); if (why) fail(`${what}: ${why}`); }
}

const me = auth(user, password);
await call("no credentials", "GET", "/status", { expect: 401 });
await call("a wrong password", "GET", "/status", { headers: auth(user, password + "x"), expect: 401 });
await call("garbage credentials", "GET", "/status", { headers: { Authorization: "Basic !!!" }, expect: 401 });
await call("a service's identity", "GET", "/status", { headers: auth(process.env.SERVICE_USER, process.env.SERVICE_PASSWORD), expect: 403,
  check: (j) => (j.field === "user" ? "" : `field ${j.field}`) });
await call("status", "GET", "/status", { headers: me, expect: 200, check: (j) => (j.workers.length >= 6 ? "" : "fewer than 6 workers") });
await call("report", "GET", "/report", { headers: me, expect: 200 });
await call("halt", "POST", "/halt", { headers: me, body: JSON.stringify({ reason: "openapi check" }), expect: 200,
  check: (j) => (j.trading_state === "halted" && j.sender === user && j.reason === "openapi check" ? "" : JSON.stringify(j)) });
await call("reduce", "POST", "/reduce", { headers: me, body: "{}", expect: 200, check: (j) => (j.trading_state === "reducing" ? "" : j.trading_state) });
await call("a reason that is not a string", "POST", "/resume", { headers: me, body: '{"reason":5}', expect: 400,
  check: (j) => (j.field === "reason" ? "" : `field ${j.field}`) });
await call("an unknown field", "POST", "/resume", { headers: me, body: '{"nope":1}', expect: 400, check: (j) => (j.field === "nope" ? "" : `field ${j.field}`) });
await call("not JSON", "POST", "/halt", { headers: me, body: "halt now", expect: 400, check: (j) => (j.field === "body" ? "" : `field ${j.field}`) });
await call("trailing garbage", "POST", "/halt", { headers: me, body: '{"reason":"x"} y', expect: 400, check: (j) => (j.field === "body" ? "" : `field ${j.field}`) });
await call("a reason too long", "POST", "/halt", { headers: me, body: JSON.stringify({ reason: "x".repeat(1001) }), expect: 400,
  check: (j) => (j.field === "reason" ? "" : `field ${j.field}`) });
await call("resume, empty body", "POST", "/resume", { headers: me, body: "", expect: 200, check: (j) => (j.trading_state === "active" ? "" : j.trading_state) });
// The policy: risk-state records its own at start (the recorder may take a moment).
for (let i = 0; i < 300; i++) {
  const r = await fetch(base + "/risk/policy", { headers: me });
  if (r.status === 200) break;
  await new Promise((ok) => setTimeout(ok, 100));
}
await call("the policy in force", "GET", "/risk/policy", { headers: me, expect: 200 });
await call("a policy change", "PUT", "/risk/policy", { headers: me, body: JSON.stringify({ defaults: { max_open_orders: 50 }, reason: "openapi policy" }), expect: 200,
  check: (j) => (j.defaults.max_open_orders === 50 && j.sender === user && j.source === "manual" ? "" : JSON.stringify(j)) });
await call("a policy risk-state refuses", "PUT", "/risk/policy", { headers: me, body: '{"defaults":{"max_order_qty":"-5"}}', expect: 422,
  check: (j) => (j.field === "defaults.max_order_qty" ? "" : `field ${j.field}`) });
await call("a policy field that is not one", "PUT", "/risk/policy", { headers: me, body: '{"type":"risk.policy.set"}', expect: 400,
  check: (j) => (j.field === "type" ? "" : `field ${j.field}`) });
await call("a policy without credentials", "PUT", "/risk/policy", { body: "{}", expect: 401 });
let sessionId = "";
await call("sessions", "GET", "/sessions", { headers: me, expect: 200, check: (j) => {
  if (j.sessions.length < 1) return "no session";
  sessionId = j.sessions[j.sessions.length - 1].session_id;
  return "";
} });
await call("a session", "GET", `/sessions/${sessionId}`, { headers: me, expect: 200, docPath: "/sessions/{id}",
  check: (j) => (j.session_id === sessionId && j.events_by_type["session.started"] === 1 ? "" : JSON.stringify(j)) });
await call("an unknown session", "GET", "/sessions/no-such-session", { headers: me, expect: 404, docPath: "/sessions/{id}",
  check: (j) => (j.field === "id" ? "" : `field ${j.field}`) });
// GET /report above made the reporter publish one; the recorder stores it within moments.
for (let i = 0; i < 300; i++) {
  const r = await fetch(`${base}/sessions/${sessionId}/report`, { headers: me });
  if (r.status === 200) break;
  await new Promise((ok) => setTimeout(ok, 100));
}
await call("a session's report", "GET", `/sessions/${sessionId}/report`, { headers: me, expect: 200, docPath: "/sessions/{id}/report" });
// A browser on another site's page, holding the person's credentials: refused (CSRF).
await call("a halt from another site's page", "POST", "/halt", { headers: { ...me, Origin: "http://evil.example" }, body: "{}", expect: 403,
  check: (j) => (j.field === "Origin" ? "" : `field ${j.field}`) });
await call("the dashboard without credentials", "GET", "/dashboard", { expect: 401 });
await call("the dashboard", "GET", "/dashboard", { headers: me, expect: 200 });
await call("the dashboard's feed without credentials", "GET", "/dashboard/events", { expect: 401 });
{
  // The feed never ends: its status, type and first event, then it is closed.
  const ac = new AbortController();
  const res = await fetch(base + "/dashboard/events", { headers: me, signal: ac.signal });
  const type = res.headers.get("content-type") ?? "";
  if (res.status !== 200 || !type.startsWith("text/event-stream")) fail(`the dashboard's feed: ${res.status} ${type}`);
  else {
    const reader = res.body.getReader();
    let text = "";
    while (!text.includes("\n\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    if (!text.includes("event: snapshot")) fail(`the dashboard's feed: no snapshot first: ${text.slice(0, 200)}`);
    else covered.add("GET /dashboard/events 200");
  }
  ac.abort();
}
await call("live", "GET", "/health/live", { expect: 200 });
await call("ready", "GET", "/health/ready", { expect: 200 });
await call("metrics", "GET", "/metrics", { expect: 200 });

// Every operation of the document was answered with its 200 at least once.
for (const [path, ops] of Object.entries(doc.paths))
  for (const method of Object.keys(ops))
    if (!covered.has(`${method.toUpperCase()} ${path} 200`)) fail(`${method.toUpperCase()} ${path}: never answered 200 here`);

if (failures) { console.error(`${failures} checks failed`); process.exit(1); }
console.log("all checks passed");
