// codec_dump <dir>: writes one encoded instance of every wire message type
// (plus variants with and without optional fields) into <dir>, one JSON file
// each, for tests/js/validate_schemas.mjs to check against subjects/schemas.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "codec/codec.hpp"
#include "samples.hpp"

namespace fs = std::filesystem;

namespace {

void write(const fs::path& dir, const std::string& name, const std::string& json) {
  std::ofstream out(dir / (name + ".json"), std::ios::binary | std::ios::trunc);
  out << json << '\n';
  if (!out) throw std::runtime_error("cannot write " + (dir / name).string());
}

}  // namespace

int main(int argc, char** argv) try {
  if (argc != 2) {
    std::fprintf(stderr, "usage: codec_dump <output-dir>\n");
    return 2;
  }
  const fs::path dir = argv[1];
  fs::create_directories(dir);
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") fs::remove(entry.path());
  }
  using codec::encode;
  write(dir, "quote", encode(samples::quote_fx()));
  write(dir, "quote-with-sizes", encode(samples::quote_full()));
  write(dir, "trade", encode(samples::trade_full()));
  write(dir, "trade-minimal", encode(samples::trade_min()));
  write(dir, "bar", encode(samples::bar_full()));
  write(dir, "bar-daily", encode(samples::bar_daily()));
  write(dir, "order.submit", encode(samples::order_limit()));
  write(dir, "order.submit-market", encode(samples::order_market()));
  write(dir, "order.submit-stop", encode(samples::order_stop()));
  write(dir, "order.submit-stop-limit-gtd", encode(samples::order_stop_limit_gtd()));
  write(dir, "order.cancel", encode(samples::cancel()));
  write(dir, "order.replace", encode(samples::replace()));
  write(dir, "order.replace-minimal", encode(samples::replace_min()));
  write(dir, "execution_report", encode(samples::exec_fill()));
  write(dir, "execution_report-denied", encode(samples::exec_denied()));
  write(dir, "execution_report-replaced", encode(samples::exec_replaced()));
  write(dir, "execution_report-commission", encode(samples::exec_fill_commission()));
  write(dir, "execution_report-cancel-rejected-unknown", encode(samples::exec_cancel_rejected_unknown()));
  write(dir, "risk.state", encode(samples::risk_state()));
  write(dir, "trading_state.set", encode(samples::set_state()));
  write(dir, "risk.policy.set", encode(samples::set_policy()));
  write(dir, "risk.policy.set-default", encode(samples::set_policy_default()));
  write(dir, "risk.policy", encode(samples::policy_changed()));
  write(dir, "risk.policy-startup", encode(samples::policy_changed_startup()));
  write(dir, "instrument_status", encode(samples::instrument_halted()));
  write(dir, "instrument_status-trading", encode(samples::instrument_trading()));
  write(dir, "corporate_action", encode(samples::split_ibm()));
  write(dir, "corporate_action-dividend", encode(samples::dividend_spy()));
  write(dir, "performance.metrics", encode(samples::performance(false)));
  write(dir, "performance.report", encode(samples::performance(true)));
  write(dir, "performance.metrics-empty", encode(samples::performance_empty()));
  write(dir, "heartbeat", encode(samples::heartbeat()));
  write(dir, "progress", encode(samples::progress()));
  write(dir, "execution_report-caused", encode(samples::exec_fill_caused()));
  write(dir, "dead_letter", encode(samples::dead_letter()));
  write(dir, "ops.status", encode(samples::ops_status()));
  write(dir, "ops.status-empty", encode(core::OpsStatus{.ts = 1}));
  write(dir, "session.started", encode(samples::session_started_replay()));
  write(dir, "session.started-live", encode(samples::session_started_live()));
  write(dir, "session.ended", encode(samples::session_ended()));
  write(dir, "session.ended-minimal", encode(samples::session_ended_min()));
  write(dir, "worker.started", encode(samples::worker_started()));
  write(dir, "worker.started-minimal", encode(samples::worker_started_min()));
  std::printf("codec_dump: wrote 43 documents to %s\n", dir.c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "codec_dump: %s\n", e.what());
  return 1;
}
