// Stands for a person at a terminal beside the compose stack, with the `nats` CLI and the
// operator's credentials (NATS_URL, as `deploy/compose/stack env` prints it): a hand-typed
// market order, and its fill on trading.executions. Also: nobody gets in without a password
// (what a person may publish is tested in tests/integration, against the same accounts file).
// The market data was published before by `deploy/compose/stack run --rm feed`.
// usage: NATS_URL=nats://operator:PW@127.0.0.1:PORT node compose_order.mjs CLIENT_ORDER_ID
// Exits 0 and prints "all checks passed" only if every check holds.
import { connect, StringCodec } from "nats";

const sc = StringCodec();
const id = process.argv[2];
if (!id) {
  console.error("usage: compose_order.mjs CLIENT_ORDER_ID");
  process.exit(2);
}
const u = new URL(process.env.NATS_URL);
let failures = 0;
function check(cond, what) {
  console.log(`${cond ? "ok  " : "FAIL"} ${what}`);
  if (!cond) failures++;
}

// No password, or a wrong one: refused by nats-server.
for (const [what, opts] of [
  ["anonymous", {}],
  ["a wrong password", { user: "operator", pass: "not-the-password" }],
]) {
  let refused = false;
  try {
    const c = await connect({ servers: `${u.hostname}:${u.port}`, reconnect: false, ...opts });
    await c.close();
  } catch (e) {
    refused = /Authorization|authentication/i.test(String(e?.code ?? "") + String(e?.message ?? ""));
  }
  check(refused, `${what} connection is refused`);
}

const nc = await connect({ servers: `${u.hostname}:${u.port}`, user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) });
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
for (let i = 0; i < 300 && !reports.some((r) => r.order_status === "filled"); i++) await new Promise((r) => setTimeout(r, 100));
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
