#include "storage/postgres/postgres_store.h"

#include <libpq-fe.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace registry::postgres {
namespace {

constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE documents(
  kind TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL, version BIGINT NOT NULL,
  body TEXT NOT NULL, updated BIGINT NOT NULL, PRIMARY KEY(kind, key, version));
CREATE TABLE accounts(
  id BIGINT PRIMARY KEY, registry TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL,
  name TEXT NOT NULL, holder BIGINT NOT NULL);
CREATE TABLE serials(registry TEXT COLLATE "C" PRIMARY KEY, next BIGINT NOT NULL);
CREATE TABLE lots(
  id BIGINT PRIMARY KEY, registry TEXT NOT NULL, first BIGINT NOT NULL, last BIGINT NOT NULL,
  project TEXT NOT NULL, vintage BIGINT NOT NULL, ca TEXT NOT NULL, ftp TEXT NOT NULL,
  itmo BIGINT NOT NULL, auth_id TEXT NOT NULL, auth_version BIGINT NOT NULL,
  purposes TEXT NOT NULL, mitigation TEXT NOT NULL, sector TEXT NOT NULL, activity TEXT NOT NULL,
  jc_decision TEXT NOT NULL, mon_start TEXT NOT NULL, mon_end TEXT NOT NULL,
  created BIGINT NOT NULL);
CREATE INDEX lots_serial ON lots(registry, first);
CREATE TABLE blocks(
  id BIGINT PRIMARY KEY, lot BIGINT NOT NULL, first BIGINT NOT NULL, last BIGINT NOT NULL,
  account BIGINT NOT NULL, ft BIGINT NOT NULL, parent BIGINT, created BIGINT NOT NULL,
  closed BIGINT, use_year BIGINT NOT NULL, cancel_purpose TEXT, hold BIGINT NOT NULL);
CREATE INDEX blocks_live ON blocks(account, first) WHERE closed IS NULL;
CREATE INDEX blocks_account ON blocks(account, created);
CREATE INDEX blocks_lot ON blocks(lot, first);
CREATE TABLE journal(
  seq BIGINT PRIMARY KEY, time TEXT COLLATE "C" NOT NULL, actor TEXT NOT NULL,
  idem TEXT NOT NULL, command TEXT NOT NULL, payload TEXT NOT NULL, result TEXT NOT NULL,
  prev_hash BYTEA NOT NULL, hash BYTEA NOT NULL, sig BYTEA NOT NULL);
CREATE UNIQUE INDEX journal_idem ON journal(idem) WHERE idem <> '';
CREATE INDEX journal_time ON journal(time);
)sql",
    // 2: reservations as rows (see the SQLite engine's migration 2).
    R"sql(
CREATE TABLE reservations(
  account BIGINT NOT NULL, first BIGINT NOT NULL, last BIGINT NOT NULL, proposal BIGINT NOT NULL,
  PRIMARY KEY(account, first));
INSERT INTO reservations
  SELECT (d.body::jsonb ->> 'account')::bigint,
         split_part(r.value, '-', 1)::bigint,
         (CASE WHEN strpos(r.value, '-') > 0 THEN split_part(r.value, '-', 2) ELSE r.value END)::bigint,
         (h.value ->> 'proposal')::bigint
  FROM documents d
  CROSS JOIN LATERAL jsonb_array_elements(d.body::jsonb -> 'holds') h
  CROSS JOIN LATERAL jsonb_array_elements_text(h.value -> 'ranges') r
  WHERE d.kind = 'reservation' AND d.version = (SELECT MAX(version) FROM documents e
                                                WHERE e.kind = d.kind AND e.key = d.key);
DELETE FROM documents WHERE kind = 'reservation';
)sql",
    // 3: an account's closed blocks by first serial (see the SQLite engine's migration 3).
    R"sql(
DROP INDEX IF EXISTS blocks_account;
CREATE INDEX IF NOT EXISTS blocks_closed ON blocks(account, first) WHERE closed IS NOT NULL;
)sql",
    // 4: the access generation (see the SQLite engine's migration 4).
    R"sql(
CREATE TABLE IF NOT EXISTS access_generation(value BIGINT NOT NULL);
INSERT INTO access_generation SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM access_generation);
)sql",
    // 5: an account's live blocks of one project (see the SQLite engine's migration 5).
    R"sql(
CREATE INDEX IF NOT EXISTS lots_project ON lots(project, vintage);
CREATE INDEX IF NOT EXISTS blocks_live_lot ON blocks(account, lot, first) WHERE closed IS NULL;
)sql",
    // 6: seals, one per committed batch (see the SQLite engine's migration 6).
    R"sql(
ALTER TABLE journal ADD COLUMN IF NOT EXISTS seal_first BIGINT,
                    ADD COLUMN IF NOT EXISTS seal_key BYTEA;
)sql",
};

constexpr const char* kProjectionTables[][2] = {
    {"documents", "SELECT * FROM documents ORDER BY kind, key, version"},
    {"accounts", "SELECT * FROM accounts ORDER BY id"},
    {"serials", "SELECT * FROM serials ORDER BY registry"},
    {"lots", "SELECT * FROM lots ORDER BY id"},
    {"blocks", "SELECT * FROM blocks ORDER BY id"},
    {"reservations", "SELECT * FROM reservations ORDER BY account, first"},
};

