#include "workers/ops.hpp"

#include <algorithm>
#include <utility>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "subjects/subjects.hpp"

namespace services {

// ---------------------------------------------------------------- ops

OpsService::OpsService(Runtime& rt, std::int64_t heartbeat_ms, std::int64_t expire_ms)
    : rt_(rt), heartbeat_ms_(heartbeat_ms), expire_ms_(expire_ms) {
  subs_.push_back(sub(rt_, subjects::kOpsHeartbeatAll, [this](const natsio::Message& m) { on_heartbeat(m); }));
  subs_.push_back(sub(rt_, subjects::kOpsStatus, [this](const natsio::Message& m) { on_status(m); }));
}

void OpsService::on_heartbeat(const natsio::Message& m) {
  rt_.count_in();
  auto r = dec_.decode_heartbeat(m.data);
  if (!r) return rt_.refuse(m, r.error());
  // A heartbeat speaks for the worker its subject names, which the server lets only that
  // worker's identity publish (pkg/auth): one that claims another worker is forged.
  if (m.subject != subjects::ops_heartbeat(r->worker))
    return rt_.refuse(m, core::Error{"worker", fmt::format("a heartbeat on {} may only be of worker {:?}", m.subject,
                                                           m.subject.substr(subjects::kOpsHeartbeatPrefix.size()))});
  std::lock_guard lock(mu_);
  seen_[{r->worker, r->instance}] = Seen{*r, rt_.clock().now()};
}

core::OpsStatus OpsService::status() {
  const auto now = rt_.clock().now();
  core::OpsStatus st{.ts = now};
  std::lock_guard lock(mu_);
  const auto self = rt_.heartbeat();
  const auto overdue_ms = 3 * heartbeat_ms_;
  auto exited = [](const Seen& s) {
    return s.hb.status == core::kStoppedStatus || s.hb.status == core::kFinishedStatus;
  };
  auto alive = [&](const Seen& s) { return (now - s.received) / 1'000'000 <= overdue_ms && !exited(s); };
  // Forget instances gone for longer than expire_ms_ when they stopped on purpose, or
  // when another instance of the same worker is alive (it was restarted). A worker
  // whose every instance died stays listed as down: a missing worker is never
  // forgotten silently.
  std::set<std::string> running;
  for (const auto& [key, seen] : seen_)
    if (alive(seen)) running.insert(key.first);
  for (auto it = seen_.begin(); it != seen_.end();) {
    const auto gone_ms = (now - it->second.received) / 1'000'000;
    const bool replaced = running.contains(it->first.first) && !alive(it->second);
    if (gone_ms > expire_ms_ && (exited(it->second) || replaced)) it = seen_.erase(it);
    else ++it;
  }
  // Ops itself, then every worker heard from; sorted by worker, then instance.
  st.workers.push_back({.worker = self.worker, .instance = self.instance, .status = self.status, .alive = true,
                        .age_ms = 0, .msgs_in = self.msgs_in, .msgs_out = self.msgs_out, .errors = self.errors,
                        .flagged = self.flagged, .quarantined = self.quarantined, .log_seq = self.log_seq});
  for (const auto& [key, seen] : seen_) {
    if (key.first == self.worker && key.second == self.instance) continue;
    const auto age_ms = (now - seen.received) / 1'000'000;
    std::string status = seen.hb.status;
    if (!exited(seen) && age_ms > overdue_ms)
      status = fmt::format("down: no heartbeat for {} ms (last status: {})", age_ms, seen.hb.status);
    st.workers.push_back({.worker = seen.hb.worker,
                          .instance = seen.hb.instance,
                          .status = std::move(status),
                          .alive = alive(seen),
                          .age_ms = age_ms,
                          .msgs_in = seen.hb.msgs_in,
                          .msgs_out = seen.hb.msgs_out,
                          .errors = seen.hb.errors,
                          .flagged = seen.hb.flagged,
                          .quarantined = seen.hb.quarantined,
                          .log_seq = seen.hb.log_seq});
  }
  std::sort(st.workers.begin(), st.workers.end(), [](const auto& a, const auto& b) {
    return std::tie(a.worker, a.instance) < std::tie(b.worker, b.instance);
  });
  // The stack: down if a worker has no instance alive (a one-shot tool that finished
  // aside); else degraded if an alive instance says so; a dead instance whose worker
  // was restarted is listed (until it expires) but does not make the stack down.
  // A hot standby (status "standby: ...", workers/lease.hpp) is alive but writes nothing:
  // it neither makes the stack degraded nor keeps its worker up when the writer is gone.
  auto standby = [](const core::WorkerStatus& w) { return w.status.starts_with(core::kStandbyStatus); };
  std::map<std::string, bool> worker_up;
  for (const auto& w : st.workers) {
    if (w.status == core::kFinishedStatus) continue;
    worker_up[w.worker] = worker_up[w.worker] || (w.alive && !standby(w));
  }
  st.status = "ok";
  for (const auto& [worker, up] : worker_up)
    if (!up) st.status = "down";
  if (st.status == "ok")
    for (const auto& w : st.workers)
      if (w.alive && w.status != "ok" && !standby(w)) st.status = "degraded";
  return st;
}

void OpsService::on_status(const natsio::Message& m) {
  rt_.count_in();
  if (m.reply.empty()) return;  // a publish without reply subject has nobody to answer
  rt_.bus().publish(m.reply, codec::encode(status()));
}


}  // namespace services
