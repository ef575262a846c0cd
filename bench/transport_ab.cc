// jcm_transport_ab: the registry's HTTP transport (http/transport.h: Boost.Beast's parser under
// its own epoll loop) against libmicrohttpd 0.9.75 (Debian 12: epoll, a thread pool,
// suspend/resume), on the same machine, with the same handlers and the same clients (issue 33
// item 7: move the transport onto libmicrohttpd "unless make bench shows it cannot meet the HTTP
// aims").
//
// Measured, for each server:
//   - throughput and p99 latency of N keep-alive clients posting a small JSON body, answered at
//     once ("immediate") or after a simulated group commit ("deferred": a committer thread sends
//     every waiting answer each millisecond, as the registry's writer does after its fsync; in
//     libmicrohttpd the connection is suspended and resumed);
//   - the limits the registry needs (issue 33, item 5):
//       slowloris: a client trickling one byte of its head a second: when is it cut off?
//       fair share: every connection of an address held by such clients, then a real request
//         from the same address (a NAT, a proxy): is it served?
//       head too large: is the refusal the registry's own (the catalogue's JSON, JCM-109)?
// The answers are printed one line each; docs/benchmarks.md "The transport against
// libmicrohttpd" keeps a run. `make bench-transport` runs it in full; CTest a smoke run.
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "http/transport.h"

namespace {

using Clock = std::chrono::steady_clock;
using registry::http::DeferredAnswer;
using registry::http::Deferral;
using registry::http::Transport;
using registry::http::TransportOptions;
using registry::http::TransportProblem;

constexpr char kOk[] = "{\"ok\": true}\n";
constexpr size_t kPerAddress = 16;  // Both servers' per-address limit in the probes.

// Sends every waiting answer once a millisecond, as the registry's writer answers a group
// commit's requests once its fsync returns.
class Committer {
 public:
  Committer() : thread_([this] { Run(); }) {}
  ~Committer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  void Add(std::function<void()> send) {
    std::lock_guard<std::mutex> lock(mu_);
    waiting_.push_back(std::move(send));
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::milliseconds(1));
      std::vector<std::function<void()>> batch;
      batch.swap(waiting_);
      lock.unlock();
      for (auto& send : batch) send();
      lock.lock();
    }
    for (auto& send : waiting_) send();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::vector<std::function<void()>> waiting_;
  std::thread thread_;
};

// ---- The two servers, one interface.

class Server {
 public:
  virtual ~Server() = default;
  virtual int port() const = 0;
};

class OurServer : public Server {
 public:
  OurServer(bool deferred, std::chrono::milliseconds timeout, size_t per_address) {
    TransportOptions options;
    options.workers = 32;  // As `jcmreg serve`.
    options.connections_per_address_max = per_address;
    options.head_timeout = timeout;
    options.request_timeout = timeout * 2;
    options.idle_timeout = timeout;
    transport_ = std::make_unique<Transport>(
        options,
        [this, deferred](httplib::Request&, httplib::Response& res, Deferral& deferral) {
          if (!deferred) {
            res.status = 200;
            res.set_content(kOk, "application/json");
            return;
          }
          DeferredAnswer answer = deferral.Take();
          committer_.Add([answer] {
            httplib::Response r;
            r.status = 200;
            r.set_content(kOk, "application/json");
            answer.Send(std::move(r));
          });
        },
        [](const httplib::Request&, const TransportProblem& problem, httplib::Response& res) {
          res.status = problem.status;
          res.set_content("{\"code\": \"JCM-1xx\", \"message\": \"" + problem.message + "\"}\n",
                          "application/json");
        });
    port_ = transport_->Start().value();
  }
  ~OurServer() override { transport_->Stop(); }
  int port() const override { return port_; }

 private:
  Committer committer_;
  std::unique_ptr<Transport> transport_;
  int port_ = 0;
};

