// Validates the wire contract from outside C++, with ajv (JSON Schema draft 2020-12).
//
//   node tests/js/validate_schemas.mjs [DIR]
//
// 1. Compiles every subjects/schemas/<type>.schema.json (a schema that does not compile fails).
// 2. Checks that every schema has an example subjects/examples/<type>.json and vice versa,
//    and validates each example against its schema (selected by the example's "type").
// 3. If DIR is given (ctest `schemas_validate` passes the codec_dump output), validates every
//    DIR/*.json against the STRICT form of its schema: what our encoders must write, i.e.
//    decimals as strings, timestamps and counts as integers, "v" present, "type" first and "v" second.
// 4. Checks that known-bad documents are rejected, so a schema cannot pass everything by accident.
//
// Exits 0 only if everything holds; prints one line per failure.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

let Ajv2020, addFormats;
try {
  Ajv2020 = (await import("ajv/dist/2020.js")).default;
  addFormats = (await import("ajv-formats")).default;
} catch (e) {
  console.error(`validate_schemas: cannot load ajv (${e.message}); run \`npm ci\` in tests/js`);
  process.exit(1);
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const schemaDir = join(root, "subjects", "schemas");
const exampleDir = join(root, "subjects", "examples");
const extraDir = process.argv[2];

let failures = 0;
let checks = 0;
function fail(what) {
  console.error(`FAIL ${what}`);
  failures++;
}
function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    fail(`${path}: not valid JSON: ${e.message}`);
    return undefined;
  }
}
function newAjv() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  return ajv;
}
const explain = (errors) =>
  (errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}${e.params ? " " + JSON.stringify(e.params) : ""}`).join("; ");

// Producers write exactly one form of each value; readers accept a second one too.
const kDecimalPattern = "^[+-]?[0-9]+(\\.[0-9]{1,8})?$";
const kStrictDefs = {
  decimal: { type: "string", pattern: kDecimalPattern },
  positive_decimal: { type: "string", pattern: "^\\+?(?=[0-9.]*[1-9])[0-9]+(\\.[0-9]{1,8})?$" },
  price: { type: "string", pattern: "^\\+?(?=[0-9.]*[1-9])[0-9]{1,11}(\\.[0-9]{1,8})?$" },
  size: { type: "string", pattern: "^\\+?[0-9]{1,11}(\\.[0-9]{1,8})?$" },
  timestamp: { type: "integer", minimum: 0, maximum: 4102444800000000000 },
  count: { type: "integer", minimum: 0 },
  positive_count: { type: "integer", minimum: 1 },
};
function strictForm(schema) {
  const s = structuredClone(schema);
  s.$id = `${schema.$id}:strict`;
  for (const [name, def] of Object.entries(kStrictDefs)) {
    if (s.$defs?.[name]) s.$defs[name] = def;
  }
  if (!s.required.includes("v")) s.required = [...s.required, "v"];
  return s;
}

// ---- 1. compile ----------------------------------------------------------------------------
const ajv = newAjv();
const ajvStrict = newAjv();
const validators = new Map();  // type -> { input, strict }
for (const file of readdirSync(schemaDir).filter((f) => f.endsWith(".json")).sort()) {
  const path = join(schemaDir, file);
  if (!file.endsWith(".schema.json")) {
    fail(`${file}: schema files are named <type>.schema.json`);
    continue;
  }
  const type = file.slice(0, -".schema.json".length);
  const schema = readJson(path);
  if (!schema) continue;
  checks++;
  if (schema.$schema !== "https://json-schema.org/draft/2020-12/schema") fail(`${file}: $schema must be draft 2020-12`);
  if (schema.properties?.type?.const !== type) fail(`${file}: properties.type.const must be "${type}"`);
  if (!schema.required?.includes("type")) fail(`${file}: "type" must be required`);
  try {
    validators.set(type, { input: ajv.compile(schema), strict: ajvStrict.compile(strictForm(schema)) });
  } catch (e) {
    fail(`${file}: does not compile: ${e.message}`);
  }
}
if (validators.size === 0) fail(`no schemas found in ${schemaDir}`);

// ---- 2. examples ----------------------------------------------------------------------------
const exampleTypes = new Set();
for (const file of readdirSync(exampleDir).filter((f) => f.endsWith(".json")).sort()) {
  const type = file.slice(0, -".json".length);
  exampleTypes.add(type);
  const doc = readJson(join(exampleDir, file));
  if (doc === undefined) continue;
  checks++;
  if (doc.type !== type) fail(`examples/${file}: "type" is ${JSON.stringify(doc.type)}, expected "${type}" (file name)`);
  const v = validators.get(doc.type);
  if (!v) {
    fail(`examples/${file}: no schema for type ${JSON.stringify(doc.type)}`);
    continue;
  }
  if (!v.input(doc)) fail(`examples/${file}: ${explain(v.input.errors)}`);
}
for (const type of validators.keys()) {
  if (!exampleTypes.has(type)) fail(`schemas/${type}.schema.json has no example examples/${type}.json`);
}

// ---- 3. encoder output ----------------------------------------------------------------------
if (extraDir !== undefined) {
  if (!existsSync(extraDir)) {
    fail(`${extraDir}: no such directory`);
  } else {
    const files = readdirSync(extraDir).filter((f) => f.endsWith(".json")).sort();
    if (files.length === 0) fail(`${extraDir}: no .json documents to validate`);
    const typesSeen = new Set();
    for (const file of files) {
      const doc = readJson(join(extraDir, file));
      if (doc === undefined) continue;
      checks++;
      typesSeen.add(doc.type);
      const v = validators.get(doc.type);
      if (!v) {
        fail(`${file}: no schema for type ${JSON.stringify(doc.type)}`);
        continue;
      }
      const keys = Object.keys(doc);
      if (keys[0] !== "type" || keys[1] !== "v") fail(`${file}: keys must start with "type", "v"; got ${keys.slice(0, 2)}`);
      if (!v.strict(doc)) fail(`${file}: ${explain(v.strict.errors)}`);
    }
    // Every type with an encoder appears (halt/resume are input shorthands only).
    for (const type of validators.keys()) {
      if (type !== "halt" && type !== "resume" && !typesSeen.has(type)) fail(`${extraDir}: no encoder output of type "${type}"`);
    }
  }
}

// ---- 4. the schemas refuse what they should -----------------------------------------------------
const mustReject = [
  ["order.submit", { type: "order.submit", client_order_id: "m1", symbol: "EURUSD", side: "buy", order_type: "limit", quantity: "1" }, "limit without limit_price"],
  ["order.submit", { type: "order.submit", client_order_id: "m1", symbol: "EURUSD", side: "buy", order_type: "market", quantity: "1", limit_price: "2" }, "market with limit_price"],
  ["order.submit", { type: "order.submit", client_order_id: "m1", symbol: "EURUSD", side: "buy", order_type: "market", quantity: "-5" }, "negative quantity"],
  ["order.submit", { type: "order.submit", client_order_id: "m1", symbol: "EURUSD", side: "buy", order_type: "market", quantity: "0" }, "zero quantity"],
  ["order.submit", { type: "order.submit", client_order_id: "m1", symbol: "EURUSD", side: "hold", order_type: "market", quantity: "1" }, "bad side"],
  ["order.submit", { type: "order.submit", client_order_id: "", symbol: "EURUSD", side: "buy", order_type: "market", quantity: "1" }, "empty client_order_id"],
  ["order.submit", { type: "order.submit", client_order_id: "m1", symbol: "EUR/USD", side: "buy", order_type: "market", quantity: "1" }, "bad symbol"],
  ["order.submit", { type: "order.submit", client_order_id: "m1", symbol: "EURUSD", side: "buy", order_type: "stop", quantity: "1" }, "stop without stop_price"],
  ["order.submit", { type: "order.submit", client_order_id: "m1", symbol: "EURUSD", side: "buy", order_type: "stop_limit", quantity: "1", stop_price: "1" }, "stop_limit without limit_price"],
  ["order.submit", { type: "order.submit", client_order_id: "m1", symbol: "EURUSD", side: "buy", order_type: "market", quantity: "1", stop_price: "1" }, "market with stop_price"],
  ["order.submit", { type: "order.submit", client_order_id: "m1", symbol: "EURUSD", side: "buy", order_type: "market", quantity: "1", time_in_force: "gtd" }, "gtd without expire_time"],
  ["order.submit", { type: "order.submit", client_order_id: "m1", symbol: "EURUSD", side: "buy", order_type: "market", quantity: "1", expire_time: 5 }, "expire_time without gtd"],
  ["order.replace", { type: "order.replace", client_order_id: "m2", quantity: "1" }, "replace without orig_client_order_id"],
  ["order.replace", { type: "order.replace", client_order_id: "m2", orig_client_order_id: "m1", quantity: "0" }, "replace to zero quantity"],
  ["quote", { type: "quote", symbol: "EURUSD", bid: "1e3", ask: "1", ts_event: 1 }, "exponent in a decimal string"],
  ["quote", { type: "quote", symbol: "EURUSD", bid: "1.123456789", ask: "1", ts_event: 1 }, "9 fractional digits"],
  ["quote", { type: "quote", v: 2, symbol: "EURUSD", bid: "1", ask: "1", ts_event: 1 }, "v 2"],
  ["quote", { type: "quote", symbol: "EURUSD", bid: "1", ask: "1" }, "missing ts_event"],
  ["quote", { type: "trade", symbol: "EURUSD", bid: "1", ask: "1", ts_event: 1 }, "wrong type"],
  ["quote", { type: "quote", symbol: "EURUSD", bid: "1", ask: "1", ts_event: 1, bid_size: null }, "null for an optional field"],
  // issue 11: hostile values are refused by the contract, not only by our decoders
  ["quote", { type: "quote", symbol: "EURUSD", bid: "-5", ask: "-4", ts_event: 1 }, "a negative price"],
  ["quote", { type: "quote", symbol: "EURUSD", bid: "0", ask: "1", ts_event: 1 }, "a zero price"],
  ["quote", { type: "quote", symbol: "EURUSD", bid: "900000000000", ask: "900000000001", ts_event: 1 }, "a price beyond the wire range"],
  ["quote", { type: "quote", symbol: "EURUSD", bid: "1", ask: "2", bid_size: "-1", ts_event: 1 }, "a negative size"],
  ["quote", { type: "quote", symbol: "EURUSD", bid: "1", ask: "2", ts_event: 9223372036854775807 }, "a time after 2100"],
  ["order.cancel", { type: "order.cancel", client_order_id: "x".repeat(65) }, "a 65-character client_order_id"],
  ["order.cancel", { type: "order.cancel", client_order_id: "a\u0000b" }, "a NUL inside client_order_id"],
  ["order.cancel", { type: "order.cancel", client_order_id: "my order" }, "a space inside client_order_id"],
  ["trading_state.set", { type: "trading_state.set", trading_state: "halted", reason: "a\nb" }, "a control character in a reason"],
  ["execution_report", { type: "execution_report", client_order_id: "m1", exec_id: "m1-1", exec_type: "fill", order_status: "filled", symbol: "", side: "buy", order_type: "market", quantity: "1", last_qty: "1", last_px: "1", cum_qty: "1", leaves_qty: "0", avg_px: "1", ts_event: 1 }, "an empty symbol on a fill"],
  // risk policies: null only where a limit can be off, known keys only, values > 0
  ["risk.policy.set", { type: "risk.policy.set", reason: "x" }, "neither defaults nor per_symbol"],
  ["risk.policy.set", { type: "risk.policy.set", defaults: { max_postion: "1" } }, "a typo in a limit name"],
  ["risk.policy.set", { type: "risk.policy.set", defaults: { max_order_qty: null } }, "max_order_qty switched off"],
  ["risk.policy.set", { type: "risk.policy.set", defaults: { rate_window_ns: null } }, "no rate window"],
  ["risk.policy.set", { type: "risk.policy.set", defaults: { max_position: "0" } }, "a zero limit"],
  ["risk.policy.set", { type: "risk.policy.set", defaults: { daily_loss_limit: -5 } }, "a negative limit"],
  ["risk.policy.set", { type: "risk.policy.set", defaults: { max_open_orders: -1 } }, "a negative count"],
  ["risk.policy.set", { type: "risk.policy.set", defaults: { rate_window_ns: 1000, rate_window_ms: 1 } }, "both window units"],
  ["risk.policy.set", { type: "risk.policy.set", defaults: { rate_window_ms: 0 } }, "an empty window"],
  ["risk.policy.set", { type: "risk.policy.set", per_symbol: { "EUR/USD": {} } }, "a symbol that is not a subject token"],
  ["risk.policy.set", { type: "risk.policy.set", per_symbol: { IBM: { max_drawdown: "1" } } }, "an account-wide limit per symbol"],
  ["risk.policy.set", { type: "risk.policy.set", per_symbol: { IBM: 5 } }, "a per-symbol entry that is not an object"],
  ["risk.policy.set", { type: "risk.policy.set", defaults: { drawdown_action: "active" } }, "a drawdown action that is not reducing or halted"],
  ["risk.policy.set", { type: "risk.policy.set", per_symbol: { IBM: { drawdown_action: "halted" } } }, "a drawdown action per symbol"],
  ["risk.policy", { type: "risk.policy", defaults: { max_order_qty: "1" }, per_symbol: {}, ts_event: 1 }, "a policy event without every limit"],
  ["risk.policy", { type: "risk.policy", defaults: { max_order_qty: "1", max_order_notional: "1", max_position: null, max_gross_exposure: null, max_open_orders: 0, price_band_bps: null, max_orders_per_window: 0, rate_window_ns: 1, daily_loss_limit: null, max_drawdown: null }, per_symbol: { IBM: null }, ts_event: 1 }, "a null per-symbol entry in a policy event"],
  ["risk.policy", { type: "risk.policy", defaults: { max_order_qty: "1", max_order_notional: "1", max_position: null, max_gross_exposure: null, max_open_orders: 0, price_band_bps: null, max_orders_per_window: 0, rate_window_ns: 1, daily_loss_limit: null, max_drawdown: null, drawdown_action: null }, per_symbol: {}, ts_event: 1 }, "a null drawdown action in a policy event"],
  ["instrument_status", { type: "instrument_status", symbol: "IBM", status: "paused" }, "an unknown status"],
  ["instrument_status", { type: "instrument_status", status: "halted" }, "no symbol"],
  // sessions (issue 4)
  ["session.started", { type: "session.started", session_id: "s1", kind: "paper", started_by: "ops", version: "1", ts_wall: 1 }, "an unknown kind"],
  ["session.started", { type: "session.started", session_id: "my session", kind: "live", started_by: "ops", version: "1", ts_wall: 1 }, "a session id with a space"],
  ["session.started", { type: "session.started", session_id: "x".repeat(129), kind: "live", started_by: "ops", version: "1", ts_wall: 1 }, "a session id longer than 128"],
  ["session.started", { type: "session.started", session_id: "s1", kind: "replay", source_session_id: "", started_by: "ops", version: "1", ts_wall: 1 }, "an empty source_session_id"],
  ["session.started", { type: "session.started", session_id: "s1", kind: "live", started_by: "ops", version: "1" }, "no ts_wall"],
  ["session.started", { type: "session.started", session_id: "s1", kind: "live", started_by: "", version: "1", ts_wall: 1 }, "an empty started_by"],
  ["session.started", { type: "session.started", session_id: "s1", kind: "live", started_by: "ops", version: "1", ts_wall: 1, ts_event: 1 }, "a ts_event (session times are ts_wall)"],
  ["session.ended", { type: "session.ended", session_id: "s1" }, "no ts_wall"],
  ["session.ended", { type: "session.ended", session_id: "s/1", ts_wall: 1 }, "a bad session id"],
  ["worker.started", { type: "worker.started", worker: "feed", instance: "h:1", version: "1", ts_wall: 1, config: { random_seed: 42 }, config_hash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" }, "a config value that is not a string"],
  ["worker.started", { type: "worker.started", worker: "feed", instance: "h:1", version: "1", ts_wall: 1, config: {}, config_hash: "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855" }, "an uppercase config_hash"],
  ["worker.started", { type: "worker.started", worker: "feed", instance: "h:1", version: "1", ts_wall: 1, config: {} }, "no config_hash"],
  ["worker.started", { type: "worker.started", worker: "feed", instance: "h:1", version: "1", ts_wall: 1, config_hash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" }, "no config"],
  ["worker.started", { type: "worker.started", worker: "feed", instance: "h:1", version: "1", ts_wall: 1, config: {}, config_hash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", args: ["a", 3] }, "an argument that is not a string"],
  ["worker.started", { type: "worker.started", worker: "feed", instance: "h:1", version: "1", ts_wall: 1, config: {}, config_hash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", data_sha256: "" }, "an empty data_sha256"],
  ["worker.started", { type: "worker.started", worker: "risk state", instance: "h:1", version: "1", ts_wall: 1, config: {}, config_hash: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" }, "a worker name that is not a subject token"],
];
for (const [type, doc, what] of mustReject) {
  checks++;
  const v = validators.get(type);
  if (v && v.input(doc)) fail(`schemas/${type}.schema.json accepts a document it must refuse: ${what}`);
}
const mustRejectStrict = [
  ["quote", { type: "quote", v: 1, symbol: "EURUSD", bid: 1.5, ask: "1", ts_event: 1 }, "a decimal written as a number"],
  ["quote", { type: "quote", v: 1, symbol: "EURUSD", bid: "1", ask: "1", ts_event: "1" }, "a timestamp written as a string"],
  ["quote", { type: "quote", symbol: "EURUSD", bid: "1", ask: "1", ts_event: 1 }, "no v"],
  ["session.ended", { type: "session.ended", v: 1, session_id: "s1", ts_wall: "1" }, "a ts_wall written as a string"],
  ["risk.policy", { type: "risk.policy", v: 1, defaults: { max_order_qty: "1", max_order_notional: "1", max_position: null, max_gross_exposure: null, max_open_orders: 0, price_band_bps: null, max_orders_per_window: 0, rate_window_ns: "1", daily_loss_limit: null, max_drawdown: null }, per_symbol: {}, ts_event: 1 }, "a window written as a string"],
];
for (const [type, doc, what] of mustRejectStrict) {
  checks++;
  const v = validators.get(type);
  if (v && v.strict(doc)) fail(`strict form of ${type} accepts encoder output it must refuse: ${what}`);
  if (v && !v.input(doc)) fail(`input form of ${type} refuses a document readers accept: ${what}`);
}

if (failures > 0) {
  console.error(`validate_schemas: ${failures} failure(s) in ${checks} checks`);
  process.exit(1);
}
console.log(`validate_schemas: ${validators.size} schemas, ${exampleTypes.size} examples` +
            `${extraDir !== undefined ? `, encoder output in ${extraDir}` : ""}: all ${checks} checks passed`);
