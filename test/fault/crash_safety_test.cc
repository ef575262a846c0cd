// Goal: crash and fault safety of the SQLite engine (issue 7, part 3): whatever write, sync or read
// fails, and wherever the power fails, the database stays intact, the journal verifies, and the
// state is exactly the one before or the one after the interrupted command (in a batch, a
// command answered with the fault's error leaves the others to commit: the state is then exactly
// that of the acknowledged ones); an acknowledged command is never lost.
// Method: for each fault kind and N = 1, 2, 3, ...: copy a prepared registry, open it on the
// fault-injecting VFS (fault_vfs.h) with the Nth call of that kind failing, run one command or
// one batch of three (one transaction, one seal on its last entry: group commit), close
// (which checkpoints the WAL, also under the fault), reopen on the normal VFS and check
// PRAGMA integrity_check, service::Verify, and (projection digest, journal length) against the two
// candidates computed without faults. The loop ends with the first N the run never reaches.
// Verify also requires the seals to cover every entry and the last entry to carry one: a batch
// cut short (by a power loss at any sync) must never leave an unsealed entry behind.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fault/fault_vfs.h"
#include "journal/chain.h"
#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"
#include "testing/test_util.h"

namespace registry {
namespace {

using fault::FaultMode;
using service::Json;

struct State {
  std::string projection;
  int64_t journal = -1;
  bool operator==(const State&) const = default;
};

StoreResult<std::unique_ptr<Store>> Scratch() {
  return sqlite::Open(sqlite::Options{":memory:", false, ""});
}

// Copies a closed database (and its WAL, if any) to `to`.
void CopyDb(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    fs::remove(to + suffix);
    if (fs::exists(from + suffix)) fs::copy_file(from + suffix, to + suffix);
  }
}

State StateOf(Store& store) {
  State s;
  auto digest = store.ProjectionDigest();
  REGISTRY_ASSERT(digest.has_value());
  s.projection = *digest;
  auto tx = store.BeginRead();
  REGISTRY_ASSERT(tx.has_value());
  auto last = (*tx)->LastEntry();
  REGISTRY_ASSERT(last.has_value());
  s.journal = last->has_value() ? (*last)->sequence.value : 0;
  return s;
}

struct Totals {
  int64_t iterations = 0;
  int64_t faults = 0;
  int64_t before = 0;
  int64_t after = 0;
  int64_t acknowledged = 0;
  int64_t acknowledged_lost = 0;
  int64_t partial = 0;  // Batches whose commands were acknowledged in part (the others failed).
};

class CrashSafety : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fault::RegisterFaultVfs());
    // The prepared registry: Parties, registries, accounts, one issuance.
    testing::SetUpBasicRegistry(base_);
    base_.Ok("issue", {{"account", 1}, {"vintages", {{{"vintage", 2019}, {"quantity", 1000}}}}});
    base_.Ok("transfer", {{"from", 1}, {"to", 4}, {"quantity", 100}});
    base_.registry.reset();
    base_.store.reset();  // Closing checkpoints the WAL into the file.
    template_path_ = base_.dir.File("template.db");
    CopyDb(base_.db_path, template_path_);
  }

  // Opens `path` on the normal VFS and returns its state, after checking integrity and verify.
  State CheckedState(const std::string& path, const std::string& label) {
    auto integrity = sqlite::IntegrityCheck(path);
    EXPECT_TRUE(integrity.has_value() && *integrity == "ok")
        << label << ": integrity_check " << (integrity ? *integrity : integrity.error().message);
    auto store = sqlite::Open(sqlite::Options{path, true, ""});
    EXPECT_TRUE(store.has_value()) << label << ": reopen " << store.error().message;
    if (!store) return State{};
    const service::VerifyReport report = service::Verify(**store, base_.key.public_key, Scratch);
    EXPECT_TRUE(report.ok()) << label << ": verify " << report.problems.front();
    ExpectHeadSealed(**store, label);
    return StateOf(**store);
  }

  // The journal's last entry carries a seal by the registry's key (what verify's coverage check
  // requires too, asserted here on its own so that a weaker verify cannot hide a cut batch).
  void ExpectHeadSealed(Store& store, const std::string& label) {
    auto tx = store.BeginRead();
    ASSERT_TRUE(tx.has_value());
    auto last = (*tx)->LastEntry();
    ASSERT_TRUE(last.has_value() && last->has_value()) << label;
    EXPECT_TRUE(journal::VerifySeal(base_.key.public_key, **last))
        << label << ": journal entry " << (*last)->sequence.value << " carries no good seal";
  }

  // Runs `batch` (one transaction) on a copy of the template through `vfs`; returns which of
  // its commands were acknowledged (applied, answered after the batch's commit returned).
  std::vector<bool> RunBatchOnCopy(const std::string& path,
                                   const std::vector<service::Request>& batch,
                                   const std::string& vfs, FaultMode mode, int64_t nth,
                                   bool persistent) {
    CopyDb(template_path_, path);
    auto store = sqlite::Open(sqlite::Options{path, true, vfs});
    if (!store) {
      ADD_FAILURE() << "open " << store.error().message;
      return std::vector<bool>(batch.size(), false);
    }
    fault::Arm(mode, nth, persistent);
    std::vector<bool> applied;
    {
      service::Registry registry(**store, base_.key, base_.clock);
      for (const service::Response& r : registry.ExecuteBatch(batch)) applied.push_back(r.ok());
    }
    store->reset();  // Close: the last connection checkpoints the WAL (under the fault too).
    return applied;
  }

  // Whether every command of `batch` was acknowledged.
  bool RunOnCopy(const std::string& path, const std::vector<service::Request>& batch,
                 const std::string& vfs, FaultMode mode, int64_t nth, bool persistent) {
    const std::vector<bool> applied = RunBatchOnCopy(path, batch, vfs, mode, nth, persistent);
    return std::all_of(applied.begin(), applied.end(), [](bool a) { return a; });
  }

  // The state after only the commands of `batch` that `applied` marks, run without faults
  // (nullopt when they do not all apply alone): what a batch leaves when a fault failed some of
  // its commands with an error and the others committed (group commit answers each command on
  // its own).
  std::optional<State> PartialState(const std::vector<service::Request>& batch,
                                    const std::vector<bool>& applied, const std::string& label) {
    if (const auto it = partial_.find(applied); it != partial_.end()) return it->second;
    std::vector<service::Request> subset;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (applied[i]) subset.push_back(batch[i]);
    }
    const std::string path = base_.dir.File("partial.db");
    std::optional<State> state;
    if (RunOnCopy(path, subset, "", FaultMode::kNone, 0, false)) {
      state = CheckedState(path, label + " partial");
    }
    fault::Disarm();
    partial_.emplace(applied, state);
    return state;
  }

  // Whether `got` is the state of a subset of `batch` holding every acknowledged command: when
  // the COMMIT itself reports a fault, every command is answered with it although the batch may
  // be durable, so an unacknowledged command may be there or not; an acknowledged one must be.
  bool IsStateOfAcknowledged(const State& got, const std::vector<service::Request>& batch,
                             const std::vector<bool>& acknowledged, const std::string& label) {
    const size_t n = batch.size();
    for (uint32_t bits = 0; bits < (1u << n); ++bits) {
      std::vector<bool> mask(n);
      bool covers = true;
      for (size_t i = 0; i < n; ++i) {
        mask[i] = ((bits >> i) & 1u) != 0;
        covers = covers && (mask[i] || !acknowledged[i]);
      }
      if (!covers) continue;
      const std::optional<State> candidate = PartialState(batch, mask, label);
      if (candidate && *candidate == got) return true;
    }
    return false;
  }

  // The loop of the file comment for one fault kind and one batch.
  void Sweep(FaultMode mode, bool persistent, const std::vector<service::Request>& request,
             Totals& totals) {
    partial_.clear();  // Its answers are for one batch.
    std::string commands;
    for (const service::Request& r : request) commands += " " + r.command;
    const std::string label_base =
        fault::ModeName(mode) + (persistent ? "/persistent" : "/once") + commands;
    // The two candidates, without faults.
    const State before = CheckedState(template_path_, label_base + " before");
    const std::string after_path = base_.dir.File("after.db");
    EXPECT_TRUE(RunOnCopy(after_path, request, "", FaultMode::kNone, 0, false))
        << label_base << ": the command must apply without faults";
    fault::Disarm();
    const State after = CheckedState(after_path, label_base + " after");
    ASSERT_NE(before, after) << label_base;

    const std::string path = base_.dir.File("faulty.db");
    constexpr int64_t kMaxN = 100000;
    int64_t n = 1;
    for (; n <= kMaxN; ++n) {
      const std::vector<bool> applied =
          RunBatchOnCopy(path, request, fault::kFaultVfsName, mode, n, persistent);
      const bool acknowledged =
          std::all_of(applied.begin(), applied.end(), [](bool a) { return a; });
      const bool some = std::any_of(applied.begin(), applied.end(), [](bool a) { return a; });
      const int64_t injected = fault::FaultsInjected();
      fault::Disarm();
      if (injected == 0) {
        // The run never reached call N: it ran to the end unharmed and must give `after`.
        EXPECT_TRUE(acknowledged) << label_base << " N=" << n;
        EXPECT_EQ(CheckedState(path, label_base + " clean").journal, after.journal);
        break;
      }
      ++totals.iterations;
      totals.faults += injected;
      const std::string label = label_base + " N=" + std::to_string(n);
      const State got = CheckedState(path, label);
      const bool is_before = got == before;
      const bool is_after = got == after;
      if (request.size() > 1 && !acknowledged && !is_before && !is_after) {
        // Some commands of the batch were answered with the fault's error and the others
        // committed under one seal: the state holds every acknowledged one.
        ++totals.partial;
        EXPECT_TRUE(IsStateOfAcknowledged(got, request, applied, label))
            << label << ": the state (journal " << got.journal << ", " << (some ? "some" : "no")
            << " commands acknowledged) is no subset of the batch holding the acknowledged ones";
        if (::testing::Test::HasFailure()) break;
        continue;
      }
      EXPECT_TRUE(is_before || is_after)
          << label << ": state is neither before nor after (journal " << got.journal << ")";
      if (is_before) ++totals.before;
      if (is_after) ++totals.after;
      if (acknowledged) {
        ++totals.acknowledged;
        if (!is_after) ++totals.acknowledged_lost;
        EXPECT_TRUE(is_after) << label << ": an acknowledged command was lost";
      }
      if (::testing::Test::HasFailure()) break;  // One clear failure, not thousands.
    }
    EXPECT_LE(n, kMaxN) << label_base << ": never completed";
  }

  void SweepAll(FaultMode mode, bool persistent) {
    Totals totals;
    const service::Request issue{
        "issue",
        Json{{"account", 1},
             {"vintages",
              {{{"vintage", 2020}, {"quantity", 500}}, {{"vintage", 2021}, {"quantity", 700}}}}},
        "fault", ""};
    const service::Request transfer{"transfer", Json{{"from", 1}, {"to", 4}, {"quantity", 250}},
                                    "fault", ""};
    const service::Request retire{
        "retire", Json{{"from", 4}, {"ranges", {"901-950"}}, {"use_year", 2025}}, "fault", ""};
    // Each alone, then the three in one batch under one seal.
    const std::vector<std::vector<service::Request>> requests = {
        {issue}, {transfer}, {retire}, {issue, transfer, retire}};
    for (const auto& request : requests) {
      Sweep(mode, persistent, request, totals);
      if (HasFatalFailure() || HasFailure()) break;
    }
    std::cout << "[fault] " << fault::ModeName(mode) << (persistent ? " persistent" : " once")
              << ": crash iterations " << totals.iterations << ", faults injected " << totals.faults
              << ", state before " << totals.before << ", after " << totals.after
              << ", acknowledged " << totals.acknowledged << ", acknowledged lost "
              << totals.acknowledged_lost << ", batches applied in part " << totals.partial << "\n";
    EXPECT_GT(totals.faults, 0) << "the VFS injected nothing";
    EXPECT_EQ(totals.acknowledged_lost, 0);
  }

  testing::TestRegistry base_;
  std::string template_path_;
  // PartialState's answers, by applied commands.
  std::map<std::vector<bool>, std::optional<State>> partial_;
};