class MhdServer : public Server {
 public:
  MhdServer(bool deferred, std::chrono::milliseconds timeout, size_t per_address, unsigned threads)
      : deferred_(deferred) {
    // libmicrohttpd's timeout is in whole seconds, and of inactivity.
    const unsigned seconds = static_cast<unsigned>(std::max<int64_t>(
        1, std::chrono::duration_cast<std::chrono::seconds>(timeout).count()));
    daemon_ = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME, 0, nullptr, nullptr, &Access,
        this, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_TIMEOUT, seconds,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, static_cast<unsigned>(per_address),
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, static_cast<size_t>(16384),
        MHD_OPTION_NOTIFY_COMPLETED, &Completed, this, MHD_OPTION_END);
    if (daemon_ == nullptr) {
      std::fprintf(stderr, "libmicrohttpd did not start\n");
      std::exit(1);
    }
    port_ = MHD_get_daemon_info(daemon_, MHD_DAEMON_INFO_BIND_PORT)->port;
  }
  ~MhdServer() override {
    committer_.reset();  // Every suspended connection resumed first.
    MHD_stop_daemon(daemon_);
  }
  int port() const override { return port_; }

 private:
  struct Request {
    std::string body;
    std::atomic<bool> ready{false};
    bool suspended = false;
  };

  static MHD_Result Queue(MHD_Connection* connection) {
    MHD_Response* response = MHD_create_response_from_buffer(
        sizeof kOk - 1, const_cast<char*>(kOk), MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(response, "Content-Type", "application/json");
    const MHD_Result r = MHD_queue_response(connection, MHD_HTTP_OK, response);
    MHD_destroy_response(response);
    return r;
  }

  static MHD_Result Access(void* cls, MHD_Connection* connection, const char*, const char*,
                           const char*, const char* upload_data, size_t* upload_data_size,
                           void** con_cls) {
    auto* self = static_cast<MhdServer*>(cls);
    if (*con_cls == nullptr) {
      *con_cls = new Request;
      return MHD_YES;
    }
    auto* request = static_cast<Request*>(*con_cls);
    if (*upload_data_size > 0) {
      request->body.append(upload_data, *upload_data_size);
      *upload_data_size = 0;
      return MHD_YES;
    }
    if (!self->deferred_ || request->ready.load()) return Queue(connection);
    if (!request->suspended) {
      request->suspended = true;
      MHD_suspend_connection(connection);
      self->committer_->Add([request, connection] {
        request->ready.store(true);
        MHD_resume_connection(connection);
      });
    }
    return MHD_YES;
  }

  static void Completed(void*, MHD_Connection*, void** con_cls, MHD_RequestTerminationCode) {
    delete static_cast<Request*>(*con_cls);
    *con_cls = nullptr;
  }

  bool deferred_;
  std::unique_ptr<Committer> committer_ = std::make_unique<Committer>();
  MHD_Daemon* daemon_ = nullptr;
  int port_ = 0;
};

// The load's clients all come from 127.0.0.1: its servers allow them all (`per_address`); the
// probes' servers allow kPerAddress.
std::unique_ptr<Server> MakeServer(const std::string& kind, bool deferred,
                                   std::chrono::milliseconds timeout, size_t per_address,
                                   unsigned mhd_threads) {
  if (kind == "ours") return std::make_unique<OurServer>(deferred, timeout, per_address);
  return std::make_unique<MhdServer>(deferred, timeout, per_address, mhd_threads);
}

// ---- Clients.

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

