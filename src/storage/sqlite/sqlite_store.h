// The SQLite engine: one database file in WAL mode with synchronous=FULL. One write connection
// (writes are serialized by the caller: the service's single writer) and a pool of read
// connections for concurrent readers. Nothing outside storage/sqlite includes sqlite3.h.
#pragma once

#include <memory>
#include <string>

#include "storage/store.h"

namespace registry::sqlite {

struct Options {
  std::string path;             // ":memory:" is allowed (a private in-memory database).
  bool synchronous_full = true; // false only for throwaway replays (verify) and benchmarks' (a).
};

// Opens (creating if absent) the database and applies the schema migrations.
StoreResult<std::unique_ptr<Store>> Open(const Options& options);

// Runs PRAGMA integrity_check; returns "ok" or the first problem.
StoreResult<std::string> IntegrityCheck(const std::string& path);

// Copies the database to `destination` with SQLite's online backup API.
StoreStatus Backup(const std::string& source, const std::string& destination);

}  // namespace registry::sqlite
