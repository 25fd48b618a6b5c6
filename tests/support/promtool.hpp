// `promtool check metrics` (Debian's prometheus package) as the tests run it: the
// independent check that a page is in the Prometheus text exposition format.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

namespace testsupport {

/// Runs `promtool check metrics` on `text`; returns its exit code (0: valid, no lint
/// problem) and puts what it said in `said`. Throws std::runtime_error if it cannot run.
inline int promtool_check_metrics(const std::string& text, std::string& said) {
  char path[] = "/tmp/promtool_metrics_XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) throw std::runtime_error("promtool_check_metrics: mkstemp failed");
  ::close(fd);
  std::ofstream(path) << text;
  const std::string cmd = std::string("promtool check metrics < ") + path + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    std::remove(path);
    throw std::runtime_error("promtool_check_metrics: cannot run promtool");
  }
  char buf[4096];
  said.clear();
  while (const auto n = std::fread(buf, 1, sizeof buf, p)) said.append(buf, n);
  const int status = ::pclose(p);
  std::remove(path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace testsupport
