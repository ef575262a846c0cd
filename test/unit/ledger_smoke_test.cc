// Goal: the spine works end to end on a real SQLite file: issue, transfer, retire, cancel,
// verify. Method: a short scripted scenario through the service.
#include <gtest/gtest.h>

#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"

namespace registry {
namespace {

using testing::TestRegistry;

TEST(LedgerSmoke, IssueTransferRetireCancelVerify) {
  TestRegistry r;
  testing::SetUpBasicRegistry(r);
  const auto issued = r.Ok("issue", {{"account", 1}, {"vintages", {{{"vintage", 2019}, {"quantity", 1000}}}}});
  EXPECT_EQ(issued["lots"][0]["first"], 1);
  EXPECT_EQ(issued["lots"][0]["last"], 1000);
  const auto moved = r.Ok("transfer", {{"from", 1}, {"to", 4}, {"quantity", 300}});
  EXPECT_EQ(moved["blocks"][0]["first"], 701);  // The holder keeps the first sub-range.
  r.Ok("retire", {{"from", 4}, {"ranges", {"701-750"}}, {"use_year", 2025}});
  r.Ok("cancel", {{"from", 1}, {"quantity", 10}, {"purpose", "voluntary"}});
  r.Refused("transfer", {{"from", 2}, {"to", 1}, {"quantity", 1}}, Check::kTerminalAccountCannotSend);
  auto pub = journal::LoadPublicKey(r.db_path);
  ASSERT_TRUE(pub.has_value());
  const auto report = service::Verify(*r.store, *pub, [] {
    return sqlite::Open(sqlite::Options{":memory:", false});
  });
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
}

}  // namespace
}  // namespace registry
