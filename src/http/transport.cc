// The HTTP/1.1 transport: see http/transport.h.
//
// Ownership. The loop thread owns every Conn and is the only one to read, write, close or free
// it. A request being handled (state kHandling) is lent to one worker, which touches nothing of
// the Conn: it gets the parsed request and hands back the answer's bytes through the Outbox (a
// queue and an eventfd). A handler may take its answer over (Deferral) and send it later from
// another thread, through the same Outbox; the Conn stays lent until then. A Conn the loop wants
// gone while it is lent is marked dead and freed when its answer comes back. Sockets are
// non-blocking and edge-triggered: each readiness is followed by reads (or writes) until EAGAIN,
// so no event is lost; reading stops only when a connection has buffered more than one whole
// request can be, and resumes once its answer is written.
#include "http/transport.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <cstdint>
#include <exception>
#include <limits>
#include <mutex>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

#include "core/assert.h"
#include "core/text.h"

namespace registry::http {
namespace {

namespace beast_http = boost::beast::http;

using Clock = std::chrono::steady_clock;

// How long a connection closed after an answer (an error, "Connection: close") is still read
// and what arrives discarded, so that the client reads the answer before the close (a close
// with unread data sends a reset, which can destroy the answer in the client's buffers).
constexpr std::chrono::milliseconds kLingerTime{2000};
constexpr size_t kHeadersMax = 100;
constexpr size_t kReadChunk = 16384;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The comma-separated tokens of a header value (Connection, Expect) contain `token`.
bool HasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    if (EqualsIgnoreCase(Trim(value.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

// A refusal of the transport itself: the status handed to the error handler and the message.
struct Refusal {
  int status = 0;  // 0: none.
  std::string message;
  bool invalid_text = false;
};

// A 400 for text that is not UTF-8 or holds a control character, naming where it is.
Refusal BadText(const std::string& where, const std::string& problem) {
  return {400, where + " is not valid text: " + problem, true};
}

// Boost.Beast's HTTP/1.1 parser reads the request line and headers; this transport reads the
// body itself (by Content-Length: chunked bodies are refused) and keeps its own policy (limits,
// deadlines, text checks). One parser per request, kept across reads, so that a head trickling
// in is not scanned again from its start at every read.
using HeadParser = beast_http::request_parser<beast_http::empty_body>;

std::unique_ptr<HeadParser> NewHeadParser(size_t head_bytes_max) {
  auto parser = std::make_unique<HeadParser>();
  parser->header_limit(static_cast<std::uint32_t>(
      std::min<size_t>(head_bytes_max, std::numeric_limits<std::uint32_t>::max())));
  // The body is this transport's, checked below (413). Not boost::none: Boost 1.74 compares the
  // Content-Length with an empty limit as larger than it (basic_parser.ipp, finish_header).
  parser->body_limit(std::numeric_limits<std::uint64_t>::max());
  parser->eager(false);             // Stop at the end of the head.
  return parser;
}

// The lines of a request head, from its second (the first header) to its blank line, with their
// line ends cut.
std::vector<std::string_view> HeaderLines(std::string_view input) {
  std::vector<std::string_view> lines;
  size_t at = input.find('\n');
  while (at != std::string_view::npos) {
    const size_t next = input.find('\n', at + 1);
    if (next == std::string_view::npos) break;
    std::string_view line = input.substr(at + 1, next - at - 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;
    lines.push_back(line);
    at = next;
  }
  return lines;
}

// The number (from 1) of the first header line that is not 'Name: value', or 0.
size_t BadHeaderLine(std::string_view input) {
  const std::vector<std::string_view> lines = HeaderLines(input);
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t colon = lines[i].find(':');
    const std::string_view name = lines[i].substr(0, colon);
    const bool token = std::all_of(name.begin(), name.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
             std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    });
    if (colon == std::string_view::npos || name.empty() || !token) return i + 1;
  }
  return 0;
}

// What the parser's refusal of the head at the start of `input` means, said to the client.
Refusal FromParser(const boost::beast::error_code& ec, std::string_view input,
                   size_t head_bytes_max) {
  using E = beast_http::error;
  if (ec == E::header_limit) {
    return {431, "the request line and headers are longer than " +
                     std::to_string(head_bytes_max) + " bytes"};
  }
  if (ec == E::bad_method) return {400, "the request line's method is not a method name"};
  if (ec == E::bad_target) {
    return {400, "the request target holds a space or a control character"};
  }
  if (ec == E::bad_version) {
    return {400, "the request line is not 'METHOD /path HTTP/1.1' (no HTTP version after the "
                 "path)"};
  }
  if (ec == E::bad_line_ending) {
    return {400, "a line of the request head does not end in CRLF"};
  }
  if (ec == E::bad_field) {
    const size_t line = BadHeaderLine(input);
    return {400, line == 0 ? std::string("a header line is not 'Name: value'")
                           : "header line " + std::to_string(line) + " is not 'Name: value'"};
  }
  if (ec == E::bad_value) {
    return {400, "a header value holds a control character (only tab may be in one)", true};
  }
  if (ec == E::bad_obs_fold) return {400, "a header line continues on the next (obs-fold)"};
  if (ec == E::bad_content_length) {
    return {400, "Content-Length is not one number of bytes (two that differ, or not a number)"};
  }
  if (ec == E::bad_transfer_encoding) {
    return {411, "a body must come with a Content-Length header (Transfer-Encoding, e.g. a "
                 "chunked body, is not accepted)"};
  }
  return {400, "the request head is malformed: " + ec.message()};
}

// Parses the request head at the start of `input` (what a connection has read for this request)
// with `parser` into `req` and `head`. Returns the refusal, if any; `length` is the head's length
// through its blank line, or 0 while the head is not whole.
Refusal ParseHead(HeadParser& parser, std::string_view input, size_t head_bytes_max,
                  size_t body_bytes_max, httplib::Request& req, RequestHead& head,
                  size_t& length) {
  length = 0;
  boost::beast::error_code ec;
  const size_t used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
  if (ec == beast_http::error::need_more) return {};
  if (ec) return FromParser(ec, input, head_bytes_max);
  if (!parser.is_header_done()) return {};
  // The parser joins a folded line to the one before (obs-fold); RFC 9112 5.2 lets a server
  // refuse it instead, which leaves no doubt about where a field ends.
  const std::vector<std::string_view> lines = HeaderLines(input.substr(0, used));
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].front() == ' ' || lines[i].front() == '\t') {
      return {400, "header line " + std::to_string(i + 1) +
                       " continues the one before it (obs-fold), which is not accepted"};
    }
  }
  const auto& message = parser.get();
  const std::string_view method(message.method_string().data(), message.method_string().size());
  if (method.size() > 16) return {400, "the request line's method is not a method name"};
  req.method = std::string(method);
  if (message.version() != 11 && message.version() != 10) {
    return {400, "HTTP version " + std::to_string(message.version() / 10) + "." +
                     std::to_string(message.version() % 10) +
                     " is not served (HTTP/1.1 or HTTP/1.0)"};
  }
  req.version = message.version() == 11 ? "HTTP/1.1" : "HTTP/1.0";
  const std::string_view target(message.target().data(), message.target().size());
  if (target.empty() || target.front() != '/' ||
      std::any_of(target.begin(), target.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
      })) {
    return {400, "the request target must be a path starting with '/'"};
  }
  req.target = std::string(target);
  const size_t mark = target.find('?');
  req.path = httplib::detail::decode_url(std::string(target.substr(0, mark)), false);
  // Checked once decoded ("/%ff" is the byte 0xFF, "/%00" a NUL): nothing downstream (routing,
  // the access log, an error message echoing the path) meets text that is not UTF-8.
  if (auto problem = TextProblem(req.path)) return BadText("the path", *problem);
  if (mark != std::string_view::npos) {
    httplib::detail::parse_query_text(std::string(target.substr(mark + 1)), req.params);
    for (const auto& [name, value] : req.params) {
      if (auto problem = TextProblem(name)) return BadText("a query parameter's name", *problem);
      if (auto problem = TextProblem(value)) {
        return BadText("query parameter " + name, *problem);
      }
    }
  }
  size_t fields = 0;
  for (const auto& field : message) {
    if (++fields > kHeadersMax) {
      return {431, "more than " + std::to_string(kHeadersMax) + " header fields"};
    }
    const std::string name(field.name_string().data(), field.name_string().size());
    const std::string value(field.value().data(), field.value().size());
    // The parser allows any byte from 0x80 in a value (obs-text) and a tab: a value must be
    // UTF-8, with tab the one control character it may hold (RFC 9110 5.5).
    if (auto problem = TextProblem(value, Controls::kWhitespace)) {
      return BadText("header " + name, *problem);
    }
    if (const size_t cr = value.find_first_of("\r\n"); cr != std::string::npos) {
      return BadText("header " + name, "a control character at offset " + std::to_string(cr));
    }
    req.headers.emplace(name, value);
  }
  if (parser.chunked() || req.has_header("Transfer-Encoding")) {
    return {411, "a body must come with a Content-Length header (Transfer-Encoding, e.g. a "
                 "chunked body, is not accepted)"};
  }
  const boost::optional<std::uint64_t> content_length = parser.content_length();
  if (!content_length && req.method == "POST") {
    return {411, "a POST needs a Content-Length header and a JSON body, e.g. {}"};
  }
  head.content_length = content_length ? static_cast<size_t>(*content_length) : 0;
  if (content_length && *content_length > body_bytes_max) {
    return {413, "the body is larger than " + std::to_string(body_bytes_max) + " bytes"};
  }
  head.keep_alive = parser.keep_alive();
  head.expect_continue =
      req.version == "HTTP/1.1" && HasToken(req.get_header_value("Expect"), "100-continue");
  length = used;
  return {};
}

