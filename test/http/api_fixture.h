// The HTTP API tests' fixture: a registry on a temporary SQLite file with the basic setup, and a
// server on port 0 spoken to over real HTTP on 127.0.0.1 (cpp-httplib's client, or raw bytes).
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <random>
#include <string>

#include "http/raw_http.h"
#include "http/server.h"
#include "service/access.h"
#include "service/queries.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"

namespace registry::http {

using service::Json;

struct Answer {
  int status = 0;
  Json body;
};

// A registry with the basic setup, 1000 credits in account 1 and a running server.
class Api {
 public:
  // `before_start` runs on the registry before the server starts (its writer then owns it).
  explicit Api(ServerOptions options = {}, bool issue = true,
               const std::function<void(testing::TestRegistry&)>& before_start = {}) {
    testing::SetUpBasicRegistry(r_);
    if (issue) {
      r_.Ok("issue", {{"account", 1},
                      {"vintages", Json::array({{{"vintage", 2019}, {"quantity", 1000}}})},
                      {"project", "MN004"}});
    }
    admin_ = AddUser("admin", service::kRoleAdministrator, "*");
    if (before_start) before_start(r_);
    options.port = 0;
    options.access_log = std::getenv("JCM_HTTP_LOG") != nullptr;
    options.public_key = r_.key.public_key;
    options.scratch = [] { return sqlite::Open(sqlite::Options{":memory:", false}); };
    server_ = std::make_unique<Server>(*r_.store, *r_.registry, options);
    auto port = server_->Start();
    EXPECT_TRUE(port.has_value()) << (port ? "" : port.error());
    port_ = port ? *port : 0;
  }
  ~Api() { server_->Stop(); }

  // Adds a user directly through the service (before the server's writer runs).
  std::string AddUser(const std::string& name, const std::string& role, const std::string& scope) {
    const service::NewToken token = service::MakeToken();
    r_.Ok("user.add",
          {{"name", name}, {"role", role}, {"scope", scope}, {"token_hash", token.hash}});
    return token.token;
  }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(60, 0);
    return client;
  }

  Answer Get(const std::string& path, const std::string& token = "") const {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    auto res = Client().Get(path.c_str(), headers);
    return Parse(res);
  }

  Answer PostRaw(const std::string& path, const std::string& body, const std::string& token,
                 const std::string& idempotency_key = "",
                 const std::string& content_type = "application/json") const {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    if (!idempotency_key.empty()) headers.emplace("Idempotency-Key", idempotency_key);
    auto res = Client().Post(path.c_str(), headers, body, content_type.c_str());
    return Parse(res);
  }
  // Sends `request` as it is on a connection of its own and reads one answer.
  Answer Raw(const std::string& request) const {
    raw::RawConnection connection(port_);
    EXPECT_TRUE(connection.connected() && connection.Send(request));
    const std::string answer = connection.ReadAnswer();
    Answer a;
    a.status = raw::StatusOf(answer);
    a.body = Json::parse(raw::BodyOf(answer), nullptr, false);
    return a;
  }
  Answer Post(const std::string& path, const Json& body, const std::string& token,
              const std::string& idempotency_key = "") const {
    return PostRaw(path, body.dump(), token, idempotency_key);
  }

  int64_t Holding(AccountId account) const {
    auto held = service::Holdings(*r_.store, account, std::nullopt, std::nullopt);
    EXPECT_TRUE(held.has_value());
    return held ? held->at("total").get<int64_t>() : -1;
  }

  // Everything that could change: the projection digest and the journal head.
  std::string State() const {
    auto digest = r_.store->ProjectionDigest();
    EXPECT_TRUE(digest.has_value());
    auto tx = r_.store->BeginRead();
    auto last = (*tx)->LastEntry();
    return *digest + "@" + std::to_string(last->has_value() ? (*last)->sequence.value : 0);
  }

  const std::string& admin() const { return admin_; }
  int port() const { return port_; }
  Server& server() { return *server_; }
  testing::TestRegistry& registry() { return r_; }

 private:
  static Answer Parse(const httplib::Result& res) {
    Answer a;
    if (!res) {
      ADD_FAILURE() << "no HTTP answer: " << httplib::to_string(res.error());
      return a;
    }
    a.status = res->status;
    a.body = Json::parse(res->body, nullptr, false);
    return a;
  }

  testing::TestRegistry r_;
  std::string admin_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

inline void ExpectError(const Answer& a, int status, const std::string& check) {
  EXPECT_EQ(a.status, status) << a.body.dump();
  ASSERT_TRUE(a.body.is_object()) << a.body.dump();
  EXPECT_EQ(a.body.value("check", ""), check) << a.body.dump();
  EXPECT_TRUE(a.body.contains("code") && a.body.contains("message") && a.body.contains("rule"))
      << a.body.dump();
}

inline uint32_t Seed() {
  const char* env = std::getenv("JCM_SEED");
  const uint32_t seed = env != nullptr ? static_cast<uint32_t>(std::strtoul(env, nullptr, 10))
                                       : std::random_device{}();
  std::printf("JCM_SEED=%u\n", seed);
  return seed;
}

}  // namespace registry::http