using Param = std::optional<std::string>;

// Owns a PGresult.
class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r) {}
  PgResult(PgResult&& other) noexcept : r_(std::exchange(other.r_, nullptr)) {}
  PgResult(const PgResult&) = delete;
  ~PgResult() {
    if (r_ != nullptr) PQclear(r_);
  }
  PGresult* get() const { return r_; }
  int rows() const { return PQntuples(r_); }
  bool null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col)));
  }
  int64_t integer(int row, int col) const { return std::stoll(text(row, col)); }

 private:
  PGresult* r_;
};

Error PgError(PGconn* conn, const PGresult* result, const std::string& what) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = what + ": " + (result != nullptr ? PQresultErrorMessage(result)
                                                          : PQerrorMessage(conn));
  while (!message.empty() && message.back() == '\n') message.pop_back();
  ErrorCode code = ErrorCode::kInternal;
  const std::string s = state != nullptr ? state : "";
  if (s == "40001" || s == "40P01") code = ErrorCode::kConflict;
  if (s.rfind("23", 0) == 0) code = ErrorCode::kAlreadyExists;
  if (s.rfind("08", 0) == 0 || s == "57P01" || PQstatus(conn) != CONNECTION_OK) {
    code = ErrorCode::kUnavailable;
  }
  return Error{code, std::move(message)};
}

std::string HexBytes(const uint8_t* data, size_t size) {
  static const char* kHex = "0123456789abcdef";
  std::string out = "\\x";
  for (size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
  return out;
}

template <size_t N>
void FromHexBytes(const std::string& text, std::array<uint8_t, N>& out) {
  out.fill(0);
  if (text.size() != 2 + 2 * N || text.compare(0, 2, "\\x") != 0) return;
  size_t len = 0;
  sodium_hex2bin(out.data(), N, text.data() + 2, 2 * N, nullptr, &len, nullptr);
}

class Connection {
 public:
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    if (conn_ != nullptr) PQfinish(conn_);
  }

  StoreStatus Open(const std::string& url, const std::string& schema) {
    conn_ = PQconnectdb(url.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) {
      return Fail(Error{ErrorCode::kUnavailable,
                        std::string("cannot connect to PostgreSQL: ") + PQerrorMessage(conn_)});
    }
    if (auto s = Exec("SET client_min_messages TO warning"); !s) return s;
    if (!schema.empty()) {
      // Identifiers are validated by the caller (letters, digits, underscore).
      if (auto s = Exec("CREATE SCHEMA IF NOT EXISTS " + schema); !s) {
        // Two connections racing to create the schema: one wins, the other sees it exists.
        if (auto again = Exec("SELECT 1"); !again) return s;
      }
      if (auto s = Exec("SET search_path TO " + schema); !s) return s;
    }
    return Exec("SET synchronous_commit TO on");
  }

  StoreStatus Exec(const std::string& sql) {
    PgResult r(PQexec(conn_, sql.c_str()));
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return Fail(PgError(conn_, r.get(), sql.substr(0, 48)));
    }
    return {};
  }

  // Runs a prepared statement (prepared on first use on this connection).
  StoreResult<PgResult> Query(const char* sql, const std::vector<Param>& params) {
    auto it = prepared_.find(sql);
    if (it == prepared_.end()) {
      const std::string name = "s" + std::to_string(prepared_.size());
      PgResult r(PQprepare(conn_, name.c_str(), sql, 0, nullptr));
      if (PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
        return Fail(PgError(conn_, r.get(), std::string("prepare ") + std::string(sql).substr(0, 40)));
      }
      it = prepared_.emplace(sql, name).first;
    }
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Param& p : params) values.push_back(p ? p->c_str() : nullptr);
    PgResult r(PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(values.size()),
                              values.data(), nullptr, nullptr, 0));
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      return Fail(PgError(conn_, r.get(), std::string(sql).substr(0, 48)));
    }
    return r;
  }

  PGconn* get() const { return conn_; }

  // After the server restarted, a broken connection is reset once (prepared statements are
  // per connection, so they are prepared again on first use).
  StoreStatus EnsureConnected(const std::string& schema) {
    if (PQstatus(conn_) == CONNECTION_OK) return {};
    PQreset(conn_);
    prepared_.clear();
    if (PQstatus(conn_) != CONNECTION_OK) {
      return Fail(Error{ErrorCode::kUnavailable,
                        std::string("PostgreSQL is unreachable: ") + PQerrorMessage(conn_)});
    }
    if (auto s = Exec("SET client_min_messages TO warning"); !s) return s;
    if (!schema.empty()) {
      if (auto s = Exec("SET search_path TO " + schema); !s) return s;
    }
    return {};
  }

 private:
  PGconn* conn_ = nullptr;
  std::map<std::string, std::string> prepared_;
};

Param Int(int64_t v) { return std::to_string(v); }
Param Text(const std::string& v) { return v; }
template <class T>
Param OptInt(const std::optional<T>& v) {
  return v ? Param(std::to_string(v->value)) : std::nullopt;
}

