// Test helpers: temporary directories, a fresh registry on a real SQLite file, and shortcuts to
// run commands.
#pragma once

#include <memory>
#include <string>

#include "service/registry.h"
#include "storage/store.h"

namespace registry::testing {

// A temporary directory removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A registry on a real SQLite file in a temporary directory, with a fixed clock.
struct TestRegistry {
  TempDir dir;
  std::string db_path;
  bool synchronous_full = true;
  std::unique_ptr<Store> store;
  journal::SigningKey key;
  service::FixedClock clock{"2026-01-01T00:00:00Z"};
  std::unique_ptr<service::Registry> registry;

  // `synchronous_full` false: commits are not synced to the disk (long model tests, where
  // durability is not what is tested and each fsync would cost milliseconds; crash tests sync).
  explicit TestRegistry(bool synchronous_full = true);
  // Closes and reopens the database (the registry object is rebuilt).
  void Reopen();
  // Runs a command; returns the response.
  service::Response Run(const std::string& command, const service::Json& args,
                        const std::string& actor = "test");
  // Runs a command that must succeed; returns its result.
  service::Json Ok(const std::string& command, const service::Json& args,
                   const std::string& actor = "test");
  // Runs a command that must be refused with `check`, changing nothing (journal and projection).
  void Refused(const std::string& command, const service::Json& args, Check check);
};

// The sequence of the journal's last entry (0 when empty), and the digest of every projection.
int64_t JournalLength(Store& store);
std::string Digest(Store& store);

// Sets up Parties JPN and MNG, registries JPN01 and MNG01, and in JPN01 accounts 1 government
// holding, 2 retirement, 3 cancellation, 4 government holding (second); in MNG01 5 government
// holding, 6 retirement.
void SetUpBasicRegistry(TestRegistry& r);

// `verify` (chain, signatures, replay into a scratch database, invariants) passes on `r`.
void ExpectVerifies(TestRegistry& r);

}  // namespace registry::testing
