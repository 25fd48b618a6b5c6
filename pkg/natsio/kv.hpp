/// @file kv.hpp
/// @brief RAII over nats.c 3.4.1's JetStream key-value store (kvStore): a bucket, and the
///        compare-and-set operations a lease needs (workers/lease.hpp).
///
/// A bucket is the stream `KV_<bucket>` on subjects `$KV.<bucket>.>`; a key's value is
/// the last message on `$KV.<bucket>.<key>`, its revision that message's stream
/// sequence.
///
/// Errors: constructors and operations throw natsio::NatsError (the natsStatus text
/// plus nats_GetLastError) for failures other than the ones their return value
/// reports (a compare-and-set that lost is a result, not an error), e.g. when a request
/// is not answered within the object's timeout.
/// Thread-safety: a KeyValue may be used from several threads (nats.c locks inside);
/// the object itself must outlive every call.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "natsio/natsio.hpp"

struct __kvStore;

namespace natsio {

class KeyValue {
 public:
  /// Creates bucket `bucket` (an admin's call: workers may not) keeping one value per
  /// key, for ever (no TTL: a value goes only when it is deleted), in file storage, with
  /// `replicas` copies (1 on a single server; 3 on a cluster). If it exists with the same
  /// settings nothing changes; with other settings the server refuses and this throws
  /// NatsError naming the bucket.
  static void ensure(Connection& admin, const std::string& bucket, int replicas = 1);

  /// Binds to the existing bucket `bucket` (one stream-info request). Every request
  /// of this object waits at most `timeout_ms` for its answer. Throws NatsError, saying
  /// "does not exist" when the bucket is missing (no admin created it yet).
  KeyValue(Connection& conn, const std::string& bucket, std::int64_t timeout_ms = 5'000);
  ~KeyValue();
  KeyValue(const KeyValue&) = delete;
  KeyValue& operator=(const KeyValue&) = delete;

  struct Entry {
    std::string value;
    std::uint64_t revision = 0;  ///< the stream sequence of the write (> 0)
  };
  /// The live value of `key`, nullopt if it has none (never written, or deleted). Throws NatsError for other failures (e.g. a permissions violation
  /// makes the request time out).
  std::optional<Entry> get(const std::string& key);
  /// Writes `value` only if `key` has no live value (kvStore_Create: also over a delete
  /// marker). Returns the new revision, or nullopt if a live value exists. Throws
  /// NatsError for other failures.
  std::optional<std::uint64_t> create(const std::string& key, const std::string& value);
  /// Writes `value` only if `key`'s latest write is revision `last` (compare-and-set,
  /// kvStore_Update). Returns the new revision, or nullopt if the key moved on (written
  /// by someone else, or deleted). Throws NatsError for other failures.
  std::optional<std::uint64_t> update(const std::string& key, const std::string& value, std::uint64_t last);
  /// Deletes `key` (a delete marker, as kvStore_Delete writes it) only if its latest
  /// write is revision `last`: never someone else's newer value. Returns false if the key
  /// moved on. Throws NatsError for other failures.
  bool erase(const std::string& key, std::uint64_t last);

 private:
  Connection& conn_;
  std::string bucket_;
  std::int64_t timeout_ms_;
  __kvStore* kv_ = nullptr;
};

}  // namespace natsio
