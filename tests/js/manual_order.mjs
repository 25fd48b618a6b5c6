// Stands for a person at a terminal with the `nats` CLI: every payload below is
// hand-written JSON text, exactly what they would type after `nats pub` / `nats req`.
// The person is an operator (NATS_URL, the DESK account, as the operator credentials
// file sets it); market data comes from the feed's identity (FEED_NATS_URL), the only
// one besides replay that may publish it.
// Exits 0 and prints "all checks passed" only if every check holds.
import { connect, StringCodec } from "nats";

const sc = StringCodec();
// nats.js takes the user and password as options, not inside the URL (the `nats` CLI
// takes them from NATS_URL as it is).
const options = (url) => {
  const u = new URL(url);
  return { servers: `${u.hostname}:${u.port}`, user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) };
};
const nc = await connect(options(process.env.NATS_URL ?? "nats://127.0.0.1:4222"));
const feedConn = await connect(options(process.env.FEED_NATS_URL ?? process.env.NATS_URL));
const execs = [];
const rawExecs = []; // raw text: int64 nanosecond times do not fit a JS number
const deadLetters = [];
nc.subscribe("trading.executions", {
  callback: (_e, m) => {
    rawExecs.push(sc.decode(m.data));
    execs.push(JSON.parse(sc.decode(m.data)));
  },
});
nc.subscribe("ops.dead_letter", { callback: (_e, m) => deadLetters.push(JSON.parse(sc.decode(m.data))) });
await nc.flush();

let failures = 0;
function check(cond, what) {
  console.log(`${cond ? "ok  " : "FAIL"} ${what}`);
  if (!cond) failures++;
}
const pub = (subject, text) => nc.publish(subject, sc.encode(text));
// Market data from the feed; flushed, so that it reaches every worker before what the
// person sends next on the other connection.
const feed = async (subject, text) => {
  feedConn.publish(subject, sc.encode(text));
  await feedConn.flush();
};
const req = async (subject, text) => JSON.parse(sc.decode((await nc.request(subject, sc.encode(text), { timeout: 3000 })).data));
async function reportsFor(id, n) {
  for (let i = 0; i < 100; i++) {
    const got = execs.filter((e) => e.client_order_id === id);
    if (got.length >= n) return got;
    await new Promise((r) => setTimeout(r, 50));
  }
  return execs.filter((e) => e.client_order_id === id);
}

// A market to trade against: nats pub market.data.EURUSD '...'
await feed("market.data.EURUSD", '{"type":"quote","symbol":"EURUSD","bid":"1.38742","ask":"1.38755","ts_event":1399334400158000000}');
await nc.flush();

// 1. nats pub trading.orders — a market buy typed with a plain number quantity
pub("trading.orders", '{"type":"order.submit","client_order_id":"manual-1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":1000}');
let r = await reportsFor("manual-1", 2);
check(r.length === 2, "market order: two execution reports");
check(r[0]?.exec_type === "new" && r[0]?.order_status === "new", "market order: first report is new");
check(r[1]?.exec_type === "fill" && r[1]?.order_status === "filled", "market order: then filled");
check(r[1]?.last_px === "1.38755" && r[1]?.last_qty === "1000", "market buy fills at the ask, full quantity");
check(r[1]?.cum_qty === "1000" && r[1]?.leaves_qty === "0" && r[1]?.avg_px === "1.38755", "cum_qty, leaves_qty, avg_px");
check(rawExecs.filter((t) => t.includes('"client_order_id":"manual-1"')).every((t) => t.includes('"ts_event":1399334400158000000')),
  "an order typed without ts_event lives at the market's time (the last quote's ts_event), not the wall clock");

// 2. a resting limit order, then cancel it
pub("trading.orders", '{"type":"order.submit","client_order_id":"manual-2","symbol":"EURUSD","side":"buy","order_type":"limit","quantity":"500","limit_price":"1.38000","time_in_force":"gtc"}');
r = await reportsFor("manual-2", 1);
check(r[0]?.exec_type === "new" && r[0]?.leaves_qty === "500", "limit below the market rests (new, leaves 500)");
pub("trading.orders", '{"type":"order.cancel","client_order_id":"manual-2"}');
r = await reportsFor("manual-2", 2);
check(r[1]?.exec_type === "canceled" && r[1]?.order_status === "canceled" && r[1]?.leaves_qty === "0", "cancel: canceled, leaves 0");

