// The HTTP transport (http/transport.h) on its own, over real sockets on 127.0.0.1: slow and
// idle clients hold no worker, every limit answers and closes, pipelined requests are answered
// in order, large answers survive a slow reader, garbage never stops the server.
#include "http/transport.h"

#include <httplib.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "http/raw_http.h"

namespace registry::http {
namespace {

using raw::BodyOf;
using raw::HeaderOf;
using raw::RawConnection;
using raw::StatusOf;

// A transport whose handler answers "METHOD PATH BODY" (GET /big?n=N: N bytes; GET /throw:
// an exception; GET /block: waits until released; GET /defer: takes its answer over and sends
// "deferred PATH" from a thread of its own once released; GET /defer-lost: takes it and drops
// it; GET /defer-throw: takes it, then throws) and whose error handler answers the transport's
// status and message.
class Echo {
 public:
  explicit Echo(TransportOptions options = {}) {
    options.port = 0;
    options.default_headers.emplace("X-Test", "on every answer");
    transport_ = std::make_unique<Transport>(
        std::move(options),
        [this](httplib::Request& req, httplib::Response& res, Deferral& deferral) {
          ++handled_;
          if (req.path == "/big") {
            res.set_content(std::string(std::stoul(req.get_param_value("n")), 'b'), "text/plain");
            return;
          }
          if (req.path == "/throw") throw std::runtime_error("thrown on purpose");
          if (req.path == "/remote") {
            res.status = 200;
            res.set_content(req.remote_addr, "text/plain");
            return;
          }
          if (req.path == "/defer") {
            DeferredAnswer answer = deferral.Take();
            std::lock_guard<std::mutex> lock(deferred_mu_);
            deferred_.emplace_back([this, answer] {
              while (!release_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
              httplib::Response later;
              later.status = 200;
              later.set_content("deferred " + answer.request().path, "text/plain");
              answer.Send(std::move(later));
              answer.Send(httplib::Response());  // A second Send is ignored.
              ++deferred_sent_;
            });
            return;
          }
          if (req.path == "/defer-lost") {
            deferral.Take();
            return;
          }
          if (req.path == "/defer-throw") {
            DeferredAnswer answer = deferral.Take();
            throw std::runtime_error("thrown after taking the answer");
          }
          if (req.path == "/nice") {  // The nice value of the worker's thread.
            errno = 0;
            const int nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
            res.set_content(std::to_string(nice), "text/plain");
            return;
          }
          if (req.path == "/block") {
            while (!release_.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
          res.status = 200;
          res.set_content(req.method + " " + req.path + " " + req.body, "text/plain");
        },
        [this](const httplib::Request&, const TransportProblem& problem, httplib::Response& res) {
          ++refused_;
          res.status = problem.status;
          res.set_content(problem.message, "text/plain");
        });
    auto port = transport_->Start();
    EXPECT_TRUE(port.has_value()) << (port ? "" : port.error());
    port_ = port ? *port : 0;
  }
  ~Echo() {
    release_ = true;
    JoinDeferred();
    transport_->Stop();
  }

  // Waits for the threads sending deferred answers.
  void JoinDeferred() {
    std::lock_guard<std::mutex> lock(deferred_mu_);
    for (std::thread& t : deferred_) t.join();
    deferred_.clear();
  }
  int deferred_sent() const { return deferred_sent_.load(); }
  // Deferred answers taken so far (handled() counts a request when its handler starts).
  size_t deferred_taken() {
    std::lock_guard<std::mutex> lock(deferred_mu_);
    return deferred_.size();
  }

  int port() const { return port_; }
  Transport& transport() { return *transport_; }
  int handled() const { return handled_.load(); }
  int refused() const { return refused_.load(); }
  void Release() { release_ = true; }

  // One request on a fresh connection through cpp-httplib's client.
  httplib::Result Get(const std::string& path) const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(10, 0);
    return client.Get(path.c_str());
  }

 private:
  std::unique_ptr<Transport> transport_;
  int port_ = 0;
  std::atomic<int> handled_{0};
  std::atomic<int> refused_{0};
  std::atomic<bool> release_{false};
  std::mutex deferred_mu_;
  std::vector<std::thread> deferred_;
  std::atomic<int> deferred_sent_{0};
};

// Waits (up to 10 s) for `done`; a condition, not a measured time.
template <typename Done>
bool Eventually(Done done) {
  for (int i = 0; i < 10000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

TEST(Transport, SlowAndIdleClientsHoldNoWorker) {
  TransportOptions options;
  options.workers = 1;
  options.request_timeout = std::chrono::milliseconds(1000);
  Echo echo(options);
  // Forty connections that sent half a head and stop, and one that trickles its head a byte
  // at a time: with a thread per connection, none of them would leave one for anybody else.
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 40; ++i) {
    slow.push_back(std::make_unique<RawConnection>(echo.port()));
    ASSERT_TRUE(slow.back()->Send("GET /slow HTTP/1.1\r\nHost: x\r\n"));
  }
  RawConnection trickle(echo.port());
  std::atomic<bool> trickling{true};
  std::atomic<bool> cut_off{false};
  std::thread trickler([&] {
    const std::string endless = "GET /trickle HTTP/1.1\r\nX-Long: " + std::string(100000, 'a');
    for (char c : endless) {
      if (!trickling.load() || !trickle.Send(std::string(1, c))) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    cut_off = true;
  });
  ASSERT_TRUE(Eventually([&] { return echo.transport().Connections() >= 41; }));
  // Served at once by the only worker, while all the slow ones are still connected.
  auto res = echo.Get("/fast");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "GET /fast ");
  EXPECT_GE(echo.transport().Connections(), 41u);
  // The trickler is cut off at its request's deadline however it trickles: the server closes
  // the connection (its sends fail, or its reads end).
  EXPECT_TRUE(trickle.ClosedByServer());
  trickling = false;
  trickler.join();
  // The half heads are closed at theirs too, and no request of theirs reached the handler.
  ASSERT_TRUE(Eventually([&] { return echo.transport().Connections() == 0; }));
  for (auto& c : slow) EXPECT_TRUE(c->ClosedByServer());
  EXPECT_EQ(echo.handled(), 1);
}

TEST(Transport, IdleKeepAliveConnectionsAreClosed) {
  TransportOptions options;
  options.idle_timeout = std::chrono::milliseconds(200);
  Echo echo(options);
  RawConnection c(echo.port());
  ASSERT_TRUE(c.Send("GET /one HTTP/1.1\r\n\r\n"));
  const std::string answer = c.ReadAnswer();
  EXPECT_EQ(StatusOf(answer), 200) << answer;
  EXPECT_EQ(HeaderOf(answer, "Connection"), "keep-alive");
  EXPECT_TRUE(c.ClosedByServer());  // After idle_timeout without a next request.
}

TEST(Transport, PipelinedRequestsAreAnsweredInOrder) {
  Echo echo;
  RawConnection c(echo.port());
  ASSERT_TRUE(c.Send(
      "GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"
      "\r\nGET /c HTTP/1.1\r\nConnection: close\r\n\r\n"));
  const std::string a = c.ReadAnswer();
  const std::string b = c.ReadAnswer();
  const std::string last = c.ReadAnswer();
  EXPECT_EQ(BodyOf(a), "GET /a ");
  EXPECT_EQ(BodyOf(b), "POST /b xyz");
  EXPECT_EQ(BodyOf(last), "GET /c ");
  EXPECT_EQ(HeaderOf(last, "Connection"), "close");
  EXPECT_TRUE(c.ClosedByServer());
}

// Requests made whole in one round of the event loop go to the workers together (one wake-up
// per round): many connections sending at once are each answered, twice over.
TEST(Transport, RequestsArrivingTogetherAreAllAnswered) {
  Echo echo;
  std::vector<std::unique_ptr<RawConnection>> clients;
  for (int i = 0; i < 64; ++i) clients.push_back(std::make_unique<RawConnection>(echo.port()));
  for (int round = 0; round < 2; ++round) {
    for (size_t i = 0; i < clients.size(); ++i) {
      ASSERT_TRUE(clients[i]->Send("GET /" + std::to_string(i) + " HTTP/1.1\r\n\r\n"));
    }
    for (size_t i = 0; i < clients.size(); ++i) {
      EXPECT_EQ(BodyOf(clients[i]->ReadAnswer()), "GET /" + std::to_string(i) + " ") << i;
    }
  }
}

TEST(Transport, HttpOneZeroClosesUnlessKeptAliveAndHeadSendsNoBody) {
  Echo echo;
  {
    RawConnection c(echo.port());
    ASSERT_TRUE(c.Send("GET /old HTTP/1.0\r\n\r\n"));
    EXPECT_EQ(BodyOf(c.ReadAnswer()), "GET /old ");
    EXPECT_TRUE(c.ClosedByServer());
  }
  {
    RawConnection c(echo.port());
    ASSERT_TRUE(c.Send("GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /y HTTP/1.0\r\n\r\n"));
    EXPECT_EQ(BodyOf(c.ReadAnswer()), "GET /x ");
    EXPECT_EQ(BodyOf(c.ReadAnswer()), "GET /y ");
  }
  {
    RawConnection c(echo.port());
    ASSERT_TRUE(c.Send("HEAD /h HTTP/1.1\r\nConnection: close\r\n\r\n"));
    std::string answer;
    char chunk[4096];
    for (ssize_t n; (n = ::recv(c.fd(), chunk, sizeof chunk, 0)) > 0;) {
      answer.append(chunk, static_cast<size_t>(n));
    }
    EXPECT_EQ(HeaderOf(answer, "Content-Length"), "8") << answer;  // "HEAD /h ".
    EXPECT_EQ(BodyOf(answer), "");
  }
}

TEST(Transport, EveryLimitAnswersAndCloses) {
  TransportOptions options;
  options.head_bytes_max = 1024;
  options.body_bytes_max = 100;
  Echo echo(options);
  struct Case {
    std::string request;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"GET /x HTTP/1.1\r\nX: " + std::string(2000, 'a') + "\r\n\r\n", 431, "longer than 1024"},
      {"GET /x HTTP/1.1\r\nX: " + std::string(2000, 'a'), 431, "longer than 1024"},
      {"POST /x HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413, "larger than 100"},
      {"POST /x HTTP/1.1\r\n\r\n", 411, "Content-Length"},
      {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 411, "chunked"},
      {"POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400, "differ"},
      {"POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "not a number"},
      {"POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400, "not a number"},
      {"GET /x HTTP/2.0\r\n\r\n", 400, "HTTP version"},
      {"GET http://example.org/x HTTP/1.1\r\n\r\n", 400, "starting with '/'"},
      {"GET /x  HTTP/1.1\r\n\r\n", 400, "request line"},
      {"GET\r\n\r\n", 400, "request line"},
      {"G(T /x HTTP/1.1\r\n\r\n", 400, "method"},
      {"GET /x HTTP/1.1\r\nNo colon here\r\n\r\n", 400, "header line 1"},
      {"GET /x HTTP/1.1\r\nA: 1\r\n folded\r\n\r\n", 400, "header line 2 continues"},
      {"GET /x HTTP/1.1\r\nBad Name: 1\r\n\r\n", 400, "header line 1"},
      {"GET /x HTTP/1.1\r\nA: b\x01" "c\r\n\r\n", 400, "control character"},
  };
  for (const Case& c : cases) {
    RawConnection connection(echo.port());
    ASSERT_TRUE(connection.Send(c.request));
    const std::string answer = connection.ReadAnswer();
    EXPECT_EQ(StatusOf(answer), c.status) << c.request.substr(0, 60) << " -> " << answer;
    EXPECT_NE(BodyOf(answer).find(c.says), std::string::npos) << answer;
    EXPECT_EQ(HeaderOf(answer, "Connection"), "close") << answer;
    EXPECT_TRUE(connection.ClosedByServer()) << c.request.substr(0, 60);
  }
  EXPECT_EQ(echo.handled(), 0);
  EXPECT_EQ(echo.refused(), static_cast<int>(cases.size()));
  // The limits are inclusive.
  RawConnection fits(echo.port());
  ASSERT_TRUE(fits.Send("POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'z')));
  EXPECT_EQ(StatusOf(fits.ReadAnswer()), 200);
}

TEST(Transport, ExpectContinueIsAnsweredAndATooLargeBodyIsNotInvited) {
  TransportOptions options;
  options.body_bytes_max = 100;
  Echo echo(options);
  RawConnection small(echo.port());
  ASSERT_TRUE(small.Send("POST /e HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(StatusOf(small.ReadAnswer()), 100);
  ASSERT_TRUE(small.Send("{}"));
  EXPECT_EQ(BodyOf(small.ReadAnswer()), "POST /e {}");
  RawConnection big(echo.port());
  ASSERT_TRUE(big.Send("POST /e HTTP/1.1\r\nContent-Length: 500\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(StatusOf(big.ReadAnswer()), 413);
}

// At the limit per address, a new connection takes the place of the oldest one that only waits
// (issue 33: a slowloris behind a client's NAT took 86% of its requests).
TEST(Transport, AtTheLimitPerAddressTheOldestWaitingConnectionMakesRoom) {
  TransportOptions options;
  options.connections_per_address_max = 3;
  Echo echo(options);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawConnection>(echo.port()));
    ASSERT_TRUE(Eventually([&] { return echo.transport().Connections() == held.size(); }));
  }
  ASSERT_TRUE(held[2]->Send("GET /x HTTP/1.1\r\nX-Slow: "));  // Trickling in a request.
  RawConnection fourth(echo.port());
  ASSERT_TRUE(fourth.Send("GET /ok HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(StatusOf(fourth.ReadAnswer()), 200);
  EXPECT_EQ(echo.transport().Evicted(), 1u);
  EXPECT_EQ(held[0]->ReadAnswer(), "");  // The oldest was closed, with nothing to answer.
  EXPECT_TRUE(held[0]->ClosedByServer());
  ASSERT_TRUE(held[1]->Send("GET /ok HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(StatusOf(held[1]->ReadAnswer()), 200);
  EXPECT_EQ(echo.transport().Connections(), 3u);
}

// Only when every connection of the address is busy is one more refused, with 503.
TEST(Transport, ConnectionsPerAddressAreLimitedWhenAllAreBusy) {
  TransportOptions options;
  options.connections_per_address_max = 3;
  Echo echo(options);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<RawConnection>(echo.port()));
    ASSERT_TRUE(held.back()->Send("GET /block HTTP/1.1\r\n\r\n"));
  }
  ASSERT_TRUE(Eventually([&] { return echo.handled() == 3; }));
  RawConnection fourth(echo.port());
  const std::string answer = fourth.ReadAnswer();
  EXPECT_EQ(StatusOf(answer), 503) << answer;
  EXPECT_NE(BodyOf(answer).find("all 3 connections from 127.0.0.1"), std::string::npos) << answer;
  EXPECT_TRUE(fourth.ClosedByServer());
  echo.Release();
  for (auto& c : held) EXPECT_EQ(StatusOf(c->ReadAnswer()), 200);
  auto res = echo.Get("/again");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

// A trusted proxy's connections have no per-address limit, and a request through it takes the
// last address of X-Forwarded-For as its remote address.
TEST(Transport, ATrustedProxyNamesItsClient) {
  TransportOptions options;
  options.connections_per_address_max = 2;
  options.trusted_proxies = {"127.0.0.1"};
  Echo echo(options);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 5; ++i) {
    held.push_back(std::make_unique<RawConnection>(echo.port()));
    ASSERT_TRUE(held.back()->Send("GET /remote HTTP/1.1\r\nX-Forwarded-For: 10.9.9.9, 192.0.2." +
                                  std::to_string(i + 1) + "\r\n\r\n"));
  }
  for (int i = 0; i < 5; ++i) {
    const std::string answer = held[static_cast<size_t>(i)]->ReadAnswer();
    EXPECT_EQ(StatusOf(answer), 200) << answer;
    EXPECT_EQ(BodyOf(answer), "192.0.2." + std::to_string(i + 1));
  }
  EXPECT_EQ(echo.transport().Evicted(), 0u);
  RawConnection bad(echo.port());
  ASSERT_TRUE(bad.Send("GET /remote HTTP/1.1\r\nX-Forwarded-For: not-an-address\r\n\r\n"));
  EXPECT_EQ(StatusOf(bad.ReadAnswer()), 400);
}

TEST(Transport, ALargeAnswerSurvivesASlowReaderAndAClientThatStopsReadingIsDropped) {
  TransportOptions options;
  options.write_timeout = std::chrono::milliseconds(300);
  Echo echo(options);
  // 32 MiB read in small pieces with pauses: the writes wait for room (EPOLLOUT) and resume.
  const size_t n = size_t{32} << 20;
  {
    RawConnection c(echo.port());
    ASSERT_TRUE(c.Send("GET /big?n=" + std::to_string(n) + " HTTP/1.1\r\n\r\n"));
    std::string got;
    char chunk[1 << 16];
    size_t body_at = std::string::npos;
    size_t next_pause = 4 << 20;
    while (body_at == std::string::npos || got.size() < body_at + n) {
      const ssize_t r = ::recv(c.fd(), chunk, sizeof chunk, 0);
      if (r <= 0) break;
      got.append(chunk, static_cast<size_t>(r));
      if (body_at == std::string::npos && got.find("\r\n\r\n") != std::string::npos) {
        body_at = got.find("\r\n\r\n") + 4;
      }
      if (got.size() >= next_pause) {
        next_pause += 4 << 20;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // Below write_timeout.
      }
    }
    EXPECT_EQ(BodyOf(got), std::string(n, 'b'));
  }
  // A client that asks for it and never reads is closed once writing makes no progress.
  RawConnection stuck(echo.port());
  ASSERT_TRUE(stuck.Send("GET /big?n=" + std::to_string(n) + " HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] { return echo.transport().Connections() == 0; }));
}

TEST(Transport, AHandlerThatThrowsGives500AndTheServerGoesOn) {
  Echo echo;
  auto res = echo.Get("/throw");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 500);
  EXPECT_NE(res->body.find("thrown on purpose"), std::string::npos);
  res = echo.Get("/after");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST(Transport, ClientsThatLeaveMidRequestOrMidAnswerLeaveNothingBehind) {
  Echo echo;
  {
    RawConnection c(echo.port());
    ASSERT_TRUE(c.Send("POST /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"));  // Then gone.
  }
  {
    RawConnection c(echo.port());
    ASSERT_TRUE(c.Send("GET /block HTTP/1.1\r\n\r\n"));  // Gone while it is being handled.
  }
  {
    RawConnection c(echo.port());
    ASSERT_TRUE(c.Send("GET /big?n=10000000 HTTP/1.1\r\n\r\n"));  // Gone mid-answer.
  }
  ASSERT_TRUE(Eventually([&] { return echo.handled() >= 2; }));
  echo.Release();
  ASSERT_TRUE(Eventually([&] { return echo.transport().Connections() == 0; }));
  auto res = echo.Get("/still");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

// Random bytes, random valid and broken requests in random pieces on several connections at
// once: the transport answers or closes each, and afterwards still serves. JCM_SEED replays.
TEST(Transport, RandomGarbageNeverStopsTheServer) {
  const char* env = std::getenv("JCM_SEED");
  const uint32_t seed = env != nullptr ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10))
                                       : std::random_device{}();
  std::printf("JCM_SEED=%u\n", seed);
  TransportOptions options;
  options.head_bytes_max = 2048;
  options.body_bytes_max = 512;
  options.request_timeout = std::chrono::milliseconds(300);
  options.idle_timeout = std::chrono::milliseconds(300);
  Echo echo(options);
  const std::vector<std::string> pieces = {
      "GET / HTTP/1.1\r\n\r\n", "POST /p HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody",
      "\r\n", "HTTP/1.1", "Content-Length: 99999\r\n", "Expect: 100-continue\r\n",
      "Connection: close\r\n", "Transfer-Encoding: chunked\r\n",
      "GET /big?n=70000 HTTP/1.1\r\n\r\n",
      std::string(1, '\0'), "\xff\xfe", ": :", " ", "\n\n"};
  std::mt19937 rng(seed);
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    const uint32_t client_seed = static_cast<uint32_t>(rng());
    clients.emplace_back([&echo, &pieces, client_seed] {
      std::mt19937 r(client_seed);
      for (int round = 0; round < 25; ++round) {
        RawConnection c(echo.port(), 2000);
        std::string bytes;
        const int count = 1 + static_cast<int>(r() % 8);
        for (int i = 0; i < count; ++i) {
          if (r() % 3 == 0) {
            for (int k = static_cast<int>(r() % 64); k > 0; --k) bytes += static_cast<char>(r());
          } else {
            bytes += pieces[r() % pieces.size()];
          }
        }
        for (size_t at = 0; at < bytes.size();) {
          const size_t n = 1 + r() % 50;
          if (!c.Send(bytes.substr(at, n))) break;
          at += n;
        }
        if (r() % 2 == 0) c.ReadAnswer();
      }
    });
  }
  for (std::thread& t : clients) t.join();
  ASSERT_TRUE(Eventually([&] { return echo.transport().Connections() == 0; }));
  auto res = echo.Get("/after-garbage");
  ASSERT_TRUE(res) << "seed " << seed;
  EXPECT_EQ(res->status, 200);
}

TEST(Transport, StopsWithConnectionsOpenAndRequestsInFlight) {
  auto echo = std::make_unique<Echo>();
  RawConnection idle(echo->port());
  RawConnection half(echo->port());
  ASSERT_TRUE(half.Send("GET /half HTTP/1.1\r\n"));
  RawConnection blocked(echo->port());
  ASSERT_TRUE(blocked.Send("GET /block HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] { return echo->handled() == 1; }));
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    echo->Release();
  });
  echo->transport().Stop();  // Waits for the blocked handler, then closes everything.
  releaser.join();
  EXPECT_FALSE(echo->transport().Running());
  EXPECT_TRUE(idle.ClosedByServer());
  EXPECT_TRUE(half.ClosedByServer());
}

// A handler that takes its answer over frees its worker at once: with one worker, other
// requests are answered while the deferred one waits, and its answer (sent from another
// thread) arrives in its turn on a kept-alive connection.
TEST(Transport, ADeferredAnswerHoldsNoWorker) {
  TransportOptions options;
  options.workers = 1;
  Echo echo(options);
  RawConnection waiting(echo.port());
  ASSERT_TRUE(waiting.Send("GET /defer HTTP/1.1\r\n\r\nGET /next HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] { return echo.handled() == 1; }));
  for (int i = 0; i < 3; ++i) {
    auto res = echo.Get("/meanwhile");
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->body, "GET /meanwhile ");
  }
  EXPECT_EQ(echo.deferred_sent(), 0);
  echo.Release();
  const std::string first = waiting.ReadAnswer();
  EXPECT_EQ(StatusOf(first), 200);
  EXPECT_EQ(BodyOf(first), "deferred /defer");
  // Security headers and the like come on a deferred answer too.
  EXPECT_EQ(HeaderOf(first, "X-Test"), "on every answer");
  // The pipelined request after it is answered after it, on the same connection.
  const std::string second = waiting.ReadAnswer();
  EXPECT_EQ(BodyOf(second), "GET /next ");
}

// Clients that leave while their answer is deferred: the answer, sent later, frees the
// connection (nothing is written to a closed socket, nothing freed is touched: ASan), and the
// transport goes on.
TEST(Transport, ClientsThatLeaveWhileTheirAnswerIsDeferredLeaveNothingBehind) {
  TransportOptions options;
  options.workers = 2;
  Echo echo(options);
  constexpr size_t kClients = 20;
  {
    std::vector<std::unique_ptr<RawConnection>> leaving;
    for (size_t i = 0; i < kClients; ++i) {
      leaving.push_back(std::make_unique<RawConnection>(echo.port()));
      ASSERT_TRUE(leaving.back()->Send("GET /defer HTTP/1.1\r\n\r\n"));
    }
    ASSERT_TRUE(Eventually([&] { return echo.deferred_taken() == kClients; }));
  }  // All close here, their answers not sent yet.
  ASSERT_TRUE(Eventually([&] { return echo.transport().Connections() == kClients; }));
  echo.Release();
  echo.JoinDeferred();
  EXPECT_EQ(echo.deferred_sent(), static_cast<int>(kClients));
  ASSERT_TRUE(Eventually([&] { return echo.transport().Connections() == 0; }));
  auto res = echo.Get("/after");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "GET /after ");
}

// An answer taken and never sent is answered 500 when its last handle goes, also when the
// handler threw after taking it; the worker goes on.
TEST(Transport, ALostDeferredAnswerIs500) {
  TransportOptions options;
  options.workers = 1;
  Echo echo(options);
  for (const char* path : {"/defer-lost", "/defer-throw"}) {
    auto res = echo.Get(path);
    ASSERT_TRUE(res) << path << ": " << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 500) << path;
    EXPECT_NE(res->body.find("was lost"), std::string::npos) << res->body;
  }
  auto res = echo.Get("/after");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

// PostAll runs a task on a worker while the transport runs, and on the caller's thread once it
// has stopped; an answer sent after Stop goes nowhere (and touches nothing freed: ASan).
TEST(Transport, PostAllRunsOnAWorkerAndAnswersAfterStopGoNowhere) {
  auto echo = std::make_unique<Echo>();
  std::atomic<bool> ran{false};
  std::thread::id ran_on;
  const auto post_one = [&echo](std::function<void()> task) {
    std::vector<std::function<void()>> tasks;
    tasks.push_back(std::move(task));
    echo->transport().PostAll(std::move(tasks));
  };
  post_one([&] {
    ran_on = std::this_thread::get_id();
    ran = true;
  });
  ASSERT_TRUE(Eventually([&] { return ran.load(); }));
  EXPECT_NE(ran_on, std::this_thread::get_id());
  RawConnection waiting(echo->port());
  ASSERT_TRUE(waiting.Send("GET /defer HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(Eventually([&] { return echo->handled() == 1; }));
  echo->transport().Stop();
  EXPECT_TRUE(waiting.ClosedByServer());
  echo->Release();
  echo->JoinDeferred();
  EXPECT_EQ(echo->deferred_sent(), 1);
  ran = false;
  post_one([&] {
    ran_on = std::this_thread::get_id();
    ran = true;
  });
  EXPECT_TRUE(ran.load());
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  echo.reset();
}

// thread_nice is the nice value of the workers (and of the loop); the caller's is left alone.
TEST(Transport, WorkersRunAtTheNiceValueAsked) {
  const int own = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  {
    Echo plain;
    const auto res = plain.Get("/nice");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, std::to_string(own));  // 0: left as they are.
  }
  TransportOptions options;
  options.thread_nice = 19;  // The highest: allowed whatever the caller's.
  Echo nicer(options);
  const auto res = nicer.Get("/nice");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->body, "19");
  EXPECT_EQ(::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())), own);
}

// PostAll runs every task of its batch on the workers while the transport runs, and all of them,
// in order, on the caller's thread once it has stopped.
TEST(Transport, PostAllRunsEveryTask) {
  Echo echo;
  std::atomic<int> ran{0};
  std::vector<std::function<void()>> tasks;
  for (int i = 0; i < 100; ++i) tasks.emplace_back([&] { ++ran; });
  echo.transport().PostAll(std::move(tasks));
  ASSERT_TRUE(Eventually([&] { return ran.load() == 100; }));
  echo.transport().Stop();
  std::vector<int> order;
  tasks.clear();
  for (int i = 0; i < 3; ++i) tasks.emplace_back([&order, i] { order.push_back(i); });
  echo.transport().PostAll(std::move(tasks));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));
}

}  // namespace
}  // namespace registry::http
