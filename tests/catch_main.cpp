// The one Catch2 v2 main for every test executable (compiled once).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <csignal>

int main(int argc, char** argv) {
  // A broken socket (PostgreSQL or NATS stopped by a test) must surface as an
  // error from the library, never kill the test process with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  return Catch::Session().run(argc, argv);
}
