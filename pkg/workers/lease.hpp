/// @file lease.hpp
/// @brief One writer per role (issue 15): a lease in the JetStream key-value bucket
///        `trader_leases` that execution, risk-state and the recorder hold while they
///        write; a second instance waits as a hot standby or refuses to start.
///
/// The lease of role R is key R of the bucket. Its value names the holder, a random id
/// of this Lease and the lease's duration, "<role> at <host>:<pid>; id=<16 hex>;
/// ttl_ms=<T>". A holder takes the key with a create (refused while the key has a
/// value), keeps it by rewriting it every T/3 with a
/// compare-and-set on the revision it wrote last, and gives it up on a clean stop by
/// deleting it (again only its own revision), so that a standby takes over at once.
///
/// Expiry is judged by the contender, on its own monotonic clock, never by the server:
/// a standby that has seen the same revision for T (the holder's declared ttl_ms, or its
/// own if longer) takes the key over with a compare-and-set from that revision. The
/// bucket keeps values for ever (no MaxAge), so a NATS restart expires no lease, and a
/// holder cut off from NATS for a while keeps its lease if nobody took it meanwhile.
///
/// Never two writers: held() is true only until T after the holder SENT its last
/// renewal that succeeded (a standby's clock starts no earlier than that write), so the
/// holder stops writing (Runtime::set_write_fence, wait_held) before any standby may
/// take over, even if NATS is unreachable or the process was paused: a write then waits
/// until a renewal succeeds again (NATS is back and nobody took the lease: it goes out,
/// nothing is lost) or the lease is lost. A renewal that finds the key moved on (someone
/// else's revision, a delete) means the lease is lost, and Lease calls its `on_lost` (the
/// workers log it and exit at once, non-zero, the waiting write never sent; the
/// supervisor starts them again, as a standby, and its rebuild makes what was not sent).
/// A renewal that timed out may still reach the server (nats.c sends what was published
/// while it reconnected): a refused renewal whose key holds this holder's own value
/// (nobody else writes its random id) is not a loss; the holder renews from that
/// revision, the lease's time counted from the new renewal only.
/// docs/architecture.md, "One writer per role".
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "core/messages.hpp"
#include "natsio/kv.hpp"
#include "natsio/natsio.hpp"
#include "workers/runtime.hpp"

