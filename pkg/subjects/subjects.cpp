#include "subjects/subjects.hpp"

#include <cassert>

namespace subjects {

bool is_valid_symbol(std::string_view symbol) noexcept {
  if (symbol.empty() || symbol.size() > 64) return false;
  for (char c : symbol) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string market_data(std::string_view symbol) {
  assert(is_valid_symbol(symbol));
  std::string s(kMarketDataPrefix);
  s.append(symbol);
  return s;
}

std::string ops_heartbeat(std::string_view worker) {
  std::string s(kOpsHeartbeatPrefix);
  s.append(worker);
  return s;
}

std::string ops_ping(std::string_view worker) {
  std::string s(kOpsPingPrefix);
  s.append(worker);
  return s;
}

bool is_valid_session_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string session_worker(std::string_view worker) {
  assert(is_valid_symbol(worker));
  std::string s(kSessionWorkersPrefix);
  s.append(worker);
  return s;
}

}  // namespace subjects
