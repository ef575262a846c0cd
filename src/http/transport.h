// The HTTP/1.1 transport under the API: one event-loop thread owns every connection (accept,
// read, parse, write, deadlines) and a pool of workers runs the handlers, which may block (a
// report being built) or take their answer over and send it later from another thread (a write,
// once its group commit is durable: DeferredAnswer). A connection costs a worker only while one
// of its requests is being handled, so slow or idle clients hold no thread: a client that sends a
// request a byte at a time is cut off when the request's deadline passes, however it trickles
// (cpp-httplib, used before, gave each connection a thread for its whole life, and a few dozen
// idle connections left no thread for anyone else: docs/design.md "HTTP transport").
//
// What it accepts: HTTP/1.0 and 1.1, GET, HEAD and POST (any other method token reaches the
// handler, which answers 404), a body only with Content-Length (no chunked request bodies), one
// request at a time per connection (pipelined requests wait in the buffer and are answered in
// order), keep-alive unless the client says close, "Expect: 100-continue". The request line and
// headers, the body, the request's time and the connections per address are limited; a request
// beyond a limit is answered by the error handler and the connection closed. Request and
// response are cpp-httplib's structs (the client side and the tests use cpp-httplib).
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace registry::http {

struct TransportOptions {
  std::string host = "127.0.0.1";
  int port = 0;         // 0: any free port.
  size_t workers = 32;  // Requests handled at once.
  size_t head_bytes_max = 16384;  // Request line and headers.
  size_t body_bytes_max = 65536;  // Content-Length above it: 413.
  // From a request's first byte to its last: a slow sender is cut off here.
  std::chrono::milliseconds request_timeout{10000};
  // A kept-alive connection's wait for its next request.
  std::chrono::milliseconds idle_timeout{5000};
  // An answer's write without any progress (a client that stops reading).
  std::chrono::milliseconds write_timeout{10000};
  size_t connections_max = 10000;
  size_t connections_per_address_max = 256;
  // Headers on every answer (before the handler's own).
  httplib::Headers default_headers;
  // The nice value of the event loop and the workers (Linux keeps one per thread); 0 leaves
  // them as they are. The API server lowers them below its writer's (kWriterFeederNice).
  int thread_nice = 0;
};

// The answer to one request, sent later and from any thread: a handler that would otherwise
// wait (a write waiting for its group commit) takes its answer over with Deferral::Take() and
// returns, and its worker goes on to other requests. Copies are handles to one answer. The
// first Send is the answer (later ones are ignored); an answer never sent is answered 500 by
// the error handler when its last handle goes, so a lost answer shows as an error and never as
// a client waiting for ever. After Transport::Stop a Send goes nowhere (the connection is
// closed). The transport's default headers are added to the response's own.
class DeferredAnswer {
 public:
  struct State;
  explicit DeferredAnswer(std::shared_ptr<State> state) : state_(std::move(state)) {}

  // The request answered (alive as long as a handle is).
  const httplib::Request& request() const;
  void Send(httplib::Response res) const;

 private:
  std::shared_ptr<State> state_;
};

// Given to the handler with each request.
class Deferral {
 public:
  struct Job;
  explicit Deferral(Job& job) : job_(job) {}

  // Takes the answer over: the handler's `res` is not sent, the answer returned must be (once).
  // The request moves into the answer; the handler's reference to it stays valid.
  DeferredAnswer Take();
  bool taken() const { return taken_; }

 private:
  Job& job_;
  bool taken_ = false;
};

// Handles a parsed request (the handler may change `req`, which is its own). The worker
// sends `res` when the handler returns, unless the handler took the answer over (`deferral`).
using TransportHandler =
    std::function<void(httplib::Request& req, httplib::Response& res, Deferral& deferral)>;
// Answers a request the transport refuses itself: `status` is 400 (malformed), 411 (no
// Content-Length on a POST, or a chunked body), 413 (body too large), 431 (head too large),
// 503 (too many connections from the address) or 500 (the handler threw, or a deferred answer
// was dropped unsent: called from the thread that dropped it, until Stop); `message` says what
// was wrong. `req` holds what was parsed before the problem (possibly nothing).
using TransportErrorHandler = std::function<void(const httplib::Request& req, int status,
                                                 const std::string& message,
                                                 httplib::Response& res)>;

class Transport {
 public:
  Transport(TransportOptions options, TransportHandler handler, TransportErrorHandler error);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  // Binds, listens and starts the threads, once per Transport (a stopped one is not restarted:
  // answers deferred across a Stop go nowhere). Returns the port.
  Result<int, std::string> Start();
  // Stops accepting, lets the requests being handled finish, closes every connection.
  void Stop();
  bool Running() const;

  // Connections open now (tests, /metrics).
  size_t Connections() const;

  // Runs each of `tasks` on a worker, after the requests and tasks queued before them (deferred
  // answers' finishing: what the handlers would have done after their wait). They are queued at
  // once, so the sleeping workers are woken once for all of them rather than once per task (the
  // answers of one group commit). Once Stop has joined the workers, runs them, in order, on the
  // caller's thread.
  void PostAll(std::vector<std::function<void()>> tasks);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What a request's head says about its body and its connection.
struct RequestHead {
  size_t content_length = 0;
  bool expect_continue = false;
  bool keep_alive = true;
};

// Parses a request's line and headers (`text` stops before the blank line; lines end in CRLF or
// LF) into `req` (method, version, target, decoded path, query parameters, headers) and `head`.
// Returns 0, or the status of the refusal (400, 411, 413 when Content-Length passes
// `body_bytes_max`, 431) with `message` naming the problem. Exposed for the fuzz target.
int ParseRequestHead(std::string_view text, size_t body_bytes_max, httplib::Request& req,
                     RequestHead& head, std::string& message);

// The reason phrase of a status code ("Not Found").
const char* ReasonPhrase(int status);

}  // namespace registry::http
