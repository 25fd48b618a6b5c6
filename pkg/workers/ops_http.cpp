#include "workers/ops_http.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <initializer_list>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <simdjson.h>

#include "auth/auth.hpp"
#include "codec/codec.hpp"
#include "core/enums.hpp"
#include "core/messages.hpp"
#include "subjects/subjects.hpp"
#include "workers/log_input.hpp"

namespace services {

namespace {

using Clock = std::chrono::steady_clock;
/// A caller's connection is kept this long after its last call.
constexpr auto kIdle = std::chrono::minutes(5);
constexpr std::int64_t kRequestTimeoutMs = 5'000;
constexpr std::size_t kMaxReason = 1'000;

obs::HttpResponse error(int status, std::string_view message, std::string_view field = {}) {
  std::string body = "{\"error\":";
  codec::append_json_string(body, message);
  body += ",\"field\":";
  codec::append_json_string(body, field);
  body += "}\n";
  obs::HttpResponse r{status, "application/json", std::move(body), {}};
  if (status == 401) r.headers["WWW-Authenticate"] = "Basic realm=\"trader ops\", charset=\"UTF-8\"";
  return r;
}

std::array<unsigned char, SHA256_DIGEST_LENGTH> sha256(std::string_view s) {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
  SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), out.data());
  return out;
}

/// "Basic <base64(user:password)>" -> (user, password); nullopt if it is not that.
std::optional<std::pair<std::string, std::string>> basic_credentials(const std::string& header) {
  constexpr std::string_view kScheme = "Basic ";
  if (header.size() <= kScheme.size() || header.size() > 1024) return std::nullopt;
  if (!std::equal(kScheme.begin(), kScheme.end(), header.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
    return std::nullopt;
  const std::string b64 = header.substr(kScheme.size());
  if (b64.size() % 4 != 0) return std::nullopt;
  std::string raw(b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()), static_cast<int>(b64.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts each '=' of the padding as a zero byte.
  const std::size_t pad = b64.ends_with("==") ? 2 : b64.ends_with("=") ? 1 : 0;
  if (static_cast<std::size_t>(n) < pad) return std::nullopt;
  raw.resize(static_cast<std::size_t>(n) - pad);
  const auto colon = raw.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  return std::pair{raw.substr(0, colon), raw.substr(colon + 1)};
}

/// A browser's request from another site: an Origin header (browsers send one with every
/// POST and PUT) other than this server's own, http://<Host> (https://<Host> behind a TLS
/// proxy that keeps the Host). curl and other clients send none.
bool cross_site(const obs::HttpRequest& req) {
  const auto origin = req.header("Origin");
  if (origin.empty()) return false;
  const auto host = req.header("Host");
  return origin != "http://" + host && origin != "https://" + host;
}

/// True for identities that are not a person's: every identity of a deployment without
/// people (the workers, the feed, admin, replay, desk-replay: pkg/auth).
bool is_service_identity(const std::string& user) {
  static const std::set<std::string> services = [] {
    std::set<std::string> out;
    for (const auto& id : auth::identities(auth::Deployment{.operators = {}})) out.insert(id.user);
    return out;
  }();
  return services.contains(user);
}

/// A request body that must be one JSON object with keys among `allowed` (the DOM parser
/// validates the whole text, trailing garbage included; a body is at most 8 KiB). `parser`
/// owns what the object views. An error names the field ("body" for the whole).
core::Result<simdjson::dom::object> body_object(simdjson::dom::parser& parser, const std::string& body,
                                                std::initializer_list<std::string_view> allowed) {
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc)) return core::make_error("body", "is not valid JSON");
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) return core::make_error("body", "must be a JSON object");
  for (const auto field : obj)
    if (std::find(allowed.begin(), allowed.end(), field.key) == allowed.end())
      return core::make_error(std::string(field.key.substr(0, 64)),
                              fmt::format("is not a field of this call ({})", fmt::join(allowed, ", ")));
  return obj;
}

/// The reason of a POST body: none, or {"reason": string}. An error names the field.
core::Result<std::string> reason_of(const std::string& body) {
  if (std::all_of(body.begin(), body.end(), [](unsigned char c) { return std::isspace(c); })) return std::string();
  simdjson::dom::parser parser;
  const auto obj = body_object(parser, body, {"reason"});
  if (!obj) return obj.error();
  std::string reason;
  for (const auto field : *obj) {
    std::string_view v;
    if (field.value.get_string().get(v)) return core::make_error("reason", "must be a string");
    if (v.size() > kMaxReason) return core::make_error("reason", fmt::format("is longer than {} bytes", kMaxReason));
    reason = std::string(v);
  }
  return reason;
}