struct Conn {
  enum class State {
    kReading,   // Waiting for (the rest of) a request.
    kHandling,  // Its request is with a worker.
    kWriting,   // Its answer is being written.
    kLingering  // Answered and half closed: reading to discard until the client closes.
  };
  int fd = -1;
  std::string address;
  int port = 0;
  State state = State::kReading;
  std::string in;            // Read and not yet consumed.
  size_t head_end = 0;       // The parsed head's length (0: not parsed yet).
  std::unique_ptr<httplib::Request> req;  // The request begun (its head parsed once head_end).
  std::unique_ptr<HeadParser> parser;     // Its head's parser, while the head is not whole.
  RequestHead head;
  bool continue_sent = false;
  bool read_paused = false;  // Stopped reading with data left in the kernel (edge-triggered).
  bool peer_closed = false;  // The client's end is closed (or half closed).
  bool close_after = false;  // Close once the answer is written.
  bool dead = false;         // Closed while lent to a worker: free when its answer returns.
  bool trusted = false;      // From a trusted proxy (TransportOptions::trusted_proxies).
  Clock::time_point since;   // Since when it waits for (or trickles in) its next request.
  Clock::time_point first_byte;  // The current request's first byte.
  std::string out_head;
  std::string out_body;
  size_t out_sent = 0;
  Clock::time_point deadline;
};