// 3. the limit becomes marketable when the market moves down to it
pub("trading.orders", '{"type":"order.submit","client_order_id":"manual-3","symbol":"EURUSD","side":"buy","order_type":"limit","quantity":"200","limit_price":"1.38700","time_in_force":"day"}');
await reportsFor("manual-3", 1);
await feed("market.data.EURUSD", '{"type":"quote","symbol":"EURUSD","bid":"1.38690","ask":"1.38699","ts_event":1399334460000000000}');
r = await reportsFor("manual-3", 2);
check(r[1]?.exec_type === "fill" && r[1]?.last_px === "1.38699", "resting limit fills at the new ask when it crosses");

// 4. malformed input: nats req gets an error naming the field; a dead letter is published
const bad = await req("trading.orders", '{"type":"order.submit","client_order_id":"manual-bad","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"abc"}');
check(bad.type === "dead_letter" && bad.field === "quantity", `bad quantity answered with field "quantity" (${bad.error})`);
pub("trading.orders", "this is not json");
await nc.flush();
await new Promise((res) => setTimeout(res, 300));
check(deadLetters.some((d) => d.worker === "risk-state" && d.payload === "this is not json"), "non-JSON goes to ops.dead_letter");
check(!execs.some((e) => e.client_order_id === "manual-bad"), "the malformed order never reached the broker");

// 5. over the quantity limit: denied with the reason
pub("trading.orders", '{"type":"order.submit","client_order_id":"manual-4","symbol":"EURUSD","side":"sell","order_type":"market","quantity":"250000"}');
r = await reportsFor("manual-4", 1);
check(r[0]?.exec_type === "denied" && /max_order_qty/.test(r[0]?.text ?? ""), `too large: denied (${r[0]?.text})`);

// 6. halt, an order is denied, resume, an order fills
const halted = await req("risk.management", '{"type":"trading_state.set","trading_state":"halted","reason":"desk halt"}');
check(halted.type === "risk.state" && halted.trading_state === "halted", "halt acknowledged with risk.state halted");
check(halted.sender === "operator", `the halt records who made it, as the server stamped it (${halted.sender})`);
pub("trading.orders", '{"type":"order.submit","client_order_id":"manual-5","symbol":"EURUSD","side":"sell","order_type":"market","quantity":100}');
r = await reportsFor("manual-5", 1);
check(r[0]?.exec_type === "denied" && /halted/.test(r[0]?.text ?? ""), `while halted: denied (${r[0]?.text})`);
const resumed = await req("risk.management", '{"type":"resume"}');
check(resumed.trading_state === "active", "resume acknowledged");
pub("trading.orders", '{"type":"order.submit","client_order_id":"manual-6","symbol":"EURUSD","side":"sell","order_type":"market","quantity":100}');
r = await reportsFor("manual-6", 2);
check(r[1]?.exec_type === "fill" && r[1]?.last_px === "1.3869", `after resume: a sell fills at the bid (${JSON.stringify(r[1])})`);

// 7. a sell stop waits until the bid falls to the stop, then sells at the bid
pub("trading.orders", '{"type":"order.submit","client_order_id":"manual-stop","symbol":"EURUSD","side":"sell","order_type":"stop","quantity":100,"stop_price":"1.38650","time_in_force":"gtc"}');
r = await reportsFor("manual-stop", 1);
check(r[0]?.exec_type === "new" && r[0]?.stop_price === "1.3865" && r[0]?.order_type === "stop", `stop order accepted and waiting (${JSON.stringify(r[0])})`);
await feed("market.data.EURUSD", '{"type":"quote","symbol":"EURUSD","bid":"1.38660","ask":"1.38670","ts_event":1399334520000000000}');
await feed("market.data.EURUSD", '{"type":"quote","symbol":"EURUSD","bid":"1.38640","ask":"1.38650","ts_event":1399334580000000000}');
r = await reportsFor("manual-stop", 2);
check(r.length === 2 && r[1]?.exec_type === "fill" && r[1]?.last_px === "1.3864", `stop triggers at bid <= stop and fills at the bid (${JSON.stringify(r[1])})`);

// 8. cancel/replace: a new id continues the order; the old id is done
pub("trading.orders", '{"type":"order.submit","client_order_id":"manual-r1","symbol":"EURUSD","side":"buy","order_type":"limit","quantity":"300","limit_price":"1.38000","time_in_force":"gtc"}');
await reportsFor("manual-r1", 1);
pub("trading.orders", '{"type":"order.replace","client_order_id":"manual-r1b","orig_client_order_id":"manual-r1","quantity":400,"limit_price":"1.38100"}');
r = await reportsFor("manual-r1b", 1);
check(r[0]?.exec_type === "replaced" && r[0]?.orig_client_order_id === "manual-r1" && r[0]?.quantity === "400" &&
      r[0]?.limit_price === "1.381" && r[0]?.leaves_qty === "400" && r[0]?.cum_qty === "0", `replace answered on the new id (${JSON.stringify(r[0])})`);
