// The HTTP API server: route table, JSON codec, authentication, rate limiting, error mapping,
// metrics, access log and the OpenAPI document. See http/server.h.
#include "http/server.h"

#include <fcntl.h>
#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "core/ids.h"
#include "core/text.h"
#include "core/utc_time.h"
#include "http/pages.h"
#include "http/transport.h"
#include "journal/witness.h"
#include "link/link_client.h"
#include "report/aef_builder.h"
#include "report/authorization_copy.h"
#include "report/regular_info.h"
#include "report/statistics.h"
#include "service/access.h"
#include "service/adjustments.h"
#include "service/article6_hooks.h"
#include "service/confidentiality.h"
#include "service/due.h"
#include "service/fields.h"
#include "service/json_text.h"
#include "service/ledger_write.h"
#include "service/link.h"
#include "service/proposal.h"
#include "service/queries.h"
#include "service/writer.h"
#include "web/web_assets.h"

namespace registry::http {
namespace {

using service::DumpJsonLossy;
using service::Principal;

// Who may call a route, decided in one place (Server::Impl::Authorized) before any handler runs.
enum class Access {
  kPublic,         // Anyone; a token, if given, must be valid.
  kToken,          // Any authenticated user (reads of non-public data, filtered per item).
  kAccount,        // A user whose scope covers the account {id} of the path.
  kWholeRegistry,  // A user of scope * (what covers every account: the journal, verify).
  kWrite,          // A write: authenticated, body is a JSON object; who may run its command is
                   // service::Authorize's (Write), for resource and generic routes alike.
};

struct Reply;

// A write a route hands to the writer (Server::Impl::Write): Serve queues it and answers once
// its batch is durable, on a worker, without a thread waiting meanwhile.
struct PendingWrite {
  service::Request request;
  int ok_status = 200;
  std::function<void(Reply&)> then;  // Adds to the answer (user.add: the token); may be empty.
};

struct Reply {
  int status = 200;
  Json body;
  std::string content_type = "application/json";
  std::string text;  // Used instead of body when content_type is not JSON.
  std::optional<Check> check;
  std::string report_cache = {};  // A public report's X-Report-Cache: "hit" or "miss".
  // A file to save (an AEF, a CSV): sent as Content-Disposition: attachment with this name, so
  // that a browser saves it (a plain link or a form with the script off) instead of showing it.
  std::string filename = {};
  std::optional<PendingWrite> write = {};  // Set: the answer is the write's, once durable.
};

Reply ErrorReply(Check check, const std::string& message) {
  const CheckInfo& info = InfoOf(check);
  Reply reply;
  reply.status = info.http_status;
  reply.check = check;
  reply.body = {{"code", CodeOf(check)},
                {"check", std::string(info.name)},
                {"message", message},
                {"rule", std::string(info.rule)}};
  return reply;
}

Reply FailureReply(const service::Failure& failure) {
  if (failure.refusal) return ErrorReply(failure.refusal->check, failure.refusal->message);
  const bool transient =
      failure.error->code == ErrorCode::kConflict || failure.error->code == ErrorCode::kUnavailable;
  return ErrorReply(transient ? Check::kStorageUnavailable : Check::kInternalError,
                    failure.error->message);
}

Reply FromResult(const service::CommandResult<Json>& result) {
  if (!result) return FailureReply(result.error());
  Reply reply;
  reply.body = *result;
  return reply;
}

struct Call {
  const httplib::Request& req;
  std::vector<std::string> params;  // Path parameters in order.
  std::optional<Principal> who;
  Json body;  // kWrite only: the parsed object.
  // The request's read snapshot (Server::Impl::Snapshot): opened to authenticate and kept for
  // the checks a write makes before it is queued (scope, the proposal decided), so they all see
  // one moment and the request opens one read transaction, not two or three. Ended before a
  // write is queued for the writer, and before any other handler runs (reads open their own).
  std::unique_ptr<Transaction> snapshot;
};

// A query parameter a route takes ("?party=JPN"); any other is refused (JCM-106).
struct QueryParam {
  std::string name;
  bool required = false;
};

struct Route {
  std::string method;
  std::string path;  // OpenAPI template.
  Access access;
  std::string summary;
  std::function<Reply(Call&)> handle;
  std::vector<QueryParam> query;
  std::string command;                  // A command route's command: its body's fields.
  std::vector<std::string> path_fields;  // ... less those the path gives.
  bool report = false;  // Builds a report from the whole history: one of report_builds_max.
};

// A write in the writer's queue: what its answer needs once the writer has run it.
struct QueuedWrite {
  const Route* route;
  DeferredAnswer answer;
  PendingWrite write;  // Its request moved to the writer.
  std::chrono::steady_clock::time_point start;
  std::string actor;
};

// A route's path template ("/v1/accounts/{id}/holdings") split at '/': literal segments, and
// parameter segments ("{id}") that match any one non-empty segment. A request's path is compared
// segment by segment; the std::regex each route was before took ~1% of a four-eyes transfer's
// CPU over HTTP, tried route after route.
class PathPattern {
 public:
  explicit PathPattern(std::string_view path) {
    for (size_t at = 0;;) {
      const size_t slash = path.find('/', at);
      const std::string_view segment = path.substr(at, slash - at);
      const bool param = segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
      segments_.emplace_back(param ? std::string_view() : segment);
      param_.push_back(param);
      if (param) names_.emplace_back(segment.substr(1, segment.size() - 2));
      if (slash == std::string_view::npos) break;
      at = slash + 1;
    }
  }

  // The parameters' names in order ("id" for "{id}"), as the OpenAPI document lists them.
  const std::vector<std::string>& names() const { return names_; }

  // True when `path` matches; `params` then holds the parameters' segments in order.
  bool Match(std::string_view path, std::vector<std::string>& params) const {
    params.clear();
    size_t at = 0;
    for (size_t i = 0; i < segments_.size(); ++i) {
      const size_t slash = path.find('/', at);
      const bool last = i + 1 == segments_.size();
      if (last != (slash == std::string_view::npos)) return false;  // More or fewer segments.
      const std::string_view segment = path.substr(at, slash - at);
      if (param_[i] ? segment.empty() : segment != segments_[i]) return false;
      if (param_[i]) params.emplace_back(segment);
      at = slash + 1;  // Not read after the last segment.
    }
    return true;
  }

