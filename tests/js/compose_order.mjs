// Stands for a person at a terminal beside the compose stack, with the `nats` CLI and the
// operator's credentials (NATS_URL, as `deploy/compose/stack env` prints it): a hand-typed
// market order, and its fill on trading.executions. Also: nobody gets in without a password
// (what a person may publish is tested in tests/integration, against the same accounts file).
// The market data was published before by `deploy/compose/stack run --rm feed`.
// usage: NATS_URL=nats://operator:PW@127.0.0.1:PORT node compose_order.mjs CLIENT_ORDER_ID
// NATS_URL may be a cluster's comma-separated list (TRADER_NATS_NODES=3): the client connects
// to any node that answers, e.g. while one is stopped.
// Exits 0 and prints "all checks passed" only if every check holds.
import { connect, StringCodec } from "nats";

const sc = StringCodec();
const id = process.argv[2];
if (!id) {
  console.error("usage: compose_order.mjs CLIENT_ORDER_ID");
  process.exit(2);
}
const urls = process.env.NATS_URL.split(",").map((s) => new URL(s.trim()));
const servers = urls.map((u) => `${u.hostname}:${u.port}`);
const u = urls[0];
let failures = 0;
function check(cond, what) {
  console.log(`${cond ? "ok  " : "FAIL"} ${what}`);
  if (!cond) failures++;
}

// No password, or a wrong one: refused by every node that answers (a stopped one does not).
for (const [what, opts] of [
  ["anonymous", {}],
  ["a wrong password", { user: "operator", pass: "not-the-password" }],
]) {
  let refused = 0, accepted = 0;
  for (const server of servers) {
    try {
      const c = await connect({ servers: server, reconnect: false, ...opts });
      accepted++;
      await c.close();
    } catch (e) {
      if (/Authorization|authentication/i.test(String(e?.code ?? "") + String(e?.message ?? ""))) refused++;
    }
  }
  check(refused > 0 && accepted === 0, `${what} connection is refused (by ${refused} of ${servers.length} nodes)`);
}

const nc = await connect({ servers, user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) });
const reports = [];
nc.subscribe("trading.executions", {
  callback: (_e, m) => {
    const r = JSON.parse(sc.decode(m.data));
    if (r.client_order_id === id) reports.push(r);
  },
});
await nc.flush();
// nats pub trading.orders '...'
nc.publish("trading.orders", sc.encode(`{"type":"order.submit","client_order_id":"${id}","symbol":"EURUSD","side":"buy","order_type":"market","quantity":1000}`));
await nc.flush();
for (let i = 0; i < 600 && !reports.some((r) => r.order_status === "filled"); i++) await new Promise((r) => setTimeout(r, 100));
check(reports.some((r) => r.exec_type === "new"), "the order is accepted (exec_type new)");
const fill = reports.find((r) => r.order_status === "filled");
check(fill !== undefined && fill.exec_type === "fill" && fill.cum_qty === "1000" && fill.leaves_qty === "0",
      `it is filled: ${JSON.stringify(fill ?? reports)}`);

await nc.close();
if (failures) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log("all checks passed");
