#include "workers/manifest.hpp"

#include <array>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "codec/codec.hpp"
#include "workers/version.hpp"
#include "subjects/subjects.hpp"

namespace services {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr) != 1) {
    EVP_MD_CTX_free(ctx_);
    throw std::runtime_error("sha256: init failed");
  }
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::update(const void* data, std::size_t n) {
  if (EVP_DigestUpdate(ctx_, data, n) != 1) throw std::runtime_error("sha256: update failed");
}

std::string Sha256::hex() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_, md.data(), &len) != 1) throw std::runtime_error("sha256: final failed");
  std::string out;
  out.reserve(2 * len);
  for (unsigned int i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  Sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.hex();
}

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("cannot read {}", path));
  Sha256 h;
  std::array<char, 1 << 16> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    if (in.gcount() > 0) h.update(buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  if (in.bad()) throw std::runtime_error(fmt::format("cannot read {}", path));
  return h.hex();
}

std::string redact_secrets(std::string_view value) {
  std::string out(value);
  // scheme://user:password@host, each URL of a comma-separated server list
  for (auto scheme = out.find("://"); scheme != std::string::npos; scheme = out.find("://", scheme + 3)) {
    auto end = out.find(',', scheme + 3);
    if (end == std::string::npos) end = out.size();
    const auto at = out.find('@', scheme + 3);
    const auto slash = out.find('/', scheme + 3);
    if (at != std::string::npos && at < end && (slash == std::string::npos || at < slash)) {
      const auto colon = out.find(':', scheme + 3);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // libpq key=value: password=secret (up to the next space)
  for (std::size_t pos = 0; (pos = out.find("password=", pos)) != std::string::npos;) {
    const auto begin = pos + 9;
    auto end = out.find(' ', begin);
    if (end == std::string::npos) end = out.size();
    out.replace(begin, end - begin, "***");
    pos = begin + 3;
  }
  return out;
}

std::string canonical_config(const core::WorkerStarted& m) {
  std::string text;
  for (const auto& [key, value] : m.config) text += fmt::format("{}={}\n", key, value);
  for (const auto& arg : m.args) text += fmt::format("arg={}\n", arg);
  return text;
}

core::WorkerStarted worker_manifest(const Runtime& rt, const config::Settings& s, const std::string& data_source) {
  core::WorkerStarted m;
  m.worker = rt.worker();
  m.instance = rt.instance();
  m.version = std::string(version());
  m.ts_wall = rt.clock().now();
  for (auto [key, value] : s.values()) m.config.emplace_back(std::move(key), redact_secrets(value));
  m.args = s.positional();
  m.config_hash = sha256_hex(canonical_config(m));
  if (!data_source.empty()) {
    m.data_source = data_source;
    m.data_sha256 = sha256_file(data_source);
  }
  return m;
}

Announcement::Announcement(Runtime& rt, const config::Settings& s, const std::string& data_source)
    : rt_(rt), manifest_(worker_manifest(rt, s, data_source)), payload_(codec::encode(manifest_)) {
  const auto subject = subjects::session_worker(rt_.worker());
  sub_ = rt_.bus().subscribe(subjects::kSessionLifecycle, [this, subject](const natsio::Message& m) {
    // Only a start asks for manifests. A message that does not decode is not this
    // worker's input to judge: the recorder keeps it, ops validates what it publishes.
    const auto env = dec_.peek(m.data);
    if (env && env->type == core::SessionStarted::kType) rt_.publish(subject, payload_);
    note_session(rt_.log(), m.subject, m.data);  // the session of the worker's log records
  });
  rt_.publish(subject, payload_);
  rt_.bus().flush();
  rt_.log().info(fmt::format("version {}, config_hash {}", manifest_.version, manifest_.config_hash));
}

}  // namespace services
