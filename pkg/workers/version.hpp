/// @file version.hpp
/// @brief The version of these binaries, for session manifests and logs.
#pragma once

#include <string_view>

namespace services {

/// "<project version>[+g<12-hex commit>][-dirty]", e.g. "0.1.0+g1a2b3c4d5e6f";
/// just the project version when built outside a git checkout (e.g. in the
/// container image). Fixed at build time; thread-safe.
std::string_view version() noexcept;

}  // namespace services
