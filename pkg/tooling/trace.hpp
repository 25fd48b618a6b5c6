/// @file trace.hpp
/// @brief `traderctl trace CLIENT_ORDER_ID`: an order's whole life across the workers, from
/// the event store (issue 13).
///
/// The events are every event whose client_order_id is the order's, and those of the orders
/// it replaced or that replaced it (FIX OrigClOrdID chains: an order.replace names the order
/// it replaces, and a `replaced` report names it too), in store order: the person's or the
/// strategy's command, risk-state's decision (its approval on trading.orders.approved, or
/// its denial), every execution report, replaces and cancels.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "eventstore/event_store.hpp"

namespace services {

struct TraceLine {
  std::int64_t position = 0;              ///< in the store (its order)
  std::optional<std::string> session_id;
  std::optional<core::TimestampNs> ts_event;  ///< market time, ns UTC
  std::string subject;
  std::string client_order_id;
  std::string what;                       ///< one line: the command, decision or report in words
};

/// The order's events in `store` (empty if it holds none). Reads: one indexed query per id
/// of the chain, and the order.replace events of the sessions it appears in (to find the
/// orders that replaced it). Throws what the store throws. At most 100 ids are followed.
std::vector<TraceLine> trace_order(eventstore::EventStore& store, const std::string& client_order_id);

/// A table of the lines, with the ids of the chain in its heading.
std::string format_trace(const std::string& client_order_id, const std::vector<TraceLine>& lines,
                         std::string_view store_name);

}  // namespace services