Block ReadBlock(const PgResult& r, int i) {
  Block b;
  b.id = BlockId{r.integer(i, 0)};
  b.lot = IssuanceId{r.integer(i, 1)};
  b.range = SerialRange{r.integer(i, 2), r.integer(i, 3)};
  b.account = AccountId{r.integer(i, 4)};
  b.first_transferred = r.integer(i, 5) != 0;
  if (!r.null(i, 6)) b.parent = BlockId{r.integer(i, 6)};
  b.created = Sequence{r.integer(i, 7)};
  if (!r.null(i, 8)) b.closed = Sequence{r.integer(i, 8)};
  b.use_year = static_cast<int32_t>(r.integer(i, 9));
  if (!r.null(i, 10)) b.cancellation_purpose = ParseCancellationPurpose(r.text(i, 10));
  b.held_inconsistent = r.integer(i, 11) != 0;
  return b;
}

IssuanceLot ReadLot(const PgResult& r, int i) {
  IssuanceLot l;
  l.id = IssuanceId{r.integer(i, 0)};
  l.registry = RegistryCode{r.text(i, 1)};
  l.range = SerialRange{r.integer(i, 2), r.integer(i, 3)};
  l.project = ProjectRef{r.text(i, 4)};
  l.vintage = Vintage{static_cast<int32_t>(r.integer(i, 5))};
  l.cooperative_approach = CaId{r.text(i, 6)};
  l.first_transferring_party = PartyCode{r.text(i, 7)};
  l.itmo = r.integer(i, 8) != 0;
  l.authorization_id = r.text(i, 9);
  l.authorization_version = static_cast<int32_t>(r.integer(i, 10));
  l.purposes = r.text(i, 11);
  l.mitigation_type = r.text(i, 12);
  l.sector = r.text(i, 13);
  l.activity_type = r.text(i, 14);
  l.jc_decision = r.text(i, 15);
  l.monitoring_start = r.text(i, 16);
  l.monitoring_end = r.text(i, 17);
  l.created = Sequence{r.integer(i, 18)};
  return l;
}

Account ReadAccount(const PgResult& r, int i) {
  Account a;
  a.id = AccountId{r.integer(i, 0)};
  a.registry = RegistryCode{r.text(i, 1)};
  a.type = ParseAccountType(r.text(i, 2)).value_or(AccountType::kGovernmentHolding);
  a.status = ParseAccountStatus(r.text(i, 3)).value_or(AccountStatus::kClosed);
  a.name = r.text(i, 4);
  a.holder = EntityId{r.integer(i, 5)};
  return a;
}

JournalEntry ReadEntry(const PgResult& r, int i) {
  JournalEntry e;
  e.sequence = Sequence{r.integer(i, 0)};
  e.time = r.text(i, 1);
  e.actor = r.text(i, 2);
  e.idempotency_key = r.text(i, 3);
  e.command = r.text(i, 4);
  e.payload = r.text(i, 5);
  e.result = r.text(i, 6);
  FromHexBytes(r.text(i, 7), e.prev_hash);
  FromHexBytes(r.text(i, 8), e.hash);
  // Columns 9-11: the seal, if this entry carries one (migration 6); "\\x" is an empty bytea.
  if (r.text(i, 9).size() > 2) {
    Seal seal;
    FromHexBytes(r.text(i, 9), seal.signature);
    seal.first = r.null(i, 10) ? e.sequence : Sequence{r.integer(i, 10)};
    if (!r.null(i, 11)) {
      PublicKeyBytes key{};
      FromHexBytes(r.text(i, 11), key);
      seal.key = key;
    }
    e.seal = seal;
  }
  return e;
}

Document ReadDocument(const PgResult& r, int i) {
  return Document{r.text(i, 0), r.text(i, 1), r.integer(i, 2), r.text(i, 3),
                  Sequence{r.integer(i, 4)}};
}

template <class T, class F>
StoreResult<std::vector<T>> Rows(StoreResult<PgResult> r, F read) {
  if (!r) return Fail(r.error());
  std::vector<T> out;
  out.reserve(static_cast<size_t>(r->rows()));
  for (int i = 0; i < r->rows(); ++i) out.push_back(read(*r, i));
  return out;
}

template <class T, class F>
StoreResult<std::optional<T>> OneRow(StoreResult<PgResult> r, F read) {
  if (!r) return Fail(r.error());
  if (r->rows() == 0) return std::optional<T>();
  return std::optional<T>(read(*r, 0));
}

StoreStatus Done(StoreResult<PgResult> r) {
  if (!r) return Fail(r.error());
  return {};
}

StoreResult<int64_t> NextId(Connection& c, const char* sql) {
  auto r = c.Query(sql, {});
  if (!r) return Fail(r.error());
  return r->integer(0, 0);
}

class PgTransaction final : public Transaction {
 public:
  PgTransaction(Connection* conn, bool read_only, std::function<void()> release)
      : c_(conn), read_only_(read_only), release_(std::move(release)) {}

  ~PgTransaction() override {
    if (open_) static_cast<void>(c_->Exec("ROLLBACK"));  // Not committed: roll back.
    if (release_) release_();
  }