 private:
  std::vector<std::string> segments_;  // Empty for a parameter.
  std::vector<bool> param_;
  std::vector<std::string> names_;
};

std::optional<int64_t> ParseInt(const std::string& text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

// A token bucket per client.
class RateLimiter {
 public:
  RateLimiter(double per_second, double burst) : per_second_(per_second), burst_(burst) {}
  bool Allow(const std::string& client) {
    if (per_second_ <= 0) return true;
    const double now = std::chrono::duration<double>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
    std::lock_guard<std::mutex> lock(mu_);
    if (buckets_.size() > kClientsMax) buckets_.clear();  // Bounded memory; forgets old clients.
    auto [it, inserted] = buckets_.try_emplace(client, Bucket{burst_, now});
    Bucket& b = it->second;
    if (!inserted) {
      b.tokens = std::min(burst_, b.tokens + (now - b.last) * per_second_);
      b.last = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

 private:
  static constexpr size_t kClientsMax = 100000;
  struct Bucket {
    double tokens;
    double last;
  };
  double per_second_;
  double burst_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

// Public answers of report routes, each valid while the journal head is where it was when its
// build began: everything a report shows changes only by a journal entry (no report reads the
// clock), and on PostgreSQL the head is read from the shared primary, so an answer cached by one
// server is dropped when another writes. Anonymous callers only: a token may see what the
// public does not (R-REP-07). Bounded in bytes, oldest first out.
class ReportCache {
 public:
  explicit ReportCache(size_t bytes_max) : bytes_max_(bytes_max) {}

  std::optional<Reply> Find(const std::string& target, int64_t sequence) {
    std::lock_guard<std::mutex> lock(mu_);
    const auto it = entries_.find(target);
    if (it == entries_.end() || it->second.sequence != sequence) return std::nullopt;
    return it->second.reply;
  }

  void Put(const std::string& target, int64_t sequence, const Reply& reply) {
    const size_t bytes = target.size() + reply.text.size() +
                         (reply.body.is_null() ? 0 : DumpJsonLossy(reply.body).size());
    if (bytes > bytes_max_ / 4) return;  // One answer may not push out all the others.
    std::lock_guard<std::mutex> lock(mu_);
    Drop(target);
    while (bytes_ + bytes > bytes_max_ && !order_.empty()) Drop(order_.front());
    entries_.emplace(target, Entry{sequence, reply, bytes});
    order_.push_back(target);
    bytes_ += bytes;
  }

 private:
  struct Entry {
    int64_t sequence;
    Reply reply;
    size_t bytes;
  };
  void Drop(const std::string& target) {  // Needs mu_.
    const auto it = entries_.find(target);
    if (it == entries_.end()) return;
    bytes_ -= it->second.bytes;
    entries_.erase(it);
    order_.erase(std::find(order_.begin(), order_.end(), target));
  }

  std::mutex mu_;
  std::map<std::string, Entry> entries_;
  std::deque<std::string> order_;  // Targets, oldest first.
  size_t bytes_ = 0;
  const size_t bytes_max_;
};

// Counters for /metrics.
class Metrics {
 public:
  void Record(const std::string& method, const std::string& route, int status, double seconds,
              std::optional<Check> check) {
    std::lock_guard<std::mutex> lock(mu_);
    const std::string key = method + " " + route;
    ++requests_[{key, status}];
    auto& l = latency_[key];
    l.first += seconds;
    ++l.second;
    if (check) ++refusals_[*check];
  }
  std::string Render(int64_t sequence, const service::WriterStats& w, const Transport* t) const {
    const size_t connections = t != nullptr ? t->Connections() : 0;
    std::lock_guard<std::mutex> lock(mu_);
    std::string out;
    out += "# HELP jcm_http_requests_total HTTP requests by route and status.\n";
    out += "# TYPE jcm_http_requests_total counter\n";
    for (const auto& [k, n] : requests_) {
      const auto space = k.first.find(' ');
      out += "jcm_http_requests_total{method=\"" + k.first.substr(0, space) + "\",route=\"" +
             k.first.substr(space + 1) + "\",status=\"" + std::to_string(k.second) + "\"} " +
             std::to_string(n) + "\n";
    }
    out += "# HELP jcm_http_request_seconds Time spent answering, by route.\n";
    out += "# TYPE jcm_http_request_seconds summary\n";
    for (const auto& [k, l] : latency_) {
      const auto space = k.find(' ');
      const std::string labels =
          "{method=\"" + k.substr(0, space) + "\",route=\"" + k.substr(space + 1) + "\"}";
      out += "jcm_http_request_seconds_sum" + labels + " " + std::to_string(l.first) + "\n";
      out += "jcm_http_request_seconds_count" + labels + " " + std::to_string(l.second) + "\n";
    }
    out += "# HELP jcm_refusals_total Refusals by check.\n# TYPE jcm_refusals_total counter\n";
    for (const auto& [check, n] : refusals_) {
      out += "jcm_refusals_total{code=\"" + CodeOf(check) + "\",check=\"" +
             std::string(InfoOf(check).name) + "\"} " + std::to_string(n) + "\n";
    }
    out += "# HELP jcm_journal_sequence The last journal sequence.\n";
    out += "# TYPE jcm_journal_sequence gauge\njcm_journal_sequence " + std::to_string(sequence) +
           "\n";
    out += "# HELP jcm_writer_batch_size Requests per group-commit batch.\n";
    out += "# TYPE jcm_writer_batch_size histogram\n";
    for (size_t i = 0; i < service::kBatchBuckets.size(); ++i) {
      out += "jcm_writer_batch_size_bucket{le=\"" + std::to_string(service::kBatchBuckets[i]) +
             "\"} " + std::to_string(w.batch_size_buckets[i]) + "\n";
    }
    out += "jcm_writer_batch_size_bucket{le=\"+Inf\"} " + std::to_string(w.batches) + "\n";
    out += "jcm_writer_batch_size_sum " + std::to_string(w.requests) + "\n";
    out += "jcm_writer_batch_size_count " + std::to_string(w.batches) + "\n";
    out += "# TYPE jcm_writer_queue_length gauge\njcm_writer_queue_length " +
           std::to_string(w.queued) + "\n";
    out += "# TYPE jcm_writer_overloaded_total counter\njcm_writer_overloaded_total " +
           std::to_string(w.overloaded) + "\n";
    out += "# HELP jcm_http_connections Open HTTP connections.\n";
    out += "# TYPE jcm_http_connections gauge\njcm_http_connections " +
           std::to_string(connections) + "\n";
    out +=
        "# HELP jcm_http_connections_evicted_total Waiting connections closed to make room "
        "(connection limits).\n";
    out +=
        "# TYPE jcm_http_connections_evicted_total counter\njcm_http_connections_evicted_total " +
        std::to_string(t != nullptr ? t->Evicted() : 0) + "\n";
    out +=
        "# HELP jcm_http_handler_failures_total Requests answered 500 because their handler "
        "threw (a bug: see the log).\n";
    out += "# TYPE jcm_http_handler_failures_total counter\njcm_http_handler_failures_total " +
           std::to_string(t != nullptr ? t->HandlerFailures() : 0) + "\n";
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, std::pair<double, uint64_t>> latency_;
  std::map<Check, uint64_t> refusals_;
};

std::string BearerToken(const httplib::Request& req) {
  const std::string header = req.get_header_value("Authorization");
  static constexpr std::string_view kBearer = "Bearer ";
  if (header.compare(0, kBearer.size(), kBearer) != 0) return "";
  return header.substr(kBearer.size());
}

// Document kinds anyone may read (DOMAIN R-JP-07: what the public registry pages show).
bool IsPublicKind(const std::string& kind) {
  static const char* const kPublic[] = {"party",          "registry",      "entity",
                                        "project",        "authorization", "cooperative_approach",
                                        "jc_decision",    "methodology",   "issuance_decision",
                                        "annual_summary", "project_cycle"};
  for (const char* k : kPublic) {
    if (kind == k) return true;
  }
  return false;
}

// The kinds served by /v1/documents: the public ones and those a token reads. Any other
// (credentials, internal counters, a misspelt kind) is 404: an unknown kind answered 200 with an
// empty list, which read as "none exist".
bool IsSecretKind(const std::string& kind) {
  if (IsPublicKind(kind)) return false;
  static const char* const kPrivate[] = {"proposal", "confidentiality", "initial_report",
                                         "ndc",      "nomenclature",    "allocation_form"};
  for (const char* k : kPrivate) {
    if (kind == k) return false;
  }
  return true;
}

// What a token reads is its own: no cache on the way (a proxy, the browser's disk) keeps it.
void NoStoreIfToken(const httplib::Request& req, httplib::Response& res) {
  if (req.has_header("Authorization")) res.set_header("Cache-Control", "no-store");
}

}  // namespace

struct Server::Impl {
  Store& store;
  service::Registry& registry;
  ServerOptions options;
  service::Writer writer;
  std::unique_ptr<Transport> transport;
  std::vector<PathPattern> route_patterns;  // routes[i]'s path.
  RateLimiter limiter;
  service::AccessCache access_cache;  // Who each token is, while no user or token changes.
  Metrics metrics;
  std::atomic<size_t> report_builds{0};  // Report routes running now (BuildReportInSlot).
  ReportCache report_cache{options.report_cache_bytes};
  std::vector<Route> routes;
  std::mutex log_mu;
  // The finishing of the answers of the writer's current batch, posted to the workers together
  // when the batch is answered (Writer::SetBatchAnswered). Only the writer's thread touches it
  // (or Writer::Stop's, once that thread has ended).
  std::vector<std::function<void()>> answered;

  Impl(Store& s, service::Registry& r, ServerOptions o)
      : store(s),
        registry(r),
        options(std::move(o)),
        writer(r, options.writer_queue_max),
        limiter(options.rate_per_second, options.rate_burst) {
    BuildRoutes();
    writer.SetBatchAnswered([this] {
      transport->PostAll(std::move(answered));
      answered.clear();  // Moved from: empty it for the next batch.
    });
  }

  // ---- Plumbing.

  StoreResult<Transaction*> Snapshot(Call& call) {
    if (!call.snapshot) {
      auto tx = store.BeginRead();
      if (!tx) return Fail(tx.error());
      call.snapshot = std::move(*tx);
    }
    return call.snapshot.get();
  }

  StoreResult<std::optional<Principal>> Authenticate(Call& call, const std::string& token) {
    auto tx = Snapshot(call);
    if (!tx) return Fail(tx.error());
    return access_cache.Authenticate(**tx, token);
  }

  void Log(const httplib::Request& req, int status, double seconds, const std::string& actor,
           std::optional<Check> check) {
    if (!options.access_log) return;
    Json line = {{"time", service::SystemClock().Now()},
                 {"method", req.method},
                 {"path", req.path},
                 {"status", status},
                 {"ms", static_cast<int64_t>(seconds * 1000000) / 1000.0},
                 {"remote", req.remote_addr},
                 {"actor", actor}};
    if (check) line["check"] = CodeOf(*check);
    std::lock_guard<std::mutex> lock(log_mu);
    std::cerr << DumpJsonLossy(line) << "\n";
  }

  // A refusal naming the first query parameter `route` does not take: a misspelt one
  // (?asof= for ?as_of=) would otherwise be ignored and the answer be for something else.
  static std::optional<Reply> UnknownQuery(const Route& route, const httplib::Request& req) {
    // The URL's own query string, parsed again here so that this check does not depend on
    // what the transport put in req.params.
    const size_t mark = req.target.find('?');
    if (mark == std::string::npos) return std::nullopt;
    httplib::Params query;
    httplib::detail::parse_query_text(req.target.substr(mark + 1), query);
    for (const auto& [name, value] : query) {
      static_cast<void>(value);
      const bool known = std::any_of(route.query.begin(), route.query.end(),
                                     [&name = name](const QueryParam& q) { return q.name == name; });
      if (known) continue;
      std::string takes;
      for (const QueryParam& q : route.query) takes += (takes.empty() ? "" : ", ") + q.name;
      return ErrorReply(Check::kUnknownField,
                        route.method + " " + route.path + " takes no query parameter '" + name +
                            "' (" + (takes.empty() ? "it takes none" : "its parameters: " + takes) +
                            ")");
    }
    return std::nullopt;
  }

  Reply Dispatch(const Route& route, const httplib::Request& req, std::vector<std::string> params,
                 std::string& actor) {
    if (auto unknown = UnknownQuery(route, req)) return *unknown;
    Call call{req, std::move(params), std::nullopt, nullptr, nullptr};
    const std::string token = BearerToken(req);
    if (!token.empty() || req.has_header("Authorization")) {
      auto who = Authenticate(call, token);
      if (!who) return FailureReply(service::Failure::Of(who.error()));
      if (!who->has_value()) {
        return ErrorReply(Check::kUnauthenticated,
                          "the Authorization header does not carry a valid API token");
      }
      call.who = **who;
      actor = call.who->name;
    }
    if (!limiter.Allow(call.who ? "user:" + call.who->name : "addr:" + req.remote_addr)) {
      return ErrorReply(Check::kRateLimited, "too many requests; slow down and retry");
    }
    if (auto refused = Authorized(route, call)) return *refused;
    if (route.access == Access::kWrite) {
      if (req.body.size() > kRequestBodyBytesMax) {
        return ErrorReply(Check::kRequestTooLarge,
                          "the body is larger than " + std::to_string(kRequestBodyBytesMax) +
                              " bytes");
      }
      // Strictly: no duplicate keys, NUL, BOM or invalid UTF-8 (service::ParseRequestJson).
      if (!req.body.empty()) {
        auto body = service::ParseRequestJson(req.body);
        if (!body) return ErrorReply(body.error().check, "the body: " + body.error().message);
        call.body = std::move(*body);
      } else {
        call.body = Json::object();
      }
      if (!call.body.is_object()) {
        return ErrorReply(Check::kMalformedRequest, "the body must be a JSON object");
      }
    } else {
      call.snapshot.reset();  // A read opens its own snapshots.
    }
    if (route.report) return BuildReport(route, call);
    return route.handle(call);
  }

  // The route's Access for the caller: nullopt when it may go on (a write's command is then
  // authorized by Write, with its arguments).
  std::optional<Reply> Authorized(const Route& route, Call& call) {
    if (route.access == Access::kPublic) return std::nullopt;
    if (!call.who) {
      return ErrorReply(Check::kUnauthenticated,
                        "this route needs an API token: Authorization: Bearer TOKEN");
    }
    if (route.access == Access::kWholeRegistry && call.who->scope != "*") {
      return ErrorReply(Check::kForbidden,
                        route.path + " covers every account: it needs a token of scope * (user " +
                            call.who->name + " has scope " + call.who->scope + ")");
    }
    if (route.access == Access::kAccount) {
      const auto id = ParseInt(call.params.at(0));
      if (!id) return ErrorReply(Check::kFieldInvalid, "account id must be a positive integer");
      auto tx = Snapshot(call);
      if (!tx) return FailureReply(service::Failure::Of(tx.error()));
      auto covered = service::ScopeCoversAccount(**tx, *call.who, AccountId{*id});
      if (!covered) return FailureReply(service::Failure::Of(covered.error()));
      if (!*covered) {
        return ErrorReply(Check::kForbidden, "account " + std::to_string(*id) +
                                                 " is outside the scope " + call.who->scope +
                                                 " of user " + call.who->name);
      }
    }
    return std::nullopt;
  }

  // An anonymous caller's answer comes from the report cache while the journal head has not
  // moved, without a slot; other answers are built in one.
  Reply BuildReport(const Route& route, Call& call) {
    const bool cacheable = !call.who && options.report_cache_bytes > 0;
    const int64_t sequence = cacheable ? JournalSequence() : -1;
    if (sequence >= 0) {
      if (auto hit = report_cache.Find(call.req.target, sequence)) {
        hit->report_cache = "hit";
        return *hit;
      }
    }
    Reply reply = BuildReportInSlot(route, call);
    if (sequence >= 0 && reply.status == 200) {
      report_cache.Put(call.req.target, sequence, reply);
      reply.report_cache = "miss";
    }
    return reply;
  }

  // Runs a report route in one of report_builds_max slots, or refuses at once when all are taken
  // (waiting would hold this HTTP thread, which is what the limit is for).
  Reply BuildReportInSlot(const Route& route, Call& call) {
    if (report_builds.fetch_add(1) >= options.report_builds_max) {
      report_builds.fetch_sub(1);
      const std::string n = std::to_string(options.report_builds_max);
      return ErrorReply(Check::kOverloaded, "reports are being built in all " + n +
                                                " report slots (jcmreg serve --report-builds " +
                                                n + "); retry in a moment");
    }
    struct Release {
      std::atomic<size_t>& n;
      ~Release() { n.fetch_sub(1); }
    } release{report_builds};
    if (options.report_build_hook) options.report_build_hook();
    return route.handle(call);
  }

  // Routes a request from the transport: the first route whose method and path pattern match
  // (a HEAD as its GET; the transport sends no body), then the portal's files; else 404.
  void Handle(httplib::Request& req, httplib::Response& res, Deferral& deferral) {
    const bool get = req.method == "GET" || req.method == "HEAD";
    static const std::string kGet = "GET";
    const std::string& method = get ? kGet : req.method;
    std::vector<std::string> params;
    for (size_t i = 0; i < routes.size(); ++i) {
      if (routes[i].method != method) continue;
      if (route_patterns[i].Match(req.path, params)) {
        Serve(routes[i], req, std::move(params), res, deferral);
        return;
      }
    }
    // The portal's public pages rendered here (http/pages.h), readable without the script.
    if (get && pages::IsPagePath(req.path)) {
      ServePage(req, res);
      return;
    }
    // The portal: static files embedded at build time (src/web), served at / with no token.
    if (const web::WebAsset* asset = get ? web::FindWebAsset(req.path) : nullptr) {
      res.status = 200;
      res.set_header("Cache-Control", "no-cache");
      res.set_content(std::string(asset->body), std::string(asset->content_type).c_str());
      return;
    }
    TransportError(req, {404, false, "no route " + req.method + " " + req.path}, res);
  }

  // A public page (/projects, /projects/REF, /issuances, /authorizations, /statistics) in HTML:
  // read as the public API answers an anonymous caller (the same readers, withholding and all),
  // rate-limited per address like it.
  void ServePage(const httplib::Request& req, httplib::Response& res) {
    const auto start = std::chrono::steady_clock::now();
    const pages::Lang lang =
        pages::LangOf(req.get_param_value("lang"), req.get_header_value("Accept-Language"));
    pages::Page page;
    if (!limiter.Allow("addr:" + req.remote_addr)) {
      page = pages::ErrorPage(429, "too many requests; slow down and retry", lang);
    } else {
      const auto read = [](Reply reply) {
        pages::Read r{reply.status, std::move(reply.body), ""};
        if (r.status != 200) r.message = r.body.is_object() ? r.body.value("message", "") : "";
        return r;
      };
      pages::Sources sources;
      sources.list = [&](const std::string& kind) {
        return read(ReadDocuments(kind, std::nullopt));
      };
      sources.document = [&](const std::string& kind, const std::string& key) {
        return read(ReadDocument(kind, key, std::nullopt));
      };
      sources.lots = [&] {  // Every page of GET /v1/lots.
        Json all = Json::array();
        for (int64_t after = 0;;) {
          auto lots = service::LotsPage(store, IssuanceId{after}, kPageSizeMax);
          if (!lots) return read(FailureReply(lots.error()));
          for (Json& lot : (*lots)["lots"]) all.push_back(std::move(lot));
          if (!lots->contains("next_after")) break;
          after = (*lots)["next_after"].get<int64_t>();
        }
        return pages::Read{200, Json{{"lots", std::move(all)}}, ""};
      };
      sources.statistics = [&](const std::string& name) {
        if (name == "totals") return read(FromResult(service::TotalsByAccountType(store)));
        auto rows = name == "annual" ? report::AnnualTransactionsSummary(store)
                                     : report::EntityHoldingAccounts(store);
        if (!rows) return read(FailureReply(rows.error()));
        return pages::Read{200, std::move(*rows), ""};
      };
      sources.as_of = service::SystemClock().Now();
      page = pages::Render(req.path, req.params, lang, sources);
    }
    res.status = page.status;
    res.set_header("Cache-Control", "no-cache");
    res.set_header("Vary", "Accept-Language");
    res.set_content(std::move(page.html), "text/html; charset=utf-8");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string route =
        req.path.rfind("/projects/", 0) == 0 && req.path.size() > 10 ? "/projects/{ref}" : req.path;
    if (route.size() > 1 && route.back() == '/') route.pop_back();
    metrics.Record(req.method, route, page.status, seconds, std::nullopt);
    Log(req, page.status, seconds, "", std::nullopt);
  }

  // The answer to a request no route takes or the transport refuses (malformed, too large, too
  // many connections; a handler's exception): a JSON error body like every other.
  // Each status the transport gives has its check in the catalogue, whose status is the same.
  void TransportError(const httplib::Request& req, const TransportProblem& problem,
                      httplib::Response& res) {
    Check check = problem.invalid_text ? Check::kInvalidText : Check::kMalformedRequest;
    switch (problem.status) {
      case 404:
        check = Check::kNotFound;
        break;
      case 408:
        check = Check::kRequestTimeout;
        break;
      case 411:
        check = Check::kLengthRequired;
        break;
      case 413:
        check = Check::kRequestTooLarge;
        break;
      case 431:
        check = Check::kRequestHeadTooLarge;
        break;
      case 500:
        check = Check::kInternalError;
        break;
      case 503:
        check = Check::kOverloaded;
        break;
      default:
        break;
    }
    Reply reply = ErrorReply(check, problem.message);
    res.status = reply.status;
    NoStoreIfToken(req, res);
    if (reply.status == 503) res.set_header("Retry-After", "1");
    res.set_content(DumpJsonLossy(reply.body, 2) + "\n", "application/json");
    metrics.Record(req.method, "unmatched", reply.status, 0, reply.check);
    Log(req, reply.status, 0, "", reply.check);
  }

  void Serve(const Route& route, const httplib::Request& req, std::vector<std::string> params,
             httplib::Response& res, Deferral& deferral) {
    const auto start = std::chrono::steady_clock::now();
    std::string actor;
    Reply reply = Dispatch(route, req, std::move(params), actor);
    if (reply.write) {
      QueueWrite(route, deferral.Take(), std::move(*reply.write), start, std::move(actor));
      return;
    }
    Finish(route, req, reply, start, actor, res);
  }

  // The response to a route's reply; the request counted in /metrics and logged.
  void Finish(const Route& route, const httplib::Request& req, Reply& reply,
              std::chrono::steady_clock::time_point start, const std::string& actor,
              httplib::Response& res) {
    res.status = reply.status;
    NoStoreIfToken(req, res);
    // Every 503 is transient (report slots or the write queue full, the database busy): say when
    // to come back. The portal's api() waits that long and retries.
    if (reply.status == 503) res.set_header("Retry-After", "1");
    if (!reply.report_cache.empty()) res.set_header("X-Report-Cache", reply.report_cache);
    if (!reply.filename.empty()) {
      res.set_header("Content-Disposition", "attachment; filename=\"" + reply.filename + "\"");
    }
    if (reply.content_type == "application/json") {
      res.set_content(DumpJsonLossy(reply.body, 2) + "\n", "application/json");
    } else {
      // Moved, not copied (set_content copies): a report can be hundreds of megabytes.
      res.body = std::move(reply.text);
      res.headers.erase("Content-Type");
      res.set_header("Content-Type", reply.content_type);
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    metrics.Record(route.method, route.path, reply.status, seconds, reply.check);
    Log(req, reply.status, seconds, actor, reply.check);
  }

  // A write for the writer: checked here, queued by Serve (QueueWrite), answered by WriteReply.
  // Every write of every route, resource or generic, comes here: the one place where who may
  // run what is decided (service::Authorize, from the command roles table), in the request's
  // snapshot.
  Reply Write(Call& call, const std::string& command, Json args, int ok_status = 200) {
    {
      auto tx = Snapshot(call);
      if (!tx) return FailureReply(service::Failure::Of(tx.error()));
      auto allowed = service::Authorize(**tx, *call.who, command, args);
      if (!allowed) return FailureReply(allowed.error());
    }
    call.snapshot.reset();  // Read nothing more; do not hold a snapshot while queued.
    service::Request request{command, std::move(args), call.who->name,
                             call.req.get_header_value("Idempotency-Key")};
    if (request.idempotency_key.size() > kIdempotencyKeyBytesMax) {
      return ErrorReply(Check::kFieldInvalid, "the Idempotency-Key header is longer than " +
                                                  std::to_string(kIdempotencyKeyBytesMax) +
                                                  " bytes");
    }
    if (auto problem = TextProblem(request.idempotency_key)) {
      return ErrorReply(Check::kInvalidText, "the Idempotency-Key header: " + *problem);
    }
    Reply reply;
    reply.write = PendingWrite{std::move(request), ok_status, {}};
    return reply;
  }

  // The answer to a write the writer has run (committed, or refused with nothing changed).
  // Takes the response's result over: the answer is built once per write, on a worker, and
  // copying the result's JSON tree (and freeing the copy) was about a fifth of that.
  static Reply WriteReply(service::Response response, const PendingWrite& write) {
    if (!response.ok()) return FailureReply(*response.failure);
    Reply reply;
    reply.status = write.ok_status;
    reply.body = Json::object();
    reply.body["sequence"] = response.sequence.value;
    reply.body["replayed"] = response.replayed;
    reply.body["result"] = std::move(response.result);
    if (write.then) write.then(reply);
    return reply;
  }

  // Queues a route's write and returns at once: the writer's answer comes back to a worker, with
  // the rest of its batch's (`answered`, Transport::PostAll), which finishes the reply and sends
  // it. The writer thread itself only collects and posts, so the commit path stays short, and no
  // worker waits for a commit, so the group
  // commit takes every write in flight, however few the workers (docs/design.md).
  void QueueWrite(const Route& route, DeferredAnswer answer, PendingWrite write,
                  std::chrono::steady_clock::time_point start, std::string actor) {
    service::Request request = std::move(write.request);
    auto queued = std::make_shared<QueuedWrite>(
        QueuedWrite{&route, std::move(answer), std::move(write), start, std::move(actor)});
    // On the writer thread, once the batch is durable; posted with the batch's other answers.
    // The writer's copy of `queued` moves into the task, so that the answer and its request are
    // freed on a worker, not on the writer.
    const bool taken = writer.SubmitAsync(
        std::move(request), [this, queued](service::Response response) mutable {
          answered.push_back(
              [this, queued = std::move(queued), response = std::move(response)]() mutable {
                Complete(*queued, std::move(response));
              });
        });
    if (!taken) Complete(*queued, writer.Overloaded());
  }

  // A queued write's answer: built, counted, logged and sent (on a worker).
  void Complete(const QueuedWrite& queued, service::Response response) {
    Reply reply = WriteReply(std::move(response), queued.write);
    httplib::Response res;
    Finish(*queued.route, queued.answer.request(), reply, queued.start, queued.actor, res);
    queued.answer.Send(std::move(res));
  }

  // A command from the generic or resource routes: four-eyes commands become proposals.
  Reply Command(Call& call, const std::string& command, Json args) {
    if (command == "user.add" || command == "user.token") {
      return WithNewToken(call, command, std::move(args));
    }
    if (service::NeedsFourEyes(command)) {
      Json proposal = {{"command", command}, {"args", std::move(args)}};
      return Write(call, "proposal.create", std::move(proposal), 202);
    }
    return Write(call, command, std::move(args));
  }

  // user.add and user.token: the server makes the token, journals only its hash, and shows the
  // token once in the answer.
  Reply WithNewToken(Call& call, const std::string& command, Json args) {
    if (args.contains("token_hash")) {
      return ErrorReply(Check::kUnknownField,
                        "the server makes the token: send no 'token_hash'");
    }
    const service::NewToken token = service::MakeToken();
    args["token_hash"] = token.hash;
    const int status = command == "user.add" ? 201 : 200;
    Reply reply = Write(call, command, std::move(args), status);
    if (reply.write) {
      reply.write->then = [status, token = token.token](Reply& done) {
        if (done.status != status) return;
        done.body["token"] = token;
        done.body["note"] = "the token is shown once; only its hash is stored";
      };
    }
    return reply;
  }

  // Who may decide the proposal is service::Authorize's (Write), from the proposal itself.
  Reply ProposalDecision(Call& call, const std::string& command) {
    const auto id = ParseInt(call.params.at(0));
    if (!id) return ErrorReply(Check::kFieldInvalid, "proposal id must be a positive integer");
    if (call.body.contains("id")) {
      return ErrorReply(Check::kUnknownField, "the proposal's id is in the path; send no 'id'");
    }
    Json args = call.body;
    args["id"] = *id;
    return Write(call, command, std::move(args));
  }

  // ---- Reads.

  // R-REP-07 beyond the AEF: the authorization documents (and each Party's Step 1 in the
  // cooperative approach) are what AEF tables 2 and 5 are built from, so a Party that claims any
  // field of those tables confidential has them withheld from callers who may not see its
  // confidential values; the public AEF shows what is public.
  class Withholding {
   public:
    Withholding(Transaction& tx, const std::optional<Principal>& who) : tx_(tx), who_(who) {}

    bool Withheld(const std::string& party) {
      const auto code = ParsePartyCode(party);
      if (!code || MaySeeConfidential(who_, *code)) return false;
      const auto cached = withheld_.find(party);
      if (cached != withheld_.end()) return cached->second;
      bool claims = false;
      auto loaded = service::LoadConfidentialClaims(tx_, *code);
      if (!loaded) {
        claims = true;  // Cannot tell: withhold rather than leak.
      } else {
        for (const Json& c : *loaded) {
          const std::string table = c.value("table", "");
          claims = claims || table == "Authorizations" || table == "Authorized entities";
        }
      }
      withheld_[party] = claims;
      return claims;
    }

    Json Apply(const std::string& kind, Json body) {
      const Json note = "withheld: the Party claims fields of its authorizations confidential "
                        "(R-REP-07); see the public AEF";
      if (kind == service::kAuthorizationKind && body.is_object() && body.contains("party") &&
          body["party"].is_string() && Withheld(body["party"].get<std::string>())) {
        return Json{{"party", body["party"]}, {"project", body.value("project", Json())}, {"withheld", note}};
      }
      if (kind == service::kCaKind && body.is_object() && body.contains("step1") && body["step1"].is_object()) {
        for (auto& [party, step1] : body["step1"].items()) {
          if (Withheld(party)) step1 = Json{{"withheld", note}};
        }
      }
      return body;
    }

   private:
    Transaction& tx_;
    const std::optional<Principal>& who_;
    std::map<std::string, bool> withheld_;
  };

  // Whether `who` may read the document `key` of `kind` whose current body is `body`. Public
  // and unscoped kinds: yes. A proposal: when the caller's scope covers what it moves or changes
  // (the rule that lets a user propose it) or its destination account. A Party's
  // confidentiality claims and their bases: the users who see its confidential AEF values.
  StoreResult<bool> MayRead(Transaction& tx, const std::optional<Principal>& who,
                            const std::string& kind, const std::string& key, const Json& body) {
    if (kind == "confidentiality") {  // Keyed by the Party, which the body names too.
      const auto party = ParsePartyCode(body.is_object() ? body.value("party", key) : key);
      return party && MaySeeConfidential(who, *party);
    }
    if (kind != "proposal" || (who && who->scope == "*")) return true;
    if (!who || !body.is_object()) return false;
    const Json args = body.value("args", Json::object());
    auto covered = service::ScopeCoversArgs(tx, *who, args);
    if (!covered || *covered) return covered;
    const auto to = args.find("to");
    if (to == args.end() || !to->is_number_integer()) return false;
    return service::ScopeCoversAccount(tx, *who, AccountId{to->get<int64_t>()});
  }

  Reply ReadDocuments(const std::string& kind, const std::optional<Principal>& who) {
    if (IsSecretKind(kind)) {
      return ErrorReply(Check::kNotFound, "no document kind '" + kind + "'");
    }
    if (!IsPublicKind(kind) && !who) {
      return ErrorReply(Check::kUnauthenticated, "documents of kind '" + kind +
                                                     "' are not public; send an API token");
    }
    auto list = service::ListDocumentsJson(store, kind);
    if (!list) return FailureReply(list.error());
    auto tx = store.BeginRead();
    if (!tx) return FailureReply(service::Failure::Of(tx.error()));
    Withholding withholding(**tx, who);
    Json readable = Json::array();
    const std::string key = service::ListKeyOf(kind);
    for (Json& row : (*list)[key]) {
      auto may = MayRead(**tx, who, kind, "", row);
      if (!may) return FailureReply(service::Failure::Of(may.error()));
      if (*may) readable.push_back(withholding.Apply(kind, std::move(row)));
    }
    (*list)[key] = std::move(readable);
    return FromResult(std::move(list));
  }

  Reply ReadDocument(const std::string& kind, const std::string& key,
                     const std::optional<Principal>& who) {
    if (IsSecretKind(kind)) {
      return ErrorReply(Check::kNotFound, "no document kind '" + kind + "'");
    }
    if (!IsPublicKind(kind) && !who) {
      return ErrorReply(Check::kUnauthenticated, "documents of kind '" + kind +
                                                     "' are not public; send an API token");
    }
    auto tx = store.BeginRead();
    if (!tx) return FailureReply(service::Failure::Of(tx.error()));
    auto history = (*tx)->DocumentHistory(kind, key);
    if (!history) return FailureReply(service::Failure::Of(history.error()));
    if (history->empty()) {
      return ErrorReply(Check::kNotFound, kind + " '" + key + "' does not exist");
    }
    auto may = MayRead(**tx, who, kind, key, Json::parse(history->back().body, nullptr, false));
    if (!may) return FailureReply(service::Failure::Of(may.error()));
    if (!*may) {
      return ErrorReply(Check::kForbidden, kind + " '" + key + "' is outside the scope " +
                                               (who ? who->scope : std::string("(none)")) +
                                               " of user " + (who ? who->name : std::string("-")));
    }
    Withholding withholding(**tx, who);
    Json versions = Json::array();
    for (const Document& d : *history) {
      versions.push_back({{"version", d.version},
                          {"sequence", d.updated.value},
                          {"body", withholding.Apply(kind, Json::parse(d.body))}});
    }
    Reply reply;
    reply.body = {{"kind", kind},
                  {"key", key},
                  {"current", versions.back()["body"]},
                  {"version", versions.back()["version"]},
                  {"versions", versions}};
    return reply;
  }

  Reply Accounts(const std::optional<Principal>& who) {
    auto all = service::ListAccountsJson(store);
    if (!all) return FailureReply(all.error());
    if (who) return FromResult(all);
    // Public: the list of entity holding accounts (R-JP-07 (i)), in the same shape.
    Json out = Json::array();
    for (const Json& a : (*all)["accounts"]) {
      if (a.value("type", "") == "entity_holding") out.push_back(a);
    }
    Reply reply;
    reply.body = Json{{"accounts", std::move(out)}};
    return reply;
  }

  Reply Account(const Call& call) {
    const auto id = ParseInt(call.params.at(0));
    if (!id) return ErrorReply(Check::kFieldInvalid, "account id must be a positive integer");
    auto tx = store.BeginRead();
    if (!tx) return FailureReply(service::Failure::Of(tx.error()));
    auto account = service::LoadAccount(**tx, AccountId{*id});
    if (!account) return FailureReply(account.error());
    return Reply{200, service::AccountJson(*account), "application/json", "", std::nullopt};
  }

  Reply Holdings(const Call& call) {
    const auto id = ParseInt(call.params.at(0));
    if (!id) return ErrorReply(Check::kFieldInvalid, "account id must be a positive integer");
    std::optional<std::string> as_of;
    std::optional<Sequence> as_of_sequence;
    if (call.req.has_param("as_of")) as_of = call.req.get_param_value("as_of");  // Checked by Holdings.
    if (call.req.has_param("as_of_sequence")) {
      const auto seq = ParseInt(call.req.get_param_value("as_of_sequence"));
      if (!seq) return ErrorReply(Check::kFieldInvalid, "as_of_sequence must be an integer");
      as_of_sequence = Sequence{*seq};
    }
    Page page{0, static_cast<int64_t>(kPageSizeMax)};
    if (auto error = ReadPage(call, "a serial number (>= 0)", page)) return *error;
    return FromResult(service::Holdings(store, AccountId{*id}, as_of_sequence, as_of, page.after,
                                        static_cast<size_t>(page.limit)));
  }

  Reply Trace(const Call& call) {
    const auto registry_code = ParseRegistryCode(call.params.at(0));
    const auto serial = ParseInt(call.params.at(1));
    if (!registry_code || !serial) {
      return ErrorReply(Check::kFieldInvalid, "trace needs a registry like JPN01 and a serial");
    }
    auto traced = service::Trace(store, *registry_code, *serial);
    if (!traced) return FailureReply(traced.error());
    // Which account held a block is not public (R-JP-07 publishes the list of entity holding
    // accounts, never what each holds): a caller whose scope does not cover the account sees its
    // type instead; the serials, quantities and dates are public, as in the AEF's actions.
    if (call.who && call.who->scope == "*") {
      return Reply{200, std::move(*traced), "application/json", "", std::nullopt};
    }
    auto tx = store.BeginRead();
    if (!tx) return FailureReply(service::Failure::Of(tx.error()));
    for (Json& block : (*traced)["lineage"]) {
      const AccountId account{block.value("account", int64_t{0})};
      bool covered = false;
      if (call.who) {
        auto covers = service::ScopeCoversAccount(**tx, *call.who, account);
        if (!covers) return FailureReply(service::Failure::Of(covers.error()));
        covered = *covers;
      }
      if (covered) continue;
      auto loaded = (*tx)->GetAccount(account);
      if (!loaded) return FailureReply(service::Failure::Of(loaded.error()));
      block.erase("account");
      block["account_type"] = loaded->has_value() ? std::string(ToString((*loaded)->type)) : "";
    }
    return Reply{200, std::move(*traced), "application/json", "", std::nullopt};
  }

  // The ?after=ID (>= 0, default 0) and ?limit=N (1..kPageSizeMax) of a paged list; an error
  // reply names the bad one.
  struct Page {
    int64_t after = 0;
    int64_t limit = 0;
  };
  static std::optional<Reply> ReadPage(const Call& call, const char* after_names, Page& page) {
    if (call.req.has_param("after")) {
      const auto v = ParseInt(call.req.get_param_value("after"));
      if (!v || *v < 0) {
        return ErrorReply(Check::kFieldInvalid, std::string("after must be ") + after_names);
      }
      page.after = *v;
    }
    if (call.req.has_param("limit")) {
      const auto v = ParseInt(call.req.get_param_value("limit"));
      if (!v || *v < 1 || *v > static_cast<int64_t>(kPageSizeMax)) {
        return ErrorReply(Check::kFieldInvalid,
                          "limit must be 1.." + std::to_string(kPageSizeMax));
      }
      page.limit = *v;
    }
    return std::nullopt;
  }

  // The journal records every account's commands, and verify replays all of them (minutes on a
  // large registry): both are for tokens of scope * (administrators, auditors of the whole
  // registry), never for a token scoped to a Party, registry or account.

  Reply Journal(const Call& call) {
    Page page{0, 100};
    if (auto error = ReadPage(call, "a journal sequence (>= 0)", page)) return *error;
    return FromResult(service::JournalPage(store, Sequence{page.after},
                                           static_cast<size_t>(page.limit)));
  }

  // A page of proposals: the list grows with every four-eyes write and was answered whole (the
  // soak of issue 33 saw 1 GB of server memory at 60,000 proposals).
  Reply Proposals(const Call& call) {
    Page page{0, static_cast<int64_t>(kPageSizeMax)};
    if (auto error = ReadPage(call, "a proposal id (>= 0)", page)) return *error;
    auto tx = store.BeginRead();
    if (!tx) return FailureReply(service::Failure::Of(tx.error()));
    auto docs =
        (*tx)->ListDocuments("proposal", page.after == 0 ? "" : service::ProposalKey(page.after),
                             static_cast<size_t>(page.limit));
    if (!docs) return FailureReply(service::Failure::Of(docs.error()));
    Json rows = Json::array();
    int64_t last = 0;
    for (const Document& d : *docs) {
      Json body = Json::parse(d.body, nullptr, false);
      if (!body.is_object()) continue;
      last = body.value("id", int64_t{0});
      body["_version"] = d.version;
      auto may = MayRead(**tx, call.who, "proposal", d.key, body);
      if (!may) return FailureReply(service::Failure::Of(may.error()));
      if (*may) rows.push_back(std::move(body));
    }
    Json out = {{"proposals", std::move(rows)}};
    if (docs->size() == static_cast<size_t>(page.limit) && last > 0) out["next_after"] = last;
    return Reply{200, std::move(out), "application/json", "", std::nullopt};
  }

  Reply Lots(const Call& call) {
    Page page{0, static_cast<int64_t>(kPageSizeMax)};
    if (auto error = ReadPage(call, "a lot id (>= 0)", page)) return *error;
    return FromResult(
        service::LotsPage(store, IssuanceId{page.after}, static_cast<size_t>(page.limit)));
  }

  Reply VerifyNow(const service::VerifyOptions& verify = {}) {
    if (!options.scratch) {
      return ErrorReply(Check::kNotFound, "verification is not configured on this server");
    }
    const service::VerifyReport report =
        service::Verify(store, options.public_key, options.scratch, verify);
    Reply reply;
    reply.body = {{"ok", report.ok()},
                  {"entries", report.entries},
                  {"blocks", report.blocks},
                  {"problems", report.problems}};
    return reply;
  }

  int64_t JournalSequence() {
    auto tx = store.BeginRead();
    if (!tx) return -1;
    auto last = (*tx)->LastEntry();
    if (!last || !last->has_value()) return 0;
    return (*last)->sequence.value;
  }

  // ---- The route table.

  void Add(std::string method, std::string path, Access access, std::string summary,
           std::function<Reply(Call&)> handle, std::vector<QueryParam> query = {}) {
    routes.push_back(Route{std::move(method), std::move(path), access, std::move(summary),
                           std::move(handle), std::move(query), "", {}});
  }

  // A resource route for a command: POST path -> command with the body as arguments, path
  // parameters added under `param_names`.
  void AddCommandRoute(const std::string& path, const std::string& command,
                       const std::string& summary,
                       std::vector<std::string> param_names = {}) {
    Add("POST", path, Access::kWrite, summary, [this, command, param_names](Call& call) {
      Json args = call.body;
      for (size_t i = 0; i < param_names.size() && i < call.params.size(); ++i) {
        const auto number = ParseInt(call.params[i]);
        if (number) {
          args[param_names[i]] = *number;
        } else {
          args[param_names[i]] = call.params[i];
        }
      }
      return Command(call, command, std::move(args));
    });
    routes.back().command = command;
    routes.back().path_fields = std::move(param_names);
  }

  // The JSON schema of a command's arguments: its fields (service/fields.h), no others.
  static Json CommandSchema(const std::string& command, const std::vector<std::string>& skip = {}) {
    Json properties = Json::object();
    for (const std::string_view f : service::CommandFields(command)) {
      if (std::find(skip.begin(), skip.end(), f) == skip.end()) properties[std::string(f)] = Json::object();
    }
    return {{"type", "object"}, {"additionalProperties", false}, {"properties", properties}};
  }

  // ---- Reports and public statistics (read-only, public: what the Parties publish).

  static Reply TextReply(int status, std::string content_type, std::string text) {
    Reply reply;
    reply.status = status;
    reply.content_type = std::move(content_type);
    reply.text = std::move(text);
    return reply;
  }

  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Runs `write` on a fresh temporary file path and answers the file's bytes.
  static Reply FileReply(const std::string& content_type,
                         const std::function<Status<std::string>(const std::string&)>& write) {
    char path[] = "/tmp/jcmreg-report-XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0) return ErrorReply(Check::kOverloaded, "cannot create a temporary file");
    ::close(fd);
    const auto written = write(path);
    std::string bytes = written.ok() ? ReadAll(path) : "";
    ::unlink(path);
    if (!written.ok()) return ErrorReply(Check::kOverloaded, written.error());
    return TextReply(200, content_type, std::move(bytes));
  }

  // R-REP-07: who sees the values a Party claimed confidential in its AEF. Without a token (or
  // with one whose role or scope does not cover the Party) the answer is the public view.
  static bool MaySeeConfidential(const std::optional<Principal>& who, const PartyCode& party) {
    if (!who) return false;
    if (who->role != service::kRoleAdministrator && who->role != service::kRoleFocalPoint &&
        who->role != service::kRoleAuditor) {
      return false;
    }
    if (who->scope == "*" || who->scope == "party:" + party.value) return true;
    static constexpr std::string_view kRegistry = "registry:";
    if (who->scope.compare(0, kRegistry.size(), kRegistry) != 0) return false;
    const auto registry = ParseRegistryCode(who->scope.substr(kRegistry.size()));
    return registry && PartyOfRegistry(*registry) == party;
  }

  Reply Aef(Call& call, bool checks_only) {
    const auto party = ParsePartyCode(call.req.get_param_value("party"));
    const auto year = ParseInt(call.req.get_param_value("year"));
    if (!party || !year) {
      return ErrorReply(Check::kFieldInvalid, "the AEF needs ?party=JPN&year=2025");
    }
    const bool disclose = MaySeeConfidential(call.who, *party);
    report::AefRequest request{*party, static_cast<int32_t>(*year), "1.0", ""};
    request.disclose_confidential = true;  // Redacted below unless `disclose`.
    if (call.req.has_param("version")) request.version = call.req.get_param_value("version");
    auto wb = report::BuildAef(store, request);
    if (!wb) return FailureReply(wb.error());
    // The public view is a redacted copy, made only when the Party claimed something
    // confidential (a workbook takes about 1 KiB per row).
    std::optional<report::AefWorkbook> redacted;
    size_t hidden = 0;
    if (!disclose && !wb->confidential.empty()) {
      redacted = *wb;
      hidden = report::RedactConfidential(*redacted);
    }
    const report::AefWorkbook& view = redacted ? *redacted : *wb;
    if (checks_only) {
      // The checks run on the values; their problems name values, so a public caller gets only
      // the status and the number of problems when anything of the AEF is confidential.
      const auto& submission = wb->tables[report::kSubmission].rows;
      const int32_t first = submission.empty() ? 0 : std::atoi(submission[0][6].c_str());
      const int32_t last = submission.empty() ? 0 : std::atoi(submission[0][7].c_str());
      Json out = Json::array();
      for (const auto& c : report::PreConsistencyChecks(*wb, nullptr, first, last)) {
        Json problems = c.problems;
        if (hidden > 0 && !c.problems.empty()) {
          problems = Json::array({std::to_string(c.problems.size()) +
                                  " problem(s); details withheld: the AEF has fields claimed "
                                  "confidential"});
        }
        out.push_back(Json{{"item", c.item}, {"check", c.name}, {"status", c.status},
                           {"problems", problems}});
      }
      Reply reply;
      reply.body = Json{{"checks", out}};
      return reply;
    }
    const std::string format = call.req.has_param("format") ? call.req.get_param_value("format") : "json";
    // As text, keeping the AEF's column order (a Reply's JSON body would sort the labels; and
    // Serve sends `text` only for a content type other than exactly "application/json").
    if (format == "json") {
      std::string text = report::WorkbookJson(view);
      text += '\n';
      return TextReply(200, "application/json; charset=utf-8", std::move(text));
    }
    // The names the portal's script gives the same files. Both parts are checked above: a Party
    // code and an integer.
    const std::string name = "AEF-" + party->value + "-" + std::to_string(*year);
    if (format == "csv") {
      const auto table = ParseInt(call.req.get_param_value("table"));
      if (!table || *table < 1 || *table > 6) {
        return ErrorReply(Check::kFieldInvalid,
                          "format=csv needs &table=1..5 (one CSV per table; 6: the "
                          "Confidentiality table, for the Party's own token)");
      }
      if (*table == 6 && !disclose) {
        return call.who ? ErrorReply(Check::kForbidden,
                                     "the Confidentiality table of " + party->value +
                                         " is given only to its focal point, an administrator "
                                         "or an auditor whose scope covers it")
                        : ErrorReply(Check::kUnauthenticated,
                                     "the Confidentiality table needs the Party's API token");
      }
      Reply reply =
          TextReply(200, "text/csv; charset=utf-8",
                    report::TableCsv(*table == 6 ? report::ConfidentialityTable(view)
                                                 : view.tables[static_cast<size_t>(*table - 1)]));
      reply.filename = name + "-table" + std::to_string(*table) + ".csv";
      return reply;
    }
    if (format != "xlsx") {
      return ErrorReply(Check::kFieldInvalid, "format is json, csv or xlsx, not '" + format + "'");
    }
    Reply reply =
        FileReply("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                  [&view](const std::string& path) { return report::WriteXlsx(view, path); });
    if (reply.status == 200) reply.filename = name + ".xlsx";
    return reply;
  }

  // The regular information of a Party's BTR (report/regular_info.h), read as the AEF is: the
  // public view unless the caller may see the Party's confidential values (R-REP-07).
  Reply Regular(Call& call) {
    const auto party = ParsePartyCode(call.req.get_param_value("party"));
    const auto year = ParseInt(call.req.get_param_value("year"));
    if (!party || !year || *year < 1000 || *year > 9999) {
      return ErrorReply(Check::kFieldInvalid,
                        "the regular information needs ?party=JPN&year=2026 (the BTR's year)");
    }
    const std::string format =
        call.req.has_param("format") ? call.req.get_param_value("format") : "json";
    if (format != "json" && format != "csv" && format != "xlsx") {
      return ErrorReply(Check::kFieldInvalid, "format is json, csv or xlsx, not '" + format + "'");
    }
    report::RegularInfoRequest request{*party, static_cast<int32_t>(*year)};
    request.disclose_confidential = MaySeeConfidential(call.who, *party);
    auto info = report::BuildRegularInformation(store, request);
    if (!info) return FailureReply(info.error());
    if (format == "json") {
      return TextReply(200, "application/json; charset=utf-8",
                       report::RegularInformationJson(*info, *party, request.btr_year));
    }
    if (format == "csv") {
      const auto table = ParseInt(call.req.get_param_value("table"));
      if (!table || *table < 1 || *table > static_cast<int64_t>(info->tables.size())) {
        return ErrorReply(Check::kFieldInvalid, "format=csv needs &table=1.." +
                                                    std::to_string(info->tables.size()) +
                                                    " (one CSV per table)");
      }
      Reply reply = TextReply(200, "text/csv; charset=utf-8",
                              report::TableCsv(info->tables[static_cast<size_t>(*table - 1)]));
      reply.filename = "regular-information-" + party->value + "-" + std::to_string(*year) +
                       "-table" + std::to_string(*table) + ".csv";
      return reply;
    }
    Reply reply = FileReply("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            [&info](const std::string& path) -> Status<std::string> {
                              ASSIGN_OR_RETURN(auto sink, report::OpenXlsxSink(path));
                              return report::StreamRegularInformation(*info, *sink);
                            });
    if (reply.status == 200) {
      reply.filename =
          "regular-information-" + party->value + "-" + std::to_string(*year) + ".xlsx";
    }
    return reply;
  }

  // Refuses a ?format= other than json (the default) or csv.
  static std::optional<Reply> JsonOrCsv(const Call& call) {
    if (!call.req.has_param("format")) return std::nullopt;
    const std::string format = call.req.get_param_value("format");
    if (format == "json" || format == "csv") return std::nullopt;
    return ErrorReply(Check::kFieldInvalid, "format is json or csv, not '" + format + "'");
  }

  Reply AuthorizationDocument(Call& call, bool initial) {
    const auto party = ParsePartyCode(call.req.get_param_value("party"));
    const std::string ca = call.req.get_param_value("ca");
    if (!party || ca.empty()) return ErrorReply(Check::kFieldInvalid, "needs ?ca=KEY&party=P");
    const std::string format = call.req.has_param("format") ? call.req.get_param_value("format") : "md";
    if (format != "md" && format != "pdf") {
      return ErrorReply(Check::kFieldInvalid, "format is md or pdf, not '" + format + "'");
    }
    auto md = initial ? report::InitialReportMarkdown(store, ca, *party)
                      : report::AuthorizationCopyMarkdown(store, ca, *party);
    if (!md) return FailureReply(md.error());
    {
      // R-REP-07, as for the authorization documents (Withholding): while the Party claims
      // fields of its authorizations confidential, only the users who see its confidential AEF
      // values get the copy (it quotes every authorized quantity, entity and date).
      auto tx = store.BeginRead();
      if (!tx) return FailureReply(service::Failure::Of(tx.error()));
      Withholding withholding(**tx, call.who);
      if (withholding.Withheld(party->value)) {
        *md = std::string("# ") + (initial ? "Initial report" : "Copy of the authorization") +
              " of " + party->value + ": withheld\n\n" + party->value +
              " claims fields of its authorizations confidential (decision 4/CMA.6, paragraph "
              "24; decision 6/CMA.4, paragraph 6). This document is given to its focal point, "
              "the auditors of its registry and the administrators; the public AEF shows what is "
              "public.\n";
      }
    }
    if (format == "md") {
      return TextReply(200, "text/markdown; charset=utf-8", *md);
    }
    const std::string text = *md;
    return FileReply("application/pdf", [&text, initial](const std::string& path) {
      return report::WriteTextPdf(text, initial ? "Initial report" : "Copy of authorization", path);
    });
  }

  void AddReportRoutes() {
    Add("GET", "/v1/reports/aef", Access::kPublic,
        "The AEF of a Party and year: ?party=&year=&format=json|xlsx|csv(&table=1..6). Public: "
        "fields the Party claimed confidential read \"Confidential\"; the Party's token sees "
        "them with the Confidentiality table (R-REP-07).",
        [this](Call& call) { return Aef(call, false); },
        {{"party", true}, {"year", true}, {"format"}, {"table"}, {"version"}});
    Add("GET", "/v1/reports/aef/checks", Access::kPublic,
        "The pre-consistency checks (R-CC-05) of a Party's AEF: ?party=&year=.",
        [this](Call& call) { return Aef(call, true); },
        {{"party", true}, {"year", true}, {"version"}});
    Add("GET", "/v1/reports/regular", Access::kPublic,
        "The regular information of a Party's biennial transparency report (2/CMA.3 annex paras "
        "20-23), from its AEFs of year-2 and year-1: ?party=&year=BTR_YEAR&format=json|xlsx|"
        "csv(&table=1..6). Public: what the Party claimed confidential reads \"Confidential\"; "
        "the Party's token sees it (R-REP-07).",
        [this](Call& call) { return Regular(call); },
        {{"party", true}, {"year", true}, {"format"}, {"table"}});
    Add("GET", "/v1/reports/authorization", Access::kPublic,
        "Copy of a Party's authorization of a cooperative approach: ?ca=&party=&format=md|pdf.",
        [this](Call& call) { return AuthorizationDocument(call, false); },
        {{"ca", true}, {"party", true}, {"format"}});
    Add("GET", "/v1/reports/initial", Access::kPublic,
        "The initial report pack for a cooperative approach: ?ca=&party=&format=md|pdf.",
        [this](Call& call) { return AuthorizationDocument(call, true); },
        {{"ca", true}, {"party", true}, {"format"}});
    Add("GET", "/v1/reports/adjustments", Access::kPublic,
        "Corresponding adjustments: ?party=&ndc_period=2021-2030&format=json|csv.",
        [this](Call& call) {
          if (auto bad = JsonOrCsv(call)) return *bad;
          const auto party = ParsePartyCode(call.req.get_param_value("party"));
          const std::string period = call.req.get_param_value("ndc_period");
          const auto first = ParseInt(period.substr(0, 4));
          const auto last = ParseInt(period.substr(std::min<size_t>(5, period.size())));
          if (!party || period.size() != 9 || period[4] != '-' || !first || !last ||
              *first < 1000 || *last < *first) {
            return ErrorReply(Check::kFieldInvalid, "needs ?party=JPN&ndc_period=2021-2030");
          }
          auto report = service::AdjustmentsReportJson(store, *party, static_cast<int32_t>(*first));
          if (!report) return FailureReply(report.error());
          if (call.req.get_param_value("format") == "csv") {
            return TextReply(200, "text/csv; charset=utf-8", service::AdjustmentsCsv(*report));
          }
          Reply reply;
          reply.body = *report;
          return reply;
        },
        {{"party", true}, {"ndc_period", true}, {"format"}});
    Add("GET", "/v1/due", Access::kToken,
        "What is due (issue 31 item 4): each Party's AEF by 15 April, the initial report before "
        "the first AEF, OIMP first transfers by the para 14 deadline, para 13 notifications of "
        "OIMP first transfers, JC shares notified and not issued: ?party=&today=YYYY-MM-DD&all=1 "
        "(today: the server's UTC date by default; all: done items too).",
        [this](Call& call) {
          const std::string today = call.req.has_param("today")
                                        ? call.req.get_param_value("today")
                                        : service::SystemClock().Now().substr(0, 10);
          if (!ParseCalendarDate(today)) {
            return ErrorReply(Check::kFieldInvalid,
                              "today '" + today + "' is not a date YYYY-MM-DD");
          }
          std::optional<std::string> party;
          if (call.req.has_param("party")) {
            party = call.req.get_param_value("party");
            if (!ParsePartyCode(*party)) {
              return ErrorReply(Check::kFieldInvalid,
                                "party '" + *party + "' is not a Party code like JPN");
            }
          }
          const std::string all = call.req.get_param_value("all");
          if (!all.empty() && all != "0" && all != "1") {
            return ErrorReply(Check::kFieldInvalid, "all '" + all + "' is not 0 or 1");
          }
          return FromResult(service::DueJson(store, today, party, all == "1"));
        },
        {{"party"}, {"today"}, {"all"}});
    Add("GET", "/v1/statistics/annual", Access::kPublic,
        "Annual transactions summary of JCM credits (tCO2): ?format=json|csv.", [this](Call& call) {
          if (auto bad = JsonOrCsv(call)) return *bad;
          auto rows = report::AnnualTransactionsSummary(store);
          if (!rows) return FailureReply(rows.error());
          if (call.req.get_param_value("format") == "csv") {
            Reply reply = TextReply(200, "text/csv; charset=utf-8", report::RowsCsv(*rows));
            reply.filename = "annual-summary.csv";
            return reply;
          }
          Reply reply;
          reply.body = *rows;
          return reply;
        },
        {{"format"}});
    Add("GET", "/v1/statistics/accounts", Access::kPublic,
        "Information on entity holding accounts: ?format=json|csv.", [this](Call& call) {
          if (auto bad = JsonOrCsv(call)) return *bad;
          auto rows = report::EntityHoldingAccounts(store);
          if (!rows) return FailureReply(rows.error());
          if (call.req.get_param_value("format") == "csv") {
            Reply reply = TextReply(200, "text/csv; charset=utf-8", report::RowsCsv(*rows));
            reply.filename = "entity-holding-accounts.csv";
            return reply;
          }
          Reply reply;
          reply.body = *rows;
          return reply;
        },
        {{"format"}});
  }

  // ---- The registry link (ARCHITECTURE decision 12; docs/link.md).

  Reply SignedAnswer(const service::LinkMessage& request, Json body) {
    service::LinkMessage answer = service::AnswerTo(
        request, std::move(body), service::NextLinkSequence(), service::SystemClock().Now());
    service::SignLinkMessage(answer, *options.link_key);
    return Reply{200, service::LinkMessageJson(answer), "application/json", "", std::nullopt};
  }

  // A peer's message: authenticated by its signature, not by a token. Checked here against a
  // snapshot (peer, signature, addressee, sequence) so that a bad one is refused without being
  // journaled; link.receive checks again in the writer. A transaction already decided is
  // answered again from its record, without a write.
  Reply LinkMessage(Call& call) {
    if (!options.link_key) {
      return ErrorReply(Check::kOverloaded, "this installation has no link key configured");
    }
    if (call.req.body.size() > kRequestBodyBytesMax) {
      return ErrorReply(
          Check::kRequestTooLarge,
          "the body is larger than " + std::to_string(kRequestBodyBytesMax) + " bytes");
    }
    auto json = service::ParseRequestJson(call.req.body);
    if (!json) return ErrorReply(json.error().check, "the body: " + json.error().message);
    auto parsed = service::ParseLinkMessage(*json);
    if (!parsed) return ErrorReply(parsed.error().check, parsed.error().message);
    const service::LinkMessage& m = *parsed;
    if (m.type == "answer") {
      return ErrorReply(Check::kFieldInvalid, "an answer is sent back on its request's connection");
    }
    if (m.type == "statement") {
      return ErrorReply(Check::kFieldInvalid,
                        "a statement is a file for a partner to compare (jcmreg link compare)");
    }
    auto tx = store.BeginRead();
    if (!tx) return FailureReply(service::Failure::Of(tx.error()));
    // A reconcile changes nothing: its sequence is not checked or consumed.
    auto peer = service::CheckIncoming(**tx, m, /*check_sequence=*/m.type != "reconcile");
    if (!peer) return FailureReply(peer.error());
    if (m.type == "reconcile") {
      auto views = service::LinkViews(**tx, peer->id);
      if (!views) return FailureReply(views.error());
      return SignedAnswer(m, Json{{"transfers", service::ViewsJson(*views)}});
    }
    auto stored = service::StoredAnswer(**tx, m.transaction);
    if (!stored) return FailureReply(stored.error());
    tx->reset();
    if (*stored) return SignedAnswer(m, **stored);
    service::LinkCrashPoint("receiver_before_commit");
    Reply reply;
    reply.write = PendingWrite{
        service::Request{"link.receive", Json{{"message", *json}}, "link:" + peer->id, ""}, 200,
        [this, m](Reply& done) {
          service::LinkCrashPoint("receiver_after_commit");
          const Json answer = done.body.at("result").at("answer");
          done = SignedAnswer(m, answer);
        }};
    return reply;
  }

  Reply Reconcile(const std::string& peer) {
    if (!options.link_key) {
      return ErrorReply(Check::kOverloaded, "this installation has no link key configured");
    }
    auto result = link::ReconcileWithPeer(store, *options.link_key, peer);
    if (!result) return ErrorReply(result.error().check, result.error().message);
    return Reply{200, service::ReconciliationJson(peer, *result), "application/json", "",
                 std::nullopt};
  }

  void AddLinkRoutes() {
    Add("POST", "/v1/link/messages", Access::kPublic,
        "The registry link: a peer registry's signed message (transfer, terminate, reconcile), "
        "answered with this registry's signed answer (docs/link.md). Authenticated by the "
        "message's signature, not by a token.",
        [this](Call& call) { return LinkMessage(call); });
    Add("GET", "/v1/link/peers", Access::kPublic,
        "The peer installations this registry believes, with their registries, URLs and public "
        "keys.",
        [this](Call&) {
          auto tx = store.BeginRead();
          if (!tx) return FailureReply(service::Failure::Of(tx.error()));
          auto peers = service::ListPeers(**tx);
          if (!peers) return FailureReply(peers.error());
          Json out = Json::array();
          for (const service::Peer& p : *peers) {
            out.push_back({{"id", p.id},
                           {"url", p.url},
                           {"public_key", journal::ToHex(p.public_key)},
                           {"registries", p.registries}});
          }
          return Reply{200, Json{{"peers", out}}, "application/json", "", std::nullopt};
        });
    Add("GET", "/v1/link/reconcile", Access::kWholeRegistry,
        "Reconciliation with a peer (?peer=ID): this registry's view of the transfers between the "
        "two against the peer's, asked for by a signed reconcile message; each mismatch with its "
        "check (JCM-808). Changes nothing.",
        [this](Call& call) { return Reconcile(call.req.get_param_value("peer")); },
        {{"peer", true}});
    Add("GET", "/v1/link/transfers", Access::kWholeRegistry,
        "Transfers to and from peer registries: outgoing (proposed, terminating, completed, "
        "released) and incoming (accepted, rejected, terminated).",
        [this](Call&) {
          auto tx = store.BeginRead();
          if (!tx) return FailureReply(service::Failure::Of(tx.error()));
          return FromResult(service::LinkTransfersJson(**tx));
        });
  }

  void BuildRoutes() {
    Add("GET", "/healthz", Access::kPublic, "Liveness: the database answers.", [this](Call&) {
      const int64_t seq = JournalSequence();
      if (seq < 0) return ErrorReply(Check::kOverloaded, "the database does not answer");
      return Reply{200, Json{{"status", "ok"}, {"journal_sequence", seq}}, "application/json",
                   "", std::nullopt};
    });
    Add("GET", "/metrics", Access::kPublic, "Prometheus metrics.", [this](Call&) {
      Reply reply;
      reply.content_type = "text/plain; version=0.0.4";
      reply.text = metrics.Render(JournalSequence(), writer.Stats(), transport.get());
      return reply;
    });
    Add("GET", "/v1/openapi.json", Access::kPublic, "This OpenAPI 3 document.",
        [this](Call&) { return Reply{200, OpenApi(), "application/json", "", std::nullopt}; });
    Add("GET", "/v1/checks", Access::kPublic, "The check catalogue: every refusal code.",
        [](Call&) {
          Json out = Json::array();
          for (const CheckInfo& info : CheckCatalogue()) {
            out.push_back({{"code", CodeOf(info.check)},
                           {"check", std::string(info.name)},
                           {"http_status", info.http_status},
                           {"rule", std::string(info.rule)},
                           {"description", std::string(info.description)}});
          }
          return Reply{200, out, "application/json", "", std::nullopt};
        });
    Add("GET", "/v1/commands", Access::kPublic,
        "The command types POST /v1/commands/{type} runs, each with the fields it takes (any "
        "other field is refused: JCM-106 unknown_field).",
        [](Call&) {
          Json out = Json::array();
          for (const auto& [name, handler] : service::Handlers()) {
            static_cast<void>(handler);
            Json fields = Json::array();
            for (const std::string_view f : service::CommandFields(name)) fields.push_back(f);
            out.push_back({{"type", name},
                           {"four_eyes", service::NeedsFourEyes(name)},
                           {"fields", std::move(fields)}});
          }
          return Reply{200, out, "application/json", "", std::nullopt};
        });
    Add("POST", "/v1/commands/{type}", Access::kWrite,
        "Runs any command with the body as its arguments; four-eyes commands become proposals "
        "(202).",
        [this](Call& call) {
          if (service::Handlers().find(call.params.at(0)) == service::Handlers().end()) {
            return ErrorReply(Check::kUnknownCommand,
                              "unknown command '" + call.params.at(0) + "'");
          }
          return Command(call, call.params.at(0), call.body);
        });
    Add("GET", "/v1/totals", Access::kPublic, "Credits per account type and registry (public).",
        [this](Call&) { return FromResult(service::TotalsByAccountType(store)); });
    for (const auto& [path, kind] : std::vector<std::pair<std::string, std::string>>{
             {"/v1/parties", "party"}, {"/v1/registries", "registry"}, {"/v1/entities", "entity"},
             {"/v1/projects", "project"}, {"/v1/authorizations", "authorization"},
             {"/v1/cooperative-approaches", "cooperative_approach"}}) {
      Add("GET", path, Access::kPublic, "Lists the " + kind + " documents (public).",
          [this, kind = kind](Call& call) { return ReadDocuments(kind, call.who); });
    }
    Add("GET", "/v1/projects/{ref}/records", Access::kPublic,
        "A JCM project's cycle records (project.record: registration request, validation, "
        "registration, monitoring, verification, issuance request, JC decision, withdrawal, "
        "post-registration change, crediting-period renewal), oldest first, each with its "
        "document's SHA-256 and URL; the project's state and monitoring periods (public, like "
        "the project).",
        [this](Call& call) {
          const std::string& ref = call.params.at(0);
          if (!ParseActivityRef(ref)) {
            return ErrorReply(Check::kFieldInvalid,
                              "'" + ref + "' is not a project reference like ID034");
          }
          return FromResult(service::ProjectRecordsJson(store, ref));
        });
    Add("GET", "/v1/documents/{kind}", Access::kPublic,
        "Lists the documents of a kind; non-public kinds need a token.",
        [this](Call& call) { return ReadDocuments(call.params.at(0), call.who); });
    Add("GET", "/v1/documents/{kind}/{key}", Access::kPublic,
        "One document with every version (authorizations and their versions, ...).",
        [this](Call& call) { return ReadDocument(call.params.at(0), call.params.at(1), call.who); });
    Add("GET", "/v1/accounts", Access::kPublic,
        "Accounts; without a token only the entity holding accounts (public).",
        [this](Call& call) { return Accounts(call.who); });
    Add("GET", "/v1/accounts/{id}", Access::kAccount,
        "One account (a token whose scope covers it).",
        [this](Call& call) { return Account(call); });
    Add("GET", "/v1/accounts/{id}/holdings", Access::kAccount,
        "Holdings now, or ?as_of=DATE|TIME, or ?as_of_sequence=N; blocks by first serial, "
        "?after=SERIAL&limit=N (1..1000, default 1000); total and block_count cover every "
        "page; next_after, when present, is the after of the next page.",
        [this](Call& call) { return Holdings(call); },
        {{"as_of"}, {"as_of_sequence"}, {"after"}, {"limit"}});
    Add("GET", "/v1/lots", Access::kPublic,
        "Issuance lots (public issuance data), ?after=ID&limit=N (1..1000, default 1000); "
        "next_after, when present, is the after of the next page.",
        [this](Call& call) { return Lots(call); },
        {{"after"}, {"limit"}});
    Add("GET", "/v1/trace/{registry}/{serial}", Access::kPublic,
        "The lineage of one serial number (public, like the ITMO identifiers it shows): each "
        "block's registry and the times it was created and closed; its holding account to "
        "tokens whose scope covers it, its account type to others.",
        [this](Call& call) { return Trace(call); });
    AddReportRoutes();
    AddLinkRoutes();
    Add("GET", "/v1/journal", Access::kWholeRegistry,
        "Journal entries ?after=N&limit=M (a token of scope *); the last entry of each "
        "committed batch carries the batch's seal (first, last, key, signature), the others "
        "null.",
        [this](Call& call) { return Journal(call); }, {{"after"}, {"limit"}});
    Add("GET", "/v1/verify", Access::kWholeRegistry,
        "Verifies the chain, seals, replay and invariants (a token of scope *); "
        "?expect_head=SEQ:HASH also checks that the journal holds that published head (a "
        "truncated or rolled-back copy fails).",
        [this](Call& call) {
          service::VerifyOptions verify;
          if (call.req.has_param("expect_head")) {
            const auto head = journal::ParseHead(call.req.get_param_value("expect_head"));
            if (!head) {
              return ErrorReply(Check::kFieldInvalid,
                                "expect_head must be SEQ:HASH (64 hex digits), as `jcmreg head` "
                                "prints it");
            }
            verify.expected_heads.push_back(*head);
          }
          return VerifyNow(verify);
        },
        {{"expect_head"}});
    Add("GET", "/v1/proposals", Access::kToken,
        "Four-eyes proposals the token's scope covers, by id, ?after=ID&limit=N (1..1000, "
        "default 1000); next_after, when present, is the after of the next page.",
        [this](Call& call) { return Proposals(call); }, {{"after"}, {"limit"}});
    Add("GET", "/v1/proposals/{id}", Access::kToken, "One proposal.", [this](Call& call) {
      const auto id = ParseInt(call.params.at(0));
      if (!id) return ErrorReply(Check::kFieldInvalid, "proposal id must be an integer");
      Reply reply = ReadDocument("proposal", service::ProposalKey(*id), call.who);
      if (reply.status == 404) {
        return ErrorReply(Check::kUnknownProposal,
                          "proposal " + std::to_string(*id) + " does not exist");
      }
      if (reply.status == 200) reply.body = reply.body["current"];
      return reply;
    });

    AddCommandRoute("/v1/parties", "party.add", "Adds a Party {code, name}.");
    AddCommandRoute("/v1/registries", "registry.add", "Adds a registry {code, party, name}.");
    AddCommandRoute("/v1/entities", "entity.add",
                    "Adds an entity {name, country, identification?}.");
    AddCommandRoute("/v1/accounts", "account.open", "Opens an account {registry, type, name}.");
    AddCommandRoute("/v1/accounts/{id}/status", "account.set_status",
                    "Sets an account's status {status}.", {"account"});
    AddCommandRoute("/v1/issuances", "issue",
                    "Issues credits {account, vintages: [{vintage, quantity}], project?}.");
    AddCommandRoute("/v1/transfers", "transfer",
                    "Proposes a transfer {from, to, quantity | ranges} (four-eyes, 202).");
    AddCommandRoute("/v1/retirements", "retire",
                    "Proposes a retirement {from, quantity | ranges, use_year} (four-eyes).");
    AddCommandRoute("/v1/cancellations", "cancel",
                    "Proposes a cancellation {from, quantity | ranges, purpose} (four-eyes).");
    constexpr std::pair<const char*, const char*> kUserRoutes[] = {
        {"deactivate",
         "Deactivates a user {reason}: its token stops working at once (administrators)."},
        {"activate", "Reactivates a user: its current token works again (administrators)."},
        {"token",
         "Gives a user a new token, shown once; every earlier one stops working "
         "(administrators)."},
    };
    for (const auto& [verb, summary] : kUserRoutes) {
      const std::string command = std::string("user.") + verb;
      Add("POST", std::string("/v1/users/{name}/") + verb, Access::kWrite, summary,
          [this, command](Call& call) {
            Json args = call.body;
            args["name"] = call.params.at(0);
            return Command(call, command, std::move(args));
          });
    }
    AddCommandRoute("/v1/users", "user.add",
                    "Adds a user {role, scope, name?}; answers the API token once.");
    Add("POST", "/v1/proposals", Access::kWrite, "Proposes any four-eyes command {command, args}.",
        [this](Call& call) {
          for (const auto& [name, value] : call.body.items()) {
            static_cast<void>(value);
            if (name != "command" && name != "args" && name != "expires_at") {
              return ErrorReply(
                  Check::kUnknownField,
                  "POST /v1/proposals takes {command, args, expires_at?}, not '" + name + "'");
            }
          }
          const auto it = call.body.find("command");
          const auto args = call.body.find("args");
          if (it == call.body.end() || !it->is_string() || args == call.body.end() ||
              !args->is_object()) {
            return ErrorReply(Check::kFieldMissing, "the body is {command, args, expires_at?}");
          }
          if (!service::NeedsFourEyes(it->get<std::string>())) {
            return ErrorReply(Check::kFieldInvalid,
                              "command '" + it->get<std::string>() + "' needs no proposal");
          }
          // Straight to proposal.create, expires_at and all (it was dropped: a proposal asked
          // to expire in 3 s lived 7 days).
          return Write(call, "proposal.create", call.body, 202);
        });
    for (const char* verb : {"approve", "reject", "expire"}) {
      const std::string command = std::string("proposal.") + verb;
      Add("POST", std::string("/v1/proposals/{id}/") + verb, Access::kWrite,
          std::string("Decides a proposal: ") + verb + " (the initiator can never approve).",
          [this, command](Call& call) { return ProposalDecision(call, command); });
    }
    // The routes that build a report from the whole history: report_builds_max at once.
    for (Route& route : routes) {
      route.report = route.path.rfind("/v1/reports/", 0) == 0 ||
                     route.path.rfind("/v1/statistics/", 0) == 0 || route.path == "/v1/verify";
    }
  }

  Json OpenApi() const {
    Json paths = Json::object();
    for (const Route& route : routes) {
      std::string method = route.method;
      for (char& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      Json op = {{"summary", route.summary},
                 {"operationId", method + route.path},
                 {"responses",
                  {{"200", {{"description", "OK"}}},
                   {"default",
                    {{"description", "Error {code, check, message, rule}"},
                     {"content",
                      {{"application/json",
                        {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}}}}}};
      Json parameters = Json::array();
      const PathPattern pattern(route.path);
      for (const std::string& name : pattern.names()) {
        parameters.push_back(
            {{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}});
      }
      for (const QueryParam& q : route.query) {
        parameters.push_back({{"name", q.name},
                              {"in", "query"},
                              {"required", q.required},
                              {"schema", {{"type", "string"}}}});
      }
      if (route.access == Access::kWrite) {
        parameters.push_back({{"name", "Idempotency-Key"},
                              {"in", "header"},
                              {"required", false},
                              {"schema", {{"type", "string"}, {"maxLength", 128}}}});
        Json schema = {{"type", "object"}};
        if (!route.command.empty()) {
          schema = CommandSchema(route.command, route.path_fields);
        } else if (route.path == "/v1/commands/{type}") {
          Json any = Json::array();
          for (const auto& [name, handler] : service::Handlers()) {
            static_cast<void>(handler);
            any.push_back({{"$ref", "#/components/schemas/command." + name}});
          }
          schema = {{"anyOf", any}};
        }
        op["requestBody"] = {{"required", false},
                             {"content", {{"application/json", {{"schema", schema}}}}}};
      }
      if (route.report) {
        op["responses"]["503"] = {
            {"description",
             "overloaded: every report slot is building (jcmreg serve --report-builds); retry"},
            {"headers", {{"Retry-After", {{"schema", {{"type", "integer"}}}}}}},
            {"content",
             {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
      }
      if (!parameters.empty()) op["parameters"] = parameters;
      if (route.access != Access::kPublic) op["security"] = Json::array({{{"bearer", Json::array()}}});
      paths[route.path][method] = op;
    }
    Json schemas = {{"Error",
                     {{"type", "object"},
                      {"properties",
                       {{"code", {{"type", "string"}}},
                        {"check", {{"type", "string"}}},
                        {"message", {{"type", "string"}}},
                        {"rule", {{"type", "string"}}}}}}}};
    for (const auto& [name, handler] : service::Handlers()) {
      static_cast<void>(handler);
      schemas["command." + name] = CommandSchema(name);
    }
    return {{"openapi", "3.0.3"},
            {"info",
             {{"title", "JCM registry API"},
              {"version", "1"},
              {"description",
               "JCM credits as Article 6.2 ITMOs. Writes need an API token and accept an "
               "Idempotency-Key header; transfers, retirements, cancellations and authorization "
               "changes are four-eyes proposals."}}},
            {"paths", paths},
            {"components",
             {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}},
              {"schemas", schemas}}}};
  }
};

Server::Server(Store& store, service::Registry& registry, ServerOptions options)
    : impl_(std::make_unique<Impl>(store, registry, std::move(options))) {}

Server::~Server() { Stop(); }

service::Response Server::Submit(service::Request request) {
  auto promise = std::make_shared<std::promise<service::Response>>();
  auto answer = promise->get_future();
  if (!impl_->writer.SubmitAsync(std::move(request), [promise](service::Response response) {
        promise->set_value(std::move(response));
      })) {
    return impl_->writer.Overloaded();
  }
  return answer.get();
}

Result<int, std::string> Server::Start() {
  Impl& s = *impl_;
  TransportOptions options;
  options.host = s.options.host;
  options.port = s.options.port;
  options.workers = s.options.threads;
  options.thread_nice = kWriterFeederNice;  // The writer runs first when the cores are busy.
  options.body_bytes_max = kRequestBodyBytesMax;
  options.connections_max = s.options.connections_max;
  options.connections_per_address_max = s.options.connections_per_address_max;
  options.trusted_proxies = s.options.trusted_proxies;
  options.head_timeout = s.options.head_timeout;
  options.request_timeout = s.options.request_timeout;
  // On every answer, the portal's and the API's and the transport's own errors: the portal
  // runs only its own scripts and styles and talks only to this origin (an injected script or
  // a name carrying markup could run nothing), no other site may frame it (clickjacking an
  // approval), a form submits only to the registry itself (the reports page's GET forms, which
  // work without the script), a browser never guesses a type (a CSV or a document served as HTML),
  // and no URL of the registry leaves in a Referer.
  options.default_headers = {
      {"Content-Security-Policy",
       "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
  };
  s.route_patterns.clear();
  for (const Route& route : s.routes) s.route_patterns.emplace_back(route.path);
  s.transport = std::make_unique<Transport>(
      std::move(options),
      [&s](httplib::Request& req, httplib::Response& res, Deferral& deferral) {
        s.Handle(req, res, deferral);
      },
      [&s](const httplib::Request& req, const TransportProblem& problem, httplib::Response& res) {
        s.TransportError(req, problem, res);
      });
  s.writer.Start();
  auto port = s.transport->Start();
  if (!port) s.writer.Stop();
  return port;
}

void Server::Stop() {
  if (!impl_) return;
  if (impl_->transport) impl_->transport->Stop();
  impl_->writer.Stop();
}

bool Server::Running() const { return impl_ && impl_->transport && impl_->transport->Running(); }

std::vector<RouteInfo> Server::Routes() const {
  std::vector<RouteInfo> out;
  for (const Route& r : impl_->routes) out.push_back(RouteInfo{r.method, r.path});
  return out;
}

Json Server::OpenApi() const { return impl_->OpenApi(); }

}  // namespace registry::http
