#include "eventstore/checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <simdjson.h>

namespace eventstore {
namespace {

constexpr std::size_t kSignatureSize = 64;  // Ed25519

std::string hex(const unsigned char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[p[i] >> 4];
    out += kHex[p[i] & 0xf];
  }
  return out;
}

bool is_hex(std::string_view s, std::size_t size) {
  return s.size() == size &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::optional<std::array<unsigned char, kSignatureSize>> signature_bytes(std::string_view h) {
  if (!is_hex(h, 2 * kSignatureSize)) return std::nullopt;
  std::array<unsigned char, kSignatureSize> out{};
  const auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<unsigned char>(nibble(h[2 * i]) << 4 | nibble(h[2 * i + 1]));
  return out;
}

struct FreeBio {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct FreeMdCtx {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};

/// The first 16 hex digits of SHA-256 of the raw Ed25519 public key.
std::string key_id_of(EVP_PKEY* key) {
  std::array<unsigned char, 32> raw{};
  std::size_t len = raw.size();
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  if (EVP_PKEY_get_raw_public_key(key, raw.data(), &len) != 1 ||
      EVP_Digest(raw.data(), len, md.data(), &md_len, EVP_sha256(), nullptr) != 1 || md_len < 8)
    throw std::runtime_error("checkpoint: cannot read the public key");
  return hex(md.data(), 8);
}

EVP_PKEY* load_key(const std::string& path, bool want_private) {
  std::unique_ptr<BIO, FreeBio> bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) throw std::runtime_error(fmt::format("checkpoint key {}: cannot be read: {}", path, std::strerror(errno)));
  EVP_PKEY* key = want_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                               : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (!key && !want_private) {  // a private key also holds the public one
    bio.reset(BIO_new_file(path.c_str(), "r"));
    if (bio) key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  }
  if (!key)
    throw std::runtime_error(fmt::format("checkpoint key {}: not a PEM {} key", path, want_private ? "private" : "public"));
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    throw std::runtime_error(fmt::format("checkpoint key {}: not an Ed25519 key (openssl genpkey -algorithm ed25519)", path));
  }
  return key;
}

void sync_directory_of(const std::string& path) {
  const auto dir = std::filesystem::path(path).parent_path();
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

std::string signed_text(const Checkpoint& cp) {
  return fmt::format("trader-checkpoint-v1\n{}\n{}\n{}\n{}\n{}", cp.position, cp.hash, cp.events, cp.ts_wall, cp.key_id);
}

std::string to_json_line(const Checkpoint& cp) {
  // Every field is a number or hex: nothing to escape.
  return fmt::format(
      R"({{"type":"checkpoint","v":1,"position":{},"hash":"{}","events":{},"ts_wall":{},"key_id":"{}","sig":"{}"}})",
      cp.position, cp.hash, cp.events, cp.ts_wall, cp.key_id, cp.sig);
}

CheckpointLine parse_checkpoint_line(std::string_view text, std::size_t line) {
  CheckpointLine out{.line = line};
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS) {
    out.error = "not JSON";
    return out;
  }
  Checkpoint cp;
  std::string_view type, hash, key_id, sig;
  std::int64_t v = 0;
  if (doc["type"].get(type) || type != "checkpoint" || doc["v"].get(v) || v != 1) {
    out.error = R"(not {"type":"checkpoint","v":1,...})";
    return out;
  }
  if (doc["position"].get(cp.position) || doc["events"].get(cp.events) || doc["ts_wall"].get(cp.ts_wall) ||
      cp.position < 0 || cp.events < 0) {
    out.error = "position, events and ts_wall must be integers (position and events >= 0)";
    return out;
  }
  if (doc["hash"].get(hash) || !is_hex(hash, 64) || doc["key_id"].get(key_id) || !is_hex(key_id, 16) ||
      doc["sig"].get(sig) || !is_hex(sig, 2 * kSignatureSize)) {
    out.error = "hash, key_id and sig must be lowercase hex of 64, 16 and 128 digits";
    return out;
  }
  cp.hash = hash;
  cp.key_id = key_id;
  cp.sig = sig;
  out.checkpoint = std::move(cp);
  return out;
}

std::vector<CheckpointLine> read_checkpoints(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("checkpoint file {}: cannot be read: {}", path, std::strerror(errno)));
  std::ostringstream all;
  all << in.rdbuf();
  if (in.bad()) throw std::runtime_error(fmt::format("checkpoint file {}: read failed", path));
  const std::string text = all.str();
  std::vector<CheckpointLine> out;
  std::size_t n = 0;
  // Only complete lines: a last line without its newline is one being written.
  for (std::size_t begin = 0, end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1) {
    ++n;
    std::string_view line(text.data() + begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) out.push_back(parse_checkpoint_line(line, n));
  }
  return out;
}

void append_checkpoint(const std::string& path, const Checkpoint& cp) {
  const bool existed = ::access(path.c_str(), F_OK) == 0;
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(fmt::format("checkpoint file {}: cannot open: {}", path, std::strerror(errno)));
  const std::string line = to_json_line(cp) + "\n";
  const ssize_t n = ::write(fd, line.data(), line.size());
  const int write_errno = errno;
  const bool synced = n == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  const int sync_errno = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size()))
    throw std::runtime_error(fmt::format("checkpoint file {}: write failed: {}", path,
                                         n < 0 ? std::strerror(write_errno) : "short write"));
  if (!synced) throw std::runtime_error(fmt::format("checkpoint file {}: fsync failed: {}", path, std::strerror(sync_errno)));
  if (!existed) sync_directory_of(path);
}

