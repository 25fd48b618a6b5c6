/// @file manifest.hpp
/// @brief What a worker says about itself when it starts, so that a recorded
/// session says how it was run: the `worker.started` manifest (every setting,
/// its SHA-256, the positional arguments, the version of the binaries, the data
/// file and its SHA-256), published once on session.workers.<worker> and
/// recorded with the session (schema/003_sessions.sql).
///
/// Secrets never leave the process: passwords in URL settings are replaced by
/// "***" before anything is hashed or published.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "codec/codec.hpp"
#include "config/config.hpp"
#include "core/messages.hpp"
#include "workers/runtime.hpp"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX (openssl/types.h)

namespace services {

/// Incremental SHA-256 (OpenSSL libcrypto's EVP interface, RAII over EVP_MD_CTX).
/// Throws std::runtime_error if OpenSSL fails. Thread-safety: one thread per object.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(const void* data, std::size_t n);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  /// The lowercase hex digest of everything given; call once.
  std::string hex();

 private:
  ::evp_md_ctx_st* ctx_;
};

/// Lowercase hex SHA-256 of `bytes` (OpenSSL libcrypto). Thread-safe.
std::string sha256_hex(std::string_view bytes);

/// Lowercase hex SHA-256 of a file's bytes (read as they are, gzip or not).
/// Throws std::runtime_error naming the file if it cannot be read.
std::string sha256_file(const std::string& path);

/// `value` with passwords hidden: "postgresql://u:secret@h/db" ->
/// "postgresql://u:***@h/db" (any scheme://user:password@), and libpq
/// key=value strings "password=secret" -> "password=***". Other text is
/// returned unchanged. Pure.
std::string redact_secrets(std::string_view value);

/// The canonical text that config_hash is the SHA-256 of: one line
/// "key=value\n" per setting (redacted, sorted by key), then one line
/// "arg=<argument>\n" per positional argument, in order. Anyone can recompute
/// the hash from a recorded manifest.
std::string canonical_config(const core::WorkerStarted& m);

/// The manifest of this process: worker, instance, version(), wall-clock
/// start (metadata, not domain time), every setting of `s` (redacted), its
/// positional arguments and config_hash. `data_source`, if not empty, is a
/// file whose SHA-256 goes into data_sha256 (a file that cannot be read
/// throws std::runtime_error).
core::WorkerStarted worker_manifest(const Runtime& rt, const config::Settings& s, const std::string& data_source = "");

/// A worker's announcement of itself. The constructor publishes
/// worker_manifest(...) on session.workers.<worker> and flushes, so that it is
/// in the stream before the worker's first output; then, whenever a
/// session.started arrives on session.lifecycle, it publishes the same
/// manifest again, so every session holds the manifest of every worker that
/// runs in it, including those started before the session. Keep it alive for
/// the life of the process. Throws what worker_manifest throws and
/// natsio::NatsError. Callbacks run on the bus's delivery thread (nats.c's, or the
/// MemoryBus's run(): the in-process engine announces its workers too).
class Announcement {
 public:
  Announcement(Runtime& rt, const config::Settings& s, const std::string& data_source = "");
  const core::WorkerStarted& manifest() const noexcept { return manifest_; }

 private:
  Runtime& rt_;
  core::WorkerStarted manifest_;
  std::string payload_;
  codec::Decoder dec_;  // used on the delivery thread only
  std::unique_ptr<BusSubscription> sub_;
};

}  // namespace services
