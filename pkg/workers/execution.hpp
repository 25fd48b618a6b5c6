/// @file execution.hpp
/// @brief The execution worker (cmd/execution): the paper broker on the event log.
#pragma once

#include <map>
#include <cstdint>
#include <functional>
#include <array>
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "codec/codec.hpp"
#include "core/market_check.hpp"
#include "workers/log_input.hpp"
#include "matching/paper_broker.hpp"

namespace services {

/// execution: the paper broker. Consumes the event log (JetStream stream EVENTS)
/// in stream order, so the order in which it sees market data and approved
/// orders is the order every replay sees; publishes every execution_report on
/// trading.executions.
///
/// State from events: at start it rebuilds the broker by feeding it the whole
/// recorded history (store, then stream; read_history) up to the stream's end,
/// publishing nothing. Reports that this replay produces but that the history
/// does not hold (the previous instance died between deciding and publishing)
/// are published then, in order; then it consumes live from the next sequence.
/// So after a SIGKILL no approved order is lost and none is filled twice.
class ExecutionService {
 public:
  /// `store` may be nullptr (history from the stream alone). Throws
  /// natsio::NatsError if the stream cannot be read or consumed.
  ExecutionService(Runtime& rt, matching::BrokerConfig cfg, eventstore::EventStore* store, std::string stream);
  const HistoryStats& history() const noexcept { return history_; }
  /// Reports the rebuild produced that the log did not hold, published at start.
  std::int64_t republished() const noexcept { return republished_; }

 private:
  void on_event(std::uint64_t seq, std::string_view subject, std::string_view data, bool replay);
  void emit(std::vector<core::ExecutionReport> reports);
  Runtime& rt_;
  codec::Decoder dec_;
  core::MarketCheck check_;  ///< flagged market data is never filled against
  matching::PaperBroker broker_;
  EventTimeInput in_;            ///< the log in event-time order; upstream: risk-state's approvals
  std::uint64_t cause_ = 0;      ///< stream sequence of the message being handled (the reports' cause_seq)
  core::TimestampNs market_ts_ = 0;  ///< latest market event time (stamps a hand-typed instrument_status)
  Redecide<std::string> redecide_;  ///< its reports, by exec_id, produced again vs in the log
  HistoryStats history_;
  std::int64_t republished_ = 0;
  /// For Prometheus, written on the delivery thread and read by a scrape: reports by
  /// exec_type (all the worker produced, those of its rebuild included), working orders,
  /// and orders by their latest order_status (each client_order_id counted once, under the
  /// status of its newest report; `latest_status_` is the delivery thread's alone).
  std::array<std::atomic<std::uint64_t>, 10> reports_by_exec_type_{};
  std::atomic<std::int64_t> working_orders_{0};
  static constexpr std::size_t kOrderStatuses = static_cast<std::size_t>(core::OrderStatus::expired) + 1;
  std::array<std::atomic<std::int64_t>, kOrderStatuses> orders_by_status_{};
  std::unordered_map<std::string, core::OrderStatus> latest_status_;
  std::unique_ptr<LogTail> live_;  ///< destroyed (delivery stopped) before what it uses
  std::unique_ptr<Runtime::MetricsRegistration> metrics_;  ///< last: no scrape reads it once it goes
};

/// execution's settings (EXECUTION_* environment variables).
std::vector<config::Option> execution_options();
/// The paper broker's configuration those settings give; the instruments file is read
/// (a relative path is looked up beside TRADER_CONFIG when not found from the working
/// directory). Throws config::ConfigError naming the setting, std::runtime_error for an
/// instruments file that cannot be read.
matching::BrokerConfig broker_config_from(const config::Settings& s);

}  // namespace services