/// The payload of the newest event `q` selects (nullopt: none). Reads them all, in pages:
/// what it is used for (risk.policy, a session's performance.report) is a handful of events.
std::optional<std::string> newest_payload(eventstore::EventStore& store, const eventstore::EventQuery& q) {
  std::optional<std::string> newest;
  auto reader = store.open_reader(q);
  for (auto page = reader->next(); !page.empty(); page = reader->next()) newest = std::move(page.back().payload);
  return newest;
}

/// A session's summary as JSON members (no braces): id, events, positions, market time span.
void append_session(std::string& body, const eventstore::SessionSummary& s) {
  body += "\"session_id\":";
  codec::append_json_string(body, s.session_id);
  body += fmt::format(",\"events\":{},\"first_position\":{},\"last_position\":{}", s.events, s.first_position,
                      s.last_position);
  if (s.first_ts_event) body += fmt::format(",\"first_ts_event\":{}", *s.first_ts_event);
  if (s.last_ts_event) body += fmt::format(",\"last_ts_event\":{}", *s.last_ts_event);
}

}  // namespace

struct OpsHttpApi::Caller {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> password_sha{};
  std::unique_ptr<natsio::Connection> conn;
  Clock::time_point last_used;
};

struct OpsHttpApi::Authed {
  std::shared_ptr<Caller> caller;  ///< null: refused
  std::string user;
  obs::HttpResponse refusal;
};

OpsHttpApi::OpsHttpApi(const std::string& nats_url, std::string database_url)
    : url_(natsio::url_without_credentials(nats_url)), database_url_(std::move(database_url)) {}
OpsHttpApi::~OpsHttpApi() = default;

std::optional<obs::HttpResponse> OpsHttpApi::refusal(const obs::HttpRequest& req) {
  auto a = authenticate(req);
  if (a.caller) return std::nullopt;
  return std::move(a.refusal);
}

OpsHttpApi::Authed OpsHttpApi::authenticate(const obs::HttpRequest& req) {
  if ((req.method == "POST" || req.method == "PUT") && cross_site(req))
    return {nullptr, "", error(403, "a state-changing call from another site's page is refused", "Origin")};
  const auto creds = basic_credentials(req.header("Authorization"));
  if (!creds) return {nullptr, "", error(401, "a person's credentials are needed (HTTP Basic: NATS user and password)")};
  const auto& [user, password] = *creds;
  if (is_service_identity(user))
    return {nullptr, user, error(403, fmt::format("{} is a service's identity, not a person's", user), "user")};
  const auto sha = sha256(password);
  std::lock_guard lock(mu_);
  for (auto it = callers_.begin(); it != callers_.end();)  // forget idle ones
    it = Clock::now() - it->second->last_used > kIdle ? callers_.erase(it) : std::next(it);
  if (const auto it = callers_.find(user); it != callers_.end() && it->second->password_sha == sha) {
    it->second->last_used = Clock::now();
    return {it->second, user, {}};
  }
  // A new caller, or another password: nats-server decides.
  auto c = std::make_shared<Caller>();
  try {
    c->conn = std::make_unique<natsio::Connection>(natsio::NatsConfig{.url = url_,
                                                                      .name = "ops-http:" + user,
                                                                      .max_reconnect = 5,
                                                                      .connect_retry_ms = 0,
                                                                      .user = user,
                                                                      .password = password});
  } catch (const natsio::NatsError& e) {
    const std::string what = e.what();
    if (what.find("Authorization") != std::string::npos || what.find("authorization") != std::string::npos ||
        what.find("NOT_PERMITTED") != std::string::npos || what.find("not permitted") != std::string::npos)
      return {nullptr, user, error(401, "bad user or password")};
    return {nullptr, user, error(502, "NATS is unreachable")};
  }
  c->password_sha = sha;
  c->last_used = Clock::now();
  if (callers_.size() >= 64) callers_.clear();  // a flood of users: start again
  callers_[user] = c;
  return {c, user, {}};
}

