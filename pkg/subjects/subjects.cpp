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

std::string progress(std::string_view worker) {
  std::string s(kProgressPrefix);
  s.append(worker);
  return s;
}

std::string strategy_external(std::string_view strategy_id) {
  assert(is_valid_symbol(strategy_id));
  std::string s(kStrategyExternalPrefix);
  s.append(strategy_id);
  return s;
}

std::string ops_ping(std::string_view worker) {
  std::string s(kOpsPingPrefix);
  s.append(worker);
  return s;
}

std::string by(std::string_view base, std::string_view user) {
  std::string s(base);
  s.append(kByToken);
  s.append(user);
  return s;
}

std::string_view sender_of(std::string_view subject) noexcept {
  const auto at = subject.rfind(kByToken);
  if (at == std::string_view::npos) return {};
  const auto user = subject.substr(at + kByToken.size());
  if (user.empty() || user.find('.') != std::string_view::npos) return {};
  return user;
}

std::string_view base_of(std::string_view subject) noexcept {
  if (sender_of(subject).empty()) return subject;
  return subject.substr(0, subject.rfind(kByToken));
}

bool is_orders(std::string_view subject) noexcept { return base_of(subject) == kTradingOrders; }

bool is_risk_management(std::string_view subject) noexcept { return base_of(subject) == kRiskManagement; }

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

bool matches(std::string_view pattern, std::string_view subject) noexcept {
  for (;;) {
    const auto pe = pattern.find('.');
    const auto se = subject.find('.');
    const auto ptok = pattern.substr(0, pe);
    const auto stok = subject.substr(0, se);
    if (ptok == ">") return !subject.empty();
    if (ptok != "*" && ptok != stok) return false;
    if (pe == std::string_view::npos || se == std::string_view::npos) return pe == se;
    pattern.remove_prefix(pe + 1);
    subject.remove_prefix(se + 1);
  }
}

bool published_to_event_stream(std::string_view subject) noexcept {
  for (const auto pattern : kEventStreamSubjects)
    if (matches(pattern, subject)) return true;
  return false;
}

}  // namespace subjects
