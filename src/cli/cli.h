// The `jcmreg` command-line tool: argument parsing and output only; every rule lives in the
// service and the core. Exit codes: 0 done, 1 refused by a rule, 2 usage error, 3 operational
// error (database, disk, key), 4 verification failed.
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "journal/witness.h"
#include "service/registry.h"
#include "storage/store.h"

namespace registry::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitError = 3;

// An open registry: the store, the signing key and the service.
struct Session {
  std::string db_path;
  std::string key_path;  // PATH.key and PATH.pub hold the journal's signing key.
  std::unique_ptr<Store> store;
  journal::SigningKey key;
  std::unique_ptr<service::Clock> clock;
  // Seals every committed batch of `registry` when set (journal/witness.h).
  std::unique_ptr<journal::Witness> witness;
  std::unique_ptr<service::Registry> registry;
};

// The folder of the public JCM data and the AEF nomenclature (jcm/, nomenclature/):
// $JCMREG_DATA, else ./data in a checkout, else ../share/jcmreg/data beside the installed
// program (cmake --install, the .deb).
std::string DataDir();

// Opens the database at `db_path` with its signing key; refuses a database without a key unless
// `create` (init), which makes both. Refuses a signing key that did not sign the journal's last
// entry (journal::CheckKeySignsHead). When $JCMREG_WITNESS names a witness file, a session that
// may write opens it with StartWitness.
Result<Session, std::string> OpenSession(const std::string& db_path, bool create);

// Opens the witness file at `path` for `session`'s registry, seals the head it starts on, and
// sets it on the registry. Refuses a database whose journal ends before the file's last head or
// forks from it (an older copy put back): new entries would fork the journal the witness saw.
Result<std::unique_ptr<journal::Witness>, std::string> StartWitness(
    const std::string& path, std::chrono::milliseconds sync_interval, Session& session);

// The options every subcommand takes, before or after its name: `jcmreg --db X verify`,
// `jcmreg verify --db X` and `jcmreg report aef --party JPN ... --db X` are the same. One CLI11
// parser reads the whole command line (issue 28: there were five).
struct GlobalOptions {
  std::string db;               // --db; default $JCMREG_DB or data/registry.db.
  bool db_given = false;        // --db was on the command line (set once parsed).
  bool json = false;            // --json: JSON for machines; sentences and tables otherwise.
  std::string actor = "cli";    // --actor: who acts (journaled).
  std::string idempotency_key;  // --idempotency-key: apply at most once under this key.
};

// A module's subcommands (`serve` and `user` from app/, `report`, `import`, `backup`...): adds
// them to `app`, their options bound to the module's own variables, and returns what runs them
// once the command line is parsed: the exit code when one of them was named, nullopt otherwise.
// `global` is filled in by the parse, before the runner is called.
using SubcommandRunner = std::function<std::optional<int>()>;
using SubcommandModule =
    std::function<SubcommandRunner(CLI::App& app, const GlobalOptions& global)>;
void RegisterSubcommands(SubcommandModule module);

// Options read as text and checked by the module after the parse, with its own messages (a
// port, a rate, a year...): Given() holds each one named on the command line, by its name, and a
// flag as "1".
class TextOptions {
 public:
  void Add(CLI::App* app, const std::string& name, const std::string& help);
  void AddFlag(CLI::App* app, const std::string& name, const std::string& help);
  std::map<std::string, std::string> Given() const;

 private:
  std::map<std::string, std::string> values_;  // Bound to the options: nodes never move.
  std::vector<std::pair<std::string, CLI::Option*>> options_;
};

// A parse error's exit code (after CLI11 printed it): 0 for --help, kExitUsage otherwise.
int ExitForParseError(CLI::App& app, const CLI::ParseError& error);

int RunCli(int argc, char** argv);

// Why the JCM data in `data_dir` cannot make the demo (a file missing, unreadable or not CSV), or
// "" when it can. Checked before the demo's database is created, so a bad --data leaves nothing.
std::string CheckDemoData(const std::string& data_dir);

// Builds the demo registry into `session` from the JCM data in `data_dir`; returns an exit code.
int RunDemo(Session& session, const std::string& data_dir, bool json);

// Prints a service response; returns the exit code for it.
int PrintResponse(const service::Response& response, bool json);

}  // namespace registry::cli