  StoreStatus BeginTx() {
    if (auto s = c_->Exec(read_only_ ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                     : "BEGIN ISOLATION LEVEL READ COMMITTED");
        !s) {
      return s;
    }
    open_ = true;
    if (!read_only_) {
      // Writers from every server queue here: one write transaction at a time, in journal order.
      return c_->Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kWriterLockKey) + ")");
    }
    return {};
  }

  StoreResult<std::optional<Document>> GetDocument(const std::string& kind,
                                                   const std::string& key) override {
    return OneRow<Document>(c_->Query("SELECT kind, key, version, body, updated FROM documents "
                                      "WHERE kind = $1 AND key = $2 ORDER BY version DESC LIMIT 1",
                                      {Text(kind), Text(key)}),
                            ReadDocument);
  }

  StoreResult<int64_t> PutDocument(const std::string& kind, const std::string& key,
                                   const std::string& body, Sequence updated) override {
    if (auto w = Writable(); !w) return Fail(w.error());
    auto current = GetDocument(kind, key);
    if (!current) return Fail(current.error());
    const int64_t version = current->has_value() ? (*current)->version + 1 : 1;
    if (auto s = Done(c_->Query("INSERT INTO documents VALUES ($1, $2, $3, $4, $5)",
                                {Text(kind), Text(key), Int(version), Text(body),
                                 Int(updated.value)}));
        !s) {
      return Fail(s.error());
    }
    if (IsAccessKind(kind)) {
      if (auto s = Done(c_->Query("UPDATE access_generation SET value = value + 1", {})); !s) {
        return Fail(s.error());
      }
    }
    return version;
  }

  StoreResult<int64_t> AccessGeneration() override {
    auto r = c_->Query("SELECT value FROM access_generation", {});
    if (!r) return Fail(r.error());
    if (r->rows() != 1) {
      return Fail(Error{ErrorCode::kCorruption, "the access_generation table has " +
                                                    std::to_string(r->rows()) + " rows, not 1"});
    }
    return r->integer(0, 0);
  }

  StoreResult<std::vector<Document>> ListDocuments(const std::string& kind,
                                                   const std::string& after,
                                                   size_t limit) override {
    return Rows<Document>(
        c_->Query("SELECT DISTINCT ON (key) kind, key, version, body, updated FROM documents "
                  "WHERE kind = $1 AND key > $2 ORDER BY key, version DESC LIMIT $3",
                  {Text(kind), Text(after), Int(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)))}),
        ReadDocument);
  }

  StoreResult<std::vector<Document>> DocumentHistory(const std::string& kind,
                                                     const std::string& key) override {
    return Rows<Document>(c_->Query("SELECT kind, key, version, body, updated FROM documents "
                                    "WHERE kind = $1 AND key = $2 ORDER BY version",
                                    {Text(kind), Text(key)}),
                          ReadDocument);
  }

  StoreResult<std::optional<Account>> GetAccount(AccountId id) override {
    return OneRow<Account>(c_->Query("SELECT id, registry, type, status, name, holder FROM "
                                     "accounts WHERE id = $1",
                                     {Int(id.value)}),
                           ReadAccount);
  }

  StoreResult<AccountId> InsertAccount(const Account& a) override {
    if (auto w = Writable(); !w) return Fail(w.error());
    auto id = NextId(*c_, "SELECT COALESCE(MAX(id), 0) + 1 FROM accounts");
    if (!id) return Fail(id.error());
    if (auto s = Done(c_->Query("INSERT INTO accounts VALUES ($1, $2, $3, $4, $5, $6)",
                                {Int(*id), Text(a.registry.value), Text(std::string(ToString(a.type))),
                                 Text(std::string(ToString(a.status))), Text(a.name),
                                 Int(a.holder.value)}));
        !s) {
      return Fail(s.error());
    }
    return AccountId{*id};
  }

  StoreStatus SetAccountStatus(AccountId id, AccountStatus status) override {
    if (auto w = Writable(); !w) return w;
    return Done(c_->Query("UPDATE accounts SET status = $1 WHERE id = $2",
                          {Text(std::string(ToString(status))), Int(id.value)}));
  }

  StoreResult<std::vector<Account>> ListAccounts() override {
    return Rows<Account>(
        c_->Query("SELECT id, registry, type, status, name, holder FROM accounts ORDER BY id", {}),
        ReadAccount);
  }

  StoreResult<int64_t> NextSerial(const RegistryCode& registry) override {
    auto row = OneRow<int64_t>(c_->Query("SELECT next FROM serials WHERE registry = $1",
                                         {Text(registry.value)}),
                               [](const PgResult& r, int i) { return r.integer(i, 0); });
    if (!row) return Fail(row.error());
    return row->value_or(1);
  }

  StoreStatus SetNextSerial(const RegistryCode& registry, int64_t next) override {
    if (auto w = Writable(); !w) return w;
    return Done(c_->Query("INSERT INTO serials VALUES ($1, $2) ON CONFLICT(registry) DO UPDATE "
                          "SET next = EXCLUDED.next",
                          {Text(registry.value), Int(next)}));
  }

  StoreResult<IssuanceId> InsertLot(const IssuanceLot& l) override {
    if (auto w = Writable(); !w) return Fail(w.error());
    auto id = NextId(*c_, "SELECT COALESCE(MAX(id), 0) + 1 FROM lots");
    if (!id) return Fail(id.error());
    if (auto s = Done(c_->Query(
            "INSERT INTO lots VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
            "$15, $16, $17, $18, $19)",
            {Int(*id), Text(l.registry.value), Int(l.range.first), Int(l.range.last),
             Text(l.project.value), Int(l.vintage.year), Text(l.cooperative_approach.value),
             Text(l.first_transferring_party.value), Int(l.itmo ? 1 : 0), Text(l.authorization_id),
             Int(l.authorization_version), Text(l.purposes), Text(l.mitigation_type),
             Text(l.sector), Text(l.activity_type), Text(l.jc_decision), Text(l.monitoring_start),
             Text(l.monitoring_end), Int(l.created.value)}));
        !s) {
      return Fail(s.error());
    }
    return IssuanceId{*id};
  }

  StoreResult<std::optional<IssuanceLot>> GetLot(IssuanceId id) override {
    return OneRow<IssuanceLot>(c_->Query("SELECT * FROM lots WHERE id = $1", {Int(id.value)}),
                               ReadLot);
  }

  StoreResult<std::vector<IssuanceLot>> ListLots() override {
    return Rows<IssuanceLot>(c_->Query("SELECT * FROM lots ORDER BY id", {}), ReadLot);
  }

  StoreResult<std::vector<IssuanceLot>> ListLotsAfter(IssuanceId after, size_t limit) override {
    return Rows<IssuanceLot>(
        c_->Query("SELECT * FROM lots WHERE id > $1 ORDER BY id LIMIT $2",
                  {Int(after.value), Int(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)))}),
        ReadLot);
  }

  StoreResult<BlockId> InsertBlock(const Block& b) override {
    if (auto w = Writable(); !w) return Fail(w.error());
    auto id = NextId(*c_, "SELECT COALESCE(MAX(id), 0) + 1 FROM blocks");
    if (!id) return Fail(id.error());
    const Param purpose = b.cancellation_purpose
                              ? Param(std::string(ToString(*b.cancellation_purpose)))
                              : std::nullopt;
    if (auto s = Done(c_->Query(
            "INSERT INTO blocks VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            {Int(*id), Int(b.lot.value), Int(b.range.first), Int(b.range.last),
             Int(b.account.value), Int(b.first_transferred ? 1 : 0), OptInt(b.parent),
             Int(b.created.value), OptInt(b.closed), Int(b.use_year), purpose,
             Int(b.held_inconsistent ? 1 : 0)}));
        !s) {
      return Fail(s.error());
    }
    return BlockId{*id};
  }

  StoreStatus CloseBlock(BlockId id, Sequence sequence) override {
    if (auto w = Writable(); !w) return w;
    auto r = c_->Query("UPDATE blocks SET closed = $1 WHERE id = $2 AND closed IS NULL",
                       {Int(sequence.value), Int(id.value)});
    if (!r) return Fail(r.error());
    if (std::strcmp(PQcmdTuples(r->get()), "1") != 0) {
      return Fail(Error{ErrorCode::kFailedPrecondition,
                        "block " + std::to_string(id.value) + " is not live"});
    }
    return {};
  }

  StoreResult<std::optional<Block>> GetBlock(BlockId id) override {
    return OneRow<Block>(
        c_->Query("SELECT id, lot, first, last, account, ft, parent, created, closed, use_year, "
                  "cancel_purpose, hold FROM blocks WHERE id = $1",
                  {Int(id.value)}),
        ReadBlock);
  }

  StoreResult<std::vector<Block>> LiveBlocks(AccountId account, const BlockFilter& filter,
                                             size_t limit) override {
    const Param project = filter.project ? Param(filter.project->value) : std::nullopt;
    const Param vintage = filter.vintage ? Param(std::to_string(filter.vintage->year)) : std::nullopt;
    return Rows<Block>(
        c_->Query("SELECT b.id, b.lot, b.first, b.last, b.account, b.ft, b.parent, b.created, "
                  "b.closed, b.use_year, b.cancel_purpose, b.hold FROM blocks b JOIN lots l ON "
                  "l.id = b.lot WHERE b.account = $1 AND b.closed IS NULL AND ($2::text IS NULL "
                  "OR l.project = $2) AND ($3::bigint IS NULL OR l.vintage = $3) AND ($4::bigint "
                  "IS NULL OR b.lot = $4) ORDER BY b.first LIMIT $5",
                  {Int(account.value), project, vintage, OptInt(filter.lot),
                   Int(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)))}),
        ReadBlock);
  }

  StoreResult<std::vector<Block>> LiveBlocksOverlapping(AccountId account,
                                                        const RegistryCode& registry,
                                                        const SerialRange& range) override {
    static_cast<void>(registry);  // An account's registry fixes the serial space.
    return Rows<Block>(
        c_->Query("SELECT * FROM (SELECT id, lot, first, last, account, ft, parent, created, "
                  "closed, use_year, cancel_purpose, hold FROM blocks WHERE account = $1 AND "
                  "closed IS NULL AND first <= $2 ORDER BY first DESC LIMIT 1) t WHERE last >= $2 "
                  "UNION ALL SELECT id, lot, first, last, account, ft, parent, created, closed, "
                  "use_year, cancel_purpose, hold FROM blocks WHERE account = $1 AND closed IS "
                  "NULL AND first > $2 AND first <= $3",
                  {Int(account.value), Int(range.first), Int(range.last)}),
        ReadBlock);
  }

  StoreResult<std::vector<Block>> HoldingPage(AccountId account, std::optional<Sequence> at,
                                              int64_t after_first, size_t limit) override {
    const int64_t n = static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX));
    if (!at) {
      return Rows<Block>(
          c_->Query("SELECT id, lot, first, last, account, ft, parent, created, closed, use_year, "
                    "cancel_purpose, hold FROM blocks WHERE account = $1 AND closed IS NULL AND "
                    "first > $2 ORDER BY first LIMIT $3",
                    {Int(account.value), Int(after_first), Int(n)}),
          ReadBlock);
    }
    return Rows<Block>(
        c_->Query("(SELECT id, lot, first, last, account, ft, parent, created, closed, use_year, "
                  "cancel_purpose, hold FROM blocks WHERE account = $1 AND closed IS NULL AND "
                  "created <= $2 AND first > $3 ORDER BY first LIMIT $4) UNION ALL (SELECT id, "
                  "lot, first, last, account, ft, parent, created, closed, use_year, "
                  "cancel_purpose, hold FROM blocks WHERE account = $1 AND closed IS NOT NULL AND "
                  "closed > $2 AND created <= $2 AND first > $3 ORDER BY first LIMIT $4) "
                  "ORDER BY first LIMIT $4",
                  {Int(account.value), Int(at->value), Int(after_first), Int(n)}),
        ReadBlock);
  }

  StoreResult<std::pair<int64_t, int64_t>> HoldingTotal(AccountId account,
                                                        std::optional<Sequence> at) override {
    auto r = at ? c_->Query("SELECT COUNT(*), COALESCE(SUM(last - first + 1), 0) FROM (SELECT "
                            "first, last FROM blocks WHERE account = $1 AND closed IS NULL AND "
                            "created <= $2 UNION ALL SELECT first, last FROM blocks WHERE "
                            "account = $1 AND closed IS NOT NULL AND closed > $2 AND "
                            "created <= $2) AS held",
                            {Int(account.value), Int(at->value)})
                : c_->Query("SELECT COUNT(*), COALESCE(SUM(last - first + 1), 0) FROM blocks "
                            "WHERE account = $1 AND closed IS NULL",
                            {Int(account.value)});
    if (!r) return Fail(r.error());
    return std::make_pair(r->integer(0, 0), r->integer(0, 1));
  }

  StoreResult<std::vector<Block>> BlocksHoldingSerial(const RegistryCode& registry,
                                                      int64_t serial) override {
    return Rows<Block>(
        c_->Query("SELECT b.id, b.lot, b.first, b.last, b.account, b.ft, b.parent, b.created, "
                  "b.closed, b.use_year, b.cancel_purpose, b.hold FROM lots l JOIN blocks b ON "
                  "b.lot = l.id WHERE l.registry = $1 AND l.first <= $2 AND l.last >= $2 AND "
                  "b.first <= $2 AND b.last >= $2 ORDER BY b.id",
                  {Text(registry.value), Int(serial)}),
        ReadBlock);
  }

  StoreResult<std::vector<std::pair<AccountId, int64_t>>> LiveTonnesByAccount() override {
    return Rows<std::pair<AccountId, int64_t>>(
        c_->Query("SELECT account, SUM(last - first + 1)::bigint FROM blocks "
                  "WHERE closed IS NULL GROUP BY account ORDER BY account",
                  {}),
        [](const PgResult& r, int i) {
          return std::make_pair(AccountId{r.integer(i, 0)}, r.integer(i, 1));
        });
  }

  StoreResult<std::vector<Block>> ListBlocks(BlockId after, size_t limit) override {
    return Rows<Block>(
        c_->Query("SELECT id, lot, first, last, account, ft, parent, created, closed, use_year, "
                  "cancel_purpose, hold FROM blocks WHERE id > $1 ORDER BY id LIMIT $2",
                  {Int(after.value), Int(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)))}),
        ReadBlock);
  }

  // As in the SQLite engine: one account's reservations never overlap.
  StoreResult<std::vector<Reservation>> ReservationsOverlapping(AccountId account,
                                                                const SerialRange& range,
                                                                size_t limit) override {
    return Rows<Reservation>(
        c_->Query("SELECT account, first, last, proposal FROM reservations WHERE account = $1 "
                  "AND first >= COALESCE((SELECT MAX(first) FROM reservations WHERE account = $1 "
                  "AND first <= $2), $2) AND first <= $3 AND last >= $2 ORDER BY first LIMIT $4",
                  {Int(account.value), Int(range.first), Int(range.last),
                   Int(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)))}),
        [](const PgResult& r, int i) {
          return Reservation{AccountId{r.integer(i, 0)}, SerialRange{r.integer(i, 1), r.integer(i, 2)},
                             r.integer(i, 3)};
        });
  }

  StoreStatus InsertReservationRow(const Reservation& r) override {
    if (auto w = Writable(); !w) return w;
    return Done(c_->Query("INSERT INTO reservations VALUES ($1, $2, $3, $4)",
                          {Int(r.account.value), Int(r.range.first), Int(r.range.last),
                           Int(r.proposal)}));
  }

  StoreStatus DeleteReservation(AccountId account, int64_t first, int64_t proposal) override {
    if (auto w = Writable(); !w) return w;
    auto r = c_->Query("DELETE FROM reservations WHERE account = $1 AND first = $2 AND proposal = $3",
                       {Int(account.value), Int(first), Int(proposal)});
    if (!r) return Fail(r.error());
    if (std::strcmp(PQcmdTuples(r->get()), "1") != 0) {
      return Fail(ReservationMissingError(account, first, proposal));
    }
    return {};
  }

  StoreResult<bool> ReservingProposalsReach(AccountId account, int64_t count) override {
    // The subquery in ELSE (a SubPlan) runs only when the row count reaches `count`.
    auto r = c_->Query(
        "SELECT CASE WHEN (SELECT COUNT(*) FROM reservations WHERE account = $1) < $2 THEN 0 "
        "ELSE ((SELECT COUNT(DISTINCT proposal) FROM reservations WHERE account = $1) >= $2)::int "
        "END",
        {Int(account.value), Int(count)});
    if (!r) return Fail(r.error());
    return r->integer(0, 0) != 0;
  }

  StoreResult<std::optional<JournalEntry>> LastEntry() override {
    return OneRow<JournalEntry>(c_->Query("SELECT * FROM journal ORDER BY seq DESC LIMIT 1", {}),
                                ReadEntry);
  }

  StoreStatus AppendEntry(const JournalEntry& e) override {
    if (auto w = Writable(); !w) return w;
    // An entry inside a batch has an empty signature and no range or key.
    Param sig = HexBytes(nullptr, 0);
    Param first;
    Param key;
    if (e.seal.has_value()) {
      sig = HexBytes(e.seal->signature.data(), e.seal->signature.size());
      first = Int(e.seal->first.value);
      if (e.seal->key.has_value()) key = HexBytes(e.seal->key->data(), e.seal->key->size());
    }
    return Done(c_->Query(
        "INSERT INTO journal(seq, time, actor, idem, command, payload, result, prev_hash, hash, "
        "sig, seal_first, seal_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bytea, $9::bytea, "
        "$10::bytea, $11, $12::bytea)",
        {Int(e.sequence.value), Text(e.time), Text(e.actor), Text(e.idempotency_key),
         Text(e.command), Text(e.payload), Text(e.result),
         HexBytes(e.prev_hash.data(), e.prev_hash.size()), HexBytes(e.hash.data(), e.hash.size()),
         std::move(sig), std::move(first), std::move(key)}));
  }

  StoreResult<std::optional<JournalEntry>> EntryByIdempotencyKey(const std::string& key) override {
    return OneRow<JournalEntry>(
        c_->Query("SELECT * FROM journal WHERE idem = $1 AND idem <> ''", {Text(key)}), ReadEntry);
  }

  StoreResult<std::vector<JournalEntry>> ReadEntries(Sequence after, size_t limit) override {
    return Rows<JournalEntry>(
        c_->Query("SELECT * FROM journal WHERE seq > $1 ORDER BY seq LIMIT $2",
                  {Int(after.value), Int(static_cast<int64_t>(std::min<size_t>(limit, INT64_MAX)))}),
        ReadEntry);
  }

  StoreResult<Sequence> SequenceAtTime(const std::string& time) override {
    auto r = c_->Query("SELECT COALESCE(MAX(seq), 0) FROM journal WHERE time <= $1", {Text(time)});
    if (!r) return Fail(r.error());
    return Sequence{r->integer(0, 0)};
  }

  StoreStatus Savepoint() override { return c_->Exec("SAVEPOINT cmd"); }
  StoreStatus ReleaseSavepoint() override { return c_->Exec("RELEASE SAVEPOINT cmd"); }
  StoreStatus RollbackToSavepoint() override {
    if (auto s = c_->Exec("ROLLBACK TO SAVEPOINT cmd"); !s) return s;
    return c_->Exec("RELEASE SAVEPOINT cmd");
  }

  StoreStatus Commit() override {
    REGISTRY_ASSERT(open_);
    auto s = c_->Exec(read_only_ ? "ROLLBACK" : "COMMIT");
    open_ = false;  // A failed COMMIT ends the transaction too (PostgreSQL rolls it back).
    return s;
  }

 private:
  StoreStatus Writable() const {
    if (read_only_) {
      return Fail(Error{ErrorCode::kFailedPrecondition, "write in a read-only transaction"});
    }
    return {};
  }

  Connection* c_;
  bool read_only_;
  std::function<void()> release_;
  bool open_ = false;
};

