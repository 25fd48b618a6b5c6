// A strategy in JavaScript: a dual moving-average crossover (Murphy, "Technical Analysis
// of the Financial Markets", ch. 9), as the built-in ma_cross, answering the strategy
// worker over NATS (docs/strategies.md, "Strategies in any language").
//
// Per symbol it keeps the last SLOW prices (the quote's mid, a trade's price, a bar's
// close). Once it has SLOW of them: when the FAST average is above the SLOW one it wants
// to be long QUANTITY, below it short QUANTITY, and it sends a market IOC order for the
// difference from its position (as the host reports it), unless an order of its own on
// that symbol is still working.
//
// Determinism (the host hands it the log in event-time order, and again after a restart):
//  - decisions come only from the requests: no clock, no randomness, no files;
//  - prices and quantities are exact: decimal strings read into BigInt fixed point (8
//    decimals), never into a JS number (a double);
//  - strategy.reset forgets everything;
//  - a request with the same "n" as the last one is the host asking again after a
//    timeout: it gets the same answer, and the event is not applied twice.
//
// Environment: NATS_URL (nats://strategy-ext:<password>@host:port, or a list of them, set by
// `traderctl backtest --strategy-cmd`), STRATEGY_SUBJECT (default strategy.external.>),
// FAST (5), SLOW (20), QUANTITY ("1").
import { connect, StringCodec } from "nats";

const FAST = Number.parseInt(process.env.FAST ?? "5", 10);
const SLOW = Number.parseInt(process.env.SLOW ?? "20", 10);
const SUBJECT = process.env.STRATEGY_SUBJECT || "strategy.external.>";
if (!(FAST >= 1 && SLOW > FAST)) throw new Error(`need 1 <= FAST < SLOW, got FAST=${FAST} SLOW=${SLOW}`);

// ---- exact decimals: BigInt with 8 decimals, as the backend's core::Decimal ----
const SCALE = 10n ** 8n;
function dec(text) {
  const m = /^([+-]?)(\d+)(?:\.(\d{1,8}))?$/.exec(String(text));
  if (!m) throw new Error(`not a decimal: ${text}`);
  const v = BigInt(m[2]) * SCALE + BigInt((m[3] ?? "").padEnd(8, "0"));
  return m[1] === "-" ? -v : v;
}
function str(v) {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const frac = (a % SCALE).toString().padStart(8, "0").replace(/0+$/, "");
  return `${neg ? "-" : ""}${a / SCALE}${frac ? "." + frac : ""}`;
}
const QUANTITY = dec(process.env.QUANTITY ?? "1");
if (QUANTITY <= 0n) throw new Error("QUANTITY must be > 0");

// ---- state: a function of the events since the last strategy.reset ----
const windows = new Map(); // "<strategy_id>/<symbol>" -> prices (BigInt, 2 x the price: a mid without division)
const last = new Map(); // strategy_id -> { n, reply }: its last answer, for a request asked again

/// The price an event gives (doubled, so a mid needs no division), or null.
function price(ev) {
  switch (ev.type) {
    case "quote": return dec(ev.bid) + dec(ev.ask);
    case "trade": return 2n * dec(ev.price);
    case "bar": return 2n * dec(ev.close);
    default: return null;
  }
}

function sum(xs) {
  return xs.reduce((a, b) => a + b, 0n);
}

/// The commands for one strategy.event request.
function decide(req) {
  const ev = req.event;
  if (ev.type === "corporate_action" && ev.action === "split") {
    // Restate the window in post-split prices (divide by the ratio), or the split looks like a crash.
    const w = windows.get(`${req.strategy_id}/${ev.symbol}`);
    if (w) for (let i = 0; i < w.length; i++) w[i] = (w[i] * SCALE) / dec(ev.ratio);
    return [];
  }
  const p = price(ev);
  if (p === null) return []; // its own execution reports, timers: nothing to do here
  const key = `${req.strategy_id}/${ev.symbol}`;
  const w = windows.get(key) ?? [];
  w.push(p);
  if (w.length > SLOW) w.shift();
  windows.set(key, w);
  if (w.length < SLOW) return [];
  // fast average > slow average  <=>  sum(fast) * SLOW > sum(slow) * FAST (exact).
  const f = sum(w.slice(-FAST)) * BigInt(SLOW);
  const s = sum(w) * BigInt(FAST);
  if (f === s) return [];
  const target = f > s ? QUANTITY : -QUANTITY;
  const position = dec(req.positions?.[ev.symbol] ?? "0");
  const busy = (req.orders ?? []).some((o) => o.symbol === ev.symbol);
  if (position === target || busy) return [];
  const delta = target - position;
  return [{
    type: "order.submit", // client_order_id left out: the host assigns "<strategy_id>-<n>"
    symbol: ev.symbol,
    side: delta > 0n ? "buy" : "sell",
    order_type: "market",
    quantity: str(delta > 0n ? delta : -delta),
    time_in_force: "ioc",
  }];
}

// ---- NATS: nats.js takes the user and password as options, not inside the URL ----
// NATS_URL may be a cluster's comma-separated server list: every node is given.
const urls = (process.env.NATS_URL ?? "nats://127.0.0.1:4222").split(",").map((u) => new URL(u.trim()));
const url = urls[0];
const nc = await connect({
  servers: urls.map((u) => `${u.hostname}:${u.port}`),
  user: decodeURIComponent(url.username),
  pass: decodeURIComponent(url.password),
  name: "js-strategy",
  maxReconnectAttempts: -1,
});
const sc = StringCodec();
// Requests are handled one at a time, in the order they arrive (a synchronous callback).
nc.subscribe(SUBJECT, {
  callback: (err, m) => {
    if (err) {
      console.error(`subscription: ${err.message}`);
      return;
    }
    const req = JSON.parse(sc.decode(m.data));
    if (req.type === "strategy.reset") {
      for (const key of [...windows.keys()]) if (key.startsWith(`${req.strategy_id}/`)) windows.delete(key);
      last.delete(req.strategy_id);
      m.respond(sc.encode("{}"));
      return;
    }
    if (req.type !== "strategy.event") {
      m.respond(sc.encode("{}"));
      return;
    }
    let answer = last.get(req.strategy_id);
    if (answer?.n !== req.n) {
      answer = { n: req.n, reply: JSON.stringify({ commands: decide(req) }) };
      last.set(req.strategy_id, answer);
    }
    m.respond(sc.encode(answer.reply));
  },
});
await nc.flush();
console.log(`js-strategy: FAST=${FAST} SLOW=${SLOW} QUANTITY=${str(QUANTITY)}, answering on ${SUBJECT}`);
// Until the sandbox (or you) stops it: SIGTERM closes the connection.
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => nc.close().then(() => process.exit(0)));
await nc.closed();
