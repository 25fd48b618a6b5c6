/// @file fuzz_support.hpp
/// @brief What the libFuzzer harnesses share: a failed property that stops the
/// run, the fuzz input as a file (memfd), and gzip in memory.
///
/// Harness code only (tests/fuzz): each harness is one LLVMFuzzerTestOneInput,
/// built with libFuzzer (TRADER_FUZZ=ON, clang) or with replay_main.cpp (the
/// normal build's ctest replay of the corpus and the regressions).
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <zlib.h>

namespace fuzz {

/// Harnesses skip the inputs of known findings that are not fixed yet (listed in
/// docs/fuzzing.md, reproducers in tests/fuzz/findings/), so that a fuzzing run gets
/// past them. Set TRADER_FUZZ_KNOWN=report to stop skipping (to check a fix).
inline const bool skip_known_findings = [] {
  const char* v = std::getenv("TRADER_FUZZ_KNOWN");
  return !(v && std::string_view(v) == "report");
}();

/// A property of the code under test does not hold: says which, then traps
/// (SIGILL), which libFuzzer reports as a crash and keeps the input.
[[noreturn]] inline void fail(std::string_view what) {
  std::fwrite(what.data(), 1, what.size(), stderr);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  __builtin_trap();
}

inline void check(bool ok, std::string_view what) {
  if (!ok) fail(what);
}

/// True if `s` starts with the gzip magic bytes (1f 8b): the harnesses pass such
/// input through as it is, so the fuzzer also reaches zlib's error paths.
inline bool is_gzip(std::string_view s) {
  return s.size() >= 2 && static_cast<unsigned char>(s[0]) == 0x1f && static_cast<unsigned char>(s[1]) == 0x8b;
}

/// `s` as one gzip member (zlib, fastest level). Throws std::runtime_error if zlib fails.
inline std::string gzip(std::string_view s) {
  z_stream z{};
  // A small window and hash (3 KB of state instead of 256 KB): the inputs are small.
  if (deflateInit2(&z, 1, Z_DEFLATED, 9 + 16, 1, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
  std::string out(deflateBound(&z, static_cast<uLong>(s.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(s.data()));
  z.avail_in = static_cast<uInt>(s.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate");
  return out;
}

/// An anonymous in-memory file (memfd) holding `content`, reachable by path
/// (/proc/self/fd/N) for code that opens files by name. Closed on destruction.
class MemFile {
 public:
  explicit MemFile(std::string_view content = {}) : fd_(memfd_create("fuzz", MFD_CLOEXEC)) {
    if (fd_ < 0) throw std::runtime_error("memfd_create failed");
    for (std::size_t done = 0; done < content.size();) {
      const ssize_t n = ::write(fd_, content.data() + done, content.size() - done);
      if (n <= 0) throw std::runtime_error("memfd write failed");
      done += static_cast<std::size_t>(n);
    }
    path_ = fmt::format("/proc/self/fd/{}", fd_);
  }
  ~MemFile() { ::close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  const std::string& path() const noexcept { return path_; }

 private:
  int fd_;
  std::string path_;
};

}  // namespace fuzz
