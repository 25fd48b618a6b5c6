/// @file log_check.hpp
/// @brief What the integration tests check of a recorded session in which workers or NATS
/// nodes failed: every order decided once, and execution's reports equal, one by one,
/// those of a paper broker that never failed, fed the same log in event-time order.
/// Catch assertions (CHECK/REQUIRE): for the integration tests only.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "core/messages.hpp"
#include "eventstore/event_store.hpp"

namespace itest {

/// The first `n` quotes of the real IBM file (../shared/data/quotes_IBM_2013-10-08.csv;
/// displayed sizes, so orders fill partly).
std::vector<core::Quote> ibm_quotes(std::size_t n);

/// What the recorded log adds up to: the position from the fills, each order's newest report.
struct LogOutcome {
  core::Quantity position;
  std::map<std::string, core::ExecutionReport> latest;  ///< by client_order_id: its newest report
  std::size_t reports = 0;                              ///< execution reports recorded (denials aside)
};

/// Checks `events` (the whole store, in position order) of a session whose orders were
/// sent on trading.orders: 1. exactly `submits` distinct order.submit ids, each sent once
/// and decided once (approved or denied); 2. the recorded execution reports equal a
/// never-failing matching::PaperBroker's one by one, in order (nothing lost, nothing
/// twice, the same fills at the same prices; the first difference is named); 3. exec_ids
/// unique, cum_qty and leaves_qty consistent, fills add up per order.
LogOutcome check_log(const std::vector<eventstore::StoredEvent>& events, std::size_t submits);

}  // namespace itest
