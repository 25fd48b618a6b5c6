#include "workers/external_strategy.hpp"

#include <algorithm>
#include <utility>
#include <variant>

#include <fmt/format.h>

#include "core/enums.hpp"
#include "core/time.hpp"
#include "natsio/natsio.hpp"
#include "subjects/subjects.hpp"

namespace services {

namespace {

using namespace std::chrono_literals;

/// `subject` is one concrete subject under strategy.external.: tokens of [A-Za-z0-9_-].
bool valid_external_subject(std::string_view subject) {
  if (!subject.starts_with(subjects::kStrategyExternalPrefix)) return false;
  auto rest = subject.substr(subjects::kStrategyExternalPrefix.size());
  if (rest.empty()) return false;
  while (!rest.empty()) {
    const auto dot = rest.find('.');
    if (!subjects::is_valid_symbol(rest.substr(0, dot))) return false;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
    if (rest.empty()) return false;
  }
  return true;
}

void append_key(std::string& out, std::string_view key) {
  out += '"';
  out += key;
  out += "\":";
}

void append_decimal(std::string& out, const core::Decimal& d) {
  out += '"';
  out += d.to_string();
  out += '"';
}

/// The Context's positions and working orders, as the request carries them.
void append_state(std::string& out, const strategy::Context& ctx) {
  out += ",\"positions\":{";
  bool first = true;
  for (const auto& [symbol, qty] : ctx.positions()) {
    if (!std::exchange(first, false)) out += ',';
    codec::append_json_string(out, symbol);
    out += ':';
    append_decimal(out, qty);
  }
  out += "},\"orders\":[";
  first = true;
  for (const auto& [id, o] : ctx.orders()) {
    if (!std::exchange(first, false)) out += ',';
    out += '{';
    append_key(out, "client_order_id");
    codec::append_json_string(out, o.client_order_id);
    out += ',';
    append_key(out, "symbol");
    codec::append_json_string(out, o.symbol);
    out += fmt::format(",\"side\":\"{}\",\"order_type\":\"{}\",\"time_in_force\":\"{}\",", core::to_string(o.side),
                       core::to_string(o.order_type), core::to_string(o.time_in_force));
    append_key(out, "quantity");
    append_decimal(out, o.quantity);
    if (o.limit_price) {
      out += ',';
      append_key(out, "limit_price");
      append_decimal(out, *o.limit_price);
    }
    if (o.stop_price) {
      out += ',';
      append_key(out, "stop_price");
      append_decimal(out, *o.stop_price);
    }
    out += ',';
    append_key(out, "cum_qty");
    append_decimal(out, o.cum_qty);
    out += ',';
    append_key(out, "leaves_qty");
    append_decimal(out, o.leaves());
    if (o.status) out += fmt::format(",\"status\":\"{}\"", core::to_string(*o.status));
    out += fmt::format(",\"cancel_pending\":{}", o.cancel_pending ? "true" : "false");
    if (o.replace_pending) {
      out += ',';
      append_key(out, "replace_pending");
      codec::append_json_string(out, *o.replace_pending);
    }
    out += '}';
  }
  out += ']';
}

bool power_of_two(std::int64_t n) { return n > 0 && (n & (n - 1)) == 0; }

}  // namespace

// ---------------------------------------------------------------- link

void ExternalLink::stop() noexcept {
  {
    std::lock_guard lock(mu_);
    stopping_.store(true);
  }
  cv_.notify_all();
}

bool ExternalLink::pause(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, d, [this] { return stopping_.load(); });
  return !stopping_.load();
}

// ---------------------------------------------------------------- strategy

ExternalStrategy::ExternalStrategy(const strategy::Params& p, const std::string& strategy_id,
                                   std::shared_ptr<ExternalLink> link)
    : strategy_id_(strategy_id), link_(std::move(link)) {
  const auto& subject = p.text("subject");
  if (subject == "auto") {
    if (!subjects::is_valid_symbol(strategy_id))
      throw std::invalid_argument(fmt::format(
          "param 'subject': the default strategy.external.<strategy_id> needs a strategy_id of 1-64 characters "
          "from A-Z a-z 0-9 _ -, got '{}'",
          strategy_id));
    subject_ = subjects::strategy_external(strategy_id);
  } else {
    if (!valid_external_subject(subject))
      throw std::invalid_argument(fmt::format(
          "param 'subject': must be strategy.external.<token>[.<token>...] (tokens of A-Z a-z 0-9 _ -), got '{}'",
          subject));
    subject_ = subject;
  }
  const auto ns = p.duration("timeout");
  if (ns < 1'000'000 || ns > 3600 * core::kNsPerSecond)
    throw std::invalid_argument(fmt::format("param 'timeout': must be 1ms..1h, got '{}'", p.text("timeout")));
  timeout_ = std::chrono::milliseconds(ns / 1'000'000);
}

Runtime& ExternalStrategy::rt() const {
  if (!link_)
    throw std::logic_error(fmt::format("strategy {}: an external strategy made without a NATS connection cannot run",
                                       strategy_id_));
  return link_->runtime();
}

void ExternalStrategy::on_quote(const core::Quote& q, strategy::Context& ctx) { exchange(codec::encode(q), ctx); }
void ExternalStrategy::on_trade(const core::Trade& t, strategy::Context& ctx) { exchange(codec::encode(t), ctx); }
void ExternalStrategy::on_bar(const core::Bar& b, strategy::Context& ctx) { exchange(codec::encode(b), ctx); }
void ExternalStrategy::on_execution(const core::ExecutionReport& r, strategy::Context& ctx) {
  exchange(codec::encode(r), ctx);
}
void ExternalStrategy::on_corporate_action(const core::CorporateAction& a, strategy::Context& ctx) {
  exchange(codec::encode(a), ctx);
}
void ExternalStrategy::on_timer(const strategy::Timer& t, strategy::Context& ctx) {
  std::string ev = fmt::format("{{\"type\":\"timer\",\"at\":{},\"tag\":", t.at);
  codec::append_json_string(ev, t.tag);
  ev += '}';
  exchange(ev, ctx);
}

