// The HTTP API (ISSUE 4): a JSON API under /v1, on the event-loop transport of http/transport.h,
// for every command and read, with API-token authentication, four-eyes proposals,
// Idempotency-Key, rate limiting, a structured access log, /metrics (Prometheus text), /healthz
// and an OpenAPI 3 document at /v1/openapi.json generated from the same route table the server
// serves (so the two cannot drift apart).
//
// Reads run on the HTTP threads in Store::BeginRead snapshots; writes go through the single
// writer (service/writer.h) and are answered once their batch committed, without a thread
// waiting meanwhile (the answer is deferred: http/transport.h). Errors are JSON
// {code, check, message, rule} from the check catalogue, with the check's HTTP status.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/limits.h"
#include "core/result.h"
#include "journal/chain.h"
#include "service/registry.h"
#include "service/verify.h"

namespace registry::http {

using Json = nlohmann::json;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (tests).
  size_t writer_queue_max = kWriterQueueMax;
  // Per client (token, or address when anonymous): a bucket of `rate_burst` requests refilled
  // at `rate_per_second`. 0 turns rate limiting off.
  double rate_per_second = 200;
  double rate_burst = 400;
  bool access_log = true;  // One JSON line per request on stderr.
  // Requests handled at once (the transport's workers). A connection takes one only while one
  // of its requests is handled: idle and slow clients hold none (http/transport.h), and a write
  // holds none while it waits for its commit. A report build holds one (report_builds_max).
  // Fewer workers than cores' worth of runnable threads is what 2 cores like best: at 64 and
  // 256 clients 4-8 workers beat 32 and N + 8 (docs/benchmarks.md).
  size_t threads = 8;
  // Open connections, in all and from one address. At a limit the oldest connection waiting
  // for a request (the address's own, or the busiest address's) is closed to make room; only
  // when none waits is a new one answered 503 (http/transport.h).
  size_t connections_max = 10000;
  size_t connections_per_address_max = 256;
  // Proxies whose X-Forwarded-For names the client (rate limits count it; the proxy itself has
  // no per-address connection limit). docs/operations.md "Connection limits".
  std::vector<std::string> trusted_proxies;
  // A request's head must arrive within head_timeout of its first byte, and all of it within
  // request_timeout: a slower one is answered 408 and its connection closed.
  std::chrono::milliseconds head_timeout{5000};
  std::chrono::milliseconds request_timeout{10000};
  // Reports built at once (GET /v1/reports/..., /v1/statistics/..., /v1/verify): each reads the
  // whole history, most are public. One more is answered 503 overloaded with Retry-After, so
  // that a burst of downloads cannot take every HTTP thread and core from the writes.
  size_t report_builds_max = 2;
  // Public (anonymous) report answers kept while the journal head does not move, in bytes; 0
  // turns the cache off. A hit needs no slot.
  size_t report_cache_bytes = size_t{64} << 20;
  // Tests only: called inside a report build's slot, before the report is built.
  std::function<void()> report_build_hook;
  // For GET /v1/verify: the registry's public key and a factory of empty scratch stores.
  journal::PublicKey public_key{};
  service::StoreFactory scratch;
  // The registry link (docs/link.md): the key that signs this installation's answers to its
  // peers. Unset: POST /v1/link/messages answers 503.
  std::optional<journal::SigningKey> link_key;
};

// One served route: method and OpenAPI path template ("/v1/accounts/{id}/holdings").
struct RouteInfo {
  std::string method;
  std::string path;
};

class Server {
 public:
  // `store` and `registry` must outlive the server; `registry` is used by the writer thread only.
  Server(Store& store, service::Registry& registry, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds, starts the writer and serves on a background thread. Returns the bound port.
  Result<int, std::string> Start();
  // Stops serving, then drains and stops the writer.
  void Stop();
  // True from Start until Stop (or until the listening thread ends on its own).
  bool Running() const;

  // Runs a request through the writer like an HTTP write and waits for its answer (the registry
  // link's outbox journals its steps so). Refused with kOverloaded when the queue is full.
  service::Response Submit(service::Request request);

  std::vector<RouteInfo> Routes() const;
  Json OpenApi() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace registry::http
