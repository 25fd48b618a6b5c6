// Runs one out-of-range Decimal operation in a child process; exits 0 only if
// the child was killed by SIGABRT (STYLE.md section 6: overflow is a broken invariant).
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string_view>

#include "core/decimal.hpp"

namespace {

using core::Decimal;

constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
constexpr auto kMin = std::numeric_limits<std::int64_t>::min();

// Returns normally only if the operation did NOT abort.
bool run(std::string_view op) {
  const Decimal big = Decimal::from_raw(kMax);
  const Decimal small = Decimal::from_raw(kMin);
  volatile std::int64_t sink = 0;
  if (op == "add") sink = (big + Decimal::from_raw(1)).raw();
  else if (op == "sub") sink = (small - Decimal::from_raw(1)).raw();
  else if (op == "neg") sink = (-small).raw();
  else if (op == "abs") sink = abs(small).raw();
  else if (op == "mul") sink = mul(Decimal::from_int(10'000'000'000), Decimal::from_int(10)).raw();
  else if (op == "div") sink = div(big, *Decimal::parse("0.5")).raw();
  else if (op == "div_by_zero") sink = div(Decimal::from_int(1), Decimal{}).raw();
  else if (op == "mul_int") sink = mul_int(big, 2).raw();
  else if (op == "from_int") sink = Decimal::from_int(100'000'000'000).raw();
  else return false;
  (void)sink;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: decimal_overflow_probe <op>\n");
    return 2;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    run(argv[1]);
    std::_Exit(0);  // reached only when the operation did not abort
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) return 0;
  std::fprintf(stderr, "%s: expected an abort, child exited normally\n", argv[1]);
  return 1;
}
