/// @file instruments_file.hpp
/// @brief Loads the paper venue's instrument reference data from a CSV file.
///
/// Format (deploy/config/instruments.csv): a header `symbol,tick_size,lot_size`,
/// then one row per symbol; tick_size and lot_size are exact decimals and may be
/// empty (= not checked). Blank lines and lines starting with `#` are skipped.
/// Thread-safety: a free function with no shared state.
#pragma once

#include <string>

#include "matching/instruments.hpp"

namespace services {

/// Reads `path`. Throws config::ConfigError naming the file, line and field for a
/// missing file, a wrong header, a bad decimal, a duplicate symbol or a
/// non-positive size (matching::validate).
matching::Instruments load_instruments(const std::string& path);

}  // namespace services
