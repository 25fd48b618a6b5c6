/// @file ctl.hpp
/// @brief traderctl: the command line for people (status, report, events, pub/req, halt/resume).
///
/// `run_ctl` parses its own arguments (see `traderctl help`) and returns the
/// process exit code: 0 success, 1 failure (message on stderr), 2 usage error.
#pragma once

namespace services {

int run_ctl(int argc, char** argv);

}  // namespace services