TEST_F(CrashSafety, WriteErrorOnce) { SweepAll(FaultMode::kWriteError, false); }
TEST_F(CrashSafety, WriteErrorPersistent) { SweepAll(FaultMode::kWriteError, true); }
TEST_F(CrashSafety, SyncErrorOnce) { SweepAll(FaultMode::kSyncError, false); }
TEST_F(CrashSafety, SyncErrorPersistent) { SweepAll(FaultMode::kSyncError, true); }
TEST_F(CrashSafety, ReadErrorOnce) { SweepAll(FaultMode::kReadError, false); }
TEST_F(CrashSafety, ReadErrorPersistent) { SweepAll(FaultMode::kReadError, true); }
TEST_F(CrashSafety, PowerLoss) { SweepAll(FaultMode::kPowerLoss, false); }

// The power-loss model itself: a power failure at the commit's sync must lose the command (its
// WAL frames were never synced), so the state is `before`; otherwise the VFS models nothing.
TEST_F(CrashSafety, PowerLossAtFirstSyncLosesTheUnsyncedCommand) {
  const service::Request request{"transfer", Json{{"from", 1}, {"to", 4}, {"quantity", 5}},
                                 "fault", ""};
  const State before = CheckedState(template_path_, "before");
  const std::string path = base_.dir.File("faulty.db");
  const bool acknowledged =
      RunOnCopy(path, {request}, fault::kFaultVfsName, FaultMode::kPowerLoss, 1, false);
  EXPECT_EQ(fault::FaultsInjected(), 1);
  fault::Disarm();
  EXPECT_FALSE(acknowledged);
  EXPECT_EQ(CheckedState(path, "after power loss"), before);
}

}  // namespace
}  // namespace registry