struct Done {
  Conn* conn;
  std::string head;
  std::string body;
  bool close;
};

// The head of an answer: status line, the response's headers (CR and LF removed from values:
// no header can be split into two), Content-Length and Connection.
std::string SerializeHead(const httplib::Response& res, size_t body_size, bool close) {
  std::string out = "HTTP/1.1 " + std::to_string(res.status) + " " + ReasonPhrase(res.status) +
                    "\r\n";
  for (const auto& [name, value] : res.headers) {
    if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Connection")) continue;
    out += name;
    out += ": ";
    for (char c : value) {
      if (c != '\r' && c != '\n') out += c;
    }
    out += "\r\n";
  }
  out += "Content-Length: " + std::to_string(body_size) + "\r\n";
  out += close ? "Connection: close\r\n\r\n" : "Connection: keep-alive\r\n\r\n";
  return out;
}

// Where answers go to the loop: a queue and the eventfd that wakes it, with what every answer
// needs (the default headers, the error handler). Shared with the deferred answers, which can
// outlive the transport's threads (a write answered after Stop): once `open` is false the loop
// takes no more and an answer goes nowhere.
struct Outbox {
  std::mutex mu;
  std::vector<Done> done;
  bool open = true;
  int wake_fd = -1;
  httplib::Headers default_headers;
  TransportErrorHandler error;

  ~Outbox() {
    if (wake_fd >= 0) ::close(wake_fd);
  }

  bool Open() {
    std::lock_guard<std::mutex> lock(mu);
    return open;
  }

  // The error handler's answer to `problem`, or a bare 500 if the handler throws: a refusal
  // never takes the thread that makes it down with it (the event loop makes most).
  void Error(const httplib::Request& req, const TransportProblem& problem,
             httplib::Response& res) const {
    try {
      error(req, problem, res);
    } catch (...) {
      res = httplib::Response();
      res.headers = default_headers;
      res.status = 500;
      res.set_content("{\"code\": \"JCM-700\", \"check\": \"internal_error\"}\n",
                      "application/json");
    }
  }

  void Wake() const {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t r = ::write(wake_fd, &one, sizeof one);
  }

  // Queues `res` as the answer on `conn` (no body for a HEAD) and wakes the loop.
  void Answer(Conn* conn, httplib::Response& res, bool close, bool head_only) {
    if (res.status < 100 || res.status > 599) res.status = 500;
    Done answer{conn, SerializeHead(res, res.body.size(), close), {}, close};
    if (!head_only) answer.body = std::move(res.body);
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!open) return;
      wake = done.empty();
      done.push_back(std::move(answer));
    }
    if (wake) Wake();
  }
};

}  // namespace

// A request for a worker, or a task (Transport::PostAll).
struct Deferral::Job {
  Conn* conn = nullptr;
  std::unique_ptr<httplib::Request> req;
  bool close = false;
  std::function<void()> task;
  const std::shared_ptr<Outbox>* outbox = nullptr;  // Set by the worker.
};

struct DeferredAnswer::State {
  std::shared_ptr<Outbox> outbox;
  Conn* conn = nullptr;
  std::unique_ptr<httplib::Request> req;
  bool close = false;
  std::atomic<bool> sent{false};

  ~State() {
    if (sent.load() || !outbox->Open()) return;
    try {
      httplib::Response res;
      res.headers = outbox->default_headers;
      outbox->Error(*req, {500, false, "internal error: the answer to this request was lost"}, res);
      outbox->Answer(conn, res, close, req->method == "HEAD");
    } catch (...) {
      // Nothing more can be done from a destructor; the connection's deadline is gone too, so
      // the client's own timeout ends its wait.
    }
  }
};

DeferredAnswer Deferral::Take() {
  REGISTRY_ASSERT(!taken_);
  taken_ = true;
  auto state = std::make_shared<DeferredAnswer::State>();
  state->outbox = *job_.outbox;
  state->conn = job_.conn;
  state->req = std::move(job_.req);
  state->close = job_.close;
  return DeferredAnswer(std::move(state));
}

