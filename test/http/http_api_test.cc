// Integration tests of the HTTP API (ISSUE 4): a server on port 0 over a temporary SQLite
// registry, spoken to over real HTTP on 127.0.0.1.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <future>
#include <random>
#include <set>
#include <thread>

#include "http/api_fixture.h"
#include "http/raw_http.h"
#include "http/server.h"
#include "service/access.h"
#include "service/proposal.h"
#include "service/queries.h"
#include "service/writer.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"

namespace registry::http {
namespace {

TEST(HttpApi, EveryStatusCode) {
  Api api;
  const std::string bob = api.AddUser("bob", service::kRoleAdministrator, "*");
  const std::string auditor = api.AddUser("audrey", service::kRoleAuditor, "*");
  // 200, public read.
  EXPECT_EQ(api.Get("/v1/totals").status, 200);
  EXPECT_EQ(api.Get("/healthz").status, 200);
  // 201: a user, with its token shown once.
  const Answer user = api.Post("/v1/users", Json{{"role", "auditor"}, {"scope", "*"}}, api.admin());
  EXPECT_EQ(user.status, 201) << user.body.dump();
  EXPECT_EQ(user.body.value("token", "").size(), 64u);
  // 202: a transfer becomes a proposal.
  const Answer proposal =
      api.Post("/v1/transfers", Json{{"from", 1}, {"to", 4}, {"quantity", 10}}, api.admin());
  EXPECT_EQ(proposal.status, 202) << proposal.body.dump();
  // 400: malformed JSON, a non-object, a missing field.
  ExpectError(api.PostRaw("/v1/parties", "{not json", api.admin()), 400, "malformed_request");
  ExpectError(api.PostRaw("/v1/parties", "[1,2]", api.admin()), 400, "malformed_request");
  ExpectError(api.Post("/v1/parties", Json{{"code", "THA"}}, api.admin()), 400, "field_missing");
  // 401: no token, a bad token.
  ExpectError(api.Get("/v1/accounts/1/holdings"), 401, "unauthenticated");
  ExpectError(api.Get("/v1/journal", std::string(64, 'a')), 401, "unauthenticated");
  ExpectError(api.Post("/v1/parties", Json{{"code", "THA"}, {"name", "Thailand"}}, ""), 401,
              "unauthenticated");
  // 403: an auditor writing; self-approval.
  ExpectError(api.Post("/v1/parties", Json{{"code", "THA"}, {"name", "Thailand"}}, auditor), 403,
              "forbidden");
  ExpectError(api.Post("/v1/proposals/1/approve", Json::object(), api.admin()), 403,
              "self_approval");
  // 404: no route, no such proposal, no such account.
  ExpectError(api.Get("/v1/nothing-here"), 404, "not_found");
  ExpectError(api.Post("/v1/proposals/99/approve", Json::object(), bob), 404, "unknown_proposal");
  ExpectError(api.Get("/v1/accounts/99/holdings", bob), 404, "unknown_account");
  // 409: serials reserved by the pending proposal; an idempotency key reused.
  const Json reserved = proposal.body["result"]["reserved"][0];
  ExpectError(api.Post("/v1/transfers", Json{{"from", 1}, {"to", 4}, {"ranges", {reserved}}},
                       api.admin()),
              409, "serials_reserved");
  EXPECT_EQ(api.Post("/v1/parties", Json{{"code", "THA"}, {"name", "Thailand"}}, api.admin(), "k1")
                .status,
            200);
  ExpectError(
      api.Post("/v1/parties", Json{{"code", "VNM"}, {"name", "Viet Nam"}}, api.admin(), "k1"), 409,
      "idempotency_key_reused");
  // 413: a body over kRequestBodyBytesMax.
  const std::string big = "{\"name\":\"" + std::string(kRequestBodyBytesMax, 'x') + "\"}";
  ExpectError(api.PostRaw("/v1/parties", big, api.admin()), 413, "request_too_large");
  // A JSON body sent as a form (what `curl -d` does without a JSON content type) is read as JSON
  // whatever its size up to the limit: the transport parses no form (cpp-httplib, used before,
  // refused one above 8,192 bytes).
  const std::string form = R"({"code":"LAO","name":"Lao PDR"})" + std::string(9000, ' ');
  const Answer form_answer =
      api.PostRaw("/v1/parties", form, api.admin(), "", "application/x-www-form-urlencoded");
  EXPECT_EQ(form_answer.status, 200) << form_answer.body.dump();
  // 411: a POST without Content-Length, or with a chunked body.
  const Answer chunked = api.Raw(
      "POST /v1/parties HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "2\r\n{}\r\n0\r\n\r\n");
  ExpectError(chunked, 411, "length_required");
  EXPECT_NE(chunked.body.value("message", "").find("Content-Length"), std::string::npos);
  ExpectError(api.Raw("POST /v1/parties HTTP/1.1\r\nHost: x\r\n\r\n"), 411, "length_required");
  // 431: a head over 16 KiB.
  ExpectError(api.Raw("GET /v1/totals HTTP/1.1\r\nX-Big: " + std::string(17000, 'a') + "\r\n\r\n"),
              431, "request_head_too_large");
  // 422: refused by a rule.
  ExpectError(
      api.Post("/v1/transfers", Json{{"from", 1}, {"to", 4}, {"quantity", 5000}}, api.admin()),
      422, "quantity_above_holding");
  // 200: the second user approves.
  const Answer approved = api.Post("/v1/proposals/1/approve", Json::object(), bob);
  EXPECT_EQ(approved.status, 200) << approved.body.dump();
  EXPECT_EQ(api.Holding(AccountId{4}), 10);
}

// Each list names its items in plain English (issue 28: kind + "s" gave "partys", "entitys" and
// "cooperative_approachs"); every kind /v1/documents serves has its key.
TEST(HttpApi, ListKeysAreSpelledByHand) {
  Api api;
  for (const auto& [path, key] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/parties", "parties"},
           {"/v1/registries", "registries"},
           {"/v1/entities", "entities"},
           {"/v1/projects", "projects"},
           {"/v1/authorizations", "authorizations"},
           {"/v1/cooperative-approaches", "cooperative_approaches"},
           {"/v1/documents/methodology", "methodologies"},
           {"/v1/documents/issuance_decision", "issuance_decisions"},
           {"/v1/documents/annual_summary", "annual_summaries"},
           {"/v1/documents/nomenclature", "nomenclature_lists"},
       }) {
    const Answer a = api.Get(path, api.admin());
    EXPECT_EQ(a.status, 200) << path;
    EXPECT_TRUE(a.body.contains(key) && a.body[key].is_array()) << path << ": " << a.body.dump();
  }
  EXPECT_FALSE(api.Get("/v1/parties").body["parties"].empty());
}

// Connections that sent half a request and wait, more than there are workers, leave the API
// answering (cpp-httplib gave each a thread until its timeout). At the limit per address a new
// connection still gets in: the oldest waiting connection of the address is closed to make room
// (a slowloris behind the same NAT as a real client cannot starve it).
TEST(HttpApi, HalfSentRequestsDoNotStopTheApi) {
  ServerOptions options;
  options.threads = 2;
  options.connections_per_address_max = 40;
  Api api(options);
  std::vector<std::unique_ptr<raw::RawConnection>> half;
  for (int i = 0; i < 39; ++i) {
    half.push_back(std::make_unique<raw::RawConnection>(api.port()));
    ASSERT_TRUE(half.back()->Send("POST /v1/transfers HTTP/1.1\r\nContent-Length: 100\r\n\r\n{"));
  }
  EXPECT_EQ(api.Get("/v1/totals").status, 200);
  const Answer proposal =
      api.Post("/v1/transfers", Json{{"from", 1}, {"to", 4}, {"quantity", 10}}, api.admin());
  EXPECT_EQ(proposal.status, 202) << proposal.body.dump();
  half.push_back(std::make_unique<raw::RawConnection>(api.port()));  // The 40th.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(api.Get("/v1/totals").status, 200);
  // The oldest half-sent connection made room: it was closed with no answer.
  EXPECT_EQ(half.front()->ReadAnswer(), "");
}

// Only when every connection of the address is busy (its request being handled) is a new one
// answered 503 with Retry-After and closed.
TEST(HttpApi, ANewConnectionIsRefusedOnlyWhenEveryOneIsBusy) {
  std::atomic<bool> release{false};
  std::atomic<int> building{0};
  ServerOptions options;
  options.threads = 4;
  options.connections_per_address_max = 2;
  options.report_cache_bytes = 0;
  options.report_build_hook = [&] {
    ++building;
    while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  };
  Api api(options);
  raw::RawConnection a(api.port()), b(api.port());
  ASSERT_TRUE(a.Send("GET /v1/statistics/annual HTTP/1.1\r\n\r\n"));
  ASSERT_TRUE(b.Send("GET /v1/statistics/annual HTTP/1.1\r\n\r\n"));
  for (int i = 0; i < 1000 && building.load() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(building.load(), 2);
  raw::RawConnection one_more(api.port());
  const std::string refused = one_more.ReadAnswer();
  EXPECT_EQ(raw::StatusOf(refused), 503) << refused;
  EXPECT_EQ(raw::HeaderOf(refused, "Retry-After"), "1");
  const Json body = Json::parse(raw::BodyOf(refused), nullptr, false);
  EXPECT_EQ(body.value("check", ""), "overloaded") << refused;
  release = true;
  EXPECT_EQ(raw::StatusOf(a.ReadAnswer()), 200);
  EXPECT_EQ(raw::StatusOf(b.ReadAnswer()), 200);
}

TEST(HttpApi, RateLimitedGives429) {
  ServerOptions options;
  options.rate_per_second = 0.001;  // Practically no refill during the test.
  options.rate_burst = 3;
  Api api(options);
  std::vector<int> statuses;
  for (int i = 0; i < 6; ++i) statuses.push_back(api.Get("/v1/totals").status);
  EXPECT_EQ(statuses, (std::vector<int>{200, 200, 200, 429, 429, 429}));
  ExpectError(api.Get("/v1/totals"), 429, "rate_limited");
  // Another client (an authenticated user) has its own bucket.
  EXPECT_EQ(api.Get("/v1/totals", api.admin()).status, 200);
}

TEST(HttpApi, FullWriteQueueGives503AndChangesNothing) {
  ServerOptions options;
  options.writer_queue_max = 0;
  Api api(options);
  const std::string before = api.State();
  ExpectError(api.Post("/v1/parties", Json{{"code", "THA"}, {"name", "Thailand"}}, api.admin()),
              503, "overloaded");
  EXPECT_EQ(api.State(), before);
  // A 503 says when to retry.
  auto res = api.Client().Post("/v1/parties", {{"Authorization", "Bearer " + api.admin()}},
                               R"({"code":"THA","name":"Thailand"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->get_header_value("Retry-After"), "1");
}

// A database locked by another program for longer than the busy timeout (10 s): the write is
// answered 503 storage_unavailable (JCM-701), nothing is changed, and the same request succeeds
// once the lock is gone.
TEST(HttpApi, ADatabaseLockedTooLongGives503StorageUnavailable) {
  Api api;
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(api.registry().db_path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  const Json thailand = {{"code", "THA"}, {"name", "Thailand"}};
  ExpectError(api.Post("/v1/parties", thailand, api.admin()), 503, "storage_unavailable");
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_EQ(api.Get("/v1/parties").body.dump().find("THA"), std::string::npos);
  EXPECT_EQ(api.Post("/v1/parties", thailand, api.admin()).status, 200);
}

// A write waiting for its commit holds no worker: with one worker and the database locked by
// another connection (the writer's batch waits for the lock), reads are still answered, and the
// write is answered once the lock is gone. (With a worker held per write, the read would wait
// for the lock too; the client gives up after 5 s.)
TEST(HttpApi, AWriteWaitingForItsCommitHoldsNoWorker) {
  ServerOptions options;
  options.threads = 1;
  Api api(options);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(api.registry().db_path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto write = std::async(std::launch::async, [&] {
    return api.Post("/v1/parties", Json{{"code", "THA"}, {"name", "Thailand"}}, api.admin());
  });
  // Give the write time to reach the writer (if it has not, the reads below prove less, not
  // something false).
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  for (int i = 0; i < 3; ++i) {
    httplib::Client client("127.0.0.1", api.port());
    client.set_read_timeout(5, 0);
    auto res = client.Get("/v1/parties");
    ASSERT_TRUE(res) << "a read waited behind a write: " << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
  }
  EXPECT_EQ(write.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
  // A client that leaves while its write waits: the write is still applied (it was accepted
  // whole), and its answer goes nowhere.
  {
    raw::RawConnection leaving(api.port());
    const std::string body = R"({"code":"VNM","name":"Viet Nam"})";
    ASSERT_TRUE(leaving.Send("POST /v1/parties HTTP/1.1\r\nAuthorization: Bearer " + api.admin() +
                             "\r\nContent-Type: application/json\r\nContent-Length: " +
                             std::to_string(body.size()) + "\r\n\r\n" + body));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  const Answer written = write.get();
  EXPECT_EQ(written.status, 200) << written.body.dump();
  EXPECT_NE(api.Get("/v1/parties").body.dump().find("THA"), std::string::npos);
  // The leaving client's write may come in the batch after THA's: wait for it (a condition,
  // up to 10 s, not a measured time).
  std::string parties;
  for (int i = 0; i < 1000; ++i) {
    parties = api.Get("/v1/parties").body.dump();
    if (parties.find("VNM") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(parties.find("VNM"), std::string::npos) << parties;
}

// Reports read the whole history and most are public: report_builds_max are built at once, and
// one more is refused at once (503 overloaded, Retry-After) rather than holding an HTTP thread.
TEST(HttpApi, ReportBuildsBeyondTheLimitGive503WithRetryAfter) {
  ServerOptions options;
  options.report_builds_max = 1;
  options.report_cache_bytes = 0;  // Every request builds (the cache has its own test).
  std::atomic<int> builds{0};
  std::promise<void> inside;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  options.report_build_hook = [&] {
    if (builds.fetch_add(1) == 0) {
      inside.set_value();
      released.wait();
    }
  };
  Api api(options);
  Answer first;
  std::thread holder([&] { first = api.Get("/v1/statistics/annual"); });
  inside.get_future().wait();  // The first build holds the only slot.
  const httplib::Headers admin = {{"Authorization", "Bearer " + api.admin()}};
  for (const char* path : {"/v1/statistics/annual", "/v1/statistics/accounts",
                           "/v1/reports/aef?party=JPN&year=2026", "/v1/verify"}) {
    auto res = api.Client().Get(path, admin);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 503) << path;
    EXPECT_EQ(res->get_header_value("Retry-After"), "1") << path;
    const Json body = Json::parse(res->body, nullptr, false);
    EXPECT_EQ(body.value("check", ""), "overloaded") << res->body;
    EXPECT_NE(body.value("message", "").find("reports are being built in all 1 report slots"), std::string::npos)
        << res->body;
  }
  EXPECT_EQ(api.Get("/v1/totals").status, 200);  // Other routes are not limited.
  release.set_value();
  holder.join();
  EXPECT_EQ(first.status, 200) << first.body.dump();
  EXPECT_EQ(api.Get("/v1/statistics/annual").status, 200);  // The slot is free again.
  EXPECT_EQ(builds.load(), 2);  // The refused requests never started a build.
  // The OpenAPI document says which routes may answer so.
  const Json openapi = api.Get("/v1/openapi.json").body;
  EXPECT_TRUE(openapi["paths"]["/v1/reports/aef"]["get"]["responses"].contains("503"));
  EXPECT_TRUE(openapi["paths"]["/v1/verify"]["get"]["responses"].contains("503"));
  EXPECT_FALSE(openapi["paths"]["/v1/totals"]["get"]["responses"].contains("503"));
}

// A public report is built once while the journal head stays put; a write, a token or another
// query builds it again.
TEST(HttpApi, PublicReportsAreCachedUntilTheJournalMoves) {
  ServerOptions options;
  std::atomic<int> builds{0};
  options.report_build_hook = [&] { builds.fetch_add(1); };
  Api api(options);
  auto get = [&](const std::string& path, const std::string& token = "") {
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    auto res = api.Client().Get(path.c_str(), headers);
    EXPECT_TRUE(res) << path;
    return res ? std::make_pair(res->get_header_value("X-Report-Cache"), res->body)
               : std::make_pair(std::string("no answer"), std::string());
  };
  const auto first = get("/v1/statistics/annual");
  EXPECT_EQ(first.first, "miss");
  const auto second = get("/v1/statistics/annual");
  EXPECT_EQ(second.first, "hit");
  EXPECT_EQ(second.second, first.second);
  EXPECT_EQ(builds.load(), 1);
  // A token's answer is never cached nor taken from the cache.
  EXPECT_EQ(get("/v1/statistics/annual", api.admin()).first, "");
  EXPECT_EQ(builds.load(), 2);
  // Another query is another answer.
  EXPECT_EQ(get("/v1/statistics/annual?format=csv").first, "miss");
  EXPECT_EQ(get("/v1/statistics/annual?format=csv").first, "hit");
  EXPECT_EQ(builds.load(), 3);
  // A write moves the journal head: the next answer is built again, and shows the write (a
  // retirement, proposed and approved by a second person).
  const Answer user = api.Post(
      "/v1/users", Json{{"name", "second"}, {"role", "administrator"}, {"scope", "*"}}, api.admin());
  ASSERT_EQ(user.status, 201) << user.body.dump();
  const Answer proposed = api.Post(
      "/v1/retirements", Json{{"from", 1}, {"quantity", 7}, {"use_year", 2026}}, api.admin());
  ASSERT_EQ(proposed.status, 202) << proposed.body.dump();
  const Answer approved = api.Post("/v1/proposals/1/approve", Json::object(),
                                   user.body["token"].get<std::string>());
  ASSERT_EQ(approved.status, 200) << approved.body.dump();
  const auto after = get("/v1/statistics/annual");
  EXPECT_EQ(after.first, "miss");
  EXPECT_NE(after.second, first.second);
  EXPECT_EQ(get("/v1/statistics/annual").first, "hit");
  EXPECT_EQ(builds.load(), 4);
  // Off: every request builds.
  ServerOptions off;
  off.report_cache_bytes = 0;
  Api uncached(off);
  for (int i = 0; i < 2; ++i) {
    auto res = uncached.Client().Get("/v1/statistics/annual");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_FALSE(res->has_header("X-Report-Cache"));
  }
}

TEST(HttpApi, SelfApprovalRefusedAndSecondUserApproves) {
  Api api;
  const std::string rep1 = api.AddUser("rep1", service::kRoleAccountRepresentative, "account:1");
  const std::string rep2 = api.AddUser("rep2", service::kRoleAccountRepresentative, "account:1");
  const std::string other = api.AddUser("rep4", service::kRoleAccountRepresentative, "account:4");
  // Out of scope: rep4 cannot spend account 1.
  ExpectError(api.Post("/v1/retirements", Json{{"from", 1}, {"quantity", 5}, {"use_year", 2025}},
                       other),
              403, "forbidden");
  const Answer p = api.Post("/v1/retirements",
                            Json{{"from", 1}, {"quantity", 100}, {"use_year", 2025}}, rep1);
  ASSERT_EQ(p.status, 202) << p.body.dump();
  const int64_t id = p.body["result"]["id"].get<int64_t>();
  const std::string approve = "/v1/proposals/" + std::to_string(id) + "/approve";
  ExpectError(api.Post(approve, Json::object(), rep1), 403, "self_approval");
  ExpectError(api.Post(approve, Json::object(), other), 403, "forbidden");
  EXPECT_EQ(api.Holding(AccountId{1}), 1000);  // Nothing moved yet.
  const Answer ok = api.Post(approve, Json::object(), rep2);
  ASSERT_EQ(ok.status, 200) << ok.body.dump();
  EXPECT_EQ(ok.body["result"]["status"], "approved");
  EXPECT_EQ(api.Holding(AccountId{1}), 900);
  EXPECT_EQ(api.Holding(AccountId{2}), 100);
  ExpectError(api.Post(approve, Json::object(), rep2), 409, "proposal_not_pending");
  // The proposal, approval and movement are in the journal, and the chain verifies. The journal
  // and verify cover every account: a token scoped to one account reads neither.
  const Answer verify = api.Get("/v1/verify", api.admin());
  EXPECT_EQ(verify.status, 200);
  EXPECT_TRUE(verify.body.value("ok", false)) << verify.body.dump();
  ExpectError(api.Get("/v1/verify", rep2), 403, "forbidden");
  ExpectError(api.Get("/v1/journal", rep2), 403, "forbidden");
  EXPECT_EQ(api.Get("/v1/journal?limit=1", api.admin()).status, 200);
  // A proposal is read by the users whose scope covers it, not by the holder of another account.
  const std::string path = "/v1/proposals/" + std::to_string(id);
  EXPECT_EQ(api.Get(path, rep2).status, 200);
  ExpectError(api.Get(path, other), 403, "forbidden");
  ExpectError(api.Get("/v1/documents/proposal/" + service::ProposalKey(id), other), 403,
              "forbidden");
  EXPECT_EQ(api.Get("/v1/proposals", rep2).body["proposals"].size(), 1u);
  EXPECT_TRUE(api.Get("/v1/proposals", other).body["proposals"].empty());
  EXPECT_TRUE(api.Get("/v1/documents/proposal", other).body["proposals"].empty());
  // A transfer into account 4 is seen by account 4's representative too.
  const Answer in = api.Post("/v1/transfers", Json{{"from", 1}, {"to", 4}, {"quantity", 1}}, rep1);
  ASSERT_EQ(in.status, 202) << in.body.dump();
  EXPECT_EQ(api.Get("/v1/proposals", other).body["proposals"].size(), 1u);
}

TEST(HttpApi, RejectAndExpireReleaseReservations) {
  Api api;
  const std::string bob = api.AddUser("bob", service::kRoleAdministrator, "*");
  const Answer all =
      api.Post("/v1/transfers", Json{{"from", 1}, {"to", 4}, {"quantity", 1000}}, api.admin());
  ASSERT_EQ(all.status, 202);
  ExpectError(
      api.Post("/v1/transfers", Json{{"from", 1}, {"to", 4}, {"quantity", 1}}, api.admin()), 422,
      "quantity_above_holding");
  // A direct movement through the generic route also becomes a proposal, and is refused.
  ExpectError(api.Post("/v1/commands/retire", Json{{"from", 1}, {"ranges", {"1000"}},
                                                    {"use_year", 2025}},
                       api.admin()),
              409, "serials_reserved");
  ASSERT_EQ(api.Post("/v1/proposals/1/reject", Json{{"reason", "wrong"}}, bob).status, 200);
  const Answer second =
      api.Post("/v1/transfers", Json{{"from", 1}, {"to", 4}, {"quantity", 600}}, api.admin());
  ASSERT_EQ(second.status, 202) << second.body.dump();
  // Not yet expired: refused. Eight days later it expires and the units are free again.
  ExpectError(api.Post("/v1/proposals/2/expire", Json::object(), bob), 400, "field_invalid");
  api.registry().clock.Set("2026-01-09T00:00:00Z");
  ExpectError(api.Post("/v1/proposals/2/approve", Json::object(), bob), 409,
              "proposal_not_pending");
  ASSERT_EQ(api.Post("/v1/proposals/2/expire", Json::object(), bob).status, 200);
  const Answer third =
      api.Post("/v1/transfers", Json{{"from", 1}, {"to", 4}, {"quantity", 1000}}, api.admin());
  EXPECT_EQ(third.status, 202) << third.body.dump();
  EXPECT_EQ(api.Holding(AccountId{1}), 1000);
}

// 16 clients race to spend the same 1000-unit block: the accepted proposals never add up to
// more than the block, and after every approval the account holds exactly what is left.
TEST(HttpApi, SixteenClientsSpendingTheSameBlockSpendExactlyWhatItHolds) {
  std::mt19937 rng(Seed());
  Api api;
  const std::string bob = api.AddUser("bob", service::kRoleAdministrator, "*");
  constexpr int kClients = 16;
  std::vector<int64_t> quantities(kClients);
  for (int64_t& q : quantities) q = std::uniform_int_distribution<int64_t>(1, 150)(rng);
  std::vector<Answer> answers(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      answers[i] = api.Post("/v1/transfers",
                            Json{{"from", 1}, {"to", 4}, {"quantity", quantities[i]}},
                            api.admin());
    });
  }
  for (auto& t : threads) t.join();
  threads.clear();
  int64_t accepted = 0;
  std::vector<int64_t> ids;
  std::set<int64_t> serials;
  for (int i = 0; i < kClients; ++i) {
    if (answers[i].status == 202) {
      accepted += quantities[i];
      ids.push_back(answers[i].body["result"]["id"].get<int64_t>());
      for (const Json& text : answers[i].body["result"]["reserved"]) {
        const auto range = ParseSerialRange(text.get<std::string>());
        ASSERT_TRUE(range.has_value());
        for (int64_t s = range->first; s <= range->last; ++s) {
          EXPECT_TRUE(serials.insert(s).second) << "serial " << s << " reserved twice";
        }
      }
    } else {
      ExpectError(answers[i], 422, "quantity_above_holding");
    }
  }
  EXPECT_LE(accepted, 1000);
  EXPECT_EQ(static_cast<int64_t>(serials.size()), accepted);
  // Every refused client asked for more than was left unreserved when it was refused, which
  // is at most what is left unreserved now.
  for (int i = 0; i < kClients; ++i) {
    if (answers[i].status != 202) {
      EXPECT_GT(quantities[i], 1000 - accepted) << "client " << i << " was refused wrongly";
    }
  }
  std::vector<Answer> approvals(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    threads.emplace_back([&, i] {
      approvals[i] =
          api.Post("/v1/proposals/" + std::to_string(ids[i]) + "/approve", Json::object(), bob);
    });
  }
  for (auto& t : threads) t.join();
  for (const Answer& a : approvals) EXPECT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(api.Holding(AccountId{1}), 1000 - accepted);
  EXPECT_EQ(api.Holding(AccountId{4}), accepted);
  const Answer verify = api.Get("/v1/verify", bob);
  EXPECT_TRUE(verify.body.value("ok", false)) << verify.body.dump();
}

// 16 clients each propose the same explicit serial range: exactly one wins.
TEST(HttpApi, SixteenClientsProposingTheSameSerialsOnlyOneWins) {
  Api api;
  std::vector<int> statuses(16);
  std::vector<std::thread> threads;
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&, i] {
      statuses[i] = api.Post("/v1/transfers",
                             Json{{"from", 1}, {"to", 4}, {"ranges", {"1-1000"}}}, api.admin())
                        .status;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 202), 1);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), 409), 15);
}

TEST(HttpApi, RetriedWriteWithTheSameKeyIsAppliedOnce) {
  Api api;
  const Json body = {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", "again"}};
  const Answer first = api.Post("/v1/accounts", body, api.admin(), "retry-1");
  ASSERT_EQ(first.status, 200) << first.body.dump();
  const std::string after_first = api.State();
  const Answer second = api.Post("/v1/accounts", body, api.admin(), "retry-1");
  ASSERT_EQ(second.status, 200);
  EXPECT_TRUE(second.body["replayed"].get<bool>());
  EXPECT_EQ(second.body["result"], first.body["result"]);
  EXPECT_EQ(second.body["sequence"], first.body["sequence"]);
  EXPECT_EQ(api.State(), after_first);
  // Concurrent retries of one proposal: one proposal, one reservation.
  std::vector<Answer> answers(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      answers[i] = api.Post("/v1/transfers", Json{{"from", 1}, {"to", 4}, {"quantity", 700}},
                            api.admin(), "retry-2");
    });
  }
  for (auto& t : threads) t.join();
  for (const Answer& a : answers) {
    EXPECT_EQ(a.status, 202) << a.body.dump();
    EXPECT_EQ(a.body["result"]["id"], 1);
  }
  const Answer proposals = api.Get("/v1/proposals", api.admin());
  EXPECT_EQ(proposals.body.dump().find("\"id\":2"), std::string::npos) << proposals.body.dump();
}

TEST(HttpApi, OversizedAndMalformedBodiesChangeNothing) {
  Api api;
  const std::string before = api.State();
  const std::vector<std::string> bodies = {
      "{\"code\":\"" + std::string(kRequestBodyBytesMax + 10, 'A') + "\"}",
      "{", "null", "\"text\"", "{\"code\": 12, \"name\": []}", "{\"code\":\"THA\"}",
      std::string("{\"code\":\"THA\",\"name\":\"x\"") + std::string(1, '\0') + "}"};
  for (const std::string& body : bodies) {
    const Answer a = api.PostRaw("/v1/parties", body, api.admin());
    EXPECT_TRUE(a.status == 400 || a.status == 413) << a.status << " " << body.substr(0, 40);
    EXPECT_TRUE(a.body.is_object() && a.body.contains("check")) << a.body.dump();
  }
  for (const std::string& body : bodies) {
    EXPECT_GE(api.PostRaw("/v1/transfers", body, api.admin()).status, 400);
    EXPECT_GE(api.PostRaw("/v1/commands/issue", body, api.admin()).status, 400);
  }
  EXPECT_EQ(api.State(), before);
}

// A field the command does not take is refused with 400 JCM-106 naming it, on the resource
// routes, the generic one and inside a proposal, and changes nothing; GET /v1/commands lists
// each command's fields.
TEST(HttpApi, FieldsACommandDoesNotTakeAreRefused) {
  Api api;
  const std::string before = api.State();
  Answer a = api.Post("/v1/transfers", {{"from", 1}, {"to", 4}, {"quantity", 5}, {"projet", "MN004"}},
                      api.admin());
  ExpectError(a, 400, "unknown_field");
  EXPECT_EQ(a.body.value("code", ""), "JCM-106");
  EXPECT_NE(a.body.value("message", "").find("'projet'"), std::string::npos) << a.body.dump();
  ExpectError(api.Post("/v1/commands/party.add", {{"code", "KHM"}, {"name", "Cambodia"}, {"x", 1}},
                       api.admin()),
              400, "unknown_field");
  ExpectError(api.Post("/v1/parties", {{"code", "KHM"}, {"name", "Cambodia"}, {"x", 1}}, api.admin()),
              400, "unknown_field");
  EXPECT_EQ(api.State(), before);
  const Answer commands = api.Get("/v1/commands");
  ASSERT_EQ(commands.status, 200);
  bool transfer_listed = false;
  for (const Json& c : commands.body) {
    EXPECT_FALSE(c.at("fields").empty()) << c.dump();
    if (c.at("type") == "transfer") {
      transfer_listed = true;
      EXPECT_EQ(c.at("fields"), Json({"from", "to", "quantity", "ranges", "project", "vintage"}));
    }
  }
  EXPECT_TRUE(transfer_listed);
  // The OpenAPI document gives each command route's body schema from the same list.
  const Json openapi = api.Get("/v1/openapi.json").body;
  const Json schema = openapi["paths"]["/v1/transfers"]["post"]["requestBody"]["content"]
                             ["application/json"]["schema"];
  EXPECT_EQ(schema["additionalProperties"], false) << schema.dump();
  std::vector<std::string> properties;
  for (const auto& [name, value] : schema["properties"].items()) properties.push_back(name);
  EXPECT_EQ(properties, (std::vector<std::string>{"from", "project", "quantity", "ranges", "to",
                                                  "vintage"}));
  EXPECT_TRUE(openapi["components"]["schemas"].contains("command.user.deactivate"));
}

// A query parameter the route does not take is refused (400 JCM-106) naming it and the ones the
// route takes: ?asof= (for ?as_of=) used to be ignored and gave today's holdings. A format no
// route writes is refused too; the OpenAPI document lists each route's query parameters.
TEST(HttpApi, QueryParametersARouteDoesNotTakeAreRefused) {
  Api api;
  Answer a = api.Get("/v1/accounts/1/holdings?asof=2016-01-01", api.admin());
  ExpectError(a, 400, "unknown_field");
  EXPECT_EQ(a.body.value("message", ""),
            "GET /v1/accounts/{id}/holdings takes no query parameter 'asof' (its parameters: "
            "as_of, as_of_sequence, after, limit)");
  EXPECT_EQ(api.Get("/v1/accounts/1/holdings?as_of=2016-01-01&limit=1", api.admin()).status, 200);
  // A date that is not in the calendar is refused, not compared as text.
  ExpectError(api.Get("/v1/accounts/1/holdings?as_of=2016-02-30", api.admin()), 400, "field_invalid");
  ExpectError(api.Get("/v1/accounts/1/holdings?as_of=2016-02-29T24:00:00Z", api.admin()), 400,
              "field_invalid");
  a = api.Get("/v1/accounts/1/holdings?as_of_sequence=99999999", api.admin());
  ExpectError(a, 400, "field_invalid");
  EXPECT_NE(a.body.value("message", "").find("after the journal's last entry"), std::string::npos)
      << a.body.dump();
  ExpectError(api.Get("/v1/lots?limit=1&aftr=5"), 400, "unknown_field");
  a = api.Get("/v1/totals?registry=JPN01");
  ExpectError(a, 400, "unknown_field");
  EXPECT_NE(a.body.value("message", "").find("(it takes none)"), std::string::npos) << a.body.dump();
  ExpectError(api.Get("/v1/reports/aef?party=JPN&yeer=2026"), 400, "unknown_field");
  ExpectError(api.Post("/v1/parties?dry_run=1", {{"code", "KHM"}, {"name", "Cambodia"}}, api.admin()),
              400, "unknown_field");
  // A JSON body sent as a form (`curl -d` without -H 'Content-Type: application/json') is read
  // as JSON; its fields are not query parameters.
  httplib::Headers headers = {{"Authorization", "Bearer " + api.admin()}};
  auto form = api.Client().Post("/v1/parties", headers, R"({"code":"KHM","name":"Cambodia"})",
                                "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 200) << form->body;
  EXPECT_NE(form->body.find("Cambodia"), std::string::npos) << form->body;
  ExpectError(api.Get("/v1/statistics/annual?format=cvs"), 400, "field_invalid");
  EXPECT_EQ(api.Get("/v1/statistics/annual?format=json").status, 200);
  ExpectError(api.Get("/v1/reports/adjustments?party=JPN&ndc_period=2021-2030&format=xml"), 400,
              "field_invalid");
  for (const char* period : {"2021-abcd", "2021x2030", "2030-2021", "+021-2030"}) {
    ExpectError(api.Get(std::string("/v1/reports/adjustments?party=JPN&ndc_period=") + period), 400,
                "field_invalid");
  }
  const Answer openapi = api.Get("/v1/openapi.json");
  ASSERT_EQ(openapi.status, 200);
  std::vector<std::string> names;
  for (const Json& p : openapi.body["paths"]["/v1/accounts/{id}/holdings"]["get"]["parameters"]) {
    if (p.at("in") == "query") names.push_back(p.at("name"));
  }
  EXPECT_EQ(names, (std::vector<std::string>{"as_of", "as_of_sequence", "after", "limit"}));
  bool party_required = false;
  for (const Json& p : openapi.body["paths"]["/v1/reports/aef"]["get"]["parameters"]) {
    if (p.at("name") == "party") party_required = p.at("required").get<bool>();
  }
  EXPECT_TRUE(party_required);
}

// The public lineage of a serial gives each block's account type, not which account held it
// (holdings per account are not public); a token whose scope covers the account sees it.
TEST(HttpApi, PublicTraceNamesAccountTypesNotAccounts) {
  Api api;
  ASSERT_EQ(api.Post("/v1/commands/transfer", {{"from", 1}, {"to", 4}, {"ranges", {"5-9"}}},
                     api.admin()).status, 202);
  const std::string rep4 = api.AddUser("rep4", service::kRoleAccountRepresentative, "account:4");
  const std::string other = api.AddUser("rep3", service::kRoleAccountRepresentative, "account:3");
  // Approve the transfer so serial 7 has a lineage through two accounts.
  const std::string approver = api.AddUser("bob", service::kRoleAdministrator, "*");
  ASSERT_EQ(api.Post("/v1/proposals/1/approve", Json::object(), approver).status, 200);
  for (const std::string& token : {std::string(), other}) {
    const Answer pub = api.Get("/v1/trace/JPN01/7", token);
    ASSERT_EQ(pub.status, 200) << pub.body.dump();
    ASSERT_EQ(pub.body["lineage"].size(), 2u) << pub.body.dump();
    for (const Json& b : pub.body["lineage"]) {
      EXPECT_FALSE(b.contains("account")) << b.dump();
      EXPECT_TRUE(b.contains("account_type")) << b.dump();
    }
    EXPECT_EQ(pub.body["lineage"][0]["account_type"], "government_holding");
    EXPECT_EQ(pub.body["lineage"][1]["account_type"], "government_holding");  // Account 4: gov2.
    // Each block names its account's registry and the times of the journal entries that created
    // and closed it (the journal itself is not public): the portal shows where and when.
    for (const Json& b : pub.body["lineage"]) {
      EXPECT_EQ(b.value("registry", ""), "JPN01") << b.dump();
      EXPECT_EQ(b.value("created_time", "").size(), 20u) << b.dump();
    }
    EXPECT_EQ(pub.body["lineage"][0]["closed_time"], pub.body["lineage"][1]["created_time"]);
    EXPECT_FALSE(pub.body["lineage"][1].contains("closed_time")) << pub.body.dump();
  }
  const Answer own = api.Get("/v1/trace/JPN01/7", rep4);
  EXPECT_FALSE(own.body["lineage"][0].contains("account")) << own.body.dump();
  EXPECT_EQ(own.body["lineage"][1]["account"], 4) << own.body.dump();
  const Answer all = api.Get("/v1/trace/JPN01/7", api.admin());
  EXPECT_EQ(all.body["lineage"][0]["account"], 1) << all.body.dump();
  EXPECT_EQ(all.body["lineage"][1]["account"], 4) << all.body.dump();
}

// GET /v1/lots is public, so it pages: ?after=ID&limit=N, with next_after while a page is full.
TEST(HttpApi, LotsComeInPagesAndBadPagingIsRefused) {
  Api api;
  Json vintages = Json::array();
  for (int v = 2021; v <= 2025; ++v) vintages.push_back({{"vintage", v}, {"quantity", 10}});
  api.registry().Ok("issue", {{"account", 1}, {"vintages", vintages}});
  const Answer whole = api.Get("/v1/lots");
  ASSERT_EQ(whole.status, 200) << whole.body.dump();
  const size_t total = whole.body["lots"].size();
  ASSERT_GE(total, 5u);
  EXPECT_FALSE(whole.body.contains("next_after"));  // One page holds them all.

  std::vector<int64_t> ids;
  std::string path = "/v1/lots?limit=2";
  for (int page = 0; page < 10; ++page) {
    const Answer a = api.Get(path);
    ASSERT_EQ(a.status, 200) << a.body.dump();
    ASSERT_LE(a.body["lots"].size(), 2u);
    for (const Json& lot : a.body["lots"]) ids.push_back(lot["id"].get<int64_t>());
    if (!a.body.contains("next_after")) break;
    EXPECT_EQ(a.body["next_after"], ids.back());
    path = "/v1/lots?limit=2&after=" + std::to_string(a.body["next_after"].get<int64_t>());
  }
  ASSERT_EQ(ids.size(), total);
  for (size_t i = 0; i < ids.size(); ++i) EXPECT_EQ(ids[i], whole.body["lots"][i]["id"]);
  EXPECT_TRUE(api.Get("/v1/lots?after=" + std::to_string(ids.back())).body["lots"].empty());

  ExpectError(api.Get("/v1/lots?limit=0"), 400, "field_invalid");
  ExpectError(api.Get("/v1/lots?limit=1001"), 400, "field_invalid");
  ExpectError(api.Get("/v1/lots?after=-1"), 400, "field_invalid");
  ExpectError(api.Get("/v1/lots?after=two"), 400, "field_invalid");
  // The journal pages the same way (with a token).
  ExpectError(api.Get("/v1/journal?after=-1", api.admin()), 400, "field_invalid");
  ExpectError(api.Get("/v1/journal?limit=1001", api.admin()), 400, "field_invalid");
  EXPECT_EQ(api.Get("/v1/journal?after=0&limit=2", api.admin()).body["entries"].size(), 2u);
}

TEST(HttpApi, HoldingsComeInPagesNowAndInThePast) {
  Api api;
  Json vintages = Json::array();
  for (int v = 2021; v <= 2025; ++v) vintages.push_back({{"vintage", v}, {"quantity", 10}});
  api.registry().Ok("issue", {{"account", 1}, {"vintages", vintages}});
  auto head = [&] {
    auto tx = api.registry().store->BeginRead();
    return (*(*tx)->LastEntry())->sequence.value;
  };
  const int64_t past = head();
  api.registry().Ok("transfer", {{"from", 1}, {"to", 4}, {"quantity", 13}});  // Splits a block.
  // Pages of 2 give the blocks of one page of 1000, in the same order, with the same totals.
  for (const std::string& at : {std::string(""), "&as_of_sequence=" + std::to_string(past)}) {
    const Answer whole = api.Get("/v1/accounts/1/holdings?limit=1000" + at, api.admin());
    ASSERT_EQ(whole.status, 200) << whole.body.dump();
    EXPECT_FALSE(whole.body.contains("next_after"));
    const Json& all = whole.body["blocks"];
    ASSERT_GE(all.size(), 5u);
    EXPECT_EQ(whole.body["block_count"], all.size());
    int64_t sum = 0;
    for (const Json& b : all) sum += b["quantity"].get<int64_t>();
    EXPECT_EQ(whole.body["total"], sum);
    std::vector<int64_t> firsts;
    std::string path = "/v1/accounts/1/holdings?limit=2" + at;
    for (int page = 0; page < 20; ++page) {
      const Answer a = api.Get(path, api.admin());
      ASSERT_EQ(a.status, 200) << a.body.dump();
      ASSERT_LE(a.body["blocks"].size(), 2u);
      EXPECT_EQ(a.body["total"], whole.body["total"]);
      EXPECT_EQ(a.body["block_count"], whole.body["block_count"]);
      for (const Json& b : a.body["blocks"]) firsts.push_back(b["first"].get<int64_t>());
      if (!a.body.contains("next_after")) break;
      EXPECT_EQ(a.body["next_after"], firsts.back());
      path = "/v1/accounts/1/holdings?limit=2&after=" +
             std::to_string(a.body["next_after"].get<int64_t>()) + at;
    }
    ASSERT_EQ(firsts.size(), all.size()) << at;
    for (size_t i = 0; i < firsts.size(); ++i) EXPECT_EQ(firsts[i], all[i]["first"]) << at;
  }
  // The past holding is the one before the transfer: 13 t more than now.
  const Answer now = api.Get("/v1/accounts/1/holdings", api.admin());
  const Answer then =
      api.Get("/v1/accounts/1/holdings?as_of_sequence=" + std::to_string(past), api.admin());
  EXPECT_EQ(then.body["total"].get<int64_t>() - now.body["total"].get<int64_t>(), 13);
  EXPECT_EQ(then.body["as_of_sequence"], past);
  ExpectError(api.Get("/v1/accounts/1/holdings?limit=0", api.admin()), 400, "field_invalid");
  ExpectError(api.Get("/v1/accounts/1/holdings?limit=1001", api.admin()), 400, "field_invalid");
  ExpectError(api.Get("/v1/accounts/1/holdings?after=-5", api.admin()), 400, "field_invalid");
  ExpectError(api.Get("/v1/accounts/1/holdings?after=x", api.admin()), 400, "field_invalid");
}

TEST(HttpApi, PublicReadsShowOnlyPublicData) {
  Api api;
  api.registry().Ok("entity.add", {{"name", "Company"}, {"country", "JPN"}});
  api.registry().Ok("account.open", {{"registry", "JPN01"},
                                     {"type", "entity_holding"},
                                     {"name", "Company account"},
                                     {"holder", 1}});
  const Answer accounts = api.Get("/v1/accounts");
  ASSERT_EQ(accounts.status, 200) << accounts.body.dump();
  const Json& list = accounts.body["accounts"];  // The shape a token gets too.
  ASSERT_EQ(list.size(), 1u) << accounts.body.dump();
  EXPECT_EQ(list[0]["type"], "entity_holding");
  EXPECT_GT(api.Get("/v1/accounts", api.admin()).body.dump().size(), accounts.body.dump().size());
  EXPECT_EQ(api.Get("/v1/totals").status, 200);
  EXPECT_EQ(api.Get("/v1/lots").status, 200);
  EXPECT_EQ(api.Get("/v1/parties").status, 200);
  ExpectError(api.Get("/v1/journal"), 401, "unauthenticated");
  // The lineage of a serial is public, as the ITMO identifiers it shows are (portal lookup).
  EXPECT_EQ(api.Get("/v1/trace/JPN01/5").status, 200);
  ExpectError(api.Get("/v1/trace/JPN01/999999"), 404, "unknown_serial");
  EXPECT_EQ(api.Get("/v1/statistics/annual").status, 200);
  EXPECT_EQ(api.Get("/v1/statistics/accounts").status, 200);
  EXPECT_EQ(api.Get("/v1/reports/aef?party=JPN&year=2026").status, 200);
  ExpectError(api.Get("/v1/reports/aef?party=JPN"), 400, "field_invalid");
  const auto portal = api.Client().Get("/");
  ASSERT_TRUE(portal);
  EXPECT_EQ(portal->status, 200);
  EXPECT_NE(portal->body.find("<title>JCM Registry</title>"), std::string::npos);
  ExpectError(api.Get("/v1/proposals"), 401, "unauthenticated");
  ExpectError(api.Get("/v1/documents/proposal"), 401, "unauthenticated");
  // Credentials are never served, not even to an administrator.
  ExpectError(api.Get("/v1/documents/user", api.admin()), 404, "not_found");
  ExpectError(api.Get("/v1/documents/token", api.admin()), 404, "not_found");
  EXPECT_EQ(api.Get("/v1/trace/JPN01/5", api.admin()).status, 200);
  EXPECT_EQ(api.Get("/v1/accounts/1/holdings?as_of=2026-12-31", api.admin()).status, 200);
  ExpectError(api.Get("/v1/accounts/1/holdings?as_of=yesterday", api.admin()), 400,
              "field_invalid");
}

TEST(HttpApi, TokenIsShownOnceAndNeverJournaled) {
  Api api;
  const Answer user = api.Post("/v1/users",
                               Json{{"role", "auditor"}, {"scope", "*"}, {"name", "eve"}},
                               api.admin());
  ASSERT_EQ(user.status, 201);
  const std::string token = user.body["token"].get<std::string>();
  EXPECT_EQ(api.Get("/v1/journal", token).status, 200);  // The token works.
  const Answer journal = api.Get("/v1/journal?limit=1000", api.admin());
  const std::string text = journal.body.dump();
  EXPECT_EQ(text.find(token), std::string::npos);
  EXPECT_NE(text.find(service::HashToken(token)), std::string::npos);
  auto tx = api.registry().store->BeginRead();
  auto entries = (*tx)->ReadEntries(Sequence{0}, 1000);
  ASSERT_TRUE(entries.has_value());
  for (const JournalEntry& e : *entries) {
    EXPECT_EQ(e.payload.find(token), std::string::npos);
    EXPECT_EQ(e.result.find(token), std::string::npos);
  }
}

// A user can be deactivated (its token stops at once), reactivated, and given a new token
// (every earlier one stops), by an administrator of scope * only; each step is journaled and
// the registry verifies. Before, a token could never be withdrawn.
TEST(HttpApi, UsersAreDeactivatedReactivatedAndGivenNewTokens) {
  Api api;
  const std::string rep = api.AddUser("rep", service::kRoleAccountRepresentative, "account:1");
  const std::string jpn_admin = api.AddUser("jpn-admin", service::kRoleAdministrator, "party:JPN");
  EXPECT_EQ(api.Get("/v1/proposals", rep).status, 200);
  const std::string before = api.State();
  // Refused, changing nothing: a reason is required; no such user; oneself; a scoped
  // administrator; a token_hash sent by the caller; an account representative.
  ExpectError(api.Post("/v1/users/rep/deactivate", Json::object(), api.admin()), 400,
              "field_missing");
  ExpectError(api.Post("/v1/users/nobody/deactivate", {{"reason", "x"}}, api.admin()), 404,
              "not_found");
  ExpectError(api.Post("/v1/users/admin/deactivate", {{"reason", "x"}}, api.admin()), 403,
              "forbidden");
  ExpectError(api.Post("/v1/users/rep/deactivate", {{"reason", "x"}}, jpn_admin), 403, "forbidden");
  ExpectError(api.Post("/v1/users/rep/token", Json::object(), jpn_admin), 403, "forbidden");
  ExpectError(api.Post("/v1/users", {{"role", "administrator"}, {"scope", "*"}}, jpn_admin), 403,
              "forbidden");
  ExpectError(api.Post("/v1/users/rep/token", {{"token_hash", std::string(64, 'a')}}, api.admin()),
              400, "unknown_field");
  ExpectError(api.Post("/v1/users/rep/deactivate", {{"reason", "x"}}, rep), 403, "forbidden");
  EXPECT_EQ(api.State(), before);

  ASSERT_EQ(api.Post("/v1/users/rep/deactivate", {{"reason", "left the company"}}, api.admin())
                .status,
            200);
  ExpectError(api.Get("/v1/proposals", rep), 401, "unauthenticated");
  ExpectError(api.Post("/v1/users/rep/deactivate", {{"reason", "again"}}, api.admin()), 400,
              "field_invalid");
  ASSERT_EQ(api.Post("/v1/users/rep/activate", Json::object(), api.admin()).status, 200);
  EXPECT_EQ(api.Get("/v1/proposals", rep).status, 200);

  const Answer replaced = api.Post("/v1/users/rep/token", Json::object(), api.admin());
  ASSERT_EQ(replaced.status, 200) << replaced.body.dump();
  const std::string fresh = replaced.body["token"].get<std::string>();
  EXPECT_NE(fresh, rep);
  ExpectError(api.Get("/v1/proposals", rep), 401, "unauthenticated");
  EXPECT_EQ(api.Get("/v1/proposals", fresh).status, 200);
  // Replaced again: the second token stops too.
  const std::string third =
      api.Post("/v1/users/rep/token", Json::object(), api.admin()).body["token"].get<std::string>();
  ExpectError(api.Get("/v1/proposals", fresh), 401, "unauthenticated");
  EXPECT_EQ(api.Get("/v1/proposals", third).status, 200);
  const Answer verify = api.Get("/v1/verify", api.admin());
  EXPECT_TRUE(verify.body.value("ok", false)) << verify.body.dump();
}

// The server remembers who a token is (service::AccessCache) only while no user or token
// document changes: a user deactivated, or given a new token, by another process writing to the
// same database (here a second store and registry on the file, as `jcmreg user deactivate`
// would be) is refused at the server's next request, without the server having written
// anything.
TEST(HttpApi, ATokenChangedByAnotherProcessStopsAtTheNextRequest) {
  Api api;
  const std::string rep = api.AddUser("rep", service::kRoleAccountRepresentative, "account:1");
  const std::string other = api.AddUser("other", service::kRoleAccountRepresentative, "account:1");
  for (int i = 0; i < 3; ++i) {  // Remembered from the first request on.
    ASSERT_EQ(api.Get("/v1/proposals", rep).status, 200);
    ASSERT_EQ(api.Get("/v1/proposals", other).status, 200);
  }
  testing::TestRegistry& r = api.registry();
  auto store = sqlite::Open(sqlite::Options{r.db_path, true});
  ASSERT_TRUE(store.has_value()) << store.error().message;
  service::Registry elsewhere(**store, r.key, r.clock);
  const auto run = [&elsewhere](const std::string& command, const Json& args) {
    service::Request request;
    request.command = command;
    request.args = args;
    request.actor = "admin";
    const service::Response response = elsewhere.Execute(request);
    EXPECT_TRUE(response.ok()) << command << ": " << (response.ok() ? "" : response.failure->Message());
  };
  run("user.deactivate", {{"name", "rep"}, {"reason", "left the company"}});
  ExpectError(api.Get("/v1/proposals", rep), 401, "unauthenticated");
  EXPECT_EQ(api.Get("/v1/proposals", other).status, 200);  // The others go on.

  run("user.activate", {{"name", "rep"}});
  EXPECT_EQ(api.Get("/v1/proposals", rep).status, 200);
  const service::NewToken fresh = service::MakeToken();
  run("user.token", {{"name", "rep"}, {"token_hash", fresh.hash}});
  ExpectError(api.Get("/v1/proposals", rep), 401, "unauthenticated");
  EXPECT_EQ(api.Get("/v1/proposals", fresh.token).status, 200);
  const Answer verify = api.Get("/v1/verify", api.admin());
  EXPECT_TRUE(verify.body.value("ok", false)) << verify.body.dump();
}

TEST(HttpApi, EveryRouteIsInTheOpenApiDocumentAndEveryPathIsServed) {
  Api api;
  const Answer doc = api.Get("/v1/openapi.json");
  ASSERT_EQ(doc.status, 200);
  EXPECT_EQ(doc.body["openapi"], "3.0.3");
  const Json& paths = doc.body["paths"];
  size_t operations = 0;
  for (const RouteInfo& route : api.server().Routes()) {
    std::string method = route.method;
    for (char& c : method) c = static_cast<char>(std::tolower(c));
    EXPECT_TRUE(paths.contains(route.path) && paths[route.path].contains(method))
        << route.method << " " << route.path << " is served but not documented";
  }
  for (const auto& [path, methods] : paths.items()) {
    for (const auto& [method, op] : methods.items()) {
      static_cast<void>(op);
      ++operations;
      std::string concrete = path;
      for (const auto& [param, value] : std::vector<std::pair<std::string, std::string>>{
               {"{id}", "1"}, {"{registry}", "JPN01"}, {"{serial}", "1"}, {"{kind}", "party"},
               {"{key}", "JPN"}, {"{type}", "party.add"}}) {
        const auto at = concrete.find(param);
        if (at != std::string::npos) concrete.replace(at, param.size(), value);
      }
      const Answer a = method == "get" ? api.Get(concrete, api.admin())
                                       : api.Post(concrete, Json::object(), api.admin());
      const bool unrouted = a.status == 404 && a.body.value("message", "").rfind("no route", 0) == 0;
      EXPECT_FALSE(unrouted) << method << " " << path << " is documented but not served";
    }
  }
  EXPECT_EQ(operations, api.server().Routes().size());
}

// A path parameter is one whole, non-empty segment: a path with a segment more or less, an empty
// one or a trailing slash matches no route, and a parameter's segment reaches its handler as is.
TEST(HttpApi, PathsMatchRoutesSegmentBySegment) {
  Api api;
  EXPECT_EQ(api.Get("/v1/accounts/1/holdings", api.admin()).status, 200);
  EXPECT_EQ(api.Get("/v1/accounts/1", api.admin()).body.value("id", 0), 1);
  for (const char* path : {"/v1/accounts//holdings", "/v1/accounts/1/", "/v1/accounts/1/holdings/",
                           "/v1/accounts/1/holdings/x", "/v1/accountsx/1", "/v1//accounts/1",
                           "/v1/trace/JPN01", "/v1/accounts/1/holding"}) {
    const Answer a = api.Get(path, api.admin());
    EXPECT_EQ(a.status, 404) << path;
    EXPECT_EQ(a.body.value("message", "").rfind("no route", 0), 0u) << path << " " << a.body.dump();
  }
  // The segment is the parameter, whatever it holds: the handler names what is wrong with it.
  const Answer odd = api.Get("/v1/accounts/1x", api.admin());
  EXPECT_EQ(odd.status, 400) << odd.body.dump();
  const Answer document = api.Get("/v1/documents/party/JPN", api.admin());
  EXPECT_EQ(document.status, 200) << document.body.dump();
}

TEST(HttpApi, MetricsAndHealth) {
  Api api;
  EXPECT_EQ(api.Get("/v1/totals").status, 200);
  ExpectError(api.Post("/v1/transfers", Json{{"from", 1}, {"to", 4}, {"quantity", 5000}},
                       api.admin()),
              422, "quantity_above_holding");
  auto res = api.Client().Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("jcm_http_requests_total{method=\"GET\",route=\"/v1/totals\",status=\"200\"} 1"),
            std::string::npos) << res->body;
  EXPECT_NE(res->body.find("jcm_refusals_total{code=\"JCM-301\""), std::string::npos);
  EXPECT_NE(res->body.find("jcm_journal_sequence "), std::string::npos);
  // This request's connection at least (the earlier clients' may not be closed yet).
  const size_t gauge = res->body.find("\njcm_http_connections ");
  ASSERT_NE(gauge, std::string::npos) << res->body;
  EXPECT_GE(std::atoi(res->body.c_str() + gauge + 22), 1) << res->body;
  EXPECT_NE(res->body.find("jcm_writer_batch_size_count"), std::string::npos);
  const Answer health = api.Get("/healthz");
  EXPECT_EQ(health.body["status"], "ok");
}

// Every answer (the portal, the API, the errors the transport makes itself) carries the headers
// that keep a browser from running injected code, framing the portal, sniffing a type or leaking
// a URL; what a token reads is never cached. The portal still works under this policy: the
// browser test (test/browser) runs it in chromium, which enforces it.
TEST(HttpApi, EveryAnswerCarriesTheBrowserSecurityHeaders) {
  Api api;
  httplib::Client client = api.Client();
  const httplib::Headers bearer = {{"Authorization", "Bearer " + api.admin()}};
  struct Case {
    std::string what;
    httplib::Result res;
    bool authenticated;
  };
  std::vector<Case> cases;
  cases.push_back({"portal", client.Get("/"), false});
  cases.push_back({"portal script", client.Get("/app.js"), false});
  cases.push_back({"public read", client.Get("/v1/totals"), false});
  cases.push_back({"token read", client.Get("/v1/accounts/1/holdings", bearer), true});
  cases.push_back({"refusal", client.Get("/v1/accounts/1/holdings"), false});
  cases.push_back({"no such path", client.Get("/v1/no/such/path"), false});
  cases.push_back({"CSV", client.Get("/v1/statistics/accounts?format=csv"), false});
  cases.push_back({"portal icon", client.Get("/favicon.svg"), false});
  cases.push_back({"too large", client.Post("/v1/parties", bearer,
                                            std::string(kRequestBodyBytesMax + 10, 'A'),
                                            "application/json"),
                   true});
  for (const Case& c : cases) {
    ASSERT_TRUE(c.res) << c.what;
    const httplib::Response& res = *c.res;
    SCOPED_TRACE(c.what + " (" + std::to_string(res.status) + ")");
    const std::string csp = res.get_header_value("Content-Security-Policy");
    EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
    EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
    EXPECT_EQ(res.get_header_value_count("Content-Security-Policy"), 1u);
    EXPECT_EQ(res.get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_EQ(res.get_header_value("X-Frame-Options"), "DENY");
    EXPECT_EQ(res.get_header_value("Referrer-Policy"), "no-referrer");
    if (c.authenticated) {
      EXPECT_EQ(res.get_header_value("Cache-Control"), "no-store");
    }
  }
  EXPECT_EQ(cases[0].res->status, 200);
  EXPECT_EQ(cases[3].res->status, 200);
  EXPECT_EQ(cases[4].res->status, 401);
  EXPECT_EQ(cases[5].res->status, 404);
  EXPECT_EQ(cases[6].res->status, 200);
  EXPECT_EQ(cases[6].res->get_header_value("Content-Type").rfind("text/csv", 0), 0u)
      << cases[6].res->get_header_value("Content-Type");
  EXPECT_EQ(cases[7].res->status, 200);
  EXPECT_EQ(cases[7].res->get_header_value("Content-Type"), "image/svg+xml");
}

service::Request PartyAdd(const char* code) {
  return service::Request{"party.add", {{"code", code}, {"name", code}}, "t", ""};
}

// The writer: a bounded queue (one more request is not taken, and its `done` never runs), and
// requests waiting together commit in one batch, each answered once it has committed; the batch
// hook runs once, after every answer of the batch.
TEST(Writer, BoundedQueueAndGroupCommit) {
  testing::TestRegistry r;
  service::Writer writer(*r.registry, 3);
  std::vector<std::promise<service::Response>> answers(3);
  std::atomic<int> answered{0};
  std::promise<int> answered_at_hook;
  writer.SetBatchAnswered([&] { answered_at_hook.set_value(answered.load()); });
  const std::array<const char*, 3> codes = {"JPN", "MNG", "THA"};
  for (size_t i = 0; i < codes.size(); ++i) {
    ASSERT_TRUE(writer.SubmitAsync(PartyAdd(codes[i]),
                                   [&answers, &answered, i](service::Response response) {
                                     ++answered;
                                     answers[i].set_value(std::move(response));
                                   }));
  }
  bool called = false;
  EXPECT_FALSE(writer.SubmitAsync(PartyAdd("VNM"), [&](service::Response) { called = true; }));
  writer.Start();
  for (auto& answer : answers) EXPECT_TRUE(answer.get_future().get().ok());
  EXPECT_EQ(answered_at_hook.get_future().get(), 3);
  writer.Stop();
  EXPECT_FALSE(called);
  const service::WriterStats stats = writer.Stats();
  EXPECT_EQ(stats.batches, 1u);
  EXPECT_EQ(stats.largest_batch, 3u);
  EXPECT_EQ(stats.overloaded, 1u);
}

// Requests still queued when the writer stops without having run them are refused (their
// `done` runs with kOverloaded, then the batch hook), never dropped.
TEST(Writer, RequestsLeftAtStopAreRefused) {
  testing::TestRegistry r;
  service::Writer never_started(*r.registry, 4);
  int refused = 0;
  int refused_at_hook = -1;
  never_started.SetBatchAnswered([&] { refused_at_hook = refused; });
  ASSERT_TRUE(never_started.SubmitAsync(PartyAdd("VNM"), [&](service::Response response) {
    ASSERT_FALSE(response.ok());
    EXPECT_EQ(response.failure->refusal->check, Check::kOverloaded);
    ++refused;
  }));
  never_started.Stop();
  EXPECT_EQ(refused, 1);
  EXPECT_EQ(refused_at_hook, 1);  // The hook hands the refusals on too.
}

}  // namespace
}  // namespace registry::http