obs::HttpResponse OpsHttpApi::request(const Authed& a, const std::string& subject, const std::string& payload) {
  std::string reply;
  try {
    reply = a.caller->conn->request(subject, payload, kRequestTimeoutMs);
  } catch (const natsio::NatsError& e) {
    const std::string what = e.what();
    if (what.find("ermission") != std::string::npos)
      return error(403, fmt::format("{} may not ask {}", a.user, subject));
    if (what.find("no responders") != std::string::npos || what.find("No responders") != std::string::npos)
      return error(502, fmt::format("nobody answers {}", subject));
    return error(504, fmt::format("no answer on {} within {} ms", subject, kRequestTimeoutMs));
  }
  const auto env = codec::peek(reply);
  if (env && env->type == core::DeadLetter::kType) return obs::HttpResponse{422, "application/json", reply + "\n", {}};
  return obs::HttpResponse{200, "application/json", reply + "\n", {}};
}

obs::HttpResponse OpsHttpApi::ask(const obs::HttpRequest& req, const std::string& subject) {
  const auto a = authenticate(req);
  if (!a.caller) return a.refusal;
  return request(a, subject, "");
}

obs::HttpResponse OpsHttpApi::set_state(const obs::HttpRequest& req, std::string_view state) {
  const auto a = authenticate(req);
  if (!a.caller) return a.refusal;  // before anything is said about the body
  const auto reason = reason_of(req.body);
  if (!reason) return error(400, reason.error().message, reason.error().field);
  const auto st = core::parse_trading_state(state);
  const core::SetTradingState cmd{.trading_state = *st,
                                  .reason = reason->empty() ? std::string("ops HTTP API") : *reason};
  return request(a, std::string(subjects::kRiskManagement), codec::encode(cmd));
}

template <class F>
obs::HttpResponse OpsHttpApi::with_store(F&& f) {
  if (database_url_.empty()) return error(503, "ops has no event store (database_url)");
  std::lock_guard lock(store_mu_);
  try {
    if (!store_) store_ = std::make_unique<eventstore::PgStore>(database_url_);
    return f(*store_);
  } catch (const eventstore::StoreUnavailable&) {
    store_.reset();
    return error(503, "the event store is unavailable");
  }
}

obs::HttpResponse OpsHttpApi::policy_in_force() {
  return with_store([&](eventstore::PgStore& store) {
    const auto newest = newest_payload(store, {.type = std::string(core::RiskPolicyChanged::kType)});
    if (!newest) return error(404, "no risk.policy recorded yet (risk-state publishes one when it starts)");
    return obs::HttpResponse{200, "application/json", *newest + "\n", {}};
  });
}

obs::HttpResponse OpsHttpApi::put_policy(const obs::HttpRequest& req) {
  const auto a = authenticate(req);
  if (!a.caller) return a.refusal;  // before anything is said about the body
  // The body: a JSON object with only the fields of risk.policy.set a person sets.
  simdjson::dom::parser parser;
  const auto obj = body_object(parser, req.body, {"defaults", "per_symbol", "per_strategy", "reason"});
  if (!obj) return error(400, obj.error().message, obj.error().field);
  // risk.policy.set with those fields: the body's object, after the type and version.
  std::string cmd = R"({"type":"risk.policy.set","v":1)";
  const auto inner = simdjson::minify(*obj);
  if (inner.size() > 2) cmd += "," + inner.substr(1);
  else cmd += "}";
  return request(a, std::string(subjects::kRiskManagement), cmd);
}

obs::HttpResponse OpsHttpApi::sessions_list() {
  return with_store([&](eventstore::PgStore& store) {
    std::string body = "{\"sessions\":[";
    bool first = true;
    for (const auto& s : store.sessions()) {
      body += first ? "{" : ",{";
      first = false;
      append_session(body, s);
      body += '}';
    }
    body += "]}\n";
    return obs::HttpResponse{200, "application/json", std::move(body), {}};
  });
}

