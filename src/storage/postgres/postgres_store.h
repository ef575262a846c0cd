// The PostgreSQL engine: the same Store contract as SQLite, for registries that outgrow one
// machine (several stateless API servers on one primary). Built on libpq directly: the C API
// gives explicit control of transactions and savepoints, returns errors as values, and needs no
// exceptions (libpqxx 6 throws on every error).
//
// Serialization: a write transaction takes the transaction-scoped advisory lock
// kWriterLockKey first, so writes from every server are applied one transaction at a time, in
// journal order: the journal head is the serialization point (ARCHITECTURE decision 8). Reads
// (BeginRead) take no lock and see a REPEATABLE READ snapshot. Ids are assigned as max + 1 under
// the lock, exactly as SQLite does, so a replay of the journal into any engine reproduces the
// same rows and `verify` can compare the two byte for byte.
//
// Tables mirror the SQLite schema column for column (booleans as 0/1 integers) so that
// ProjectionDigest gives the same digest on both engines for the same state.
#pragma once

#include <memory>
#include <string>

#include "storage/store.h"

namespace registry::postgres {

inline constexpr int64_t kWriterLockKey = 0x4A434D52;  // "JCMR"

struct Options {
  std::string url;     // postgresql://user@host:port/db
  std::string schema;  // Created if absent; empty = "public".
};

// Connects, creates the schema if needed and applies the migrations.
StoreResult<std::unique_ptr<Store>> Open(const Options& options);

// True when `path` names a PostgreSQL database rather than a file.
bool IsPostgresUrl(const std::string& path);

}  // namespace registry::postgres
