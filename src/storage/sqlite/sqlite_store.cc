// The SQLite engine. Schema migrations are numbered and applied in order inside one transaction;
// `meta.schema_version` records the last one applied. Statements are prepared once per
// connection and reused.
#include "storage/sqlite/sqlite_store.h"

#include <sodium.h>
#include <sqlite3.h>

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <algorithm>
#include <map>
#include <unordered_map>
#include <mutex>
#include <utility>
#include <vector>

namespace registry::sqlite {

// The live blocks then (blocks_live) merged with the blocks closed since (blocks_closed), both
// walked in serial order from the page's start: a page costs the same whatever the history.
const char* const kHoldingPageAsOfSql =
    "SELECT id, lot, first, last, account, ft, parent, created, closed, use_year, "
    "cancel_purpose, hold FROM blocks WHERE account = ?1 AND closed IS NULL AND created <= ?2 "
    "AND first > ?3 UNION ALL SELECT id, lot, first, last, account, ft, parent, created, closed, "
    "use_year, cancel_purpose, hold FROM blocks WHERE account = ?1 AND closed IS NOT NULL AND "
    "closed > ?2 AND created <= ?2 AND first > ?3 ORDER BY first LIMIT ?4";

namespace {

constexpr const char* kMigrations[] = {
    // 1: the ledger.
    R"sql(
CREATE TABLE documents(
  kind TEXT NOT NULL, key TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,
  updated INTEGER NOT NULL, PRIMARY KEY(kind, key, version)) WITHOUT ROWID;
CREATE TABLE accounts(
  id INTEGER PRIMARY KEY, registry TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL,
  name TEXT NOT NULL, holder INTEGER NOT NULL);
CREATE TABLE serials(registry TEXT PRIMARY KEY, next INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE lots(
  id INTEGER PRIMARY KEY, registry TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,
  project TEXT NOT NULL, vintage INTEGER NOT NULL, ca TEXT NOT NULL, ftp TEXT NOT NULL,
  itmo INTEGER NOT NULL, auth_id TEXT NOT NULL, auth_version INTEGER NOT NULL,
  purposes TEXT NOT NULL, mitigation TEXT NOT NULL, sector TEXT NOT NULL, activity TEXT NOT NULL,
  jc_decision TEXT NOT NULL, mon_start TEXT NOT NULL, mon_end TEXT NOT NULL,
  created INTEGER NOT NULL);
CREATE INDEX lots_serial ON lots(registry, first);
CREATE TABLE blocks(
  id INTEGER PRIMARY KEY, lot INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,
  account INTEGER NOT NULL, ft INTEGER NOT NULL, parent INTEGER, created INTEGER NOT NULL,
  closed INTEGER, use_year INTEGER NOT NULL, cancel_purpose TEXT, hold INTEGER NOT NULL);
CREATE INDEX blocks_live ON blocks(account, first) WHERE closed IS NULL;
CREATE INDEX blocks_account ON blocks(account, created);
CREATE INDEX blocks_lot ON blocks(lot, first);
CREATE TABLE journal(
  seq INTEGER PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, idem TEXT NOT NULL,
  command TEXT NOT NULL, payload TEXT NOT NULL, result TEXT NOT NULL, prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL, sig BLOB NOT NULL);
CREATE UNIQUE INDEX journal_idem ON journal(idem) WHERE idem <> '';
CREATE INDEX journal_time ON journal(time);
)sql",
    // 2: the serials pending proposals hold, as rows (they were one JSON document per account,
    // read and rewritten whole by every proposal and checked by every movement). The rows come
    // from the latest version of each such document; the documents, a projection the journal
    // replays, go.
    R"sql(
CREATE TABLE reservations(
  account INTEGER NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,
  proposal INTEGER NOT NULL, PRIMARY KEY(account, first)) WITHOUT ROWID;
INSERT INTO reservations
  SELECT json_extract(d.body, '$.account'),
         CAST(CASE WHEN instr(r.value, '-') > 0 THEN substr(r.value, 1, instr(r.value, '-') - 1)
              ELSE r.value END AS INTEGER),
         CAST(CASE WHEN instr(r.value, '-') > 0 THEN substr(r.value, instr(r.value, '-') + 1)
              ELSE r.value END AS INTEGER),
         json_extract(h.value, '$.proposal')
  FROM documents d, json_each(d.body, '$.holds') h, json_each(h.value, '$.ranges') r
  WHERE d.kind = 'reservation' AND d.version = (SELECT MAX(version) FROM documents e
                                                WHERE e.kind = d.kind AND e.key = d.key);
DELETE FROM documents WHERE kind = 'reservation';
)sql",
    // 3: an account's closed blocks by first serial, beside its live ones (blocks_live). A
    // holding at a past moment (the holdings route's ?as_of, the AEF's year-end holdings) is
    // read a page at a time in serial order, merging the two; with only (account, created) each
    // page read and sorted every block the account ever had (1,000,000 year-end holdings took
    // 35 s to list). (account, created) served nothing else, so it goes. A full (account, first)
    // index would not do: SQLite then prefers it to blocks_live for the live statements and
    // walks every closed block too (a transfer fell from ~40,000/s to ~2,000/s).
    R"sql(
DROP INDEX IF EXISTS blocks_account;
CREATE INDEX IF NOT EXISTS blocks_closed ON blocks(account, first) WHERE closed IS NOT NULL;
)sql",
    // 4: the access generation (Transaction::AccessGeneration), one row, moved by every write of
    // a user or token document: the HTTP server remembers who a token is while it stays the
    // same, instead of reading and parsing both documents on every request.
    R"sql(
CREATE TABLE IF NOT EXISTS access_generation(value INTEGER NOT NULL);
INSERT INTO access_generation SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM access_generation);
)sql",
    // 5: an account's live blocks of one project (a transfer, use or cancellation by quantity with
    // 'project'): the filtered read walked every live block of the account and looked its lot up,
    // so a government account holding many projects' blocks made each such movement slower than
    // the last (the Article 6 model test: 20,000 operations in 7 s, 100,000 in 158 s). Now it
    // starts from the project's lots.
    R"sql(
CREATE INDEX IF NOT EXISTS lots_project ON lots(project, vintage);
CREATE INDEX IF NOT EXISTS blocks_live_lot ON blocks(account, lot, first) WHERE closed IS NULL;
)sql",
    // 6: seals (ARCHITECTURE decision 4, revised): one Ed25519 signature per committed batch,
    // carried by the batch's last entry, instead of one per entry. `sig` becomes the seal's
    // signature, empty on the entries inside a batch; `seal_first` is the first entry the seal
    // covers and `seal_key` the public key that made it. The rows written before keep their
    // signatures with both new columns NULL: each is a seal of its own entry, over its bare
    // hash (journal/chain.h). Adding NULL columns rewrites nothing, however long the journal.
    R"sql(
ALTER TABLE journal ADD COLUMN seal_first INTEGER;
ALTER TABLE journal ADD COLUMN seal_key BLOB;
)sql",
};

// For a migration that cannot be written to run twice (SQLite has no ADD COLUMN IF NOT EXISTS):
// a query that gives a nonzero count once its changes are there, so that a database whose
// schema_version is older than its tables (a test that stamps a registry with an older version
// to migrate parts of it again) skips it. nullptr: the migration runs twice safely.
constexpr const char* kMigrationApplied[] = {
    nullptr, nullptr, nullptr,
    nullptr, nullptr, "SELECT COUNT(*) FROM pragma_table_info('journal') WHERE name = 'seal_first'",
};
static_assert(std::size(kMigrationApplied) == std::size(kMigrations));

