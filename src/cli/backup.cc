// jcmreg backup / restore: see backup.h.
#include "cli/backup.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <string>

#include "cli/cli.h"
#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"

namespace registry::cli {
namespace {

constexpr int kExitVerifyFailed = 4;

// Checks integrity and verifies the registry at `path` against its public key (path.pub).
// Returns an empty string when both hold, else the first problem.
std::string CheckCopy(const std::string& path, int64_t& entries) {
  auto integrity = sqlite::IntegrityCheck(path);
  if (!integrity) return "integrity_check: " + integrity.error().message;
  if (*integrity != "ok") return "integrity_check: " + *integrity;
  auto public_key = journal::LoadPublicKey(path);
  if (!public_key) return public_key.error();
  auto store = sqlite::Open(sqlite::Options{path, true});
  if (!store) return "open: " + store.error().message;
  const service::VerifyReport report = service::Verify(**store, *public_key, [] {
    return sqlite::Open(sqlite::Options{":memory:", false});
  });
  entries = report.entries;
  return report.ok() ? "" : "verify: " + report.problems.front();
}

// Copies `from` (a registry and its key) to `to`, which must not exist; then checks the copy.
int Copy(const std::string& from, const std::string& to, const std::string& what) {
  namespace fs = std::filesystem;
  if (!fs::exists(from)) {
    std::cerr << "error: no registry at " << from << "\n";
    return kExitError;
  }
  for (const std::string& path : {to, journal::KeyPath(to), journal::PublicKeyPath(to)}) {
    if (fs::exists(path)) {
      std::cerr << "error: " << path << " already exists; " << what
                << " never overwrites a file, remove or move it first\n";
      return kExitError;
    }
  }
  auto key = journal::LoadKey(from);
  if (!key) {
    std::cerr << "error: " << key.error() << "\n";
    return kExitError;
  }
  if (auto s = sqlite::Backup(from, to); !s) {
    std::cerr << "error: " << what << ": " << s.error().message << "\n";
    return kExitError;
  }
  if (auto s = journal::SaveKey(to, *key); !s) {
    std::cerr << "error: " << s.error() << "\n";
    return kExitError;
  }
  int64_t entries = 0;
  const std::string problem = CheckCopy(to, entries);
  if (!problem.empty()) {
    std::cerr << "error: the " << what << " at " << to << " does not verify: " << problem << "\n";
    return kExitVerifyFailed;
  }
  std::cout << what << ": " << from << " -> " << to << " (key " << journal::KeyPath(to)
            << "); verify: ok (" << entries << " journal entries)\n";
  return kExitOk;
}

}  // namespace

int RunBackup(int argc, char** argv) {
  CLI::App app{"jcmreg backup: a verified online copy of a registry and its signing key"};
  std::string db, out;
  app.add_option("--db", db, "the registry to copy")->required();
  app.add_option("--out", out, "the backup file to create (FILE, FILE.key, FILE.pub)")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  return Copy(db, out, "backup");
}

int RunRestore(int argc, char** argv) {
  CLI::App app{"jcmreg restore: a registry from a backup, verified"};
  std::string from, db;
  app.add_option("--from", from, "the backup file (with FILE.key beside it)")->required();
  app.add_option("--db", db, "the registry to create; must not exist")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }
  // Refuse a backup that does not verify before writing anything.
  int64_t entries = 0;
  if (std::filesystem::exists(from)) {
    const std::string problem = CheckCopy(from, entries);
    if (!problem.empty()) {
      std::cerr << "error: the backup " << from << " does not verify: " << problem << "\n";
      return kExitVerifyFailed;
    }
  }
  return Copy(from, db, "restore");
}

void RegisterBackupCommands() {
  RegisterExtraCommand("backup", "copy a registry and its key (--db DB --out FILE), verified",
                       RunBackup);
  RegisterExtraCommand("restore", "restore a registry from a backup (--from FILE --db DB)",
                       RunRestore);
}

}  // namespace registry::cli