class PgStore final : public Store {
 public:
  explicit PgStore(Options options) : options_(std::move(options)) {}

  StoreStatus Init() {
    if (auto s = writer_.Open(options_.url, options_.schema); !s) return s;
    return Migrate();
  }

  // A connection the server dropped (PostgreSQL restarted) is only found broken on its first
  // use, which is BEGIN: nothing was done yet, so Begin and BeginRead reconnect and try once
  // more. A server that comes back is then used by the very next request, with no 503.
  StoreResult<std::unique_ptr<Transaction>> Begin() override {
    for (int attempt = 0;; ++attempt) {
      if (auto s = writer_.EnsureConnected(options_.schema); !s) return Fail(s.error());
      auto tx = std::make_unique<PgTransaction>(&writer_, false, nullptr);
      auto s = tx->BeginTx();
      if (s) return std::unique_ptr<Transaction>(std::move(tx));
      if (attempt > 0 || s.error().code != ErrorCode::kUnavailable) return Fail(s.error());
    }
  }

  StoreResult<std::unique_ptr<Transaction>> BeginRead() override {
    for (int attempt = 0;; ++attempt) {
      std::unique_ptr<Connection> conn = TakeReader();
      if (conn == nullptr) {
        conn = std::make_unique<Connection>();
        if (auto s = conn->Open(options_.url, options_.schema); !s) return Fail(s.error());
      } else if (auto s = conn->EnsureConnected(options_.schema); !s) {
        return Fail(s.error());
      }
      Connection* raw = conn.release();
      auto tx = std::make_unique<PgTransaction>(raw, true, [this, raw] { ReturnReader(raw); });
      auto s = tx->BeginTx();
      if (s) return std::unique_ptr<Transaction>(std::move(tx));
      if (attempt > 0 || s.error().code != ErrorCode::kUnavailable) return Fail(s.error());
    }
  }

