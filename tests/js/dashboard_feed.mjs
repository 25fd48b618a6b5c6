// The dashboard's live feed (GET /dashboard/events, Server-Sent Events), from outside C++
// and without a browser: the page and the feed refuse a caller without a person's
// credentials (401), the feed starts with a snapshot of every section and then sends a
// section again when it changes (a reduce and a resume made through the Ops API), and at
// most 4 feeds are served at once (the next gets 503 and Retry-After; a slot comes back
// once its client left).
//
//   OPS_URL=http://127.0.0.1:PORT OPS_USER=operator OPS_PASSWORD=... node tests/js/dashboard_feed.mjs
//
// Exits 0 and prints "all checks passed" only if every check holds.
const base = process.env.OPS_URL;
const me = { Authorization: "Basic " + Buffer.from(`${process.env.OPS_USER}:${process.env.OPS_PASSWORD}`).toString("base64") };
const wrong = { Authorization: "Basic " + Buffer.from(`${process.env.OPS_USER}:x${process.env.OPS_PASSWORD}`).toString("base64") };
let failures = 0;
function check(cond, what) {
  console.log(`${cond ? "ok  " : "FAIL"} ${what}`);
  if (!cond) failures++;
}
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

// ---- refusals
for (const path of ["/dashboard", "/dashboard/events"]) {
  for (const [who, headers] of [["no credentials", {}], ["a wrong password", wrong]]) {
    const res = await fetch(base + path, { headers });
    check(res.status === 401 && (res.headers.get("www-authenticate") ?? "").startsWith("Basic"),
      `${path} with ${who}: 401 with WWW-Authenticate (got ${res.status})`);
    await res.text();
  }
}

// ---- a feed: its events, parsed as they come
class Feed {
  constructor() {
    this.events = [];
    this.ac = new AbortController();
  }
  async open() {
    const res = await fetch(base + "/dashboard/events", { headers: me, signal: this.ac.signal });
    this.status = res.status;
    this.retryAfter = res.headers.get("retry-after");
    this.type = res.headers.get("content-type") ?? "";
    if (res.status !== 200) { this.body = await res.text(); return this; }
    this.pump(res.body.getReader());
    return this;
  }
  async pump(reader) {
    let buf = "";
    const dec = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = "message", data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (data) this.events.push({ event, data: JSON.parse(data) });
        }
      }
    } catch { /* aborted */ }
  }
  /// The first event after index `from` that `pred` accepts, waiting up to `ms`.
  async waitFor(pred, from = 0, ms = 20000) {
    for (let t = 0; t < ms; t += 50) {
      const i = this.events.findIndex((e, k) => k >= from && pred(e));
      if (i >= 0) return { ...this.events[i], index: i };
      await sleep(50);
    }
    return null;
  }
  close() { this.ac.abort(); }
}

const feed = await new Feed().open();
check(feed.status === 200 && feed.type.startsWith("text/event-stream"), `the feed: 200 text/event-stream (got ${feed.status} ${feed.type})`);
const first = await feed.waitFor(() => true);
check(first && first.event === "snapshot", `the first event is the snapshot (got ${first?.event})`);
const snap = first?.data ?? {};
check(["meta", "pnl", "orders", "trading", "health"].every((k) => k in snap), `the snapshot has every section: ${Object.keys(snap)}`);
check(snap.meta?.rebuilt === true, "the snapshot is of the rebuilt model");
check(snap.trading?.state?.trading_state === "active", `the trading state is active (${JSON.stringify(snap.trading?.state)})`);
check(snap.trading?.policy?.type === "risk.policy", "the policy in force is there");
check(Array.isArray(snap.health?.workers) && snap.health.workers.some((w) => w.worker === "risk-state"),
  "health lists the workers");

// ---- an update: a change of the trading state through the Ops API
const post = async (path, reason) => {
  const res = await fetch(base + path, { method: "POST", headers: { ...me, "Content-Type": "application/json" }, body: JSON.stringify({ reason }) });
  return res.status;
};
check((await post("/reduce", "feed check")) === 200, "POST /reduce: 200");
const reduced = await feed.waitFor((e) => e.event === "trading" && e.data.state?.trading_state === "reducing", 1);
check(reduced && reduced.data.state.sender === process.env.OPS_USER && reduced.data.state.reason === "feed check",
  `then a trading event: reducing, by ${process.env.OPS_USER} (${JSON.stringify(reduced?.data.state)})`);
check((await post("/resume", "feed check done")) === 200, "POST /resume: 200");
const resumed = await feed.waitFor((e) => e.event === "trading" && e.data.state?.trading_state === "active", reduced ? reduced.index + 1 : 1);
check(resumed !== null, "then a trading event: active");
const health = await feed.waitFor((e) => e.event === "health", 1);
check(health && health.data.type === "ops.status", "health comes again as it changes");

// ---- at most 4 feeds at once
const more = [];
for (let i = 0; i < 3; i++) more.push(await new Feed().open());
check(more.every((f) => f.status === 200), `4 feeds at once: ${[feed, ...more].map((f) => f.status)}`);
const fifth = await new Feed().open();
check(fifth.status === 503 && fifth.retryAfter === "5", `a 5th: 503 with Retry-After (got ${fifth.status} ${fifth.retryAfter} ${fifth.body ?? ""})`);
for (const f of [feed, ...more]) f.close();
// The server notices a client left at its next write (health: about once a second).
let again = null;
for (let i = 0; i < 100; i++) {
  again = await new Feed().open();
  if (again.status === 200) break;
  await sleep(200);
}
check(again?.status === 200, "once the clients left, a feed is served again");
again?.close();

if (failures) { console.error(`${failures} checks failed`); process.exit(1); }
console.log("all checks passed");
process.exit(0);