constexpr const char* kProjectionTables[][2] = {
    {"documents", "SELECT * FROM documents ORDER BY kind, key, version"},
    {"accounts", "SELECT * FROM accounts ORDER BY id"},
    {"serials", "SELECT * FROM serials ORDER BY registry"},
    {"lots", "SELECT * FROM lots ORDER BY id"},
    {"blocks", "SELECT * FROM blocks ORDER BY id"},
    {"reservations", "SELECT * FROM reservations ORDER BY account, first"},
};

Error MakeError(sqlite3* db, int rc, const std::string& what) {
  ErrorCode code = ErrorCode::kInternal;
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) code = ErrorCode::kConflict;
  if (primary == SQLITE_CONSTRAINT) code = ErrorCode::kAlreadyExists;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) code = ErrorCode::kCorruption;
  if (primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN) {
    code = ErrorCode::kUnavailable;
  }
  std::string message = what + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  return Error{code, std::move(message)};
}

}  // namespace

void ConfigureProcess() {
  // SQLITE_MISUSE when SQLite is initialized already: then nothing can change, and nothing must.
  static const int kConfigured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  static_cast<void>(kConfigured);
}

namespace {

// A connection with a cache of prepared statements.
class Connection {
 public:
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    if (db_ != nullptr) sqlite3_close_v2(db_);
  }

  StoreStatus Open(const std::string& path, bool read_only, const std::string& vfs = "") {
    ConfigureProcess();
    const int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                      SQLITE_OPEN_NOMUTEX;
    const int rc =
        sqlite3_open_v2(path.c_str(), &db_, flags, vfs.empty() ? nullptr : vfs.c_str());
    if (rc != SQLITE_OK) return Fail(MakeError(db_, rc, "open " + path));
    sqlite3_busy_timeout(db_, 10000);
    sqlite3_extended_result_codes(db_, 1);
    return {};
  }

  StoreStatus Exec(const std::string& sql) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    if (rc != SQLITE_OK) {
      Error error = MakeError(db_, rc, sql.substr(0, 40));
      sqlite3_free(message);
      return Fail(std::move(error));
    }
    return {};
  }

  // Returns a reset statement for `sql`, prepared on first use. The hot path looks the
  // statement up by the address of its text (every caller passes a string literal) and confirms
  // the text, so a reused address can never return another statement; the map by text is the
  // slow path (docs/benchmarks.md: the lookup by text cost ~3% of a transfer).
  StoreResult<sqlite3_stmt*> Prepare(const char* sql) {
    auto fast = by_address_.find(sql);
    if (fast != by_address_.end() && std::strcmp(sqlite3_sql(fast->second), sql) == 0) {
      sqlite3_reset(fast->second);
      sqlite3_clear_bindings(fast->second);
      return fast->second;
    }
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      sqlite3_reset(it->second);
      sqlite3_clear_bindings(it->second);
      by_address_[sql] = it->second;
      return it->second;
    }
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Fail(MakeError(db_, rc, "prepare"));
    cache_.emplace(sql, stmt);
    by_address_[sql] = stmt;
    return stmt;
  }

  sqlite3* db() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::map<std::string, sqlite3_stmt*> cache_;                     // Owns the statements.
  std::unordered_map<const char*, sqlite3_stmt*> by_address_;      // Lookup by literal address.
};

// Binds values to a statement by position, from 1.
class Binder {
 public:
  explicit Binder(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Binder& Int(int64_t v) {
    sqlite3_bind_int64(stmt_, ++index_, v);
    return *this;
  }
  Binder& Text(const std::string& v) {
    sqlite3_bind_text(stmt_, ++index_, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Binder& Blob(const uint8_t* data, size_t size) {
    sqlite3_bind_blob(stmt_, ++index_, data, static_cast<int>(size), SQLITE_TRANSIENT);
    return *this;
  }
  Binder& Null() {
    sqlite3_bind_null(stmt_, ++index_);
    return *this;
  }
  template <class T>
  Binder& OptInt(const std::optional<T>& v) {
    return v.has_value() ? Int(v->value) : Null();
  }

 private:
  sqlite3_stmt* stmt_;
  int index_ = 0;
};

std::string ColText(sqlite3_stmt* stmt, int col) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, col));
  return text == nullptr ? std::string() : std::string(text, static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
}

int64_t ColInt(sqlite3_stmt* stmt, int col) { return sqlite3_column_int64(stmt, col); }

bool ColNull(sqlite3_stmt* stmt, int col) { return sqlite3_column_type(stmt, col) == SQLITE_NULL; }

template <size_t N>
void ColBlob(sqlite3_stmt* stmt, int col, std::array<uint8_t, N>& out) {
  out.fill(0);
  const void* data = sqlite3_column_blob(stmt, col);
  const int size = sqlite3_column_bytes(stmt, col);
  if (data != nullptr) std::memcpy(out.data(), data, std::min<size_t>(N, static_cast<size_t>(size)));
}

constexpr const char* kBlockColumns =
    "id, lot, first, last, account, ft, parent, created, closed, use_year, cancel_purpose, hold";

Block ReadBlock(sqlite3_stmt* stmt) {
  Block b;
  b.id = BlockId{ColInt(stmt, 0)};
  b.lot = IssuanceId{ColInt(stmt, 1)};
  b.range = SerialRange{ColInt(stmt, 2), ColInt(stmt, 3)};
  b.account = AccountId{ColInt(stmt, 4)};
  b.first_transferred = ColInt(stmt, 5) != 0;
  if (!ColNull(stmt, 6)) b.parent = BlockId{ColInt(stmt, 6)};
  b.created = Sequence{ColInt(stmt, 7)};
  if (!ColNull(stmt, 8)) b.closed = Sequence{ColInt(stmt, 8)};
  b.use_year = static_cast<int32_t>(ColInt(stmt, 9));
  if (!ColNull(stmt, 10)) b.cancellation_purpose = ParseCancellationPurpose(ColText(stmt, 10));
  b.held_inconsistent = ColInt(stmt, 11) != 0;
  return b;
}

IssuanceLot ReadLot(sqlite3_stmt* stmt) {
  IssuanceLot l;
  l.id = IssuanceId{ColInt(stmt, 0)};
  l.registry = RegistryCode{ColText(stmt, 1)};
  l.range = SerialRange{ColInt(stmt, 2), ColInt(stmt, 3)};
  l.project = ProjectRef{ColText(stmt, 4)};
  l.vintage = Vintage{static_cast<int32_t>(ColInt(stmt, 5))};
  l.cooperative_approach = CaId{ColText(stmt, 6)};
  l.first_transferring_party = PartyCode{ColText(stmt, 7)};
  l.itmo = ColInt(stmt, 8) != 0;
  l.authorization_id = ColText(stmt, 9);
  l.authorization_version = static_cast<int32_t>(ColInt(stmt, 10));
  l.purposes = ColText(stmt, 11);
  l.mitigation_type = ColText(stmt, 12);
  l.sector = ColText(stmt, 13);
  l.activity_type = ColText(stmt, 14);
  l.jc_decision = ColText(stmt, 15);
  l.monitoring_start = ColText(stmt, 16);
  l.monitoring_end = ColText(stmt, 17);
  l.created = Sequence{ColInt(stmt, 18)};
  return l;
}

Account ReadAccount(sqlite3_stmt* stmt) {
  Account a;
  a.id = AccountId{ColInt(stmt, 0)};
  a.registry = RegistryCode{ColText(stmt, 1)};
  a.type = ParseAccountType(ColText(stmt, 2)).value_or(AccountType::kGovernmentHolding);
  a.status = ParseAccountStatus(ColText(stmt, 3)).value_or(AccountStatus::kClosed);
  a.name = ColText(stmt, 4);
  a.holder = EntityId{ColInt(stmt, 5)};
  return a;
}

JournalEntry ReadEntry(sqlite3_stmt* stmt) {
  JournalEntry e;
  e.sequence = Sequence{ColInt(stmt, 0)};
  e.time = ColText(stmt, 1);
  e.actor = ColText(stmt, 2);
  e.idempotency_key = ColText(stmt, 3);
  e.command = ColText(stmt, 4);
  e.payload = ColText(stmt, 5);
  e.result = ColText(stmt, 6);
  ColBlob(stmt, 7, e.prev_hash);
  ColBlob(stmt, 8, e.hash);
  // Columns 9-11: the seal, if this entry carries one (migration 6).
  if (sqlite3_column_bytes(stmt, 9) > 0) {
    Seal seal;
    ColBlob(stmt, 9, seal.signature);
    seal.first = ColNull(stmt, 10) ? e.sequence : Sequence{ColInt(stmt, 10)};
    if (!ColNull(stmt, 11)) {
      PublicKeyBytes key{};
      ColBlob(stmt, 11, key);
      seal.key = key;
    }
    e.seal = seal;
  }
  return e;
}

Document ReadDocument(sqlite3_stmt* stmt) {
  return Document{ColText(stmt, 0), ColText(stmt, 1), ColInt(stmt, 2), ColText(stmt, 3),
                  Sequence{ColInt(stmt, 4)}};
}

// Steps a statement to completion, expecting no rows.
StoreStatus Run(Connection& conn, sqlite3_stmt* stmt, const char* what) {
  const int rc = sqlite3_step(stmt);
  if (rc != SQLITE_DONE) {
    Error error = MakeError(conn.db(), rc, what);
    sqlite3_reset(stmt);
    return Fail(std::move(error));
  }
  sqlite3_reset(stmt);
  return {};
}

// Steps a statement and reads every row with `read`.
template <class T, class F>
StoreResult<std::vector<T>> Rows(Connection& conn, sqlite3_stmt* stmt, F read, const char* what) {
  std::vector<T> rows;
  for (;;) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
      rows.push_back(read(stmt));
      continue;
    }
    if (rc == SQLITE_DONE) break;
    Error error = MakeError(conn.db(), rc, what);
    sqlite3_reset(stmt);
    return Fail(std::move(error));
  }
  sqlite3_reset(stmt);
  return rows;
}