  StoreResult<std::string> ProjectionDigest() override {
    std::string out;
    for (const auto& table : kProjectionTables) {
      PgResult r(PQexec(writer_.get(), table[1]));
      if (PQresultStatus(r.get()) != PGRES_TUPLES_OK) {
        return Fail(PgError(writer_.get(), r.get(), "digest"));
      }
      crypto_hash_sha256_state state;
      crypto_hash_sha256_init(&state);
      const int columns = PQnfields(r.get());
      for (int i = 0; i < r.rows(); ++i) {
        for (int c = 0; c < columns; ++c) {
          // The same cell encoding as the SQLite engine, so digests compare across engines.
          const std::string cell = r.null(i, c) ? std::string("\x01NULL") : r.text(i, c);
          const uint64_t size = cell.size();
          crypto_hash_sha256_update(&state, reinterpret_cast<const uint8_t*>(&size), sizeof size);
          crypto_hash_sha256_update(&state, reinterpret_cast<const uint8_t*>(cell.data()), size);
        }
      }
      uint8_t hash[crypto_hash_sha256_BYTES];
      crypto_hash_sha256_final(&state, hash);
      out += std::string(table[0]) + ":" + std::to_string(r.rows()) + " rows " +
             HexBytes(hash, sizeof hash).substr(2) + "\n";
    }
    return out;
  }

