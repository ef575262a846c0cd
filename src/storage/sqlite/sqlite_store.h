// The SQLite engine: one database file in WAL mode with synchronous=FULL. One write connection
// (writes are serialized by the caller: the service's single writer) and a pool of read
// connections for concurrent readers. Nothing outside storage/sqlite includes sqlite3.h.
#pragma once

#include <memory>
#include <string>
#include <utility>

#include "storage/store.h"

namespace registry::sqlite {

struct Options {
  Options() = default;
  // Not an aggregate, so that `Options{path, sync}` stays warning-free as fields are added.
  Options(std::string path_in, bool synchronous_full_in, std::string vfs_in = "")
      : path(std::move(path_in)), synchronous_full(synchronous_full_in), vfs(std::move(vfs_in)) {}
  std::string path;             // ":memory:" is allowed (a private in-memory database).
  bool synchronous_full = true; // false only for throwaway replays (verify) and benchmarks' (a).
  std::string vfs;              // A registered SQLite VFS name (the fault tests); empty: default.
  bool scratch = false;         // One connection, no WAL, the file unlinked once open (OpenScratch).
};

// Process-wide SQLite settings, applied once, before SQLite's first use: its memory statistics
// off (with them on, every allocation of every connection takes one process-wide mutex, contended
// between the writer and the HTTP threads' read connections; the registry never reads them).
// Every connection calls it before opening; a program that uses SQLite's C API before any store
// (jcm_bench's (a) loop) calls it first, so that both run under the same settings. Once SQLite
// is initialized the settings can no longer change and the call does nothing.
void ConfigureProcess();

// Opens (creating if absent) the database and applies the schema migrations.
StoreResult<std::unique_ptr<Store>> Open(const Options& options);

// A throwaway database for verify's replay: a temporary file in $TMPDIR (else /tmp), unlinked as
// soon as it is open, so nothing is left behind even after a crash and memory stays bounded by
// the page cache whatever the size of the registry (":memory:" grew with it).
StoreResult<std::unique_ptr<Store>> OpenScratch();

// Runs PRAGMA integrity_check; returns "ok" or the first problem.
StoreResult<std::string> IntegrityCheck(const std::string& path);

// SQLite's plan for a statement (EXPLAIN QUERY PLAN: one line per step), for the tests that
// require a statement to walk an index rather than sort.
StoreResult<std::string> QueryPlan(const std::string& path, const std::string& sql);

// The statement of Transaction::HoldingPage at a past moment (?1 account, ?2 sequence, ?3 the
// first serial to go past, ?4 the page size): it must merge blocks_live and blocks_closed in
// serial order (migration 3), never sort the account's history.
extern const char* const kHoldingPageAsOfSql;

// Copies the database to `destination` with SQLite's online backup API.
StoreStatus Backup(const std::string& source, const std::string& destination);

}  // namespace registry::sqlite