template <class T, class F>
StoreResult<std::optional<T>> OneRow(Connection& conn, sqlite3_stmt* stmt, F read,
                                     const char* what) {
  // The first row only: no vector, and the statement is reset without stepping further.
  const int rc = sqlite3_step(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
    Error error = MakeError(conn.db(), rc, what);
    sqlite3_reset(stmt);
    return Fail(std::move(error));
  }
  std::optional<T> row;
  if (rc == SQLITE_ROW) row.emplace(read(stmt));
  sqlite3_reset(stmt);
  return row;
}

#define PREPARE_OR_RETURN(var, sql)             \
  auto var##_or = conn_->Prepare(sql);          \
  if (!var##_or) return Fail(var##_or.error()); \
  sqlite3_stmt* var = *var##_or

class SqliteTransaction final : public Transaction {
 public:
  // `release` returns the connection to its owner when the transaction ends.
  SqliteTransaction(Connection* conn, bool read_only, std::function<void()> release)
      : conn_(conn), read_only_(read_only), release_(std::move(release)) {}

  ~SqliteTransaction() override {
    if (open_) static_cast<void>(Step("ROLLBACK"));  // Not committed: roll back.
    if (release_) release_();
  }

  // BEGIN, COMMIT and ROLLBACK run as prepared statements, like the savepoints below: every
  // HTTP request opens a read transaction or two, and sqlite3_exec parsed each of these texts
  // every time (~2% of the CPU of a four-eyes transfer over HTTP, docs/benchmarks.md).
  StoreStatus BeginTx() {
    auto status = Step(read_only_ ? "BEGIN DEFERRED" : "BEGIN IMMEDIATE");
    if (status) open_ = true;
    return status;
  }

  StoreResult<std::optional<Document>> GetDocument(const std::string& kind,
                                                   const std::string& key) override {
    std::string cache_key;
    if (!read_only_) {
      cache_key = DocumentCacheKey(kind, key);
      if (auto it = documents_.find(cache_key); it != documents_.end()) return it->second;
    }
    PREPARE_OR_RETURN(stmt,
                      "SELECT kind, key, version, body, updated FROM documents WHERE kind = ? AND "
                      "key = ? ORDER BY version DESC LIMIT 1");
    Binder(stmt).Text(kind).Text(key);
    auto row = OneRow<Document>(*conn_, stmt, ReadDocument, "get document");
    if (row && !read_only_) documents_.emplace(std::move(cache_key), *row);
    return row;
  }

  StoreResult<int64_t> PutDocument(const std::string& kind, const std::string& key,
                                   const std::string& body, Sequence updated) override {
    if (auto w = Writable(); !w) return Fail(w.error());
    auto current = GetDocument(kind, key);
    if (!current) return Fail(current.error());
    const int64_t version = current->has_value() ? (*current)->version + 1 : 1;
    PREPARE_OR_RETURN(stmt, "INSERT INTO documents VALUES (?, ?, ?, ?, ?)");
    Binder(stmt).Text(kind).Text(key).Int(version).Text(body).Int(updated.value);
    if (auto s = Run(*conn_, stmt, "put document"); !s) return Fail(s.error());
    if (IsAccessKind(kind)) {
      PREPARE_OR_RETURN(bump, "UPDATE access_generation SET value = value + 1");
      if (auto s = Run(*conn_, bump, "move the access generation"); !s) return Fail(s.error());
    }
    std::string cache_key = DocumentCacheKey(kind, key);
    documents_[cache_key] = Document{kind, key, version, body, updated};
    Wrote(std::move(cache_key));
    return version;
  }

  StoreResult<std::vector<Document>> ListDocuments(const std::string& kind,
                                                   const std::string& after,
                                                   size_t limit) override {
    PREPARE_OR_RETURN(stmt,
                      "SELECT d.kind, d.key, d.version, d.body, d.updated FROM documents d "
                      "WHERE d.kind = ?1 AND d.key > ?2 AND d.version = (SELECT MAX(version) FROM "
                      "documents e WHERE e.kind = d.kind AND e.key = d.key) ORDER BY d.key LIMIT ?3");
    Binder(stmt).Text(kind).Text(after).Int(static_cast<int64_t>(limit));
    return Rows<Document>(*conn_, stmt, ReadDocument, "list documents");
  }

  StoreResult<int64_t> AccessGeneration() override {
    PREPARE_OR_RETURN(stmt, "SELECT value FROM access_generation");
    auto row = OneRow<int64_t>(*conn_, stmt, [](sqlite3_stmt* s) { return ColInt(s, 0); },
                               "read the access generation");
    if (!row) return Fail(row.error());
    if (!row->has_value()) {
      return Fail(Error{ErrorCode::kCorruption, "the access_generation table has no row"});
    }
    return **row;
  }

  StoreResult<std::vector<Document>> DocumentHistory(const std::string& kind,
                                                     const std::string& key) override {
    PREPARE_OR_RETURN(stmt,
                      "SELECT kind, key, version, body, updated FROM documents WHERE kind = ? AND "
                      "key = ? ORDER BY version");
    Binder(stmt).Text(kind).Text(key);
    return Rows<Document>(*conn_, stmt, ReadDocument, "document history");
  }

  StoreResult<std::optional<Account>> GetAccount(AccountId id) override {
    if (!read_only_) {
      if (auto it = accounts_.find(id.value); it != accounts_.end()) return it->second;
    }
    PREPARE_OR_RETURN(stmt, "SELECT id, registry, type, status, name, holder FROM accounts WHERE id = ?");
    Binder(stmt).Int(id.value);
    auto row = OneRow<Account>(*conn_, stmt, ReadAccount, "get account");
    if (row && !read_only_) accounts_.emplace(id.value, *row);
    return row;
  }

  StoreResult<AccountId> InsertAccount(const Account& a) override {
    if (auto w = Writable(); !w) return Fail(w.error());
    PREPARE_OR_RETURN(stmt, "INSERT INTO accounts(registry, type, status, name, holder) VALUES (?, ?, ?, ?, ?)");
    Binder(stmt)
        .Text(a.registry.value)
        .Text(std::string(ToString(a.type)))
        .Text(std::string(ToString(a.status)))
        .Text(a.name)
        .Int(a.holder.value);
    if (auto s = Run(*conn_, stmt, "insert account"); !s) return Fail(s.error());
    const AccountId id{sqlite3_last_insert_rowid(conn_->db())};
    accounts_.erase(id.value);  // A cached "no such account" is no longer true.
    Wrote(id.value);
    return id;
  }

  StoreStatus SetAccountStatus(AccountId id, AccountStatus status) override {
    if (auto w = Writable(); !w) return w;
    PREPARE_OR_RETURN(stmt, "UPDATE accounts SET status = ? WHERE id = ?");
    Binder(stmt).Text(std::string(ToString(status))).Int(id.value);
    accounts_.erase(id.value);
    Wrote(id.value);
    return Run(*conn_, stmt, "set account status");
  }

  StoreResult<std::vector<Account>> ListAccounts() override {
    PREPARE_OR_RETURN(stmt, "SELECT id, registry, type, status, name, holder FROM accounts ORDER BY id");
    return Rows<Account>(*conn_, stmt, ReadAccount, "list accounts");
  }

  StoreResult<int64_t> NextSerial(const RegistryCode& registry) override {
    PREPARE_OR_RETURN(stmt, "SELECT next FROM serials WHERE registry = ?");
    Binder(stmt).Text(registry.value);
    auto row = OneRow<int64_t>(*conn_, stmt, [](sqlite3_stmt* s) { return ColInt(s, 0); },
                               "next serial");
    if (!row) return Fail(row.error());
    return row->value_or(1);
  }

  StoreStatus SetNextSerial(const RegistryCode& registry, int64_t next) override {
    if (auto w = Writable(); !w) return w;
    PREPARE_OR_RETURN(stmt,
                      "INSERT INTO serials VALUES (?1, ?2) ON CONFLICT(registry) DO UPDATE SET "
                      "next = ?2");
    Binder(stmt).Text(registry.value).Int(next);
    return Run(*conn_, stmt, "set next serial");
  }

  StoreResult<IssuanceId> InsertLot(const IssuanceLot& l) override {
    if (auto w = Writable(); !w) return Fail(w.error());
    PREPARE_OR_RETURN(stmt,
                      "INSERT INTO lots(registry, first, last, project, vintage, ca, ftp, itmo, "
                      "auth_id, auth_version, purposes, mitigation, sector, activity, jc_decision, "
                      "mon_start, mon_end, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                      "?, ?, ?, ?, ?)");
    Binder(stmt)
        .Text(l.registry.value)
        .Int(l.range.first)
        .Int(l.range.last)
        .Text(l.project.value)
        .Int(l.vintage.year)
        .Text(l.cooperative_approach.value)
        .Text(l.first_transferring_party.value)
        .Int(l.itmo ? 1 : 0)
        .Text(l.authorization_id)
        .Int(l.authorization_version)
        .Text(l.purposes)
        .Text(l.mitigation_type)
        .Text(l.sector)
        .Text(l.activity_type)
        .Text(l.jc_decision)
        .Text(l.monitoring_start)
        .Text(l.monitoring_end)
        .Int(l.created.value);
    if (auto s = Run(*conn_, stmt, "insert lot"); !s) return Fail(s.error());
    return IssuanceId{sqlite3_last_insert_rowid(conn_->db())};
  }

  StoreResult<std::optional<IssuanceLot>> GetLot(IssuanceId id) override {
    PREPARE_OR_RETURN(stmt, "SELECT * FROM lots WHERE id = ?");
    Binder(stmt).Int(id.value);
    return OneRow<IssuanceLot>(*conn_, stmt, ReadLot, "get lot");
  }

  StoreResult<std::vector<IssuanceLot>> ListLots() override {
    PREPARE_OR_RETURN(stmt, "SELECT * FROM lots ORDER BY id");
    return Rows<IssuanceLot>(*conn_, stmt, ReadLot, "list lots");
  }

  StoreResult<std::vector<IssuanceLot>> ListLotsAfter(IssuanceId after, size_t limit) override {
    PREPARE_OR_RETURN(stmt, "SELECT * FROM lots WHERE id > ? ORDER BY id LIMIT ?");
    Binder(stmt).Int(after.value).Int(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    return Rows<IssuanceLot>(*conn_, stmt, ReadLot, "list lots");
  }

  StoreResult<BlockId> InsertBlock(const Block& b) override {
    if (auto w = Writable(); !w) return Fail(w.error());
    PREPARE_OR_RETURN(stmt,
                      "INSERT INTO blocks(lot, first, last, account, ft, parent, created, closed, "
                      "use_year, cancel_purpose, hold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    Binder binder(stmt);
    binder.Int(b.lot.value)
        .Int(b.range.first)
        .Int(b.range.last)
        .Int(b.account.value)
        .Int(b.first_transferred ? 1 : 0)
        .OptInt(b.parent)
        .Int(b.created.value)
        .OptInt(b.closed)
        .Int(b.use_year);
    if (b.cancellation_purpose) {
      binder.Text(std::string(ToString(*b.cancellation_purpose)));
    } else {
      binder.Null();
    }
    binder.Int(b.held_inconsistent ? 1 : 0);
    if (auto s = Run(*conn_, stmt, "insert block"); !s) return Fail(s.error());
    return BlockId{sqlite3_last_insert_rowid(conn_->db())};
  }

  StoreStatus CloseBlock(BlockId id, Sequence sequence) override {
    if (auto w = Writable(); !w) return w;
    PREPARE_OR_RETURN(stmt, "UPDATE blocks SET closed = ? WHERE id = ? AND closed IS NULL");
    Binder(stmt).Int(sequence.value).Int(id.value);
    if (auto s = Run(*conn_, stmt, "close block"); !s) return s;
    if (sqlite3_changes(conn_->db()) != 1) {
      return Fail(Error{ErrorCode::kFailedPrecondition,
                        "block " + std::to_string(id.value) + " is not live"});
    }
    return {};
  }

  StoreResult<std::optional<Block>> GetBlock(BlockId id) override {
    PREPARE_OR_RETURN(stmt, "SELECT id, lot, first, last, account, ft, parent, created, closed, "
                            "use_year, cancel_purpose, hold FROM blocks WHERE id = ?");
    Binder(stmt).Int(id.value);
    return OneRow<Block>(*conn_, stmt, ReadBlock, "get block");
  }

  StoreResult<std::vector<Block>> LiveBlocks(AccountId account, const BlockFilter& filter,
                                             size_t limit) override {
    if (!filter.project && !filter.vintage && !filter.lot) {
      PREPARE_OR_RETURN(stmt, "SELECT id, lot, first, last, account, ft, parent, created, closed, "
                              "use_year, cancel_purpose, hold FROM blocks WHERE account = ? AND "
                              "closed IS NULL ORDER BY first LIMIT ?");
      Binder(stmt).Int(account.value).Int(static_cast<int64_t>(limit));
      return Rows<Block>(*conn_, stmt, ReadBlock, "live blocks");
    }
    // With a project or a lot, from its lots (lots_project), then each one's live blocks in the
    // account (blocks_live_lot): CROSS JOIN keeps that order. A vintage alone walks the account.
    // The lot's or project's term has no "?N IS NULL OR" around it: SQLite plans a statement once,
    // and such a term cannot use an index whatever value is bound.
    PREPARE_OR_RETURN(
        stmt,
        filter.project ? "SELECT b.id, b.lot, b.first, b.last, b.account, b.ft, b.parent, "
                         "b.created, b.closed, b.use_year, b.cancel_purpose, b.hold FROM lots l "
                         "CROSS JOIN blocks b INDEXED BY blocks_live_lot ON b.account = ?1 AND "
                         "b.lot = l.id AND b.closed IS NULL WHERE l.project = ?2 "
                         "AND (?3 IS NULL OR l.vintage = ?3) AND (?4 IS NULL OR l.id = ?4) "
                         "ORDER BY b.first LIMIT ?5"
        : filter.lot   ? "SELECT b.id, b.lot, b.first, b.last, b.account, b.ft, b.parent, "
                         "b.created, b.closed, b.use_year, b.cancel_purpose, b.hold FROM lots l "
                         "CROSS JOIN blocks b INDEXED BY blocks_live_lot ON b.account = ?1 AND "
                         "b.lot = l.id AND b.closed IS NULL WHERE (?2 IS NULL OR l.project = ?2) "
                         "AND (?3 IS NULL OR l.vintage = ?3) AND l.id = ?4 "
                         "ORDER BY b.first LIMIT ?5"
                       : "SELECT b.id, b.lot, b.first, b.last, b.account, b.ft, b.parent, "
                         "b.created, b.closed, b.use_year, b.cancel_purpose, b.hold FROM blocks "
                         "b JOIN lots l ON l.id = b.lot WHERE b.account = ?1 AND b.closed IS "
                         "NULL AND (?2 IS NULL OR l.project = ?2) AND (?3 IS NULL OR l.vintage "
                         "= ?3) AND (?4 IS NULL OR b.lot = ?4) ORDER BY b.first LIMIT ?5");
    Binder binder(stmt);
    binder.Int(account.value);
    if (filter.project) {
      binder.Text(filter.project->value);
    } else {
      binder.Null();
    }
    if (filter.vintage) {
      binder.Int(filter.vintage->year);
    } else {
      binder.Null();
    }
    binder.OptInt(filter.lot).Int(static_cast<int64_t>(limit));
    return Rows<Block>(*conn_, stmt, ReadBlock, "live blocks (filtered)");
  }

  StoreResult<std::vector<Block>> LiveBlocksOverlapping(AccountId account,
                                                        const RegistryCode& registry,
                                                        const SerialRange& range) override {
    // Blocks of one account never overlap, so the block holding range.first is the live block
    // with the greatest first <= range.first; every other overlapping block starts inside range.
    static_cast<void>(registry);  // Accounts belong to one registry, which fixes the serial space.
    PREPARE_OR_RETURN(stmt,
                      "SELECT * FROM (SELECT id, lot, first, last, account, ft, parent, created, "
                      "closed, use_year, cancel_purpose, hold FROM blocks WHERE account = ?1 AND "
                      "closed IS NULL AND first <= ?2 ORDER BY first DESC LIMIT 1) WHERE last >= ?2 "
                      "UNION ALL SELECT id, lot, first, last, account, ft, parent, created, closed, "
                      "use_year, cancel_purpose, hold FROM blocks WHERE account = ?1 AND closed IS "
                      "NULL AND first > ?2 AND first <= ?3");
    Binder(stmt).Int(account.value).Int(range.first).Int(range.last);
    return Rows<Block>(*conn_, stmt, ReadBlock, "live blocks overlapping");
  }

  StoreResult<std::vector<Block>> HoldingPage(AccountId account, std::optional<Sequence> at,
                                              int64_t after_first, size_t limit) override {
    const int64_t n = static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX));
    if (!at) {
      PREPARE_OR_RETURN(stmt, "SELECT id, lot, first, last, account, ft, parent, created, closed, "
                              "use_year, cancel_purpose, hold FROM blocks WHERE account = ?1 AND "
                              "closed IS NULL AND first > ?2 ORDER BY first LIMIT ?3");
      Binder(stmt).Int(account.value).Int(after_first).Int(n);
      return Rows<Block>(*conn_, stmt, ReadBlock, "holding page");
    }
    PREPARE_OR_RETURN(stmt, kHoldingPageAsOfSql);
    Binder(stmt).Int(account.value).Int(at->value).Int(after_first).Int(n);
    return Rows<Block>(*conn_, stmt, ReadBlock, "holding page as of");
  }

  StoreResult<std::pair<int64_t, int64_t>> HoldingTotal(AccountId account,
                                                        std::optional<Sequence> at) override {
    const auto read = [](sqlite3_stmt* s) { return std::make_pair(ColInt(s, 0), ColInt(s, 1)); };
    sqlite3_stmt* stmt = nullptr;
    if (!at) {
      PREPARE_OR_RETURN(live, "SELECT COUNT(*), COALESCE(SUM(last - first + 1), 0) FROM blocks "
                              "WHERE account = ? AND closed IS NULL");
      Binder(live).Int(account.value);
      stmt = live;
    } else {
      PREPARE_OR_RETURN(past, "SELECT COUNT(*), COALESCE(SUM(last - first + 1), 0) FROM ("
                              "SELECT first, last FROM blocks WHERE account = ?1 AND closed IS "
                              "NULL AND created <= ?2 UNION ALL SELECT first, last FROM blocks "
                              "WHERE account = ?1 AND closed IS NOT NULL AND closed > ?2 AND "
                              "created <= ?2)");
      Binder(past).Int(account.value).Int(at->value);
      stmt = past;
    }
    auto row = OneRow<std::pair<int64_t, int64_t>>(*conn_, stmt, read, "holding total");
    if (!row) return Fail(row.error());
    return row->value_or(std::make_pair(int64_t{0}, int64_t{0}));
  }

  StoreResult<std::vector<Block>> BlocksHoldingSerial(const RegistryCode& registry,
                                                      int64_t serial) override {
    PREPARE_OR_RETURN(stmt,
                      "SELECT b.id, b.lot, b.first, b.last, b.account, b.ft, b.parent, b.created, "
                      "b.closed, b.use_year, b.cancel_purpose, b.hold FROM lots l JOIN blocks b ON "
                      "b.lot = l.id WHERE l.registry = ?1 AND l.first <= ?2 AND l.last >= ?2 AND "
                      "b.first <= ?2 AND b.last >= ?2 ORDER BY b.id");
    Binder(stmt).Text(registry.value).Int(serial);
    return Rows<Block>(*conn_, stmt, ReadBlock, "blocks holding serial");
  }

  StoreResult<std::vector<std::pair<AccountId, int64_t>>> LiveTonnesByAccount() override {
    PREPARE_OR_RETURN(stmt, "SELECT account, SUM(last - first + 1) FROM blocks "
                            "WHERE closed IS NULL GROUP BY account ORDER BY account");
    return Rows<std::pair<AccountId, int64_t>>(
        *conn_, stmt,
        [](sqlite3_stmt* s) { return std::make_pair(AccountId{ColInt(s, 0)}, ColInt(s, 1)); },
        "live tonnes by account");
  }

  StoreResult<std::vector<Block>> ListBlocks(BlockId after, size_t limit) override {
    PREPARE_OR_RETURN(stmt, "SELECT id, lot, first, last, account, ft, parent, created, closed, "
                            "use_year, cancel_purpose, hold FROM blocks WHERE id > ? ORDER BY id "
                            "LIMIT ?");
    Binder(stmt).Int(after.value).Int(static_cast<int64_t>(limit));
    return Rows<Block>(*conn_, stmt, ReadBlock, "list blocks");
  }

  // Reservations of one account never overlap, so the only one that can start before
  // range.first and reach it is the one with the greatest first <= range.first.
  StoreResult<std::vector<Reservation>> ReservationsOverlapping(AccountId account,
                                                                const SerialRange& range,
                                                                size_t limit) override {
    PREPARE_OR_RETURN(stmt,
                      "SELECT account, first, last, proposal FROM reservations WHERE account = ?1 "
                      "AND first >= COALESCE((SELECT MAX(first) FROM reservations WHERE account = "
                      "?1 AND first <= ?2), ?2) AND first <= ?3 AND last >= ?2 ORDER BY first "
                      "LIMIT ?4");
    Binder(stmt).Int(account.value).Int(range.first).Int(range.last).Int(
        static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)));
    return Rows<Reservation>(
        *conn_, stmt,
        [](sqlite3_stmt* s) {
          return Reservation{AccountId{ColInt(s, 0)}, SerialRange{ColInt(s, 1), ColInt(s, 2)},
                             ColInt(s, 3)};
        },
        "reservations overlapping");
  }

  StoreStatus InsertReservationRow(const Reservation& r) override {
    if (auto w = Writable(); !w) return w;
    PREPARE_OR_RETURN(stmt, "INSERT INTO reservations VALUES (?, ?, ?, ?)");
    Binder(stmt).Int(r.account.value).Int(r.range.first).Int(r.range.last).Int(r.proposal);
    if (auto s = Run(*conn_, stmt, "insert reservation"); !s) return s;
    ReservationRowsMoved(r.account, +1);
    return {};
  }

  StoreStatus DeleteReservation(AccountId account, int64_t first, int64_t proposal) override {
    if (auto w = Writable(); !w) return w;
    PREPARE_OR_RETURN(stmt,
                      "DELETE FROM reservations WHERE account = ? AND first = ? AND proposal = ?");
    Binder(stmt).Int(account.value).Int(first).Int(proposal);
    if (auto s = Run(*conn_, stmt, "delete reservation"); !s) return s;
    if (sqlite3_changes(conn_->db()) != 1) {
      return Fail(ReservationMissingError(account, first, proposal));
    }
    ReservationRowsMoved(account, -1);
    return {};
  }

  StoreResult<bool> ReservingProposalsReach(AccountId account, int64_t count) override {
    // A proposal holds one row or more, so fewer rows than `count` settle it without the
    // distinct count, which walks the account's rows.
    const auto rows = ReservationRows(account);
    if (!rows) return Fail(rows.error());
    if (*rows < count) return false;
    PREPARE_OR_RETURN(stmt, "SELECT COUNT(DISTINCT proposal) FROM reservations WHERE account = ?");
    Binder(stmt).Int(account.value);
    auto row = OneRow<int64_t>(*conn_, stmt, [](sqlite3_stmt* s) { return ColInt(s, 0); },
                               "reserving proposals");
    if (!row) return Fail(row.error());
    return row->value_or(0) >= count;
  }

  StoreResult<std::optional<JournalEntry>> LastEntry() override {
    PREPARE_OR_RETURN(stmt, "SELECT * FROM journal ORDER BY seq DESC LIMIT 1");
    return OneRow<JournalEntry>(*conn_, stmt, ReadEntry, "last entry");
  }

  StoreStatus AppendEntry(const JournalEntry& e) override {
    if (auto w = Writable(); !w) return w;
    PREPARE_OR_RETURN(stmt,
                      "INSERT INTO journal(seq, time, actor, idem, command, payload, result, "
                      "prev_hash, hash, sig, seal_first, seal_key) "
                      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    Binder binder(stmt);
    binder.Int(e.sequence.value)
        .Text(e.time)
        .Text(e.actor)
        .Text(e.idempotency_key)
        .Text(e.command)
        .Text(e.payload)
        .Text(e.result)
        .Blob(e.prev_hash.data(), e.prev_hash.size())
        .Blob(e.hash.data(), e.hash.size());
    if (!e.seal.has_value()) {
      // An entry inside a batch: an empty signature (a zero-length blob, not NULL).
      binder.Blob(e.hash.data(), 0).Null().Null();
    } else {
      binder.Blob(e.seal->signature.data(), e.seal->signature.size()).Int(e.seal->first.value);
      if (e.seal->key.has_value()) {
        binder.Blob(e.seal->key->data(), e.seal->key->size());
      } else {
        binder.Null();  // A seal of the format before seals (copied by verify's replay).
      }
    }
    return Run(*conn_, stmt, "append journal entry");
  }

  StoreResult<std::optional<JournalEntry>> EntryByIdempotencyKey(const std::string& key) override {
    PREPARE_OR_RETURN(stmt, "SELECT * FROM journal WHERE idem = ? AND idem <> ''");
    Binder(stmt).Text(key);
    return OneRow<JournalEntry>(*conn_, stmt, ReadEntry, "entry by key");
  }

  StoreResult<std::vector<JournalEntry>> ReadEntries(Sequence after, size_t limit) override {
    PREPARE_OR_RETURN(stmt, "SELECT * FROM journal WHERE seq > ? ORDER BY seq LIMIT ?");
    Binder(stmt).Int(after.value).Int(static_cast<int64_t>(limit));
    return Rows<JournalEntry>(*conn_, stmt, ReadEntry, "read entries");
  }

  StoreResult<Sequence> SequenceAtTime(const std::string& time) override {
    PREPARE_OR_RETURN(stmt, "SELECT COALESCE(MAX(seq), 0) FROM journal WHERE time <= ?");
    Binder(stmt).Text(time);
    auto row = OneRow<int64_t>(*conn_, stmt, [](sqlite3_stmt* s) { return ColInt(s, 0); },
                               "sequence at time");
    if (!row) return Fail(row.error());
    return Sequence{row->value_or(0)};
  }

  // Savepoints run as prepared statements: they are on the hot path (one per command of a
  // batch), and sqlite3_exec would parse them every time (docs/benchmarks.md).
  StoreStatus Savepoint() override {
    if (auto s = StillOpen(); !s) return s;  // Outside a transaction SAVEPOINT would begin one.
    auto status = Step("SAVEPOINT cmd");
    if (status) written_since_.emplace_back();
    return status;
  }
  StoreStatus ReleaseSavepoint() override {
    auto status = Step("RELEASE cmd");
    if (status) PopSavepoint(/*rolled_back=*/false);
    return status;
  }
  StoreStatus RollbackToSavepoint() override {
    // What the rolled-back command wrote is gone; so are the cache entries of what it wrote.
    // Entries it only read stay: their rows are as they were before the savepoint.
    PopSavepoint(/*rolled_back=*/true);
    auto status = Step("ROLLBACK TO cmd");
    if (!status) return status;
    return Step("RELEASE cmd");
  }

  std::optional<int64_t> ChangeCount() override {
    return static_cast<int64_t>(sqlite3_total_changes64(conn_->db()));
  }

  StoreStatus Commit() override {
    REGISTRY_ASSERT(open_);
    auto status = Step(read_only_ ? "ROLLBACK" : "COMMIT");
    if (status) open_ = false;
    return status;
  }

 private:
  StoreStatus Writable() const {
    if (read_only_) {
      return Fail(Error{ErrorCode::kFailedPrecondition, "write in a read-only transaction"});
    }
    return StillOpen();
  }

  // SQLite rolls a write transaction back by itself after some errors (an I/O error in a read or
  // write, a full disk, no memory): the connection is then in autocommit mode, where each later
  // statement would commit on its own, outside the batch and without the seal that must cover
  // it (a fault test found a batch's later commands and journal rows committed that way, and a
  // journal that no longer replayed). A transaction that is gone takes nothing more.
  StoreStatus StillOpen() const {
    if (!read_only_ && open_ && sqlite3_get_autocommit(conn_->db()) != 0) {
      return Fail(Error{ErrorCode::kUnavailable,
                        "the write transaction was rolled back by SQLite after an error; "
                        "nothing of it is written"});
    }
    return {};
  }

  static std::string DocumentCacheKey(const std::string& kind, const std::string& key) {
    std::string out;
    out.reserve(kind.size() + 1 + key.size());
    out.append(kind).push_back('\0');
    return out.append(key);
  }

  StoreStatus Step(const char* sql) {
    PREPARE_OR_RETURN(stmt, sql);
    return Run(*conn_, stmt, sql);
  }

  // The rows `account` has in reservations: counted once by a write transaction (every proposal
  // of a batch asks about the same account), then kept by its own inserts and deletes.
  StoreResult<int64_t> ReservationRows(AccountId account) {
    if (!read_only_) {
      if (auto it = reservation_rows_.find(account.value); it != reservation_rows_.end()) {
        return it->second;
      }
    }
    PREPARE_OR_RETURN(stmt, "SELECT COUNT(*) FROM reservations WHERE account = ?");
    Binder(stmt).Int(account.value);
    auto row = OneRow<int64_t>(*conn_, stmt, [](sqlite3_stmt* s) { return ColInt(s, 0); },
                               "reservation rows");
    if (!row) return Fail(row.error());
    const int64_t rows = row->value_or(0);
    if (!read_only_) reservation_rows_.emplace(account.value, rows);
    return rows;
  }
  // Noted even when not counted yet: a count made later in the same savepoint includes this
  // write, and a rollback must drop it.
  void ReservationRowsMoved(AccountId account, int64_t by) {
    if (!written_since_.empty()) written_since_.back().reservation_rows.push_back(account.value);
    auto it = reservation_rows_.find(account.value);
    if (it == reservation_rows_.end()) return;  // Counted afresh when next asked.
    it->second += by;
    REGISTRY_ASSERT(it->second >= 0);
  }

  // Notes a write to the account or document cache, so that a rollback to the savepoints open
  // now drops its entry.
  void Wrote(int64_t account) {
    if (!written_since_.empty()) written_since_.back().accounts.push_back(account);
  }
  void Wrote(std::string document_cache_key) {
    if (!written_since_.empty()) {
      written_since_.back().documents.push_back(std::move(document_cache_key));
    }
  }

  // Closes the innermost savepoint. Rolled back: the entries written since it are dropped.
  // Released: they become writes of the savepoint around it, if any (its rollback undoes them).
  void PopSavepoint(bool rolled_back) {
    if (written_since_.empty()) {  // Not opened through Savepoint(): forget everything.
      accounts_.clear();
      documents_.clear();
      reservation_rows_.clear();
      return;
    }
    Written top = std::move(written_since_.back());
    written_since_.pop_back();
    if (rolled_back) {
      for (const int64_t id : top.accounts) accounts_.erase(id);
      for (const std::string& key : top.documents) documents_.erase(key);
      for (const int64_t id : top.reservation_rows) reservation_rows_.erase(id);
    } else if (!written_since_.empty()) {
      Written& outer = written_since_.back();
      outer.accounts.insert(outer.accounts.end(), top.accounts.begin(), top.accounts.end());
      for (std::string& key : top.documents) outer.documents.push_back(std::move(key));
      outer.reservation_rows.insert(outer.reservation_rows.end(), top.reservation_rows.begin(),
                                    top.reservation_rows.end());
    }
  }

  Connection* conn_;
  bool read_only_;
  std::function<void()> release_;
  bool open_ = false;
  // A write transaction (one batch of the single writer) remembers the accounts and the latest
  // document versions it has read or written: a batch of transfers reads the same two accounts
  // and the same reservation documents once, not once per command. Every write to an account or
  // document updates or drops its entry, and a rollback to a savepoint drops the entries written
  // since (a proposal's trial of its command always rolls back: dropping every entry there cost
  // each later command of the batch its cached reads); read transactions do not cache (they may
  // be long, and other writers move on meanwhile).
  std::unordered_map<int64_t, std::optional<Account>> accounts_;
  std::unordered_map<std::string, std::optional<Document>> documents_;  // DocumentCacheKey
  std::unordered_map<int64_t, int64_t> reservation_rows_;  // ReservationRows, by account id.
  struct Written {
    std::vector<int64_t> accounts;
    std::vector<std::string> documents;
    std::vector<int64_t> reservation_rows;  // Account ids.
  };
  std::vector<Written> written_since_;  // One per open savepoint, the innermost last.
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(Options options) : options_(std::move(options)) {}

  StoreStatus Init() {
    if (auto s = writer_.Open(options_.path, false, options_.vfs); !s) return s;
    const bool memory = options_.path == ":memory:";
    std::string pragmas = memory ? "" : options_.scratch ? "PRAGMA journal_mode=MEMORY;" : "PRAGMA journal_mode=WAL;";
    pragmas += options_.synchronous_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=OFF;";
    pragmas += "PRAGMA foreign_keys=OFF; PRAGMA cache_size=-65536;";
    if (auto s = writer_.Exec(pragmas); !s) return s;
    if (options_.scratch) static_cast<void>(::unlink(options_.path.c_str()));  // Lives while open.
    return Migrate();
  }

  StoreResult<std::unique_ptr<Transaction>> Begin() override {
    auto tx = std::make_unique<SqliteTransaction>(&writer_, false, nullptr);
    if (auto s = tx->BeginTx(); !s) return Fail(s.error());
    return std::unique_ptr<Transaction>(std::move(tx));
  }

  StoreResult<std::unique_ptr<Transaction>> BeginRead() override {
    if (options_.path == ":memory:" || options_.scratch) {
      // A private in-memory or scratch database has one connection; reads share the writer's.
      auto tx = std::make_unique<SqliteTransaction>(&writer_, true, nullptr);
      if (auto s = tx->BeginTx(); !s) return Fail(s.error());
      return std::unique_ptr<Transaction>(std::move(tx));
    }
    std::unique_ptr<Connection> conn = TakeReader();
    if (conn == nullptr) {
      conn = std::make_unique<Connection>();
      if (auto s = conn->Open(options_.path, true, options_.vfs); !s) return Fail(s.error());
    }
    Connection* raw = conn.release();
    auto tx = std::make_unique<SqliteTransaction>(raw, true, [this, raw] { ReturnReader(raw); });
    if (auto s = tx->BeginTx(); !s) return Fail(s.error());
    return std::unique_ptr<Transaction>(std::move(tx));
  }

  StoreResult<std::string> ProjectionDigest() override {
    std::string out;
    for (const auto& table : kProjectionTables) {
      auto digest = TableDigest(table[1]);
      if (!digest) return Fail(digest.error());
      out += std::string(table[0]) + ":" + *digest + "\n";
    }
    return out;
  }

 private:
  StoreStatus Migrate() {
    if (auto s = writer_.Exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)");
        !s) {
      return s;
    }
    auto stmt = writer_.Prepare("SELECT value FROM meta WHERE key = 'schema_version'");
    if (!stmt) return Fail(stmt.error());
    auto row = OneRow<int64_t>(writer_, *stmt, [](sqlite3_stmt* s) { return ColInt(s, 0); },
                               "schema version");
    if (!row) return Fail(row.error());
    const int64_t applied = row->value_or(0);
    constexpr int64_t kCount = static_cast<int64_t>(std::size(kMigrations));
    if (applied > kCount) {
      return Fail(Error{ErrorCode::kFailedPrecondition,
                        "database schema " + std::to_string(applied) +
                            " is newer than this program (" + std::to_string(kCount) + ")"});
    }
    for (int64_t i = applied; i < kCount; ++i) {
      const auto index = static_cast<size_t>(i);
      auto already = MigrationApplied(index);
      if (!already) return Fail(already.error());
      std::string sql = "BEGIN IMMEDIATE;";
      if (!*already) sql += kMigrations[index];
      sql += "INSERT INTO meta VALUES ('schema_version', '" + std::to_string(i + 1) +
             "') ON CONFLICT(key) DO UPDATE SET value = excluded.value; COMMIT;";
      if (auto s = writer_.Exec(sql); !s) {
        static_cast<void>(writer_.Exec("ROLLBACK"));  // The migration failed; keep the old schema.
        return s;
      }
    }
    return {};
  }

  // Whether migration `index` has made its changes already (kMigrationApplied).
  StoreResult<bool> MigrationApplied(size_t index) {
    if (kMigrationApplied[index] == nullptr) return false;
    auto stmt = writer_.Prepare(kMigrationApplied[index]);
    if (!stmt) return Fail(stmt.error());
    auto count = OneRow<int64_t>(
        writer_, *stmt, [](sqlite3_stmt* s) { return ColInt(s, 0); }, "migration applied");
    if (!count) return Fail(count.error());
    return count->value_or(0) > 0;
  }

  StoreResult<std::string> TableDigest(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(writer_.db(), sql, -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return Fail(MakeError(writer_.db(), rc, "digest"));
    crypto_hash_sha256_state state;
    crypto_hash_sha256_init(&state);
    int64_t rows = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      ++rows;
      const int n = sqlite3_column_count(stmt);
      for (int c = 0; c < n; ++c) {
        const std::string cell = ColNull(stmt, c) ? std::string("\x01NULL")
                                 : sqlite3_column_type(stmt, c) == SQLITE_BLOB
                                     ? std::string(static_cast<const char*>(sqlite3_column_blob(stmt, c)),
                                                   static_cast<size_t>(sqlite3_column_bytes(stmt, c)))
                                     : ColText(stmt, c);
        const uint64_t size = cell.size();
        crypto_hash_sha256_update(&state, reinterpret_cast<const uint8_t*>(&size), sizeof size);
        crypto_hash_sha256_update(&state, reinterpret_cast<const uint8_t*>(cell.data()), size);
      }
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) return Fail(MakeError(writer_.db(), rc, "digest"));
    uint8_t hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&state, hash);
    static const char* kHex = "0123456789abcdef";
    std::string hex;
    for (uint8_t byte : hash) {
      hex += kHex[byte >> 4];
      hex += kHex[byte & 15];
    }
    return std::to_string(rows) + " rows " + hex;
  }

  std::unique_ptr<Connection> TakeReader() {
    std::lock_guard<std::mutex> lock(readers_mutex_);
    if (readers_.empty()) return nullptr;
    std::unique_ptr<Connection> conn = std::move(readers_.back());
    readers_.pop_back();
    return conn;
  }

  void ReturnReader(Connection* conn) {
    std::lock_guard<std::mutex> lock(readers_mutex_);
    readers_.emplace_back(conn);
  }

  Options options_;
  Connection writer_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> readers_;
};

}  // namespace