 private:
  StoreStatus Migrate() {
    if (auto s = writer_.Exec("BEGIN"); !s) return s;
    // Concurrent servers starting together: the lock makes one of them migrate.
    if (auto s = writer_.Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kWriterLockKey) + ")");
        !s) {
      return s;
    }
    if (auto s = writer_.Exec("CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT)");
        !s) {
      return s;
    }
    auto r = writer_.Query("SELECT value FROM meta WHERE key = 'schema_version'", {});
    if (!r) return Fail(r.error());
    const int64_t applied = r->rows() == 0 ? 0 : r->integer(0, 0);
    constexpr int64_t kCount = static_cast<int64_t>(std::size(kMigrations));
    if (applied > kCount) {
      static_cast<void>(writer_.Exec("ROLLBACK"));
      return Fail(Error{ErrorCode::kFailedPrecondition,
                        "database schema " + std::to_string(applied) + " is newer than this program"});
    }
    for (int64_t i = applied; i < kCount; ++i) {
      if (auto s = writer_.Exec(kMigrations[i]); !s) {
        static_cast<void>(writer_.Exec("ROLLBACK"));
        return s;
      }
      if (auto s = writer_.Exec("INSERT INTO meta VALUES ('schema_version', '" +
                                std::to_string(i + 1) +
                                "') ON CONFLICT(key) DO UPDATE SET value = EXCLUDED.value");
          !s) {
        static_cast<void>(writer_.Exec("ROLLBACK"));
        return s;
      }
    }
    return writer_.Exec("COMMIT");
  }

  std::unique_ptr<Connection> TakeReader() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (readers_.empty()) return nullptr;
    std::unique_ptr<Connection> conn = std::move(readers_.back());
    readers_.pop_back();
    return conn;
  }

  void ReturnReader(Connection* conn) {
    std::lock_guard<std::mutex> lock(mutex_);
    readers_.emplace_back(conn);
  }

  Options options_;
  Connection writer_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Connection>> readers_;
};

bool ValidSchema(const std::string& schema) {
  if (schema.empty() || schema.size() > 63) return schema.empty();
  for (char c : schema) {
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

}  // namespace

bool IsPostgresUrl(const std::string& path) {
  return path.rfind("postgresql://", 0) == 0 || path.rfind("postgres://", 0) == 0;
}

StoreResult<std::unique_ptr<Store>> Open(const Options& options) {
  if (sodium_init() < 0) return Fail(Error{ErrorCode::kInternal, "libsodium failed to start"});
  if (!ValidSchema(options.schema)) {
    return Fail(Error{ErrorCode::kInvalidArgument,
                      "schema '" + options.schema + "' must be lowercase letters, digits, _"});
  }
  auto store = std::make_unique<PgStore>(options);
  if (auto s = store->Init(); !s) return Fail(s.error());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace registry::postgres