const httplib::Request& DeferredAnswer::request() const { return *state_->req; }

void DeferredAnswer::Send(httplib::Response res) const {
  State& s = *state_;
  if (s.sent.exchange(true)) return;
  // The transport's default headers first, as on a worker's answer.
  httplib::Headers headers = s.outbox->default_headers;
  for (auto& header : res.headers) headers.insert(std::move(header));
  res.headers = std::move(headers);
  s.outbox->Answer(s.conn, res, s.close, s.req->method == "HEAD");
}

int ParseRequestHead(std::string_view input, size_t head_bytes_max, size_t body_bytes_max,
                     httplib::Request& req, RequestHead& head, size_t& length,
                     std::string& message, bool* invalid_text) {
  const std::unique_ptr<HeadParser> parser = NewHeadParser(head_bytes_max);
  Refusal refusal = ParseHead(*parser, input, head_bytes_max, body_bytes_max, req, head, length);
  message = std::move(refusal.message);
  if (invalid_text != nullptr) *invalid_text = refusal.invalid_text;
  return refusal.status;
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return status < 400 ? "OK" : status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

struct Transport::Impl {
  TransportOptions options;
  TransportHandler handler;

  int listen_fd = -1;
  int epoll_fd = -1;
  std::shared_ptr<Outbox> outbox = std::make_shared<Outbox>();
  std::atomic<bool> running{false};
  std::atomic<bool> stopping{false};
  std::thread loop;
  std::vector<std::thread> workers;

  std::mutex jobs_mu;
  std::condition_variable jobs_cv;
  std::deque<Deferral::Job> jobs;
  bool workers_stop = false;

  // The loop thread's.
  std::unordered_map<Conn*, std::unique_ptr<Conn>> conns;
  std::unordered_map<std::string, size_t> per_address;
  std::vector<std::unique_ptr<Conn>> graveyard;  // Freed after the current batch of events.
  std::vector<Deferral::Job> ready;              // Whole requests of the current batch.
  std::atomic<size_t> connection_count{0};
  std::atomic<size_t> evicted{0};
  std::atomic<size_t> handler_failures{0};
  char listen_tag = 0;  // epoll_event.data.ptr of the listening socket,
  char wake_tag = 0;    // ... and of the eventfd.

  Impl(TransportOptions o, TransportHandler h, TransportErrorHandler e)
      : options(std::move(o)), handler(std::move(h)) {
    // The Outbox keeps them: deferred answers may need them after the transport is gone.
    outbox->default_headers = std::move(options.default_headers);
    outbox->error = std::move(e);
  }

  ~Impl() {
    for (auto& [ptr, conn] : conns) ::close(conn->fd);
    for (int fd : {listen_fd, epoll_fd}) {
      if (fd >= 0) ::close(fd);
    }
  }

  // Gives the calling thread options.thread_nice (raising it needs no privilege).
  void Nice() const {
    if (options.thread_nice == 0) return;
    [[maybe_unused]] const int r =
        ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), options.thread_nice);
  }

  // ---- The loop thread.

  void Loop() {
    std::vector<epoll_event> events(256);
    Clock::time_point next_reap = Clock::now();
    while (!stopping.load(std::memory_order_acquire)) {
      const int n = epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), 100);
      for (int i = 0; i < n; ++i) {
        void* ptr = events[i].data.ptr;
        if (ptr == &listen_tag) {
          Accept();
        } else if (ptr == &wake_tag) {
          uint64_t count = 0;
          [[maybe_unused]] const ssize_t r = ::read(outbox->wake_fd, &count, sizeof count);
          DrainDone();
        } else {
          OnEvent(*static_cast<Conn*>(ptr), events[i].events);
        }
      }
      QueueReady();
      const Clock::time_point now = Clock::now();
      if (now >= next_reap) {
        Reap(now);
        next_reap = now + std::chrono::milliseconds(100);
      }
      graveyard.clear();
    }
  }

  void Accept() {
    for (;;) {
      sockaddr_storage addr{};
      socklen_t len = sizeof addr;
      const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;  // EAGAIN; or out of descriptors: the next readiness tries again.
      }
      auto conn = std::make_unique<Conn>();
      conn->fd = fd;
      char host[INET6_ADDRSTRLEN] = "";
      if (addr.ss_family == AF_INET) {
        const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
        ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        conn->port = ntohs(a->sin_port);
      } else if (addr.ss_family == AF_INET6) {
        const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
        ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        conn->port = ntohs(a->sin6_port);
      }
      conn->address = host;
      conn->trusted = std::find(options.trusted_proxies.begin(), options.trusted_proxies.end(),
                                conn->address) != options.trusted_proxies.end();
      if (!MakeRoom(*conn)) {
        size_t& from_address = per_address[conn->address];
        RefuseAtAccept(*conn, from_address);
        if (from_address == 0) per_address.erase(conn->address);
        continue;
      }
      size_t& from_address = per_address[conn->address];
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      conn->since = Clock::now();
      conn->deadline = conn->since + options.idle_timeout;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      ev.data.ptr = conn.get();
      if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        ::close(fd);
        if (from_address == 0) per_address.erase(conn->address);
        continue;
      }
      ++from_address;
      Conn* raw = conn.get();
      conns.emplace(raw, std::move(conn));
      connection_count.store(conns.size(), std::memory_order_relaxed);
    }
  }

  // Within the limits, a new connection from `fresh`'s address gets a place: at the global limit
  // the address with the most connections gives up its oldest waiting one, at the address's limit
  // the address does. False when nothing waits to be closed (every connection is busy).
  bool MakeRoom(const Conn& fresh) {
    if (!fresh.trusted) {
      const auto it = per_address.find(fresh.address);
      if (it != per_address.end() && it->second >= options.connections_per_address_max &&
          !EvictOldestWaiting(&fresh.address)) {
        return false;
      }
    }
    if (conns.size() < options.connections_max) return true;
    const std::string* busiest = nullptr;
    size_t most = 0;
    for (const auto& [address, count] : per_address) {
      if (count > most) {
        most = count;
        busiest = &address;
      }
    }
    // `busiest` points into per_address, which an eviction may change: a copy.
    const std::string address = busiest != nullptr ? *busiest : std::string();
    return (busiest != nullptr && EvictOldestWaiting(&address)) || EvictOldestWaiting(nullptr);
  }

  // Closes the connection from `address` (any, when null) that has waited longest for its next
  // request or been longest trickling it in; false when every one is busy. What its client has
  // sent is read first: a request that arrived whole but is not read yet (its connection accepted
  // in this round of events, or its readiness later in the round) goes to the workers, and the
  // next oldest is tried. (Issue 33, found by the soak: a client connecting right after one that
  // had sent a whole request closed that one, with a reset and no answer.)
  bool EvictOldestWaiting(const std::string* address) {
    for (;;) {
      Conn* oldest = OldestWaiting(address);
      if (oldest == nullptr) return false;
      ReadSome(*oldest);
      if (oldest->dead) return true;  // Its client had closed it: its place is free.
      if (oldest->state == Conn::State::kReading) {
        Evict(*oldest);
        return true;
      }
      // Its request went to the workers or was refused (answered, then closed): not waiting.
    }
  }

  // Of the connections from `address` (any, when null), the one that has waited longest for its
  // next request or been longest trickling it in; null when every one is busy.
  Conn* OldestWaiting(const std::string* address) {
    Conn* oldest = nullptr;
    for (auto& [ptr, conn] : conns) {
      if (conn->dead || conn->state != Conn::State::kReading) continue;
      if (address != nullptr && conn->address != *address) continue;
      if (oldest == nullptr || conn->since < oldest->since) oldest = ptr;
    }
    return oldest;
  }

  void Evict(Conn& conn) {
    Kill(conn);
    evicted.fetch_add(1, std::memory_order_relaxed);
  }

  // No room (every connection busy): a 503 written at once (best effort: a fresh socket's
  // buffer takes it), then closed.
  void RefuseAtAccept(Conn& conn, size_t from_address) {
    const bool total = conns.size() >= options.connections_max;
    httplib::Request req;
    req.remote_addr = conn.address;
    const std::string message =
        total ? "the server has " + std::to_string(conns.size()) +
                    " connections open, its limit, and every one is busy; retry in a moment"
              : "all " + std::to_string(from_address) + " connections from " + conn.address +
                    " (the limit per address) are busy; retry in a moment";
    httplib::Response res;
    res.headers = outbox->default_headers;
    outbox->Error(req, {503, false, message}, res);
    const std::string head = SerializeHead(res, res.body.size(), true);
    const std::string bytes = head + res.body;
    [[maybe_unused]] const ssize_t r = ::send(conn.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    ::shutdown(conn.fd, SHUT_WR);
    ::close(conn.fd);
  }

  void OnEvent(Conn& conn, uint32_t events) {
    if (conn.dead) return;
    if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) ReadSome(conn);
    if (conn.dead) return;
    if ((events & EPOLLOUT) != 0 && conn.state == Conn::State::kWriting) Write(conn);
  }

  size_t BufferMax() const {
    return options.head_bytes_max + options.body_bytes_max + kReadChunk;
  }

  void ReadSome(Conn& conn) {
    char buffer[kReadChunk];
    for (;;) {
      if (conn.state != Conn::State::kLingering && conn.in.size() >= BufferMax()) {
        conn.read_paused = true;
        break;
      }
      const ssize_t r = ::recv(conn.fd, buffer, sizeof buffer, 0);
      if (r > 0) {
        if (conn.state != Conn::State::kLingering) conn.in.append(buffer, static_cast<size_t>(r));
        continue;
      }
      if (r == 0) {
        conn.peer_closed = true;
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      Kill(conn);  // ECONNRESET and the like.
      return;
    }
    if (conn.state == Conn::State::kLingering) {
      if (conn.peer_closed) Kill(conn);
      return;
    }
    if (conn.state == Conn::State::kReading) Advance(conn);
  }

  // Parses what `conn` has read; a whole request goes to a worker.
  void Advance(Conn& conn) {
    const Clock::time_point now = Clock::now();
    if (conn.head_end == 0) {
      if (!conn.req) {
        // Empty lines before a request line are skipped (RFC 9112 2.2).
        size_t skip = 0;
        while (skip < conn.in.size() && (conn.in[skip] == '\r' || conn.in[skip] == '\n')) ++skip;
        conn.in.erase(0, skip);
      }
      if (conn.in.empty()) {
        if (conn.peer_closed) Kill(conn);
        return;
      }
      if (!conn.req) {
        // The request's first byte: from here its head has head_timeout to arrive, and the whole
        // request request_timeout.
        conn.first_byte = now;
        conn.deadline = now + std::min(options.head_timeout, options.request_timeout);
        conn.req = std::make_unique<httplib::Request>();
        conn.req->remote_addr = conn.address;
        conn.req->remote_port = conn.port;
        conn.parser = NewHeadParser(options.head_bytes_max);
      }
      size_t end = 0;
      const Refusal refusal = ParseHead(*conn.parser, conn.in, options.head_bytes_max,
                                        options.body_bytes_max, *conn.req, conn.head, end);
      if (refusal.status != 0) {
        Refuse(conn, refusal);
        return;
      }
      if (end == 0) {
        if (conn.peer_closed) {
          // Half closed before the head was whole: say so (the client may still read).
          Refuse(conn, {400, "the connection was closed before the request's head was whole"});
        }
        return;
      }
      conn.parser.reset();
      if (conn.trusted) {
        const Refusal forwarded = TakeForwardedAddress(*conn.req);
        if (forwarded.status != 0) {
          Refuse(conn, forwarded);
          return;
        }
      }
      conn.head_end = end;
      conn.deadline = conn.first_byte + options.request_timeout;
    }
    const size_t whole = conn.head_end + conn.head.content_length;
    if (conn.in.size() < whole) {
      if (conn.peer_closed) {
        Refuse(conn, {400, "the connection was closed after " +
                               std::to_string(conn.in.size() - conn.head_end) + " of the " +
                               std::to_string(conn.head.content_length) +
                               " bytes its Content-Length announced"});
      } else if (conn.head.expect_continue && !conn.continue_sent) {
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        [[maybe_unused]] const ssize_t r =
            ::send(conn.fd, kContinue.data(), kContinue.size(), MSG_NOSIGNAL);
        conn.continue_sent = true;
      }
      return;
    }
    conn.req->body = conn.in.substr(conn.head_end, conn.head.content_length);
    conn.in.erase(0, whole);
    Deferral::Job job{&conn, std::move(conn.req), !conn.head.keep_alive, {}, nullptr};
    conn.head_end = 0;
    conn.head = RequestHead{};
    conn.continue_sent = false;
    conn.state = Conn::State::kHandling;
    ready.push_back(std::move(job));  // Queued for the workers at the end of this round.
  }

  // The requests this round of events made whole, to the workers at once: each sleeping
  // worker is woken once per round rather than once per request.
  void QueueReady() {
    if (ready.empty()) return;
    const size_t n = ready.size();
    {
      std::lock_guard<std::mutex> lock(jobs_mu);
      for (Deferral::Job& job : ready) jobs.push_back(std::move(job));
    }
    ready.clear();
    WakeWorkers(n);
  }

  // Wakes as many sleeping workers as there are new jobs, with one call when that is all.
  void WakeWorkers(size_t jobs_added) {
    if (jobs_added >= workers.size()) {
      jobs_cv.notify_all();
    } else {
      for (size_t i = 0; i < jobs_added; ++i) jobs_cv.notify_one();
    }
  }

  // A request through a trusted proxy: its remote address becomes the last address of its
  // X-Forwarded-For (the client the proxy saw; earlier ones are the client's own word).
  static Refusal TakeForwardedAddress(httplib::Request& req) {
    if (!req.has_header("X-Forwarded-For")) return {};
    const std::string header = req.get_header_value("X-Forwarded-For");
    const std::string_view list = header;
    const size_t comma = list.rfind(',');
    const std::string last(Trim(comma == std::string_view::npos ? list : list.substr(comma + 1)));
    unsigned char buffer[sizeof(in6_addr)];
    if (::inet_pton(AF_INET, last.c_str(), buffer) != 1 &&
        ::inet_pton(AF_INET6, last.c_str(), buffer) != 1) {
      return {400, "X-Forwarded-For from the trusted proxy does not end in an IP address"};
    }
    req.remote_addr = last;
    return {};
  }

  // Answers a request the transport refuses, then closes the connection.
  void Refuse(Conn& conn, const Refusal& refusal) {
    httplib::Request empty;
    const httplib::Request& req = conn.req ? *conn.req : empty;
    httplib::Response res;
    res.headers = outbox->default_headers;
    outbox->Error(req, {refusal.status, refusal.invalid_text, refusal.message}, res);
    conn.req.reset();
    conn.in.clear();
    conn.out_head = SerializeHead(res, res.body.size(), true);
    conn.out_body = std::move(res.body);
    conn.out_sent = 0;
    conn.close_after = true;
    conn.state = Conn::State::kWriting;
    conn.deadline = Clock::now() + options.write_timeout;
    Write(conn);
  }

  void Write(Conn& conn) {
    const size_t total = conn.out_head.size() + conn.out_body.size();
    while (conn.out_sent < total) {
      iovec parts[2];
      int count = 0;
      if (conn.out_sent < conn.out_head.size()) {
        parts[count++] = {conn.out_head.data() + conn.out_sent,
                          conn.out_head.size() - conn.out_sent};
        if (!conn.out_body.empty()) parts[count++] = {conn.out_body.data(), conn.out_body.size()};
      } else {
        const size_t at = conn.out_sent - conn.out_head.size();
        parts[count++] = {conn.out_body.data() + at, conn.out_body.size() - at};
      }
      msghdr message{};
      message.msg_iov = parts;
      message.msg_iovlen = static_cast<size_t>(count);
      const ssize_t r = ::sendmsg(conn.fd, &message, MSG_NOSIGNAL);
      if (r > 0) {
        conn.out_sent += static_cast<size_t>(r);
        conn.deadline = Clock::now() + options.write_timeout;
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // EPOLLOUT resumes.
      Kill(conn);
      return;
    }
    conn.out_head.clear();
    std::string().swap(conn.out_body);  // A report's memory goes now, not at the next answer.
    conn.out_sent = 0;
    if (conn.close_after || conn.peer_closed) {
      ::shutdown(conn.fd, SHUT_WR);
      conn.state = Conn::State::kLingering;
      conn.deadline = Clock::now() + kLingerTime;
      conn.in.clear();
      ReadSome(conn);
      return;
    }
    conn.state = Conn::State::kReading;
    conn.since = Clock::now();
    conn.deadline = conn.since + options.idle_timeout;
    if (conn.read_paused) {
      conn.read_paused = false;
      ReadSome(conn);  // Reads what waits in the kernel, then Advance.
    } else {
      Advance(conn);  // A pipelined request may be in the buffer already.
    }
  }

  void DrainDone() {
    std::vector<Done> answers;
    {
      std::lock_guard<std::mutex> lock(outbox->mu);
      answers.swap(outbox->done);
    }
    for (Done& d : answers) {
      Conn& conn = *d.conn;
      if (conn.dead) {
        conn.state = Conn::State::kReading;  // No longer lent: Kill frees it.
        conn.dead = false;
        Kill(conn);
        continue;
      }
      conn.out_head = std::move(d.head);
      conn.out_body = std::move(d.body);
      conn.out_sent = 0;
      conn.close_after = d.close;
      conn.state = Conn::State::kWriting;
      conn.deadline = Clock::now() + options.write_timeout;
      Write(conn);
    }
  }

  // Closes connections past their deadline: an idle keep-alive, a write without progress, a
  // lingering close. A request begun and not whole by its deadline (head_timeout for its head,
  // request_timeout for all of it) is answered 408 first. A request with a worker has none.
  void Reap(Clock::time_point now) {
    std::vector<Conn*> late;
    for (auto& [ptr, conn] : conns) {
      if (conn->state != Conn::State::kHandling && !conn->dead && now >= conn->deadline) {
        late.push_back(ptr);
      }
    }
    for (Conn* conn : late) {
      if (conn->state == Conn::State::kReading && conn->req && !conn->peer_closed) {
        const bool head = conn->head_end == 0;
        const auto limit = head ? std::min(options.head_timeout, options.request_timeout)
                                : options.request_timeout;
        Refuse(*conn,
               {408, std::string(head ? "the request's head" : "the request") +
                         " did not arrive whole within " + std::to_string(limit.count()) + " ms"});
      } else {
        Kill(*conn);
      }
    }
  }

  // Closes `conn` (or marks it to be, while a worker has its request).
  void Kill(Conn& conn) {
    if (conn.dead) return;
    if (conn.state == Conn::State::kHandling) {
      conn.dead = true;
      return;
    }
    ::close(conn.fd);  // Also leaves the epoll set.
    auto it = conns.find(&conn);
    REGISTRY_ASSERT(it != conns.end());
    auto by_address = per_address.find(conn.address);
    if (by_address != per_address.end() && --by_address->second == 0) {
      per_address.erase(by_address);
    }
    conn.dead = true;
    graveyard.push_back(std::move(it->second));
    conns.erase(it);
    connection_count.store(conns.size(), std::memory_order_relaxed);
  }

  // ---- Workers.

  void Work() {
    for (;;) {
      Deferral::Job job;
      {
        std::unique_lock<std::mutex> lock(jobs_mu);
        jobs_cv.wait(lock, [this] { return workers_stop || !jobs.empty(); });
        if (jobs.empty()) return;
        job = std::move(jobs.front());
        jobs.pop_front();
      }
      if (job.task) {
        RunTask(job.task);
        continue;
      }
      httplib::Response res;
      res.headers = outbox->default_headers;
      const bool head_only = job.req->method == "HEAD";
      job.outbox = &outbox;
      Deferral deferral(job);
      // The last line of defence: a handler that throws (a bug) answers 500 and is counted;
      // the worker goes on. A taken answer's handles answer 500 themselves if never sent.
      std::string failure;
      try {
        handler(*job.req, res, deferral);
      } catch (const std::exception& e) {
        failure = std::string("internal error: ") + e.what();
      } catch (...) {
        failure = "internal error: an exception that is not a std::exception";
      }
      if (!failure.empty()) {
        handler_failures.fetch_add(1, std::memory_order_relaxed);
        if (deferral.taken()) continue;
        res = httplib::Response();
        res.headers = outbox->default_headers;
        outbox->Error(*job.req, {500, false, failure}, res);
      }
      if (deferral.taken()) continue;
      outbox->Answer(job.conn, res, job.close, head_only);
    }
  }

  // A task's exception ends the task, not the thread (a deferred answer it held answers 500).
  static void RunTask(const std::function<void()>& task) {
    try {
      task();
    } catch (...) {
    }
  }
};

Transport::Transport(TransportOptions options, TransportHandler handler,
                     TransportErrorHandler error)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), std::move(error))) {}