void ExternalStrategy::exchange(const std::string& event_json, strategy::Context& ctx) {
  rt();  // a strategy without a link refuses here
  if (!reset_sent_) {
    std::string reset = "{\"type\":\"strategy.reset\",\"v\":1,\"strategy_id\":";
    codec::append_json_string(reset, strategy_id_);
    reset += '}';
    ask(reset, "strategy.reset");
    reset_sent_ = true;
    n_ = 0;
    rt().log().info(fmt::format("strategy {}: {} answered strategy.reset", strategy_id_, subject_));
  }
  ++n_;
  std::string req = "{\"type\":\"strategy.event\",\"v\":1,\"strategy_id\":";
  codec::append_json_string(req, strategy_id_);
  req += fmt::format(",\"n\":{},\"now\":{},\"event\":", n_, ctx.now());
  req += event_json;
  append_state(req, ctx);
  req += '}';
  apply(ask(req, "strategy.event"), ctx);
}

std::string ExternalStrategy::ask(const std::string& payload, std::string_view what) {
  auto& runtime = rt();
  for (std::int64_t attempt = 1;; ++attempt) {
    if (link_->stopping())
      throw ExternalStopped(fmt::format("strategy {}: stopping while waiting for {}", strategy_id_, subject_));
    std::string why;
    try {
      return runtime.conn().request(subject_, payload, timeout_.count());
    } catch (const natsio::NatsError& e) {
      why = e.what();
    }
    ++retries_;
    std::string lower(why);
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const bool nobody = lower.find("no responders") != std::string::npos;
    if (power_of_two(attempt))
      runtime.log().warn(
          fmt::format("strategy {}: no answer on {} to {} n={} (attempt {}: {}); asking again, the event is never "
                      "skipped (is the strategy program running?)",
                      strategy_id_, subject_, what, n_, attempt, nobody ? "no responders" : why),
          {{"subject", subject_}});
    if (nobody) link_->pause(std::min<std::chrono::milliseconds>(250ms, timeout_));
  }
}

void ExternalStrategy::refuse(const std::string& field, const std::string& why, const std::string& reply,
                              bool whole_reply) {
  if (whole_reply) ++bad_replies_;
  else ++refused_;
  // Context's own errors already name the strategy.
  auto text = why.starts_with("strategy " + strategy_id_ + ":") ? why : fmt::format("strategy {}: {}", strategy_id_, why);
  rt().dead_letter(subject_, core::Error{field, std::move(text)}, reply);
}

void ExternalStrategy::apply(const std::string& reply, strategy::Context& ctx) {
  auto r = dec_.decode_strategy_reply(reply);
  if (!r) {
    refuse(r.error().field, r.error().message + " (reply taken as no commands)", reply, true);
    return;
  }
  for (std::size_t i = 0; i < r->commands.size(); ++i) {
    const auto field = [&](std::string_view f) { return fmt::format("commands[{}].{}", i, f); };
    std::visit(
        [&](auto& c) {
          using T = std::decay_t<decltype(c)>;
          if constexpr (std::is_same_v<T, core::OrderSubmit>) {
            c.strategy_id.clear();  // the host stamps these (Context::submit, Runner)
            c.ts_event = 0;
            c.cause_seq = 0;
            try {
              ctx.submit(std::move(c));
            } catch (const std::logic_error& e) {
              refuse(field("client_order_id"), e.what(), reply, false);
            }
          } else if constexpr (std::is_same_v<T, core::OrderCancel>) {
            if (!ctx.cancel(c.client_order_id))
              refuse(field("client_order_id"),
                     fmt::format("'{}' is not a working order of this strategy, or a cancel or replace of it is in flight",
                                 c.client_order_id),
                     reply, false);
          } else {
            if (!c.client_order_id.empty()) {
              refuse(field("client_order_id"),
                     fmt::format("leave it out: the host assigns a replace's new id, got '{}'", c.client_order_id), reply,
                     false);
            } else if (!ctx.replace(c.orig_client_order_id, c.quantity, c.limit_price, c.stop_price)) {
              refuse(field("orig_client_order_id"),
                     fmt::format("'{}' is not a working order of this strategy, or a cancel or replace of it is in flight",
                                 c.orig_client_order_id),
                     reply, false);
            }
          }
        },
        r->commands[i]);
  }
  for (auto& t : r->timers) ctx.set_timer(t.at, std::move(t.tag));
}

// ---------------------------------------------------------------- registry

strategy::Registration external_registration(std::shared_ptr<ExternalLink> link) {
  return {std::string(kExternalStrategyName),
          "a strategy in any language: each event is a NATS request to the user's program, which answers with "
          "commands (docs/strategies.md, \"Strategies in any language\")",
          {{"subject", "auto", "the program's subject (auto: strategy.external.<strategy_id>)"},
           {"timeout", "5s", "wait this long for an answer before asking again (the event is never skipped)"}},
          [link](const strategy::Params& p, const std::string& id) {
            return std::make_unique<ExternalStrategy>(p, id, link);
          }};
}

strategy::Registry with_external(const strategy::Registry& registry, std::shared_ptr<ExternalLink> link) {
  strategy::Registry out;
  for (const auto& r : registry.all())
    if (r.name != kExternalStrategyName) out.add(r);
  out.add(external_registration(std::move(link)));
  return out;
}

}  // namespace services
