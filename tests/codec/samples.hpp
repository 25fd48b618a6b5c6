/// @file samples.hpp
/// @brief One fully populated and one minimal instance of every wire message,
/// shared by codec_test (round trips) and codec_dump (schema validation).
#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/messages.hpp"

namespace samples {

inline core::Decimal dec(std::string_view s) {
  const auto d = core::Decimal::parse(s);
  if (!d) throw std::invalid_argument(std::string(s));
  return *d;
}

inline core::Quote quote_full() {
  return {.symbol = "BTCUSDT", .bid = dec("9681.92"), .ask = dec("9682"), .bid_size = dec("0.67"),
          .ask_size = dec("0.84"), .ts_event = 1582329601096000000, .ts_recv = 1582329603502092000};
}
inline core::Quote quote_fx() {
  return {.symbol = "EURUSD", .bid = dec("1.38742"), .ask = dec("1.38755"), .ts_event = 1399334400158000000};
}
inline core::Trade trade_full() {
  return {.symbol = "BTCUSDT", .price = dec("9682"), .size = dec("0.132"),
          .aggressor_side = core::AggressorSide::buy, .trade_id = "42377944",
          .ts_event = 1582329602111000000, .ts_recv = 1582329602418379000};
}
inline core::Trade trade_min() {
  return {.symbol = "IBM", .price = dec("182.10"), .size = dec("300"), .ts_event = 1381236469457000000};
}
inline core::Bar bar_full() {
  return {.symbol = "GBPUSD", .open = dec("1.57597"), .high = dec("1.57606"), .low = dec("1.57576"),
          .close = dec("1.57576"), .volume = dec("12.5"), .price_type = core::PriceType::bid,
          .ts_start = 1328054400000000000, .ts_event = 1328054460000000000};
}
inline core::Bar bar_daily() {
  return {.symbol = "MSFT", .open = dec("63.4375"), .high = dec("63.5625"), .low = dec("59.8125"),
          .close = dec("60.625"), .volume = dec("53077800"), .ts_event = 970099200000000000};
}
inline core::OrderSubmit order_limit() {
  return {.client_order_id = "ma_cross-EURUSD-000001", .symbol = "EURUSD", .side = core::Side::buy,
          .order_type = core::OrderType::limit, .quantity = dec("100000"), .limit_price = dec("1.387"),
          .time_in_force = core::TimeInForce::gtc, .strategy_id = "ma_cross",
          .ts_event = 1399334401405000000};
}
inline core::OrderSubmit order_market() {
  return {.client_order_id = "manual-1", .symbol = "BTCUSDT", .side = core::Side::sell,
          .order_type = core::OrderType::market, .quantity = dec("0.005")};
}
inline core::OrderSubmit order_stop() {
  return {.client_order_id = "manual-stop-1", .symbol = "EURUSD", .side = core::Side::buy,
          .order_type = core::OrderType::stop, .quantity = dec("100000"),
          .time_in_force = core::TimeInForce::gtc, .stop_price = dec("1.388")};
}
inline core::OrderSubmit order_stop_limit_gtd() {
  return {.client_order_id = "manual-sl-1", .symbol = "EURUSD", .side = core::Side::sell,
          .order_type = core::OrderType::stop_limit, .quantity = dec("50000"), .limit_price = dec("1.3865"),
          .time_in_force = core::TimeInForce::gtd, .strategy_id = "desk", .ts_event = 1399334401405000000,
          .stop_price = dec("1.387"), .expire_time = 1399420800000000000};
}
inline core::OrderReplace replace() {
  return {.client_order_id = "manual-2b", .orig_client_order_id = "manual-2", .quantity = dec("800"),
          .limit_price = dec("1.385"), .stop_price = dec("1.39"), .ts_event = 1399334402130000000};
}
inline core::OrderReplace replace_min() {
  return {.client_order_id = "manual-2b", .orig_client_order_id = "manual-2"};
}
inline core::OrderCancel cancel() {
  return {.client_order_id = "ma_cross-EURUSD-000001", .ts_event = 1399334402130000000};
}
inline core::ExecutionReport exec_fill() {
  return {.client_order_id = "ma_cross-EURUSD-000001", .exec_id = "ma_cross-EURUSD-000001-2",
          .exec_type = core::ExecType::partial_fill, .order_status = core::OrderStatus::partially_filled,
          .symbol = "EURUSD", .side = core::Side::buy, .order_type = core::OrderType::limit,
          .time_in_force = core::TimeInForce::gtc, .quantity = dec("100000"), .limit_price = dec("1.387"),
          .last_qty = dec("40000"), .last_px = dec("1.38698"), .cum_qty = dec("40000"),
          .leaves_qty = dec("60000"), .avg_px = dec("1.38698"), .strategy_id = "ma_cross",
          .ts_event = 1399334403771000000};
}
/// A fill that names its cause (the quote it filled against, by stream sequence).
inline core::ExecutionReport exec_fill_caused() {
  auto r = exec_fill();
  r.cause_seq = 1042;
  return r;
}
inline core::ExecutionReport exec_denied() {
  return {.client_order_id = "manual-7", .exec_id = "manual-7-1", .exec_type = core::ExecType::denied,
          .order_status = core::OrderStatus::denied, .symbol = "EURUSD", .side = core::Side::sell,
          .order_type = core::OrderType::market, .quantity = dec("5000000"),
          .text = "order notional 6937100 exceeds max_order_notional 1000000",
          .ts_event = 1399334409000000000};
}
inline core::ExecutionReport exec_replaced() {
  return {.client_order_id = "manual-2b", .exec_id = "manual-2b-1", .exec_type = core::ExecType::replaced,
          .order_status = core::OrderStatus::partially_filled, .symbol = "EURUSD", .side = core::Side::buy,
          .order_type = core::OrderType::stop_limit, .time_in_force = core::TimeInForce::gtd,
          .quantity = dec("800"), .limit_price = dec("1.385"), .cum_qty = dec("200"), .leaves_qty = dec("600"),
          .avg_px = dec("1.38499"), .ts_event = 1399334402130000000, .stop_price = dec("1.39"),
          .expire_time = 1399420800000000000, .orig_client_order_id = "manual-2"};
}
/// The venue's answer to a cancel of an order it does not know: no symbol.
inline core::ExecutionReport exec_cancel_rejected_unknown() {
  return {.client_order_id = "nope", .exec_id = "nope-1", .exec_type = core::ExecType::cancel_rejected,
          .order_status = core::OrderStatus::rejected, .text = "unknown client_order_id", .ts_event = 5};
}
inline core::ExecutionReport exec_fill_commission() {
  auto r = exec_fill();
  r.commission = dec("2.77396");
  return r;
}
inline core::RiskStateChanged risk_state() {
  return {.trading_state = core::TradingState::halted, .previous_state = core::TradingState::active,
          .reason = "news at 14:30", .source = "manual", .ts_event = 1399386592000000000};
}
inline core::SetTradingState set_state() {
  return {.trading_state = core::TradingState::reducing, .reason = "end of day \"EOD\"",
          .ts_event = 1399420000000000000};
}
/// Every limit set, two per-symbol entries (one with a single override).
inline core::RiskPolicy policy_full() {
  core::RiskPolicy p;
  p.defaults = {.max_order_qty = dec("500000"), .max_order_notional = dec("750000.5"),
                .max_position = dec("200000"), .max_gross_exposure = dec("1500000"), .max_open_orders = 20,
                .price_band_bps = dec("250"), .max_orders_per_window = 30, .rate_window_ns = 250'000'000,
                .daily_loss_limit = dec("5000"), .max_drawdown = dec("2500.25"),
                .drawdown_action = core::TradingState::halted};
  p.per_symbol["BTCUSDT"] = {.max_order_qty = dec("2"), .max_order_notional = dec("20000"),
                             .max_position = dec("5"), .price_band_bps = dec("50")};
  p.per_symbol["IBM"] = {.max_position = dec("1000")};
  return p;
}
inline core::SetRiskPolicy set_policy() {
  return {.policy = policy_full(), .reason = "tighter limits \"before\" ECB", .ts_event = 1399386000000000000};
}
/// Default policy: every optional limit off (written as null).
inline core::SetRiskPolicy set_policy_default() { return {}; }
inline core::RiskPolicyChanged policy_changed() {
  return {.policy = policy_full(), .reason = "tighter limits before ECB", .source = "manual",
          .ts_event = 1399386000000000000};
}
inline core::RiskPolicyChanged policy_changed_startup() {
  return {.policy = {}, .reason = "risk-state started", .source = "startup", .ts_event = 1};
}
inline core::InstrumentStatus instrument_halted() {
  return {.symbol = "IBM", .status = core::InstrumentState::halted, .reason = "LULD pause",
          .ts_event = 1381244400000000000};
}
inline core::InstrumentStatus instrument_trading() { return {.symbol = "IBM"}; }
inline core::CorporateAction split_ibm() {
  return {.symbol = "IBM", .action = core::ActionKind::split, .ratio = core::Decimal::from_int(2),
          .ts_event = 927763200000000000};  // 1999-05-27T00:00Z
}
inline core::CorporateAction dividend_spy() {
  return {.symbol = "SPY", .action = core::ActionKind::dividend, .amount = *core::Decimal::parse("1.4232"),
          .ts_event = 1608249600000000000};  // 2020-12-18T00:00Z
}
inline core::PerformanceReport performance(bool final_report) {
  core::PerformanceReport r;
  r.final_report = final_report;
  r.positions = {
      {.symbol = "EURUSD", .quantity = dec("0"), .avg_px = dec("0"), .mark_px = dec("1.387485"),
       .realized_pnl = dec("24"), .unrealized_pnl = dec("0"), .bought_qty = dec("100000"),
       .sold_qty = dec("100000"), .commission = dec("1.5")},
      {.symbol = "GBPUSD", .quantity = dec("-50000"), .avg_px = dec("1.57576"), .mark_px = dec("1.5759"),
       .realized_pnl = dec("-1"), .unrealized_pnl = dec("-7"), .bought_qty = dec("0"),
       .sold_qty = dec("50000"), .commission = dec("1")}};
  r.realized_pnl = dec("23");
  r.unrealized_pnl = dec("-7");
  r.total_pnl = dec("16");
  r.peak_pnl = dec("50.5");
  r.max_drawdown = dec("34.5");
  r.commission = dec("2.5");
  r.gross_notional_traded = dec("356208");
  r.fills = 3;
  r.orders = 4;
  r.orders_denied = 1;
  r.orders_rejected = 0;
  r.ts_event = 1399420799000000000;
  return r;
}
inline core::PerformanceReport performance_empty() {
  core::PerformanceReport r;
  r.ts_event = 1;
  return r;
}
inline core::Progress progress() { return {.worker = "execution", .root_seq = 1042, .stage = 3}; }
inline core::Heartbeat heartbeat() {
  return {.worker = "execution", .instance = "trader-1:4187", .status = "degraded: slow consumer",
          .msgs_in = 44864, .msgs_out = 12, .errors = 3, .last_input_ns = 1763712004998000000,
          .started_ns = 1763711700000000000, .ts = 1763712005000000000};
}
/// Strings that need escaping: quotes, backslash, control characters, UTF-8.
inline core::DeadLetter dead_letter() {
  return {.worker = "risk-state", .subject = "trading.orders", .field = "quantity",
          .error = "must be positive, got \"-5\"",
          .payload = "{\"type\":\"order.submit\",\"quantity\":-5}\n\t\\ \x01\x1f caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88",
          .ts = 1763712006000000000};
}
inline core::OpsStatus ops_status() {
  return {.workers = {{.worker = "execution", .instance = "trader-1:4187", .status = "ok", .alive = true,
                       .age_ms = 412, .msgs_in = 44864, .msgs_out = 12, .errors = 0, .log_seq = 90211},
                      {.worker = "strategy", .instance = "trader-1:4175", .status = "ok", .alive = false,
                       .age_ms = 5230, .msgs_in = 44870, .msgs_out = 5, .errors = 2}},
          .ts = 1763712006500000000};
}

inline core::SessionStarted session_started_replay() {
  return {.session_id = "replay-20251121T081000Z-trader-1", .kind = "replay",
          .source_session_id = "live-20251121T075500Z-trader-1",
          .data_source = "deploy/data/quotes_EURUSD_2014-05-06.csv.gz", .started_by = "traderctl",
          .version = "0.4.0-12-geb89fa6", .ts_wall = 1763712600000000000,
          .reason = "replay with a tighter \"daily\" loss limit",
          .input_set = "inputs-0123456789abcdef0123456789abcdef"};
}
/// Only the required fields: a live session.
inline core::SessionStarted session_started_live() {
  return {.session_id = "live-20251121T075500Z-trader-1", .kind = "live", .started_by = "ops",
          .version = "0.4.0", .ts_wall = 1763711700000000000};
}
inline core::SessionEnded session_ended() {
  return {.session_id = "replay-20251121T081000Z-trader-1", .ts_wall = 1763712642500000000,
          .reason = "end of data"};
}
inline core::SessionEnded session_ended_min() {
  return {.session_id = "live-20251121T075500Z-trader-1", .ts_wall = 1763740800000000000};
}
inline core::WorkerStarted worker_started() {
  return {.worker = "feed", .instance = "trader-1:4170", .version = "0.4.0-12-geb89fa6",
          .ts_wall = 1763711700000000000,
          .config = {{"file", ""}, {"heartbeat_ms", "1000"}, {"limit", "0"},
                     {"nats_url", "nats://127.0.0.1:4222"}, {"speed", "600"},
                     {"strategy_params", "{\"fast\":5,\"slow\":20}"}},
          .config_hash = "56d52792e465c1c05eae5bee2a2ac426343abe0b6878813ab02d1c6608a1786b",
          .args = {"deploy/data/quotes_EURUSD_2014-05-06.csv.gz", "caf\xc3\xa9 data.csv"},
          .data_source = "deploy/data/quotes_EURUSD_2014-05-06.csv.gz",
          .data_sha256 = "e355bd23ccaa1c85365024f79d60f42ce027178384591239e665ab4d9aa3d5dc"};
}
/// Required fields only; no settings, no arguments.
inline core::WorkerStarted worker_started_min() {
  return {.worker = "ops", .instance = "trader-1:4180", .version = "0.4.0", .ts_wall = 1,
          .config_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"};
}

inline core::FeedSummaryEvent feed_summary() {
  return {.data_source = "tests/fixtures/marketdata/quotes_EURUSD_bad_rows.csv",
          .format = "quotes",
          .published = 38,
          .quotes = 38,
          .bad_rows = 0,
          .dropped = 2,
          .flagged = 0,
          .by_kind = {{.kind = "non_positive", .count = 1, .lines = {17}}, {.kind = "crossed", .count = 1, .lines = {29}}},
          .policy = "non_positive=drop,crossed=drop,inconsistent=drop,backward=drop,outlier=flag,outlier_window=50,"
                    "outlier_k=10,outlier_floor_bps=1",
          .ts_event = 1399334591862000000};
}

inline core::FeedSummaryEvent feed_summary_min() {
  return {.data_source = "data.csv", .format = "trades"};
}

}  // namespace samples
