/// @file files.hpp
/// @brief Writing a small file so that it survives a crash: the credential files
/// (pkg/auth) and the recorder's input-set state (pkg/workers/recorder.cpp).
#pragma once

#include <string>
#include <string_view>

namespace config {

/// Writes `text` to `path` (created with mode 0600, or truncated and set to 0600), and
/// fsyncs it before closing. Throws std::runtime_error naming the path and the system's
/// reason. Not atomic by itself: to replace a file whole, write a temporary one, rename
/// it over the old one, then sync_directory.
void write_file_durably(const std::string& path, std::string_view text);

/// fsyncs directory `dir` ("" = the working directory), so that a rename or a new file in
/// it survives a crash. Throws std::runtime_error.
void sync_directory(const std::string& dir);

}  // namespace config
