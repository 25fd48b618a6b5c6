/// @file ops_http.hpp
/// @brief The Ops API over HTTP (docs/openapi.json), served by ops beside its health and
/// metrics: an authenticated gateway to the same operations over NATS.
///
/// Every call needs a person's credentials (HTTP Basic: the user and password of their
/// NATS identity, pkg/auth: `operator` by default). The call is then made on NATS *as that
/// person*: ops opens (and keeps for a while) a connection with those credentials, so
/// nats-server checks them, the person's own permissions apply (no more, no less than
/// `nats req` would give them), and every state-changing call reaches risk-state as
/// risk.management.by.<user>: the event store records who made it. Worker and tool
/// identities (auth::worker_names, admin, replay, desk-replay) are refused.
///
/// | call | NATS | answer |
/// |---|---|---|
/// | GET /status | request ops.status | 200: the stack's status (core::OpsStatus) |
/// | GET /report | request ops.report | 200: the reporter's report (core::PerformanceReport) |
/// | POST /halt, /reduce, /resume | request risk.management: trading_state.set | 200: risk.state (core::RiskStateChanged); 422: risk-state's dead letter |
/// | GET /risk/policy | (the event store: the newest risk.policy) | 200: risk.policy (core::RiskPolicyChanged); 404 none yet |
/// | PUT /risk/policy | request risk.management: risk.policy.set with the body's defaults, per_symbol, reason | 200: risk.policy; 422: risk-state's dead letter, naming the field |
/// | GET /sessions | (the event store) | 200: {"sessions": [...]} every live session |
/// | GET /sessions/{id} | (the event store) | 200: the session's summary and events by type; 404 unknown |
/// | GET /sessions/{id}/report | (the event store) | 200: its newest performance.report; 404 none |
///
/// Body of POST: none, or a JSON object {"reason": string of at most 1,000 bytes}. Body of
/// PUT /risk/policy: a JSON object with any of "defaults", "per_symbol", "reason", as in a
/// risk.policy.set command (PATCH semantics, docs/trading-rules.md); risk-state checks them.
/// The store calls need the `database_url` setting (the reader's); without it they answer 503.
/// Errors: JSON {"error": text, "field": the field at fault ("" if none)}: 400 a bad
/// body (the field named), 401 no or bad credentials (with WWW-Authenticate), 403 an
/// identity that is not a person's, 502 NATS unreachable, 504 no answer in 5 s.
/// A state-changing call (POST, PUT) that a browser sends from another site (an Origin
/// header that is not this server's own) is refused with 403 before anything else: a
/// browser that holds a person's Basic credentials for the dashboard would otherwise send
/// them along with another site's form (cross-site request forgery).
///
/// Thread-safety: the handlers run on the HTTP server's threads; the connection cache is
/// locked.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "eventstore/event_store.hpp"
#include "natsio/natsio.hpp"
#include "obs/http_server.hpp"
#include "workers/bus.hpp"
#include "workers/runtime.hpp"

namespace services {

class OpsHttpApi {
 public:
  /// `nats_url`: the server's URL (ops's own; its credentials are dropped).
  /// `database_url`: the event store as the reader ("" = none: the store calls answer 503).
  OpsHttpApi(const std::string& nats_url, std::string database_url);
  ~OpsHttpApi();
  OpsHttpApi(const OpsHttpApi&) = delete;
  OpsHttpApi& operator=(const OpsHttpApi&) = delete;
  /// The routes, for obs::HttpServer; they use this object, which must outlive the server.
  std::vector<obs::HttpServer::Route> routes();
  /// The response that refuses `req` (no or bad credentials: 401, a service's identity:
  /// 403, NATS unreachable: 502), or nullopt: a person's credentials, as nats-server
  /// checked them. For other routes that need a person (the dashboard). Thread-safe.
  std::optional<obs::HttpResponse> refusal(const obs::HttpRequest& req);

  /// The event store's answers behind GET /risk/policy, /sessions, /sessions/{id} and
  /// /sessions/{id}/report, with no caller to authenticate: for OpsNatsQueries, where
  /// nats-server's permissions decided who may ask. 200 with the JSON body, 404 naming the
  /// field, 503 without a store (or while it is unavailable). Thread-safe (one store
  /// connection, used under a lock).
  obs::HttpResponse policy_in_force();
  obs::HttpResponse sessions_list();
  /// `report`: the session's newest performance report instead of its summary.
  obs::HttpResponse session_summary(const std::string& id, bool report);

 private:
  struct Caller;
  /// The caller's connection, or the response that refuses the call.
  struct Authed;
  Authed authenticate(const obs::HttpRequest& req);
  /// A request on NATS as the authenticated caller `a`; its answer (a dead letter: 422).
  obs::HttpResponse request(const Authed& a, const std::string& subject, const std::string& payload);
  /// GET of a NATS request without a body (ops.status, ops.report).
  obs::HttpResponse ask(const obs::HttpRequest& req, const std::string& subject);
  obs::HttpResponse set_state(const obs::HttpRequest& req, std::string_view state);
  obs::HttpResponse put_policy(const obs::HttpRequest& req);
  /// Runs `f` on the store (opened on first use, again after a failure). 503 without one.
  template <class F>
  obs::HttpResponse with_store(F&& f);

  std::string url_;
  std::string database_url_;
  std::mutex store_mu_;
  std::unique_ptr<eventstore::PgStore> store_;  ///< under store_mu_
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Caller>> callers_;  ///< by user
};

/// The Ops API's event-store queries over NATS request-reply, beside the HTTP routes (the
/// other operations are NATS requests already: ops.status, ops.report, and risk.management
/// for halt, reduce, resume and risk.policy.set, which risk-state answers):
///   ops.risk.policy     (body ignored)               -> the risk.policy in force, as recorded
///   ops.sessions        (body ignored)               -> {"sessions":[...]}, as GET /sessions
///   ops.session         {"session_id":"ID"}          -> as GET /sessions/ID
///   ops.session.report  {"session_id":"ID"}          -> as GET /sessions/ID/report
/// Errors: a body that is not {"session_id": a session id} is refused as a dead letter
/// naming the field (on ops.dead_letter and as the reply); an unknown session or a store
/// that is down is answered with {"error": ..., "field": ...}. Who may ask is nats-server's
/// business (pkg/auth: people and ops). Handlers run on the subscriptions' threads.
class OpsNatsQueries {
 public:
  /// Subscribes; `rt` and `api` must outlive this object.
  OpsNatsQueries(Runtime& rt, OpsHttpApi& api);

 private:
  void on_request(const natsio::Message& m);
  Runtime& rt_;
  OpsHttpApi& api_;
  std::vector<std::unique_ptr<BusSubscription>> subs_;
};

}  // namespace services