namespace services {

/// The leases' bucket as the admin creates it (bootstrap_leases).
struct LeaseConfig {
  std::string bucket = "trader_leases";
  /// Copies the server keeps (1 on a single server; 3 on a cluster, like the stream).
  int replicas = 1;
};

/// The admin's part (`traderctl stream-init`, bootstrap_event_stream, the test harness):
/// creates the bucket, or leaves it if it exists with the same settings. Needs admin
/// rights (pkg/auth). Throws natsio::NatsError naming the bucket.
void bootstrap_leases(natsio::Connection& admin, const LeaseConfig& cfg = {});

/// A lease on one role. Thread-safety: try_acquire, release, seen_revision and the
/// destructor are for one thread (the worker's main thread); held(), wait_held() and
/// holder() may be called from any thread (held() is cheap: atomic loads and a clock
/// read). Renewals run on the Lease's own thread.
class Lease {
 public:
  /// Called at most once, on the lease's renewal thread, when the lease is lost (its
  /// argument says why). Must not throw. It may end the process.
  using LostHandler = std::function<void(const std::string& why)>;
  /// Binds to `bucket` on `conn` (which must outlive the Lease) for role `role` (the
  /// key: a worker name, [A-Za-z0-9_-]), as `holder` (e.g. "execution at host:pid"),
  /// for `ttl_ms` (> 0: renewed every ttl_ms/3; a standby takes over after ttl_ms without
  /// a renewal). Waits up to `wait_ms` for the bucket to exist (an admin creates it with
  /// the event stream). Throws natsio::NatsError if it does not, or cannot be read (e.g.
  /// permissions), std::invalid_argument for ttl_ms <= 0.
  Lease(natsio::Connection& conn, std::string role, std::string holder, std::int64_t ttl_ms, LostHandler on_lost,
        const std::string& bucket = LeaseConfig{}.bucket, std::int64_t wait_ms = 60'000);
  /// release(), then stops the renewal thread.
  ~Lease();
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  /// Takes the lease if it is free: the key has no value (never taken, released), or
  /// this Lease has seen the same holder's revision for its TTL (the holder's declared
  /// ttl_ms or this one's, the longer): the holder died or lost NATS. Call it repeatedly
  /// (every ttl/6, say) to wait. True: this instance holds it from now on and renews it
  /// on its own thread every ttl_ms()/3. False: someone holds it (holder() says who).
  /// Throws natsio::NatsError if NATS does not answer.
  bool try_acquire();
  /// Who holds the lease as its value says ("<role> at <host>:<pid>", id and ttl left out),
  /// nullopt if it is free. Throws natsio::NatsError.
  std::optional<std::string> holder();
  /// Held by this instance, and renewed recently enough that it cannot have expired on
  /// the server yet (see the file comment). Thread-safe, noexcept.
  bool held() const noexcept;
  /// Stops renewing and deletes the key if it is still this instance's (so a standby
  /// takes over at once). Never throws: if NATS does not answer, the lease expires
  /// after its TTL instead. Idempotent.
  void release() noexcept;
  /// The revision of the other holder's value that try_acquire saw last (0: none yet).
  /// A standby that sees it change knows the holder is alive (it renews). Main thread.
  std::uint64_t seen_revision() const noexcept { return seen_revision_; }
  /// held(), or else waits until it is again (a renewal succeeded) and returns true, or
  /// until the lease is lost or released and returns false. For the write fence: blocks
  /// the writing thread while NATS does not answer. Thread-safe, noexcept.
  bool wait_held() noexcept;
  std::int64_t ttl_ms() const noexcept { return ttl_ms_; }
  const std::string& role() const noexcept { return role_; }

 private:
  void renew_loop();
  static std::int64_t now_ns() noexcept;
  natsio::Connection& conn_;  ///< its log: why a renewal failed
  natsio::KeyValue kv_;
  std::string role_, value_;
  std::int64_t ttl_ms_ = 0;
  LostHandler on_lost_;
  std::uint64_t seen_revision_ = 0;  ///< try_acquire: the other holder's revision seen last...
  std::int64_t seen_since_ns_ = 0;   ///< ...first seen then (steady clock)
  std::atomic<std::uint64_t> revision_{0};      ///< our latest write; 0 = not held
  std::atomic<std::int64_t> valid_until_ns_{0};  ///< steady clock: held() until then
  std::mutex mu_;
  std::condition_variable cv_;       ///< wakes the renewal thread (stop_)
  std::condition_variable held_cv_;  ///< wakes wait_held (a renewal, stop_)
  bool stop_ = false;
  std::thread renewer_;
};

/// What a second instance of a single-writer worker does while another holds its lease:
/// `wait` (a hot standby: not ready, status "standby: ...", nothing rebuilt or
/// published until it takes the lease over) or `refuse` (exit 1 at start, naming the
/// holder).
enum class StandbyMode { wait, refuse };

/// The settings of the single-writer workers: `standby` (TRADER_STANDBY, default "wait")
/// and `lease_ttl_ms` (TRADER_LEASE_TTL_MS, default 3000: a dead writer is replaced after
/// this, and a writer cut off from NATS stops writing after it).
std::vector<config::Option> lease_options();
/// The `standby` setting's value; throws config::ConfigError for anything but wait or
/// refuse, and for a lease_ttl_ms below 100.
StandbyMode standby_mode_from(const config::Settings& s);

/// Heartbeat status prefix of an instance waiting as a standby: "standby: <why>". ops
/// lists it alive but neither calls it degraded nor counts it as the worker's writer.
constexpr std::string_view kStandbyStatusPrefix = core::kStandbyStatus;

/// Takes role `role`'s lease for the worker of `rt` before it rebuilds anything: at once
/// if it is free (for `ttl_ms`); else with StandbyMode::refuse throws std::runtime_error
/// "another instance holds the <role> lease (<holder>); standby=refuse: not starting" once
/// it saw the holder renew (it waits up to a TTL to tell a live holder from a dead one,
/// whose lease it takes over); with wait
/// it says it is a standby (log, heartbeats with status "standby: ...", /health/ready
/// 503), tries again every ttl/6 and returns once it holds the lease (status "ok"
/// again), or nullptr if SIGTERM/SIGINT came first (termination_pending). On a lost
/// lease the process logs why (error) and exits with code 1 at once, publishing nothing
/// more; until then the Runtime's write fence (set here) holds any publish back while
/// held() is false (Lease::wait_held). Throws natsio::NatsError if the bucket cannot be
/// reached. Lifetime: `rt`'s fence refers to the returned Lease. Destroy it (which
/// releases the lease) after the worker and everything else that publishes through `rt`,
/// and before `rt` and `conn`: declare it right after them.
std::unique_ptr<Lease> take_lease(Runtime& rt, natsio::Connection& conn, const std::string& role, StandbyMode mode,
                                  std::int64_t ttl_ms);

}  // namespace services
