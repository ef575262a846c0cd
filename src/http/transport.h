// The HTTP/1.1 transport under the API: one event-loop thread owns every connection (accept,
// read, parse, write, deadlines) and a pool of workers runs the handlers, which may block (a
// report being built) or take their answer over and send it later from another thread (a write,
// once its group commit is durable: DeferredAnswer). A connection costs a worker only while one
// of its requests is being handled, so slow or idle clients hold no thread: a client that sends a
// request a byte at a time is cut off when the request's deadline passes, however it trickles
// (cpp-httplib, used before, gave each connection a thread for its whole life, and a few dozen
// idle connections left no thread for anyone else: docs/design.md "HTTP transport").
//
// The request head is parsed by Boost.Beast's HTTP/1.1 parser (Debian's libboost-dev; header
// only), not by hand; the event loop (epoll) and the policy above it are this file's, because
// neither Beast nor libmicrohttpd gives a deadline for a whole request head or room made for a
// new connection by closing an idle one, which the limits below need (docs/design.md "HTTP
// transport", and docs/benchmarks.md for the measured comparison with libmicrohttpd).
//
// What it accepts: HTTP/1.0 and 1.1 with CRLF line ends, GET, HEAD and POST (any other method token reaches the
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
  // From a request's first byte to the end of its headers, and to its last byte: a slow sender
  // is answered 408 and cut off here, however it trickles.
  std::chrono::milliseconds head_timeout{5000};
  std::chrono::milliseconds request_timeout{10000};
  // A kept-alive connection's wait for its next request.
  std::chrono::milliseconds idle_timeout{5000};
  // An answer's write without any progress (a client that stops reading).
  std::chrono::milliseconds write_timeout{10000};
  // Connections open at once, and from one address. At either limit a new connection is not
  // refused while an older one waits for its next request or trickles one in: the oldest such
  // connection (of the address with the most, at the global limit) is closed to make room, so
  // slow or idle connections from an address shared with real clients (a NAT, a proxy) cannot
  // starve them. Only when every connection is busy (handled, or being answered) is a new one
  // refused with 503.
  size_t connections_max = 10000;
  size_t connections_per_address_max = 256;
  // Proxies trusted to say who their client is: a connection from one of these addresses has no
  // per-address limit of its own, and a request through it takes as its remote address the last
  // address of its X-Forwarded-For header (the client the proxy saw), which the server's rate
  // limit then counts. Numeric addresses as accept() reports them ("127.0.0.1", "::1").
  std::vector<std::string> trusted_proxies;
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

// A request the transport refuses itself (it never reaches the handler).
struct TransportProblem {
  // 400 (malformed), 408 (not whole by its deadline), 411 (no Content-Length on a POST, or a
  // chunked body), 413 (body too large), 431 (head too large), 503 (every connection busy) or
  // 500 (the handler threw, or a deferred answer was dropped unsent).
  int status = 400;
  bool invalid_text = false;  // A 400 for text that is not UTF-8 or holds a control character.
  std::string message;        // What was wrong.
};

// Handles a parsed request (the handler may change `req`, which is its own). The worker
// sends `res` when the handler returns, unless the handler took the answer over (`deferral`).
using TransportHandler =
    std::function<void(httplib::Request& req, httplib::Response& res, Deferral& deferral)>;
// Answers a request the transport refuses itself (a 500 is called from the thread that dropped
// the answer, until Stop; the others from the event loop). `req` holds what was parsed before the
// problem (possibly nothing, possibly text that is not UTF-8). Must not throw; if it does, the
// transport answers a bare 500 and goes on.
using TransportErrorHandler = std::function<void(
    const httplib::Request& req, const TransportProblem& problem, httplib::Response& res)>;

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
  // Connections closed to make room for new ones (see connections_max), and requests answered
  // 500 because their handler threw (/metrics).
  size_t Evicted() const;
  size_t HandlerFailures() const;

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

// Parses the request head at the start of `input` (what a client sent, from the request's first
// byte) with Boost.Beast's HTTP/1.1 parser, then this transport's own rules, into `req` (method,
// version, target, decoded path, query parameters, headers) and `head`. Returns 0 with `length`
// the head's length through its blank line (CRLF line ends); 0 with `length` 0 while the head is
// not whole; or the status of the refusal (400, 411, 413 when Content-Length passes
// `body_bytes_max`, 431 past `head_bytes_max` or kHeadersMax fields) with `message` naming the
// problem; `invalid_text` is set for a 400 whose path, query or header is not UTF-8 or holds a
// control character. The path, the query's names and values, and the header values of a request
// it accepts are valid UTF-8, and the path and query hold no control character. Exposed for the
// fuzz target.
int ParseRequestHead(std::string_view input, size_t head_bytes_max, size_t body_bytes_max,
                     httplib::Request& req, RequestHead& head, size_t& length,
                     std::string& message, bool* invalid_text = nullptr);

// The reason phrase of a status code ("Not Found").
const char* ReasonPhrase(int status);

}  // namespace registry::http