StoreResult<std::unique_ptr<Store>> Open(const Options& options) {
  if (sodium_init() < 0) return Fail(Error{ErrorCode::kInternal, "libsodium failed to start"});
  auto store = std::make_unique<SqliteStore>(options);
  if (auto s = store->Init(); !s) return Fail(s.error());
  return std::unique_ptr<Store>(std::move(store));
}

StoreResult<std::unique_ptr<Store>> OpenScratch() {
  const char* dir = std::getenv("TMPDIR");
  std::string pattern = std::string(dir != nullptr && *dir != '\0' ? dir : "/tmp") + "/jcmreg-scratch-XXXXXX";
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) {
    return Fail(Error{ErrorCode::kUnavailable, "cannot create a scratch database in " + pattern + ": " + std::strerror(errno)});
  }
  ::close(fd);
  Options options(pattern, false);
  options.scratch = true;
  auto store = Open(options);
  if (!store) static_cast<void>(::unlink(pattern.c_str()));
  return store;
}

StoreResult<std::string> IntegrityCheck(const std::string& path) {
  Connection conn;
  if (auto s = conn.Open(path, true); !s) return Fail(s.error());
  auto stmt = conn.Prepare("PRAGMA integrity_check");
  if (!stmt) return Fail(stmt.error());
  auto row = OneRow<std::string>(conn, *stmt, [](sqlite3_stmt* s) { return ColText(s, 0); },
                                 "integrity check");
  if (!row) return Fail(row.error());
  return row->value_or("no answer");
}