Transport::~Transport() { Stop(); }

Result<int, std::string> Transport::Start() {
  Impl& s = *impl_;
  REGISTRY_ASSERT(s.epoll_fd < 0 && s.outbox->Open());  // Started once.
  const std::string where = s.options.host + ":" + std::to_string(s.options.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(s.options.port);
  if (const int rc = ::getaddrinfo(s.options.host.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    return Fail("cannot bind " + where + ": " + ::gai_strerror(rc));
  }
  std::string problem = "no address";
  for (addrinfo* a = found; a != nullptr && s.listen_fd < 0; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                            a->ai_protocol);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      s.listen_fd = fd;
    } else {
      problem = std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (s.listen_fd < 0) return Fail("cannot bind " + where + ": " + problem);
  sockaddr_storage bound{};
  socklen_t len = sizeof bound;
  ::getsockname(s.listen_fd, reinterpret_cast<sockaddr*>(&bound), &len);
  const int port = bound.ss_family == AF_INET6
                       ? ntohs(reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port)
                       : ntohs(reinterpret_cast<const sockaddr_in*>(&bound)->sin_port);
  // Stay below the process's descriptor limit (the database and the logs need some too).
  rlimit files{};
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY) {
    const size_t usable = files.rlim_cur > 128 ? files.rlim_cur - 128 : 16;
    s.options.connections_max = std::min(s.options.connections_max, usable);
  }
  s.epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  s.outbox->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (s.epoll_fd < 0 || s.outbox->wake_fd < 0) {
    return Fail(std::string("epoll: ") + std::strerror(errno));
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &s.listen_tag;
  ::epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, s.listen_fd, &ev);
  ev.data.ptr = &s.wake_tag;
  ::epoll_ctl(s.epoll_fd, EPOLL_CTL_ADD, s.outbox->wake_fd, &ev);
  for (size_t i = 0; i < std::max<size_t>(1, s.options.workers); ++i) {
    s.workers.emplace_back([&s] {
      s.Nice();
      s.Work();
    });
  }
  s.loop = std::thread([&s] {
    s.Nice();
    s.Loop();
  });
  s.running.store(true);
  return port;
}

void Transport::Stop() {
  Impl& s = *impl_;
  if (!s.running.exchange(false)) return;
  s.stopping.store(true, std::memory_order_release);
  s.outbox->Wake();
  if (s.loop.joinable()) s.loop.join();
  {
    std::lock_guard<std::mutex> lock(s.jobs_mu);
    s.workers_stop = true;
  }
  s.jobs_cv.notify_all();
  for (std::thread& t : s.workers) t.join();
  s.workers.clear();
  {
    // Answers still to come (deferred ones) go nowhere: their connections close below.
    std::lock_guard<std::mutex> lock(s.outbox->mu);
    s.outbox->open = false;
    s.outbox->done.clear();
  }
  for (auto& [ptr, conn] : s.conns) ::close(conn->fd);
  s.conns.clear();
  s.per_address.clear();
  s.connection_count.store(0);
  ::close(s.listen_fd);
  s.listen_fd = -1;
}

bool Transport::Running() const { return impl_->running.load(); }

size_t Transport::Connections() const {
  return impl_->connection_count.load(std::memory_order_relaxed);
}

size_t Transport::Evicted() const { return impl_->evicted.load(std::memory_order_relaxed); }

size_t Transport::HandlerFailures() const {
  return impl_->handler_failures.load(std::memory_order_relaxed);
}

void Transport::PostAll(std::vector<std::function<void()>> tasks) {
  if (tasks.empty()) return;
  Impl& s = *impl_;
  bool queued = false;
  {
    std::lock_guard<std::mutex> lock(s.jobs_mu);
    if (!s.workers_stop) {
      for (std::function<void()>& task : tasks) {
        Deferral::Job job;
        job.task = std::move(task);
        s.jobs.push_back(std::move(job));
      }
      queued = true;
    }
  }
  if (!queued) {
    for (const std::function<void()>& task : tasks) Impl::RunTask(task);
  } else {
    s.WakeWorkers(tasks.size());
  }
}

}  // namespace registry::http
