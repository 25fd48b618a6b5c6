#include "natsio/kv.hpp"

#include <nats/nats.h>

#include <fmt/format.h>

namespace natsio {
namespace {

std::string last_error_text() {
  const char* last = nats_GetLastError(nullptr);
  return last ? std::string(last) : std::string();
}

[[noreturn]] void fail(natsStatus s, const std::string& what) {
  const auto last = last_error_text();
  throw NatsError(fmt::format("{}: {}{}{}", what, natsStatus_GetText(s), last.empty() ? "" : ": ", last));
}

/// The server refused a write because of its expected-last-sequence header: another
/// writer (or an expiry, or a delete) moved the key on. nats.c 3.4.1 reports it as
/// NATS_ERR with the JetStream API error's text ("wrong last sequence: N", error code
/// 10071) and passes no error code out of kvStore_Update.
bool lost_race(natsStatus s) {
  return s == NATS_ERR && last_error_text().find("wrong last sequence") != std::string::npos;
}

}  // namespace

void KeyValue::ensure(Connection& admin, const std::string& bucket, int replicas) {
  jsCtx* js = nullptr;
  if (auto s = natsConnection_JetStream(&js, admin.get(), nullptr); s != NATS_OK) fail(s, "natsConnection_JetStream");
  kvConfig cfg;
  kvConfig_Init(&cfg);
  cfg.Bucket = bucket.c_str();
  cfg.History = 1;
  cfg.StorageType = js_FileStorage;
  cfg.Replicas = replicas;
  kvStore* kv = nullptr;
  const auto s = js_CreateKeyValue(&kv, js, &cfg);
  const auto text = s == NATS_OK ? std::string() : last_error_text();
  if (kv) kvStore_Destroy(kv);
  jsCtx_Destroy(js);
  if (s != NATS_OK)
    throw NatsError(fmt::format("key-value bucket {} ({} replica{}): {}{}{}", bucket, replicas,
                                replicas == 1 ? "" : "s", natsStatus_GetText(s), text.empty() ? "" : ": ", text));
}

namespace {
jsCtx* context(Connection& conn, std::int64_t timeout_ms) {
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = timeout_ms;
  jsCtx* js = nullptr;
  if (auto s = natsConnection_JetStream(&js, conn.get(), &o); s != NATS_OK) fail(s, "natsConnection_JetStream");
  return js;
}
}  // namespace

KeyValue::KeyValue(Connection& conn, const std::string& bucket, std::int64_t timeout_ms)
    : conn_(conn), bucket_(bucket), timeout_ms_(timeout_ms) {
  jsCtx* js = context(conn, timeout_ms);
  const auto s = js_KeyValue(&kv_, js, bucket.c_str());
  jsCtx_Destroy(js);  // the kvStore keeps its own reference
  if (s == NATS_NOT_FOUND)
    throw NatsError(fmt::format("key-value bucket {} does not exist: run `traderctl stream-init` with the admin "
                                "credentials", bucket));
  if (s != NATS_OK) fail(s, fmt::format("key-value bucket {}", bucket));
}

KeyValue::~KeyValue() {
  if (kv_) kvStore_Destroy(kv_);
}

std::optional<KeyValue::Entry> KeyValue::get(const std::string& key) {
  kvEntry* e = nullptr;
  const auto s = kvStore_Get(&e, kv_, key.c_str());
  if (s == NATS_NOT_FOUND) return std::nullopt;
  if (s != NATS_OK) fail(s, fmt::format("get {} of key-value bucket {}", key, bucket_));
  Entry out{std::string(static_cast<const char*>(kvEntry_Value(e)), static_cast<std::size_t>(kvEntry_ValueLen(e))),
            kvEntry_Revision(e)};
  kvEntry_Destroy(e);
  return out;
}

std::optional<std::uint64_t> KeyValue::create(const std::string& key, const std::string& value) {
  std::uint64_t rev = 0;
  const auto s = kvStore_Create(&rev, kv_, key.c_str(), value.data(), static_cast<int>(value.size()));
  if (s == NATS_OK) return rev;
  if (lost_race(s)) return std::nullopt;
  fail(s, fmt::format("create {} in key-value bucket {}", key, bucket_));
}

std::optional<std::uint64_t> KeyValue::update(const std::string& key, const std::string& value, std::uint64_t last) {
  std::uint64_t rev = 0;
  const auto s = kvStore_Update(&rev, kv_, key.c_str(), value.data(), static_cast<int>(value.size()), last);
  if (s == NATS_OK) return rev;
  if (lost_race(s)) return std::nullopt;
  fail(s, fmt::format("update {} in key-value bucket {}", key, bucket_));
}

bool KeyValue::erase(const std::string& key, std::uint64_t last) {
  // kvStore_Delete (3.4.1) has no expected revision: write its delete marker ourselves,
  // with one, so that a holder that lost its key never deletes its successor's.
  jsCtx* js = context(conn_, timeout_ms_);
  const auto subject = fmt::format("$KV.{}.{}", bucket_, key);
  natsMsg* msg = nullptr;
  auto s = natsMsg_Create(&msg, subject.c_str(), nullptr, nullptr, 0);
  if (s == NATS_OK) s = natsMsgHeader_Set(msg, "KV-Operation", "DEL");
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.ExpectLastSubjectSeq = last;
  if (s == NATS_OK) s = js_PublishMsg(nullptr, js, msg, &po, nullptr);
  const bool lost = lost_race(s);
  const auto text = s == NATS_OK ? std::string() : last_error_text();
  natsMsg_Destroy(msg);
  jsCtx_Destroy(js);
  if (s == NATS_OK) return true;
  if (lost) return false;
  throw NatsError(fmt::format("delete {} in key-value bucket {}: {}{}{}", key, bucket_, natsStatus_GetText(s),
                              text.empty() ? "" : ": ", text));
}

}  // namespace natsio