StoreResult<std::string> QueryPlan(const std::string& path, const std::string& sql) {
  Connection conn;
  if (auto s = conn.Open(path, true); !s) return Fail(s.error());
  const std::string explain = "EXPLAIN QUERY PLAN " + sql;
  auto stmt = conn.Prepare(explain.c_str());
  if (!stmt) return Fail(stmt.error());
  auto steps = Rows<std::string>(conn, *stmt, [](sqlite3_stmt* s) { return ColText(s, 3); },
                                 "query plan");
  if (!steps) return Fail(steps.error());
  std::string plan;
  for (const std::string& step : *steps) plan += step + "\n";
  return plan;
}

StoreStatus Backup(const std::string& source, const std::string& destination) {
  Connection from;
  if (auto s = from.Open(source, true); !s) return s;
  Connection to;
  if (auto s = to.Open(destination, false); !s) return s;
  sqlite3_backup* backup = sqlite3_backup_init(to.db(), "main", from.db(), "main");
  if (backup == nullptr) return Fail(MakeError(to.db(), sqlite3_errcode(to.db()), "backup"));
  int rc = SQLITE_OK;
  do {
    rc = sqlite3_backup_step(backup, 1024);
  } while (rc == SQLITE_OK || rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return Fail(MakeError(to.db(), rc, "backup"));
  return {};
}

}  // namespace registry::sqlite