pub("trading.orders", '{"type":"order.cancel","client_order_id":"manual-r1"}');
r = await reportsFor("manual-r1", 2);
check(r[1]?.exec_type === "cancel_rejected" && r[1]?.text === "order was replaced by manual-r1b", `the old id cannot be canceled (${r[1]?.text})`);
pub("trading.orders", '{"type":"order.cancel","client_order_id":"manual-r1b"}');
r = await reportsFor("manual-r1b", 2);
check(r[1]?.exec_type === "canceled", "the new id cancels");

// 9. gtd: expires at the first quote with ts_event >= expire_time
pub("trading.orders", '{"type":"order.submit","client_order_id":"manual-gtd","symbol":"EURUSD","side":"buy","order_type":"limit","quantity":100,"limit_price":"1.38000","time_in_force":"gtd","expire_time":1399334640000000000}');
r = await reportsFor("manual-gtd", 1);
check(r[0]?.exec_type === "new" && r[0]?.time_in_force === "gtd", `gtd order accepted (${JSON.stringify(r[0])})`);
check(rawExecs.some((t) => t.includes('"client_order_id":"manual-gtd"') && t.includes('"expire_time":1399334640000000000')), "expire_time echoed as an integer");
await feed("market.data.EURUSD", '{"type":"quote","symbol":"EURUSD","bid":"1.38640","ask":"1.38650","ts_event":1399334640000000000}');
r = await reportsFor("manual-gtd", 2);
check(r[1]?.exec_type === "expired" && r[1]?.order_status === "expired", `gtd expired at expire_time (${r[1]?.text})`);

// 10. an IOC that fills partly: a quote with sizes fills at most the displayed size
await feed("market.data.BTCUSDT", '{"type":"quote","symbol":"BTCUSDT","bid":"9681.92","ask":"9682","bid_size":"0.67","ask_size":"0.84","ts_event":1399334700000000000}');
await nc.flush();
await new Promise((res) => setTimeout(res, 100));
pub("trading.orders", '{"type":"order.submit","client_order_id":"manual-ioc","symbol":"BTCUSDT","side":"buy","order_type":"market","quantity":"2","time_in_force":"ioc"}');
r = await reportsFor("manual-ioc", 3);
check(r[1]?.exec_type === "partial_fill" && r[1]?.order_status === "partially_filled" && r[1]?.last_qty === "0.84" &&
      r[1]?.cum_qty === "0.84" && r[1]?.leaves_qty === "1.16", `ioc: partial fill of the displayed size (${JSON.stringify(r[1])})`);
check(r[2]?.exec_type === "canceled" && r[2]?.cum_qty === "0.84" && r[2]?.leaves_qty === "0", `ioc: the rest canceled (${r[2]?.text})`);

// 11. nats req ops.status ''
const status = await req("ops.status", "");
const names = new Set(status.workers?.map((w) => w.worker));
check(["ops", "risk-state", "execution", "reporter", "recorder"].every((w) => names.has(w)), "ops.status lists every worker");

// 12. least privilege: a person cannot publish market data, and nobody connects anonymously
const seen = [];
const md = nc.subscribe("market.data.EURUSD", { callback: (_e, m) => seen.push(sc.decode(m.data)) });
await nc.flush();
pub("market.data.EURUSD", '{"type":"quote","symbol":"EURUSD","bid":"1","ask":"2","ts_event":1399334800000000000}');
await nc.flush().catch(() => {});
await new Promise((res) => setTimeout(res, 300));
check(seen.length === 0, `a quote published by an operator reaches nobody (${seen.length} seen)`);
md.unsubscribe();
const bare = new URL(process.env.NATS_URL);
let anonymous = "connected";
try {
  const a = await connect({ servers: `${bare.hostname}:${bare.port}`, reconnect: false });
  await a.close();
} catch (e) {
  anonymous = e.message;
}
check(/Authorization Violation/i.test(anonymous), `an anonymous client is refused (${anonymous})`);

await nc.drain();
await feedConn.drain();
if (failures) {
  console.log(`${failures} checks failed`);
  process.exit(1);
}
console.log("all checks passed");