void detail::FreeEvpKey::operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }

CheckpointSigner::CheckpointSigner(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0)
    throw std::runtime_error(fmt::format("checkpoint key {}: cannot be read: {}", path, std::strerror(errno)));
  if ((st.st_mode & 077) != 0)
    throw std::runtime_error(fmt::format("checkpoint key {}: readable by group or others (mode {:o}); chmod 600 it",
                                         path, st.st_mode & 0777));
  key_.reset(load_key(path, true));
  key_id_ = key_id_of(key_.get());
}

CheckpointSigner::~CheckpointSigner() = default;
CheckpointSigner::CheckpointSigner(CheckpointSigner&&) noexcept = default;
CheckpointSigner& CheckpointSigner::operator=(CheckpointSigner&&) noexcept = default;

Checkpoint CheckpointSigner::sign(const StoreHead& head, std::int64_t ts_wall) const {
  Checkpoint cp{.position = head.position, .hash = head.hash, .events = head.events, .ts_wall = ts_wall, .key_id = key_id_};
  const std::string text = signed_text(cp);
  std::unique_ptr<EVP_MD_CTX, FreeMdCtx> ctx(EVP_MD_CTX_new());
  std::array<unsigned char, kSignatureSize> sig{};
  std::size_t len = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, reinterpret_cast<const unsigned char*>(text.data()), text.size()) != 1 ||
      len != sig.size())
    throw std::runtime_error("checkpoint: signing failed (OpenSSL)");
  cp.sig = hex(sig.data(), sig.size());
  return cp;
}

CheckpointVerifier::CheckpointVerifier(const std::string& path) : key_(load_key(path, false)), key_id_(key_id_of(key_.get())) {}
CheckpointVerifier::~CheckpointVerifier() = default;
CheckpointVerifier::CheckpointVerifier(CheckpointVerifier&&) noexcept = default;
CheckpointVerifier& CheckpointVerifier::operator=(CheckpointVerifier&&) noexcept = default;

bool CheckpointVerifier::verify(const Checkpoint& cp) const noexcept {
  if (cp.key_id != key_id_) return false;
  const auto sig = signature_bytes(cp.sig);
  if (!sig) return false;
  const std::string text = signed_text(cp);
  std::unique_ptr<EVP_MD_CTX, FreeMdCtx> ctx(EVP_MD_CTX_new());
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) == 1 &&
         EVP_DigestVerify(ctx.get(), sig->data(), sig->size(), reinterpret_cast<const unsigned char*>(text.data()),
                          text.size()) == 1;
}

CheckpointReport check_checkpoints(PgStore& store, const std::vector<CheckpointLine>& lines,
                                   const CheckpointVerifier& key) {
  CheckpointReport r;
  r.head = store.head();
  std::vector<const CheckpointLine*> good;
  for (const auto& l : lines) {
    if (!l.checkpoint) {
      r.problems.push_back(fmt::format("line {} is not a checkpoint: {}", l.line, l.error));
    } else if (l.checkpoint->key_id != key.key_id()) {
      r.problems.push_back(fmt::format("line {} names key {}, not the public key given ({}): signed by another key, "
                                       "or forged", l.line, l.checkpoint->key_id, key.key_id()));
    } else if (!key.verify(*l.checkpoint)) {
      r.problems.push_back(fmt::format("FORGED: line {}: its signature does not match its contents (the line was "
                                       "edited, or never signed by key {})", l.line, key.key_id()));
    } else {
      good.push_back(&l);
    }
  }
  r.checkpoints = good.size();
  std::vector<std::int64_t> positions;
  for (const auto* l : good) positions.push_back(l->checkpoint->position);
  const auto hashes = store.hashes_at(positions);
  const CheckpointLine* newest = nullptr;
  for (const auto* l : good) {
    const auto& cp = *l->checkpoint;
    if (!newest || cp.position >= newest->checkpoint->position) newest = l;
    const auto it = hashes.find(cp.position);
    if (it == hashes.end()) {
      if (cp.position <= r.head.position)
        r.problems.push_back(fmt::format("DELETED: line {}: the store holds no event at the signed position {}",
                                         l->line, cp.position));
    } else if (it->second != cp.hash) {
      r.problems.push_back(fmt::format("REWRITTEN: line {}: the event at position {} has hash {}, the checkpoint "
                                       "signed {} (history changed and re-chained)", l->line, cp.position, it->second,
                                       cp.hash));
    }
  }
  if (newest) {
    const auto& cp = *newest->checkpoint;
    r.newest = cp;
    if (r.head.position < cp.position) {
      r.problems.push_back(fmt::format("TRUNCATED: the store's newest event is at position {}, before the newest "
                                       "checkpoint's position {} (line {}): the newest events were removed",
                                       r.head.position, cp.position, newest->line));
    } else if (const auto n = store.count_through(cp.position); n != cp.events) {
      r.problems.push_back(fmt::format("the store holds {} events up to position {}, the checkpoint of line {} "
                                       "signed {}", n, cp.position, newest->line, cp.events));
    }
  } else if (r.head.position > 0) {
    r.problems.push_back(fmt::format("no valid checkpoint in the file, while the store holds events up to position {}",
                                     r.head.position));
  }
  r.ok = r.problems.empty();
  return r;
}

}  // namespace eventstore
