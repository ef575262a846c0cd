// Goal: `jcmreg backup` and `jcmreg restore` (issue 7, part 4, SQLite half) give a registry that
// passes verify with the same state and key as the original at backup time; they refuse to
// overwrite files and refuse a damaged backup without creating anything.
// Method: a registry with a few commands, backed up while open, changed afterwards, restored;
// the restored state is compared with the digest taken at backup time.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/backup.h"
#include "cli/cli.h"
#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"

namespace registry {
namespace {

int RunCommand(int (*command)(int, char**), std::vector<std::string> args) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  return command(static_cast<int>(args.size()), argv.data());
}

StoreResult<std::unique_ptr<Store>> Scratch() {
  return sqlite::Open(sqlite::Options{":memory:", false});
}

TEST(Backup, RestoredRegistryVerifiesWithTheStateAtBackupTime) {
  testing::TestRegistry r;
  testing::SetUpBasicRegistry(r);
  r.Ok("issue", {{"account", 1}, {"vintages", {{{"vintage", 2019}, {"quantity", 1000}}}}});
  r.Ok("transfer", {{"from", 1}, {"to", 4}, {"quantity", 300}});
  auto at_backup = r.store->ProjectionDigest();
  ASSERT_TRUE(at_backup.has_value());

  const std::string backup = r.dir.File("backup.db");
  // Online: the registry's store stays open during the backup.
  ASSERT_EQ(RunCommand(cli::RunBackup, {"backup", "--db", r.db_path, "--out", backup}), cli::kExitOk);
  r.Ok("retire", {{"from", 4}, {"ranges", {"701-710"}}, {"use_year", 2025}});  // After the backup.

  const std::string restored = r.dir.File("restored.db");
  ASSERT_EQ(RunCommand(cli::RunRestore, {"restore", "--from", backup, "--db", restored}), cli::kExitOk);
  EXPECT_EQ(std::filesystem::status(journal::KeyPath(restored)).permissions() &
                std::filesystem::perms::group_all,
            std::filesystem::perms::none);

  auto key = journal::LoadKey(restored);
  ASSERT_TRUE(key.has_value()) << key.error();
  EXPECT_EQ(key->public_key, r.key.public_key);
  auto store = sqlite::Open(sqlite::Options{restored, true});
  ASSERT_TRUE(store.has_value());
  const service::VerifyReport report = service::Verify(**store, r.key.public_key, Scratch);
  EXPECT_TRUE(report.ok()) << report.problems.front();
  EXPECT_EQ(report.entries, 12);  // 10 set-up commands, the issue and the transfer.
  auto digest = (*store)->ProjectionDigest();
  ASSERT_TRUE(digest.has_value());
  EXPECT_EQ(*digest, *at_backup);

  // The restored registry goes on: new entries chain and sign with the same key.
  service::FixedClock clock("2026-02-01T00:00:00Z");
  service::Registry registry(**store, *key, clock);
  EXPECT_TRUE(registry.Execute({"retire", {{"from", 4}, {"ranges", {"701-710"}}, {"use_year", 2025}},
                                "test", ""})
                  .ok());
  EXPECT_TRUE(service::Verify(**store, r.key.public_key, Scratch).ok());
}

TEST(Backup, RefusesToOverwriteAndRefusesADamagedBackup) {
  testing::TestRegistry r;
  testing::SetUpBasicRegistry(r);
  const std::string backup = r.dir.File("backup.db");
  ASSERT_EQ(RunCommand(cli::RunBackup, {"backup", "--db", r.db_path, "--out", backup}), cli::kExitOk);
  // A second backup to the same file, and a restore onto the live registry, are refused.
  EXPECT_EQ(RunCommand(cli::RunBackup, {"backup", "--db", r.db_path, "--out", backup}), cli::kExitError);
  EXPECT_EQ(RunCommand(cli::RunRestore, {"restore", "--from", backup, "--db", r.db_path}),
            cli::kExitError);
  EXPECT_TRUE(r.Run("party.add", {{"code", "THA"}, {"name", "Thailand"}}).ok());  // Still live.
  // Missing arguments are a usage error.
  EXPECT_EQ(RunCommand(cli::RunBackup, {"backup", "--db", r.db_path}), cli::kExitUsage);

  // A backup whose journal was tampered with does not verify: nothing is restored.
  {
    auto store = sqlite::Open(sqlite::Options{backup, true});
    ASSERT_TRUE(store.has_value());
    auto tx = (*store)->Begin();
    ASSERT_TRUE(tx.has_value());
    // Rewrite history: a document changed without a journal entry.
    ASSERT_TRUE((*tx)->PutDocument("party", "JPN", R"({"code":"JPN","name":"Forged"})",
                                   Sequence{1})
                    .has_value());
    ASSERT_TRUE((*tx)->Commit().ok());
  }
  const std::string restored = r.dir.File("restored.db");
  EXPECT_EQ(RunCommand(cli::RunRestore, {"restore", "--from", backup, "--db", restored}), 4);
  EXPECT_FALSE(std::filesystem::exists(restored));
  EXPECT_FALSE(std::filesystem::exists(journal::KeyPath(restored)));
}

}  // namespace
}  // namespace registry
