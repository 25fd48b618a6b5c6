/// @file checkpoint.hpp
/// @brief Signed checkpoints of the event store's head, kept outside PostgreSQL,
///        so that a truncated tail or a re-chained history is detected.
///
/// The hash chain (schema/002, 004) proves the log consistent with itself; a
/// superuser who deletes the newest events, or rewrites an event and re-chains
/// everything after it, leaves a chain that is still consistent. A checkpoint
/// is the head of the log at some moment, {position, hash, events, ts_wall,
/// key_id}, signed with an Ed25519 private key that the database never holds,
/// one JSON line per checkpoint, appended (and fsync'd) to a file outside
/// PostgreSQL by the recorder:
///
///   {"type":"checkpoint","v":1,"position":812,"hash":"<64 hex>","events":812,
///    "ts_wall":1790000000000000000,"key_id":"<16 hex>","sig":"<128 hex>"}
///
/// The signature covers signed_text(): the fields in a fixed order, so the JSON
/// spelling does not matter. key_id = the first 16 hex digits of SHA-256 of the
/// raw 32-byte public key. `traderctl verify` (check_checkpoints) then checks
/// every line's signature with the public key, that the store still holds, at
/// each checkpoint's position, an event with the signed hash, that the number of
/// events through the newest checkpoint is the signed one, and that the store's
/// head is not before the newest checkpoint. What it cannot see: events appended
/// after the newest checkpoint and then removed or changed (keep checkpoints
/// frequent), or an attacker who holds the private key.
///
/// Keys are PEM files as OpenSSL writes them: `openssl genpkey -algorithm ed25519
/// -out checkpoint.key` (mode 0600, readable by the recorder only) and `openssl
/// pkey -in checkpoint.key -pubout -out checkpoint.pub`.
/// OpenSSL (libcrypto, EVP) does the signing; see docs/dependencies.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/types.h>

#include "eventstore/event_store.hpp"

namespace eventstore {

/// One signed checkpoint.
struct Checkpoint {
  std::int64_t position = 0;  ///< of the newest event then
  std::string hash;           ///< its hash, 64 lowercase hex digits
  std::int64_t events = 0;    ///< events stored then
  std::int64_t ts_wall = 0;   ///< when it was signed, ns UTC (wall clock; ops data)
  std::string key_id;         ///< 16 lowercase hex digits naming the signing key
  std::string sig;            ///< Ed25519 signature of signed_text(), 128 lowercase hex digits
  friend bool operator==(const Checkpoint&, const Checkpoint&) = default;
};

/// The bytes signed: "trader-checkpoint-v1\n<position>\n<hash>\n<events>\n<ts_wall>\n<key_id>". Pure.
std::string signed_text(const Checkpoint& cp);

/// The checkpoint as one JSON line (above), without the newline. Pure.
std::string to_json_line(const Checkpoint& cp);

/// A line of a checkpoint file as parsed: the checkpoint, or why it is not one.
/// Parsing checks the form only (fields, types, hex); not the signature.
struct CheckpointLine {
  std::size_t line = 0;                   ///< from 1
  std::optional<Checkpoint> checkpoint;   ///< nullopt if the line is not a checkpoint
  std::string error;                      ///< what is wrong with it, when nullopt
};

/// Parses one line (no newline). Pure, never throws but bad_alloc.
CheckpointLine parse_checkpoint_line(std::string_view text, std::size_t line);

/// Every non-empty, complete line of the file at `path`, in order (a last line
/// without its newline is one being written, and is skipped).
/// @throws std::runtime_error if the file can't be read.
std::vector<CheckpointLine> read_checkpoints(const std::string& path);

/// Appends `cp` as one line to the file at `path` (created with mode 0644 if
/// missing; its directory is fsync'd then) with one write(2) in O_APPEND mode,
/// then fsync(2)s it: on return the line is durable. Lines of concurrent writers
/// never interleave. @throws std::runtime_error naming the path and the errno text.
void append_checkpoint(const std::string& path, const Checkpoint& cp);

namespace detail {
struct FreeEvpKey {
  void operator()(EVP_PKEY* k) const noexcept;
};
}  // namespace detail

/// An Ed25519 key pair's private half: signs checkpoints.
/// Thread-safety: sign() is const and may be called from several threads.
class CheckpointSigner {
 public:
  /// Loads the PEM private key at `path`.
  /// @throws std::runtime_error if it can't be read, is not Ed25519, or is
  ///         readable by group or others (it must be mode 0600 or stricter).
  explicit CheckpointSigner(const std::string& path);
  ~CheckpointSigner();
  CheckpointSigner(CheckpointSigner&&) noexcept;
  CheckpointSigner& operator=(CheckpointSigner&&) noexcept;
  CheckpointSigner(const CheckpointSigner&) = delete;
  CheckpointSigner& operator=(const CheckpointSigner&) = delete;

  const std::string& key_id() const noexcept { return key_id_; }
  /// The checkpoint of `head` at `ts_wall`, signed. @throws std::runtime_error if OpenSSL fails.
  Checkpoint sign(const StoreHead& head, std::int64_t ts_wall) const;

 private:
  std::unique_ptr<EVP_PKEY, detail::FreeEvpKey> key_;
  std::string key_id_;
};

/// An Ed25519 public key: checks checkpoints. Thread-safety: as CheckpointSigner.
class CheckpointVerifier {
 public:
  /// Loads the PEM public key at `path` (or a private key: its public half).
  /// @throws std::runtime_error if it can't be read or is not Ed25519.
  explicit CheckpointVerifier(const std::string& path);
  ~CheckpointVerifier();
  CheckpointVerifier(CheckpointVerifier&&) noexcept;
  CheckpointVerifier& operator=(CheckpointVerifier&&) noexcept;
  CheckpointVerifier(const CheckpointVerifier&) = delete;
  CheckpointVerifier& operator=(const CheckpointVerifier&) = delete;

  const std::string& key_id() const noexcept { return key_id_; }
  /// True if `cp` names this key and its signature holds over signed_text(cp).
  bool verify(const Checkpoint& cp) const noexcept;

 private:
  std::unique_ptr<EVP_PKEY, detail::FreeEvpKey> key_;
  std::string key_id_;
};

/// The outcome of check_checkpoints.
struct CheckpointReport {
  bool ok = true;
  std::size_t checkpoints = 0;          ///< well-formed, correctly signed lines
  std::optional<Checkpoint> newest;     ///< the one with the highest position
  StoreHead head;                       ///< the store's head when checked
  std::vector<std::string> problems;    ///< one sentence each, in file order; empty when ok
};

/// Checks `store` against the lines of a checkpoint file (read_checkpoints)
/// and the public key, as `traderctl verify` does (see the top of this file).
/// A line that is not a checkpoint, or whose signature fails, is a problem.
/// No checkpoint at all while the store holds events is a problem too (a
/// checkpoint file was expected). Read the file before calling: a checkpoint
/// written after the store's head is read here could be newer than that head.
/// Needs SELECT on events (the reader).
/// @throws StoreUnavailable, std::runtime_error as PgStore's reads.
CheckpointReport check_checkpoints(PgStore& store, const std::vector<CheckpointLine>& lines,
                                   const CheckpointVerifier& key);

}  // namespace eventstore
