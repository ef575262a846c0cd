// jcmreg backup / restore: see backup.h.
#include "cli/backup.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "service/verify.h"
#include "storage/postgres/postgres_store.h"
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
    return sqlite::OpenScratch();
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


// ---- PostgreSQL: pg_dump / pg_restore (Debian's postgresql-client).

namespace fs = std::filesystem;

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

// Lowercase letters, digits and _ (as the store requires); empty means "public".
bool ValidSchemaName(const std::string& schema) {
  if (schema.empty() || schema.size() > 63) return false;
  for (const char c : schema) {
    if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// $JCMREG_PG_BIN/NAME, else NAME on PATH, else Debian's /usr/lib/postgresql/15/bin/NAME.
std::string PgTool(const std::string& name) {
  if (const char* dir = std::getenv("JCMREG_PG_BIN"); dir != nullptr && *dir != '\0') {
    return std::string(dir) + "/" + name;
  }
  std::stringstream path(EnvOr("PATH", "/usr/bin:/bin"));
  for (std::string dir; std::getline(path, dir, ':');) {
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0) return dir + "/" + name;
  }
  return "/usr/lib/postgresql/15/bin/" + name;
}

// A private temporary directory, removed with everything in it.
class WorkDir {
 public:
  WorkDir() {
    std::string pattern = (fs::temp_directory_path() / "jcmreg-pg-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~WorkDir() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  bool ok() const { return !path_.empty(); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct ToolRun {
  int code = -1;       // exit code; -1 when it could not run or died of a signal
  std::string out;     // stdout (when not sent to a file)
  std::string err;     // stderr, trimmed
};

// Runs argv (no shell); stdout to `out_path` if given, else captured.
ToolRun RunTool(const WorkDir& work, const std::vector<std::string>& argv,
                const std::string& out_path = "") {
  ToolRun run;
  const std::string out_file = out_path.empty() ? work.File("stdout") : out_path;
  const std::string err_file = work.File("stderr");
  const pid_t pid = ::fork();
  if (pid < 0) {
    run.err = std::string("fork: ") + std::strerror(errno);
    return run;
  }
  if (pid == 0) {
    const int out = ::open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = ::open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int null = ::open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || null < 0) ::_exit(126);
    ::dup2(null, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(err, STDERR_FILENO);
    std::vector<char*> args;
    std::vector<std::string> copy = argv;
    for (std::string& a : copy) args.push_back(a.data());
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    const std::string why = "cannot run " + argv[0] + ": " + std::strerror(errno) + "\n";
    static_cast<void>(::write(STDERR_FILENO, why.data(), why.size()));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (out_path.empty()) run.out = ReadAll(out_file);
  run.err = ReadAll(err_file);
  while (!run.err.empty() && (run.err.back() == '\n' || run.err.back() == '\r')) run.err.pop_back();
  return run;
}

// One SQL query through psql; the unaligned, tuples-only output, or nullopt with `error` set.
std::optional<std::string> Psql(const WorkDir& work, const std::string& url, const std::string& sql,
                                std::string& error) {
  const ToolRun run = RunTool(work, {PgTool("psql"), "-X", "-q", "-A", "-t", "-v",
                                     "ON_ERROR_STOP=1", "-d", url, "-c", sql});
  if (run.code != 0) {
    error = "psql: " + run.err;
    return std::nullopt;
  }
  std::string out = run.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// Relations (tables, indexes, sequences...) in `schema`, or -1 with `error` set.
int64_t RelationsIn(const WorkDir& work, const std::string& url, const std::string& schema,
                    std::string& error) {
  auto out = Psql(work,
                  url,
                  "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                  "WHERE n.nspname = '" + schema + "'",
                  error);
  if (!out) return -1;
  return std::strtoll(out->c_str(), nullptr, 10);
}

// Rewrites the SQL script of pg_restore so that the objects of schema `from` are created in
// `to`: qualified names outside COPY data are renamed; the schema's own statements are dropped
// (the script creates `to` itself, after checking it is empty, in the same transaction).
bool RewriteScript(const std::string& in_path, const std::string& out_path, const std::string& from,
                   const std::string& to) {
  std::ifstream in(in_path, std::ios::binary);
  std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
  if (!in || !out) return false;
  out << "DO $jcm$ BEGIN IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = "
         "c.relnamespace WHERE n.nspname = '"
      << to << "') THEN RAISE EXCEPTION 'target schema " << to
      << " is not empty'; END IF; END $jcm$;\n"
      << "CREATE SCHEMA IF NOT EXISTS " << to << ";\n";
  const auto is_ident = [](char c) {
    return c == '_' || c == '$' || c == '"' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
  };
  const std::string plain = from + ".", quoted = "\"" + from + "\".";
  bool in_copy = false;
  for (std::string line; std::getline(in, line);) {
    if (in_copy) {
      if (line == "\\.") in_copy = false;
      out << line << "\n";
      continue;
    }
    if (line.rfind("CREATE SCHEMA ", 0) == 0 || line.rfind("ALTER SCHEMA ", 0) == 0 ||
        line.rfind("COMMENT ON SCHEMA ", 0) == 0) {
      continue;
    }
    if (line.rfind("COPY ", 0) == 0 && line.size() >= 11 &&
        line.compare(line.size() - 11, 11, "FROM stdin;") == 0) {
      in_copy = true;
    }
    std::string rewritten;
    for (size_t i = 0; i < line.size();) {
      const bool boundary = i == 0 || !is_ident(line[i - 1]);
      if (boundary && line.compare(i, quoted.size(), quoted) == 0) {
        rewritten += to + ".";
        i += quoted.size();
      } else if (boundary && line.compare(i, plain.size(), plain) == 0) {
        rewritten += to + ".";
        i += plain.size();
      } else {
        rewritten += line[i++];
      }
    }
    out << rewritten << "\n";
  }
  out.flush();
  return !in.bad() && static_cast<bool>(out);
}

bool FsyncFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// The public key (hex) in force according to the signing_key document of `schema`, or "" if
// the journal never rotated; nullopt on error.
std::optional<std::string> PgKeyInForce(const WorkDir& work, const std::string& url,
                                        const std::string& schema, std::string& error) {
  auto body = Psql(work, url,
                   "SELECT body FROM " + schema + ".documents WHERE kind = '" +
                       journal::kKeyDocumentKind + "' AND key = '" + journal::kKeyDocumentKey +
                       "' ORDER BY version DESC LIMIT 1",
                   error);
  if (!body) return std::nullopt;
  const std::string marker = "\"public_key\":\"";
  const size_t at = body->find(marker);
  if (at == std::string::npos) return std::string();
  return body->substr(at + marker.size(), 64);
}

int PgBackup(const std::string& url, const std::string& schema, const std::string& key_path,
             const std::string& out) {
  if (!ValidSchemaName(schema)) {
    std::cerr << "error: schema '" << schema << "' must be lowercase letters, digits, _\n";
    return kExitUsage;
  }
  for (const std::string& path : {out, journal::KeyPath(out), journal::PublicKeyPath(out)}) {
    if (fs::exists(path)) {
      std::cerr << "error: " << path
                << " already exists; backup never overwrites a file, remove or move it first\n";
      return kExitError;
    }
  }
  WorkDir work;
  if (!work.ok()) {
    std::cerr << "error: cannot create a temporary directory\n";
    return kExitError;
  }
  std::string error;
  auto has_journal = Psql(work, url,
                          "SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema +
                              "' AND tablename = 'journal'",
                          error);
  if (!has_journal) {
    std::cerr << "error: cannot reach " << url << ": " << error << "\n";
    return kExitError;
  }
  if (*has_journal != "1") {
    std::cerr << "error: no registry in schema " << schema << " of " << url << "\n";
    return kExitError;
  }
  auto key = journal::LoadKey(key_path);
  if (!key) {
    std::cerr << "error: " << key.error() << " (set JCMREG_KEY or --key)\n";
    return kExitError;
  }
  auto in_force = PgKeyInForce(work, url, schema, error);
  if (!in_force) {
    std::cerr << "error: " << error << "\n";
    return kExitError;
  }
  if (!in_force->empty() && *in_force != journal::ToHex(key->public_key)) {
    std::cerr << "error: " << journal::KeyPath(key_path)
              << " is not the key in force of this registry (" << in_force->substr(0, 16)
              << "...); nothing written\n";
    return kExitError;
  }
  const std::string tmp = out + ".partial";
  std::error_code ignored;
  fs::remove(tmp, ignored);
  const ToolRun dump = RunTool(work, {PgTool("pg_dump"), "--format=custom", "--schema=" + schema,
                                      "--no-owner", "--no-privileges", "--file=" + tmp, "-d", url});
  if (dump.code != 0) {
    fs::remove(tmp, ignored);
    std::cerr << "error: pg_dump failed: " << dump.err << "\n";
    return kExitError;
  }
  // The archive must read back and hold the journal's data.
  const ToolRun list = RunTool(work, {PgTool("pg_restore"), "--list", tmp});
  if (list.code != 0 || list.out.find("TABLE DATA " + schema + " journal ") == std::string::npos) {
    fs::remove(tmp, ignored);
    std::cerr << "error: the dump does not read back: " << list.err << "\n";
    return kExitError;
  }
  if (!FsyncFile(tmp) || std::rename(tmp.c_str(), out.c_str()) != 0) {
    fs::remove(tmp, ignored);
    std::cerr << "error: cannot write " << out << "\n";
    return kExitError;
  }
  if (auto s = journal::SaveKey(out, *key); !s) {
    std::cerr << "error: " << s.error() << "\n";
    return kExitError;
  }
  std::cout << "backup: " << url << " schema " << schema << " -> " << out << " (pg_dump custom "
            << "format, " << fs::file_size(out) << " bytes; key " << journal::KeyPath(out)
            << "); jcmreg restore verifies it\n";
  return kExitOk;
}

int PgRestore(const std::string& from, const std::string& url, const std::string& schema,
              const std::string& key_path) {
  if (!ValidSchemaName(schema)) {
    std::cerr << "error: schema '" << schema << "' must be lowercase letters, digits, _\n";
    return kExitUsage;
  }
  if (!fs::is_regular_file(from)) {
    std::cerr << "error: no backup at " << from << "\n";
    return kExitError;
  }
  auto trusted = journal::LoadPublicKey(from);
  if (!trusted) {
    std::cerr << "error: " << trusted.error() << " (the backup's public key); nothing restored\n";
    return kExitError;
  }
  // The key the restored registry will sign with: the one at --key if present (it must be the
  // backup's), else the backup's, installed there after a successful restore.
  std::optional<journal::SigningKey> install;
  if (fs::exists(journal::KeyPath(key_path))) {
    auto existing = journal::LoadKey(key_path);
    if (!existing) {
      std::cerr << "error: " << existing.error() << "\n";
      return kExitError;
    }
    if (existing->public_key != *trusted) {
      std::cerr << "error: " << journal::KeyPath(key_path)
                << " exists and is not the backup's key; restore with another --key / "
                   "JCMREG_KEY; nothing restored\n";
      return kExitError;
    }
  } else {
    auto key = journal::LoadKey(from);
    if (!key) {
      std::cerr << "error: " << key.error() << " (the backup's signing key); nothing restored\n";
      return kExitError;
    }
    if (key->public_key != *trusted) {
      std::cerr << "error: " << journal::KeyPath(from) << " does not match "
                << journal::PublicKeyPath(from) << "; nothing restored\n";
      return kExitError;
    }
    install = *key;
  }
  WorkDir work;
  if (!work.ok()) {
    std::cerr << "error: cannot create a temporary directory\n";
    return kExitError;
  }
  const ToolRun list = RunTool(work, {PgTool("pg_restore"), "--list", from});
  if (list.code != 0) {
    std::cerr << "error: " << from << " is not a readable pg_dump archive: " << list.err
              << "; nothing restored\n";
    return kExitError;
  }
  // The dumped schema: from the TOC line "...; 0 OID TABLE DATA <schema> journal <owner>".
  std::string source;
  {
    std::stringstream toc(list.out);
    for (std::string line; std::getline(toc, line);) {
      const size_t at = line.find(" TABLE DATA ");
      if (line.empty() || line[0] == ';' || at == std::string::npos) continue;
      std::stringstream fields(line.substr(at + 12));
      std::string name, table;
      fields >> name >> table;
      if (table == "journal") source = name;
    }
  }
  if (source.empty()) {
    std::cerr << "error: " << from << " is not a jcmreg backup (no journal table in it); "
              << "nothing restored\n";
    return kExitError;
  }
  std::string error;
  const int64_t relations = RelationsIn(work, url, schema, error);
  if (relations < 0) {
    std::cerr << "error: cannot reach " << url << ": " << error << "\n";
    return kExitError;
  }
  if (relations > 0) {
    std::cerr << "error: the target schema " << schema << " of " << url << " is not empty ("
              << relations << " tables and indexes); restore never overwrites a registry: "
              << "choose an empty schema (--schema / JCMREG_PG_SCHEMA) or drop it first\n";
    return kExitError;
  }
  auto existed = Psql(work, url,
                      "SELECT count(*) FROM pg_namespace WHERE nspname = '" + schema + "'", error);
  if (!existed) {
    std::cerr << "error: " << error << "\n";
    return kExitError;
  }
  // Everything is read and checked before anything is written: a damaged archive fails here.
  const std::string script = work.File("restore.sql"), renamed = work.File("restore-into.sql");
  const ToolRun extract = RunTool(
      work, {PgTool("pg_restore"), "--no-owner", "--no-privileges", "--file=" + script, from});
  if (extract.code != 0) {
    std::cerr << "error: cannot read the backup " << from << ": " << extract.err
              << "; nothing restored\n";
    return kExitError;
  }
  if (!RewriteScript(script, renamed, source, schema)) {
    std::cerr << "error: cannot prepare the restore script in a temporary directory\n";
    return kExitError;
  }
  const ToolRun apply = RunTool(work, {PgTool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                                       "--single-transaction", "-d", url, "-f", renamed});
  if (apply.code != 0) {
    std::cerr << "error: the backup " << from << " does not restore into schema " << schema
              << " (damaged?): " << apply.err << "; rolled back, nothing restored\n";
    return kExitError;
  }
  // Verify the restored registry against the backup's public key.
  int64_t entries = 0, blocks = 0;
  std::string problem;
  {
    auto store = postgres::Open(postgres::Options{url, schema});
    if (!store) {
      problem = "open: " + store.error().message;
    } else {
      const service::VerifyReport report = service::Verify(**store, *trusted, [] {
        return sqlite::OpenScratch();
      });
      entries = report.entries;
      blocks = report.blocks;
      if (!report.ok()) problem = report.problems.front();
    }
  }
  if (!problem.empty()) {
    // Undo: the schema was absent or empty before.
    const std::string undo =
        *existed == "0" ? "DROP SCHEMA " + schema + " CASCADE"
                        : "DO $jcm$ DECLARE t record; BEGIN FOR t IN SELECT tablename FROM "
                          "pg_tables WHERE schemaname = '" + schema +
                              "' LOOP EXECUTE 'DROP TABLE " + schema +
                              ".' || quote_ident(t.tablename) || ' CASCADE'; END LOOP; END $jcm$";
    std::string undo_error;
    const bool undone = Psql(work, url, undo, undo_error).has_value();
    std::cerr << "error: the restored registry does not verify: " << problem << "; "
              << (undone ? "the restore was removed, schema " + schema + " is as before"
                         : "could not remove it (" + undo_error + "): drop schema " + schema)
              << "\n";
    return kExitVerifyFailed;
  }
  if (install) {
    const auto dir = fs::path(key_path).parent_path();
    if (!dir.empty()) fs::create_directories(dir);
    if (auto s = journal::SaveKey(key_path, *install); !s) {
      std::cerr << "error: restored and verified, but the signing key was not installed: "
                << s.error() << "\n";
      return kExitError;
    }
  }
  std::cout << "restore: " << from << " (schema " << source << ") -> " << url << " schema "
            << schema << " (key " << journal::KeyPath(key_path) << "); verify: ok (" << entries
            << " journal entries, " << blocks << " blocks)\n";
  return kExitOk;
}

}  // namespace

int Backup(const GlobalOptions& global, const std::string& out, const std::string& schema,
           const std::string& key) {
  if (!global.db_given) {
    std::cerr << "usage error: backup needs --db: the registry to copy (a file or "
                 "postgresql://...)\n";
    return kExitUsage;
  }
  if (postgres::IsPostgresUrl(global.db)) return PgBackup(global.db, schema, key, out);
  return Copy(global.db, out, "backup");
}

int Restore(const GlobalOptions& global, const std::string& from, const std::string& schema,
            const std::string& key) {
  if (!global.db_given) {
    std::cerr << "usage error: restore needs --db: the registry to create (a file that must not "
                 "exist, or postgresql://... with an empty --schema)\n";
    return kExitUsage;
  }
  const std::string& db = global.db;
  if (postgres::IsPostgresUrl(db)) return PgRestore(from, db, schema, key);
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

// `backup --db DB --out FILE` and `restore --from FILE --db DB` (--db being the global option).
SubcommandRunner AddBackup(CLI::App& app, const GlobalOptions& global) {
  struct Args {
    std::string out, from;
    std::string schema = EnvOr("JCMREG_PG_SCHEMA", "public");
    std::string key = EnvOr("JCMREG_KEY", "data/postgres");
  };
  auto args = std::make_shared<Args>();
  CLI::App* backup = app.add_subcommand(
      "backup", "a verified online copy of a registry (--db) and its signing key");
  backup->add_option("--out", args->out, "the backup file to create (FILE, FILE.key, FILE.pub)")
      ->required();
  backup->add_option("--schema", args->schema,
                     "PostgreSQL: the registry's schema ($JCMREG_PG_SCHEMA)");
  backup->add_option("--key", args->key, "PostgreSQL: the signing key path ($JCMREG_KEY)");
  CLI::App* restore =
      app.add_subcommand("restore", "a registry (--db, created) from a backup, verified");
  restore->add_option("--from", args->from, "the backup file (with FILE.key beside it)")
      ->required();
  restore->add_option("--schema", args->schema,
                      "PostgreSQL: the empty target schema ($JCMREG_PG_SCHEMA)");
  restore->add_option("--key", args->key, "PostgreSQL: where the signing key goes ($JCMREG_KEY)");
  return [backup, restore, args, &global]() -> std::optional<int> {
    if (backup->parsed()) return Backup(global, args->out, args->schema, args->key);
    if (restore->parsed()) return Restore(global, args->from, args->schema, args->key);
    return std::nullopt;
  };
}

// The whole CLI on `jcmreg ARGV...` (argv[0] is the subcommand's name).
int RunAsJcmreg(int argc, char** argv) {
  RegisterBackupCommands();
  std::vector<char*> line = {const_cast<char*>("jcmreg")};
  line.insert(line.end(), argv, argv + argc);
  return RunCli(static_cast<int>(line.size()), line.data());
}

void RegisterBackupCommands() {
  static const bool registered = [] {
    RegisterSubcommands(AddBackup);
    return true;
  }();
  (void)registered;
}

int RunBackup(int argc, char** argv) { return RunAsJcmreg(argc, argv); }
int RunRestore(int argc, char** argv) { return RunAsJcmreg(argc, argv); }

}  // namespace registry::cli