obs::HttpResponse OpsHttpApi::session_summary(const std::string& id, bool report) {
  return with_store([&](eventstore::PgStore& store) {
    if (report) {
      const auto newest =
          newest_payload(store, {.session_id = id, .type = std::string(core::PerformanceReport::kReportType)});
      if (!newest) return error(404, fmt::format("session {} holds no performance report", id), "id");
      return obs::HttpResponse{200, "application/json", *newest + "\n", {}};
    }
    for (const auto& s : store.sessions()) {
      if (s.session_id != id) continue;
      std::string body = "{";
      append_session(body, s);
      body += ",\"events_by_type\":{";
      bool first = true;
      for (const auto& [type, n] : store.count_by_type(id)) {
        if (!first) body += ',';
        first = false;
        codec::append_json_string(body, type);
        body += fmt::format(":{}", n);
      }
      body += "}}\n";
      return obs::HttpResponse{200, "application/json", std::move(body), {}};
    }
    return error(404, fmt::format("no session {} in the live store", id), "id");
  });
}

std::vector<obs::HttpServer::Route> OpsHttpApi::routes() {
  // The store reads: a person's credentials first, then the same query as over NATS.
  const auto read = [this](auto query) {
    return [this, query](const obs::HttpRequest& r) {
      if (auto refused = refusal(r)) return std::move(*refused);
      return query(r);
    };
  };
  const auto id = [](const obs::HttpRequest& r) { return r.matches.size() > 1 ? r.matches[1] : std::string(); };
  return {
      {"GET", "/status", [this](const obs::HttpRequest& r) { return ask(r, std::string(subjects::kOpsStatus)); }},
      {"GET", "/report", [this](const obs::HttpRequest& r) { return ask(r, std::string(subjects::kOpsReport)); }},
      {"POST", "/halt", [this](const obs::HttpRequest& r) { return set_state(r, "halted"); }},
      {"POST", "/reduce", [this](const obs::HttpRequest& r) { return set_state(r, "reducing"); }},
      {"POST", "/resume", [this](const obs::HttpRequest& r) { return set_state(r, "active"); }},
      {"GET", "/risk/policy", read([this](const obs::HttpRequest&) { return policy_in_force(); })},
      {"PUT", "/risk/policy", [this](const obs::HttpRequest& r) { return put_policy(r); }},
      {"GET", "/sessions", read([this](const obs::HttpRequest&) { return sessions_list(); })},
      // A session id: 1-128 characters of A-Z a-z 0-9 _ . : - (subjects::is_valid_session_id).
      {"GET", R"(/sessions/([A-Za-z0-9_.:-]{1,128}))", read([this, id](const obs::HttpRequest& r) { return session_summary(id(r), false); })},
      {"GET", R"(/sessions/([A-Za-z0-9_.:-]{1,128})/report)", read([this, id](const obs::HttpRequest& r) { return session_summary(id(r), true); })},
  };
}

// ---------------------------------------------------------------- over NATS

OpsNatsQueries::OpsNatsQueries(Runtime& rt, OpsHttpApi& api) : rt_(rt), api_(api) {
  for (const auto subject : {subjects::kOpsRiskPolicy, subjects::kOpsSessions, subjects::kOpsSession,
                             subjects::kOpsSessionReport})
    subs_.push_back(sub(rt_, subject, [this](const natsio::Message& m) { on_request(m); }));
}

void OpsNatsQueries::on_request(const natsio::Message& m) {
  rt_.count_in();
  const auto answer = [&](const obs::HttpResponse& r) {
    // 200: the same JSON as over HTTP; else its error ({"error", "field"}).
    std::string body = r.body;
    while (!body.empty() && body.back() == '\n') body.pop_back();
    rt_.reply(m.reply, body);
  };
  if (m.subject == subjects::kOpsRiskPolicy) return answer(api_.policy_in_force());
  if (m.subject == subjects::kOpsSessions) return answer(api_.sessions_list());
  // ops.session and ops.session.report: {"session_id":"..."}.
  simdjson::dom::parser parser;
  if (m.data.size() > 8 * 1024) return rt_.refuse(m, core::Error{"body", "is longer than 8 KiB"});  // as over HTTP
  const std::string body(m.data);
  const auto obj = body_object(parser, body, {"session_id"});
  if (!obj) return rt_.refuse(m, obj.error());
  std::string_view id;
  if ((*obj)["session_id"].get_string().get(id))
    return rt_.refuse(m, core::Error{"session_id", "is required: a session id string"});
  if (!subjects::is_valid_session_id(id))
    return rt_.refuse(m, core::Error{"session_id", "is not a session id (1-128 characters from A-Z a-z 0-9 _ . : -)"});
  answer(api_.session_summary(std::string(id), m.subject == subjects::kOpsSessionReport));
}

}  // namespace services
