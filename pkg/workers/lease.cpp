#include "workers/lease.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>

namespace services {

void bootstrap_leases(natsio::Connection& admin, const LeaseConfig& cfg) {
  natsio::KeyValue::ensure(admin, cfg.bucket, cfg.replicas);
}

namespace {

constexpr std::string_view kTtlTag = "; ttl_ms=";

/// Binds to `bucket`, waiting up to `wait_ms` for an admin to create it. Requests wait
/// at most 1 s: a renewal must be able to try again well within a TTL.
natsio::KeyValue bind(natsio::Connection& conn, const std::string& bucket, std::int64_t wait_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (bool said = false;; said = true) {
    try {
      return natsio::KeyValue(conn, bucket, 1'000);
    } catch (const natsio::NatsError& e) {
      if (std::string_view(e.what()).find("does not exist") == std::string_view::npos ||
          std::chrono::steady_clock::now() >= deadline)
        throw;
      if (!said) conn.log().info(fmt::format("waiting for the lease bucket {} (traderctl stream-init)", bucket));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

/// The ttl_ms a holder's value declares; 0 if it declares none (or not as a number).
std::int64_t declared_ttl_ms(std::string_view value) {
  const auto at = value.rfind(kTtlTag);
  if (at == std::string_view::npos) return 0;
  const auto digits = value.substr(at + kTtlTag.size());
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  return ec == std::errc() && end == digits.data() + digits.size() && v > 0 ? v : 0;
}

/// The holder part of a value (without its "; id=...; ttl_ms=...").
std::string holder_of(std::string_view value) { return std::string(value.substr(0, value.find("; "))); }

/// 16 hex digits from the OS: two instances never write the same value, even with the
/// same host name and pid (containers).
std::string nonce() {
  std::random_device rd;
  return fmt::format("{:08x}{:08x}", rd(), rd());
}

}  // namespace

Lease::Lease(natsio::Connection& conn, std::string role, std::string holder, std::int64_t ttl_ms, LostHandler on_lost,
             const std::string& bucket, std::int64_t wait_ms)
    : conn_(conn),
      kv_(bind(conn, bucket, wait_ms)),
      role_(std::move(role)),
      value_(fmt::format("{}; id={}{}{}", holder, nonce(), kTtlTag, ttl_ms)),
      ttl_ms_(ttl_ms),
      on_lost_(std::move(on_lost)) {
  if (ttl_ms <= 0) throw std::invalid_argument(fmt::format("lease {}: ttl_ms must be > 0, got {}", role_, ttl_ms));
}

Lease::~Lease() {
  release();
  if (renewer_.joinable()) renewer_.join();
}

std::int64_t Lease::now_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool Lease::try_acquire() {
  if (revision_.load() != 0) return true;
  const auto current = kv_.get(role_);
  const auto t0 = now_ns();  // before the write: the lease runs from no later than the server stores it
  std::optional<std::uint64_t> rev;
  if (!current) {
    rev = kv_.create(role_, value_);
  } else if (current->value == value_) {
    // Our own create, which timed out but reached the server later (see renew_loop):
    // renew it, the lease's time counted from now.
    rev = kv_.update(role_, value_, current->revision);
  } else if (current->revision != seen_revision_) {
    seen_revision_ = current->revision;  // the holder wrote since: alive, as far as we know
    seen_since_ns_ = t0;
    return false;
  } else {
    const auto ttl = std::max(ttl_ms_, declared_ttl_ms(current->value));
    if (t0 - seen_since_ns_ < ttl * 1'000'000) return false;
    rev = kv_.update(role_, value_, current->revision);  // not renewed for a whole TTL: take it over
  }
  if (!rev) return false;  // someone was faster
  valid_until_ns_.store(t0 + ttl_ms_ * 1'000'000);
  revision_.store(*rev);
  if (renewer_.joinable()) renewer_.join();  // a thread of an earlier tenure, already stopped
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  renewer_ = std::thread([this] { renew_loop(); });
  return true;
}

std::optional<std::string> Lease::holder() {
  auto e = kv_.get(role_);
  if (!e) return std::nullopt;
  return holder_of(e->value);
}

bool Lease::held() const noexcept { return revision_.load() != 0 && now_ns() < valid_until_ns_.load(); }

bool Lease::wait_held() noexcept {
  std::unique_lock lock(mu_);
  // In slices: the renewal thread stores and notifies without the mutex.
  while (!held()) {
    if (stop_ || revision_.load() == 0) return false;
    held_cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
  return true;
}

void Lease::renew_loop() {
  const auto period = std::chrono::milliseconds(std::max<std::int64_t>(ttl_ms_ / 3, 1));
  const auto retry = std::chrono::milliseconds(std::max<std::int64_t>(ttl_ms_ / 10, 1));
  auto wait = period;
  int failures = 0;  // renewals in a row that NATS did not answer
  auto said_at = std::chrono::steady_clock::time_point{};
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, wait, [this] { return stop_; })) {
    lock.unlock();
    std::string lost;
    auto last = revision_.load();
    auto t0 = now_ns();
    try {
      auto rev = kv_.update(role_, value_, last);
      if (!rev) {
        // A renewal that timed out may have reached the server all the same (nats.c keeps
        // what is published while it reconnects, and sends it once connected). If the key
        // holds our own value (its random id: nobody else writes it), the latest write is ours:
        // renew from it, the lease's time counted from this renewal only.
        if (const auto current = kv_.get(role_); current && current->value == value_) {
          last = current->revision;
          t0 = now_ns();
          rev = kv_.update(role_, value_, last);
        }
      }
      if (rev) {
        revision_.store(*rev);
        valid_until_ns_.store(t0 + ttl_ms_ * 1'000'000);
        held_cv_.notify_all();
        wait = period;
        if (failures > 0)
          conn_.log().info(fmt::format("the {} lease is renewed again, after {} failed renewals", role_, failures));
        failures = 0;
      } else {
        lost = fmt::format("the {} lease moved on (renewal of revision {} refused: taken over or deleted)", role_, last);
      }
    } catch (const std::exception& e) {
      wait = retry;  // NATS did not answer: try again; held() turns false by itself once the TTL has passed
      // Said at the first failure and every 10 s while it lasts: once the TTL has passed
      // without a renewal, every publish of this worker waits (the write fence).
      const auto now = std::chrono::steady_clock::now();
      if (failures++ == 0 || now - said_at >= std::chrono::seconds(10)) {
        said_at = now;
        try {
          conn_.log().warn(fmt::format("cannot renew the {} lease ({} in a row, trying again every {} ms; {}): {}",
                                       role_, failures, retry.count(),
                                       held() ? "still held" : "expired: publishing waits until a renewal", e.what()));
        } catch (...) {
        }
      }
    }
    lock.lock();
    if (!lost.empty()) {
      valid_until_ns_.store(0);
      revision_.store(0);
      stop_ = true;
      lock.unlock();
      held_cv_.notify_all();
      if (on_lost_) on_lost_(lost);
      return;
    }
  }
}

void Lease::release() noexcept {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  held_cv_.notify_all();
  if (renewer_.joinable() && renewer_.get_id() != std::this_thread::get_id()) renewer_.join();
  valid_until_ns_.store(0);
  const auto rev = revision_.exchange(0);
  if (rev == 0) return;
  try {
    (void)kv_.erase(role_, rev);  // false: it moved on already, nothing of ours to delete
  } catch (const std::exception&) {
    // NATS did not answer: a standby takes over after the TTL instead.
  }
}

std::vector<config::Option> lease_options() {
  return {{"standby", "TRADER_STANDBY", "wait",
           "while another instance holds this worker's lease: wait (a hot standby that takes over when it stops or "
           "dies) | refuse (exit 1 at start)"},
          {"lease_ttl_ms", "TRADER_LEASE_TTL_MS", "3000",
           "the lease's duration: renewed every third of it; a standby takes over a writer silent for this long"}};
}

StandbyMode standby_mode_from(const config::Settings& s) {
  if (s.get_int("lease_ttl_ms") < 100) throw config::ConfigError("lease_ttl_ms: must be >= 100");
  const auto v = s.get("standby");
  if (v == "wait") return StandbyMode::wait;
  if (v == "refuse") return StandbyMode::refuse;
  throw config::ConfigError("standby: must be wait or refuse, got " + v);
}

std::unique_ptr<Lease> take_lease(Runtime& rt, natsio::Connection& conn, const std::string& role, StandbyMode mode,
                                  std::int64_t ttl_ms) {
  auto& log = rt.log();
  auto lease = std::make_unique<Lease>(conn, role, fmt::format("{} at {}", role, rt.instance()), ttl_ms,
                                       [&log, role](const std::string& why) {
    // Never two writers: stop at once, without the orderly shutdown that could still
    // publish what the worker is handling. The supervisor starts it again, as a standby.
    try {
      log.error(fmt::format("lost the {} lease, exiting so that only one instance writes: {}", role, why));
    } catch (...) {
    }
    std::_Exit(1);
  });
  rt.set_write_fence([l = lease.get()] { return l->held() || l->wait_held(); });
  if (lease->try_acquire()) {
    log.info(fmt::format("holds the {} lease (ttl {} ms)", role, ttl_ms));
    return lease;
  }
  auto current = lease->holder().value_or("nobody (released just now)");
  const auto first_seen = lease->seen_revision();
  if (mode == StandbyMode::wait) {
    rt.set_status(fmt::format("{}: the {} lease is held by {}", kStandbyStatusPrefix, role, current));
    rt.start_standby_heartbeat();
    log.info(fmt::format("standby: the {} lease is held by {}; taking over when it is released or not renewed for "
                         "{} ms", role, current, ttl_ms));
  }
  const auto step = std::chrono::milliseconds(std::max<std::int64_t>(ttl_ms / 6, 50));
  for (;;) {
    for (auto slept = std::chrono::milliseconds(0); slept < step; slept += std::chrono::milliseconds(50)) {
      if (termination_pending()) return nullptr;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    try {
      if (lease->try_acquire()) break;
      if (mode == StandbyMode::refuse && lease->seen_revision() != first_seen)  // it renewed: alive
        throw std::runtime_error(fmt::format("another instance holds the {} lease ({}); standby=refuse: not starting",
                                             role, lease->holder().value_or(current)));
      if (auto now = lease->holder(); mode == StandbyMode::wait && now && *now != current) {
        current = *now;
        rt.set_status(fmt::format("{}: the {} lease is held by {}", kStandbyStatusPrefix, role, current));
      }
    } catch (const natsio::NatsError& e) {
      log.warn(fmt::format("cannot reach the {} lease: {}", role, e.what()));
    }
  }
  rt.set_status("ok");
  log.info(fmt::format("took over the {} lease (was held by {}); starting as the writer", role, current));
  return lease;
}

}  // namespace services