bool SendAll(int fd, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

// Reads one answer (head and Content-Length body) from `fd`; `buffer` keeps what follows it.
// Returns the status, or 0 when the connection closed first.
int ReadAnswer(int fd, std::string& buffer, std::string* whole = nullptr) {
  char chunk[8192];
  size_t head_end;
  while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return 0;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  size_t length = 0;
  const size_t at = buffer.find("Content-Length: ");
  if (at != std::string::npos && at < head_end) length = std::stoul(buffer.substr(at + 16));
  while (buffer.size() < head_end + 4 + length) {
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) return 0;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  const int status = buffer.size() > 12 ? std::atoi(buffer.c_str() + 9) : 0;
  if (whole != nullptr) *whole = buffer.substr(0, head_end + 4 + length);
  buffer.erase(0, head_end + 4 + length);
  return status;
}

struct LoadResult {
  double per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  size_t errors = 0;
};

LoadResult Load(int port, size_t clients, double seconds) {
  const std::string request =
      "POST /v1/transfers HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\n"
      "Content-Length: 35\r\n\r\n{\"from\": 1, \"to\": 4, \"quantity\": 1}";
  std::atomic<bool> go{false};
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> latencies(clients);
  std::vector<size_t> errors(clients, 0);
  std::vector<std::thread> threads;
  for (size_t c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      int fd = Connect(port);
      std::string buffer;
      while (!go.load()) std::this_thread::yield();
      while (!stop.load()) {
        const Clock::time_point start = Clock::now();
        if (fd < 0 || !SendAll(fd, request) || ReadAnswer(fd, buffer) != 200) {
          ++errors[c];
          if (fd >= 0) ::close(fd);
          buffer.clear();
          fd = Connect(port);
          continue;
        }
        latencies[c].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      }
      if (fd >= 0) ::close(fd);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // Every client connected.
  const Clock::time_point start = Clock::now();
  go.store(true);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop.store(true);
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  for (std::thread& t : threads) t.join();
  std::vector<double> all;
  LoadResult result;
  for (size_t c = 0; c < clients; ++c) {
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
    result.errors += errors[c];
  }
  std::sort(all.begin(), all.end());
  result.per_second = static_cast<double>(all.size()) / elapsed;
  if (!all.empty()) {
    result.p50_ms = all[all.size() / 2];
    result.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  return result;
}

// A client that sends a request head a byte at a time, one a second: the seconds until the
// server cut it off (and its answer's status, 0 for none), or `give_up` if it never did.
std::pair<double, int> Slowloris(int port, double give_up) {
  const int fd = Connect(port);
  if (fd < 0) return {0, -1};
  const std::string head = "GET / HTTP/1.1\r\nHost: b\r\nX-Slow: ";
  SendAll(fd, head);
  timeval tv{0, 200000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  const Clock::time_point start = Clock::now();
  Clock::time_point next_byte = start;
  std::string got;
  char chunk[4096];
  for (;;) {
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    if (elapsed >= give_up) {
      ::close(fd);
      return {give_up, 0};
    }
    if (Clock::now() >= next_byte) {
      if (!SendAll(fd, "a")) break;
      next_byte += std::chrono::seconds(1);
    }
    const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n == 0) break;
    if (n > 0) got.append(chunk, static_cast<size_t>(n));
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  return {elapsed, got.size() > 12 ? std::atoi(got.c_str() + 9) : 0};
}

// Every connection an address may have, held by trickling clients; then a real request from the
// same address. Returns its status (0: no answer, the connection refused or closed).
int FairShare(int port) {
  std::vector<int> slow;
  for (size_t i = 0; i < kPerAddress; ++i) {
    const int fd = Connect(port);
    if (fd >= 0) {
      SendAll(fd, "GET / HTTP/1.1\r\nX-Slow: ");
      slow.push_back(fd);
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int status = 0;
  const int fd = Connect(port);
  if (fd >= 0) {
    timeval tv{3, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string buffer;
    if (SendAll(fd, "GET / HTTP/1.1\r\nHost: b\r\n\r\n")) status = ReadAnswer(fd, buffer);
    ::close(fd);
  }
  for (int s : slow) ::close(s);
  return status;
}

// A head of 20,000 bytes: the refusal's status and the first bytes of its body.
std::string HeadTooLarge(int port) {
  const int fd = Connect(port);
  if (fd < 0) return "no connection";
  timeval tv{3, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  SendAll(fd, "GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  std::string buffer, whole;
  const int status = ReadAnswer(fd, buffer, &whole);
  ::close(fd);
  if (status == 0) return "no answer";
  const size_t body = whole.find("\r\n\r\n");
  std::string text = whole.substr(body + 4, 60);
  std::replace(text.begin(), text.end(), '\n', ' ');
  return std::to_string(status) + " \"" + text + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The registry's HTTP transport against libmicrohttpd (docs/benchmarks.md)"};
  std::string clients_list = "64,192";
  double seconds = 5;
  double slowloris_seconds = 20;
  unsigned mhd_threads = std::max(2u, std::thread::hardware_concurrency());
  app.add_option("--clients", clients_list, "keep-alive clients, comma separated");
  app.add_option("--seconds", seconds, "seconds of load per measure");
  app.add_option("--slowloris-seconds", slowloris_seconds,
                 "how long the trickling client keeps trying");
  app.add_option("--mhd-threads", mhd_threads, "libmicrohttpd's thread pool");
  CLI11_PARSE(app, argc, argv);
  std::vector<size_t> clients;
  std::stringstream list(clients_list);
  for (std::string item; std::getline(list, item, ',');) clients.push_back(std::stoul(item));

  const std::chrono::milliseconds timeout(5000);
  std::printf("transport_ab: %u cores, %g s per measure, timeouts %lld ms\n",
              std::thread::hardware_concurrency(), seconds,
              static_cast<long long>(timeout.count()));
  for (const char* mode : {"immediate", "deferred"}) {
    for (size_t n : clients) {
      for (const char* kind : {"ours", "libmicrohttpd"}) {
        auto server =
            MakeServer(kind, std::string(mode) == "deferred", timeout, n + 16, mhd_threads);
        const LoadResult r = Load(server->port(), n, seconds);
        std::printf("load %-9s clients %4zu %-13s %9.0f req/s  p50 %6.2f ms  p99 %6.2f ms  "
                    "errors %zu\n",
                    mode, n, kind, r.per_second, r.p50_ms, r.p99_ms, r.errors);
        std::fflush(stdout);
      }
    }
  }
  for (const char* kind : {"ours", "libmicrohttpd"}) {
    auto server = MakeServer(kind, false, timeout, kPerAddress, mhd_threads);
    const auto [cut_after, status] = Slowloris(server->port(), slowloris_seconds);
    if (status == 0 && cut_after >= slowloris_seconds) {
      std::printf("slowloris %-13s still open after %.0f s (one head byte a second)\n", kind,
                  cut_after);
    } else {
      std::printf("slowloris %-13s cut off after %.1f s, answer %d\n", kind, cut_after, status);
    }
    std::printf("fair-share %-13s a request behind %zu trickling connections of its address: %s\n",
                kind, kPerAddress,
                FairShare(server->port()) == 200 ? "served (200)" : "not served");
    std::printf("head-too-large %-13s %s\n", kind, HeadTooLarge(server->port()).c_str());
    std::fflush(stdout);
  }
  return 0;
}
