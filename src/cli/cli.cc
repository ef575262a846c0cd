#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <sstream>

#include "cli/progress.h"
#include "core/itmo_id.h"
#include "core/limits.h"
#include "core/text.h"
#include "core/utc_time.h"
#include "service/access.h"
#include "service/due.h"
#include "service/fields.h"
#include "service/json_text.h"
#include "service/proposal.h"
#include "service/queries.h"
#include "service/verify.h"
#include "storage/postgres/postgres_store.h"
#include "storage/sqlite/sqlite_store.h"

namespace registry::cli {
namespace {

using service::Json;

std::vector<SubcommandModule>& Modules() {
  static auto* modules = new std::vector<SubcommandModule>();  // Lives for the process.
  return *modules;
}

// Set by `jcmreg key rotate`, which must open a registry whose key file is not in force to
// finish an interrupted rotation.
bool g_allow_key_not_in_force = false;
// Set by `jcmreg verify`, which needs only the public key (PATH.pub): an auditor has no secret.
bool g_public_key_only = false;

std::string DefaultDb() {
  const char* env = std::getenv("JCMREG_DB");
  return env != nullptr ? env : "data/registry.db";
}

int PrintFailure(const service::Failure& failure, bool json) {
  if (failure.refusal) {
    const CheckInfo& info = InfoOf(failure.refusal->check);
    if (json) {
      std::cout << service::DumpJsonLossy(Json{{"code", CodeOf(info.check)},
                                               {"check", std::string(info.name)},
                                               {"message", failure.refusal->message},
                                               {"rule", std::string(info.rule)}},
                                          2)
                << "\n";
    } else {
      std::cerr << "refused: " << CodeOf(info.check) << " " << info.name << ": "
                << failure.refusal->message << " (" << info.rule << ")\n";
    }
    return info.http_status == 400 || info.http_status == 413 ? kExitUsage : kExitRefused;
  }
  std::cerr << "error: " << failure.error->message << "\n";
  return kExitError;
}

int PrintResult(const service::CommandResult<Json>& result, bool json) {
  if (!result) return PrintFailure(result.error(), json);
  std::cout << service::DumpJsonLossy(*result, 2) << "\n";
  return kExitOk;
}

// Runs one command through the service.
int Run(Session& session, const std::string& command, const Json& args, const std::string& actor,
        const std::string& key, bool json) {
  service::Request request{command, args, actor, key};
  return PrintResponse(session.registry->Execute(request), json);
}

StoreResult<std::unique_ptr<Store>> Scratch() {
  return sqlite::OpenScratch();
}

// The number of journal entries (the head's sequence); 0 when it cannot be read (verify then
// says why).
int64_t JournalLength(Store& store) {
  auto tx = store.BeginRead();
  if (!tx) return 0;
  auto last = (*tx)->LastEntry();
  return last && last->has_value() ? (*last)->sequence.value : 0;
}

// `expect_heads` are SEQ:HASHHEX texts (--expect-head), `witness` a witness file (--witness):
// heads the journal must hold (journal/witness.h).
int Verify(Session& session, const std::vector<std::string>& expect_heads,
           const std::string& witness, bool json) {
  service::VerifyOptions options;
  for (const std::string& text : expect_heads) {
    const auto head = journal::ParseHead(text);
    if (!head) {
      std::cerr << "usage: --expect-head takes SEQ:HASHHEX (as `jcmreg head` prints it), not '"
                << text << "'\n";
      return kExitUsage;
    }
    options.expected_heads.push_back(*head);
  }
  if (!witness.empty()) {
    auto heads = journal::ReadWitness(witness);
    if (!heads) {
      std::cerr << "error: " << heads.error() << "\n";
      return kExitError;
    }
    options.expected_heads.insert(options.expected_heads.end(), heads->begin(), heads->end());
  }
  auto public_key = journal::LoadPublicKey(session.key_path);
  if (!public_key) {
    std::cerr << "error: " << public_key.error() << "\n";
    return kExitError;
  }
  auto integrity = postgres::IsPostgresUrl(session.db_path)
                       ? StoreResult<std::string>(std::string("ok"))
                       : sqlite::IntegrityCheck(session.db_path);
  // On a terminal, a line of progress over the journal (its head gives the total).
  const auto progress = StderrProgress("verify", "entries", JournalLength(*session.store), json);
  options.progress = [&progress](int64_t checked) { progress->Update(checked); };
  const service::VerifyReport report =
      service::Verify(*session.store, *public_key, Scratch, options);
  progress->Done();
  std::vector<std::string> problems = report.problems;
  if (!integrity || *integrity != "ok") {
    problems.insert(problems.begin(),
                    "sqlite integrity_check: " + (integrity ? *integrity : integrity.error().message));
  }
  if (json) {
    std::cout << service::DumpJsonLossy(Json{{"ok", problems.empty()},
                                             {"entries", report.entries},
                                             {"blocks", report.blocks},
                                             {"problems", problems}},
                                        2)
              << "\n";
  } else {
    for (const std::string& p : problems) std::cout << "FAIL " << p << "\n";
    std::cout << (problems.empty() ? "verify: ok" : "verify: FAILED") << " (" << report.entries
              << " journal entries, " << report.blocks << " blocks)\n";
  }
  return problems.empty() ? kExitOk : kExitRefused;
}

// "2021:1000" -> {vintage: 2021, quantity: 1000}
bool ParseVintageSpec(const std::string& spec, Json& out) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) return false;
  try {
    size_t used = 0;
    const int64_t vintage = std::stoll(spec.substr(0, colon), &used);
    if (used != colon) return false;
    const std::string q = spec.substr(colon + 1);
    const int64_t quantity = std::stoll(q, &used);
    if (used != q.size()) return false;
    out = Json{{"vintage", vintage}, {"quantity", quantity}};
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

// `jcmreg help [NAME]`: the tool's help; a subcommand's; or a registry command's fields and who
// may run it, from the tables the service enforces (service::CommandFields, RolesThatMayRun,
// NeedsFourEyes), so the help cannot drift from what a request meets.
int Help(CLI::App& app, const std::string& name, bool json) {
  if (name.empty()) {
    std::cout << app.help()
              << "\nRegistry commands (jcmreg help COMMAND; run with jcmreg exec "
                 "COMMAND JSON or POST /v1/commands/COMMAND):\n";
    for (const auto& [command, handler] : service::Handlers()) std::cout << "  " << command << "\n";
    return kExitOk;
  }
  if (service::Handlers().count(name) > 0) {
    Json fields = Json::array();
    for (std::string_view field : service::CommandFields(name)) fields.push_back(field);
    const std::vector<std::string> roles = service::RolesThatMayRun(name);
    const bool four_eyes = service::NeedsFourEyes(name);
    if (json) {
      std::cout << service::DumpJsonLossy(Json{{"command", name},
                                               {"fields", fields},
                                               {"roles", roles},
                                               {"four_eyes", four_eyes}},
                                          2)
                << "\n";
      return kExitOk;
    }
    std::cout << name << "\n  fields: ";
    for (size_t i = 0; i < fields.size(); ++i) {
      std::cout << (i > 0 ? ", " : "") << fields[i].get<std::string>();
    }
    if (fields.empty()) std::cout << "(none)";
    std::cout << "\n  who may run it: ";
    for (size_t i = 0; i < roles.size(); ++i) std::cout << (i > 0 ? ", " : "") << roles[i];
    std::cout << "\n  four-eyes: "
              << (four_eyes ? "yes: a proposal, approved by a second user" : "no")
              << "\n  run: jcmreg exec " << name << " '{...}'  or  POST /v1/commands/" << name
              << "\n";
    return kExitOk;
  }
  for (CLI::App* sub : app.get_subcommands({})) {
    if (sub->get_name() == name) {
      std::cout << sub->help();
      return kExitOk;
    }
  }
  std::cerr << "usage error: '" << name
            << "' is neither a subcommand nor a registry command (jcmreg help lists them)\n";
  return kExitUsage;
}

}  // namespace

std::string DataDir() {
  if (const char* env = std::getenv("JCMREG_DATA")) return env;
  // A checkout: the repository's data/ in the working directory.
  if (std::ifstream("data/jcm/projects.csv").good()) return "data";
  // Installed: beside the program, ../share/jcmreg/data (/usr/bin -> /usr/share; relocatable, so
  // a package unpacked into any root finds its own data).
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const std::filesystem::path installed = exe.parent_path().parent_path() / "share/jcmreg/data";
    if (std::filesystem::exists(installed / "jcm/projects.csv", ec)) return installed.string();
  }
  return "data";
}

Result<Session, std::string> OpenSession(const std::string& db_path, bool create) {
  Session session;
  session.db_path = db_path;
  // The signing key lives beside an SQLite file; for a PostgreSQL registry, at $JCMREG_KEY
  // (default data/postgres): PATH.key and PATH.pub. Every API server of one registry shares it.
  std::string key_path = db_path;
  if (postgres::IsPostgresUrl(db_path)) {
    const char* key_env = std::getenv("JCMREG_KEY");
    key_path = key_env != nullptr ? key_env : "data/postgres";
    const char* schema = std::getenv("JCMREG_PG_SCHEMA");
    auto store = postgres::Open(postgres::Options{db_path, schema != nullptr ? schema : ""});
    if (!store) return Fail(store.error().message);
    session.store = std::move(store).value();
    const bool has_key = std::filesystem::exists(journal::KeyPath(key_path));
    if (create && has_key) return Fail("a signing key already exists at " + journal::KeyPath(key_path));
    if (!create && !has_key && !g_public_key_only) {
      return Fail("no signing key at " + journal::KeyPath(key_path) + "; set JCMREG_KEY or run init");
    }
  } else {
    const bool exists = std::filesystem::exists(db_path);
    if (!create && !exists) {
      return Fail("no registry at " + db_path + "; run 'jcmreg init --db " + db_path + "' first");
    }
    if (create && exists) return Fail("a registry already exists at " + db_path);
    if (create) {
      const auto dir = std::filesystem::path(db_path).parent_path();
      if (!dir.empty()) std::filesystem::create_directories(dir);
    }
    auto store = sqlite::Open(sqlite::Options{db_path, true});
    if (!store) return Fail(store.error().message);
    session.store = std::move(store).value();
  }
  session.key_path = key_path;
  if (create) {
    const auto dir = std::filesystem::path(key_path).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir);
    session.key = journal::GenerateKey();
    if (auto saved = journal::SaveKey(key_path, session.key); !saved) return Fail(saved.error());
  } else {
    auto key = journal::LoadKey(key_path);
    if (!key && g_public_key_only && !std::filesystem::exists(journal::KeyPath(key_path))) {
      key = journal::SigningKey{};  // Never signs: verify only reads.
    }
    if (!key) return Fail(key.error());
    session.key = *key;
    // A key retired by `jcmreg key rotate` must not sign again (verify would flag its entries).
    if (!g_allow_key_not_in_force) {
      const std::string stale = journal::CheckKeyInForce(*session.store, key->public_key);
      if (!stale.empty()) return Fail(journal::KeyPath(key_path) + ": " + stale);
    }
    // Nor may a key that did not sign the journal's head (another registry's key pair copied
    // over ours): judged by the journal itself, so it holds whatever the projection says.
    if (!g_public_key_only) {
      const std::string foreign =
          journal::CheckKeySignsHead(*session.store, key->public_key, g_allow_key_not_in_force);
      if (!foreign.empty()) return Fail(journal::KeyPath(key_path) + ": " + foreign);
    }
  }
  const char* fixed = std::getenv("JCMREG_FIXED_TIME");
  if (fixed != nullptr) {
    session.clock = std::make_unique<service::FixedClock>(fixed);
  } else {
    session.clock = std::make_unique<service::SystemClock>();
  }
  session.registry =
      std::make_unique<service::Registry>(*session.store, session.key, *session.clock);
  const char* witness = std::getenv("JCMREG_WITNESS");
  if (!create && !g_public_key_only && witness != nullptr && *witness != '\0') {
    auto started = StartWitness(witness, journal::Witness::kDefaultSyncInterval, session);
    if (!started) return Fail(started.error());
    session.witness = std::move(started).value();
  }
  return session;
}

Result<std::unique_ptr<journal::Witness>, std::string> StartWitness(
    const std::string& path, std::chrono::milliseconds sync_interval, Session& session) {
  auto opened = journal::Witness::Open(path, sync_interval);
  if (!opened) return Fail(opened.error());
  std::unique_ptr<journal::Witness> witness = std::move(opened).value();
  if (witness->last()) {
    const std::string behind = journal::CheckAgainstWitness(*session.store, *witness->last());
    if (!behind.empty()) {
      return Fail(session.db_path + " against the witness file " + path + ": " + behind +
                  "; nothing written (after a deliberate restore, start a new witness file: "
                  "docs/operations.md)");
    }
  }
  auto head = journal::ReadHead(*session.store);
  if (!head) return Fail("cannot read the journal head: " + head.error().message);
  if (head->sequence > 0 && witness->last() != *head) {
    witness->Seal(*head, session.clock->Now());
    if (!witness->Sync()) return Fail("cannot sync the witness file " + path);
  }
  session.registry->SetWitness(witness.get());
  return witness;
}

void RegisterSubcommands(SubcommandModule module) { Modules().push_back(std::move(module)); }

void TextOptions::Add(CLI::App* app, const std::string& name, const std::string& help) {
  options_.emplace_back(name, app->add_option(name, values_[name], help));
}

void TextOptions::AddFlag(CLI::App* app, const std::string& name, const std::string& help) {
  values_[name] = "1";
  options_.emplace_back(name, app->add_flag(name, help));
}

std::map<std::string, std::string> TextOptions::Given() const {
  std::map<std::string, std::string> given;
  for (const auto& [name, option] : options_) {
    if (option->count() > 0) given[name] = values_.at(name);
  }
  return given;
}

int ExitForParseError(CLI::App& app, const CLI::ParseError& error) {
  return app.exit(error) == 0 ? kExitOk : kExitUsage;
}

int PrintResponse(const service::Response& response, bool json) {
  if (!response.ok()) return PrintFailure(*response.failure, json);
  Json out = response.result;
  if (json) {
    std::cout << service::DumpJsonLossy(Json{{"sequence", response.sequence.value},
                                             {"replayed", response.replayed},
                                             {"result", out}},
                                        2)
              << "\n";
  } else {
    std::cout << service::DumpJsonLossy(out, 2) << "\n"
              << "journal entry " << response.sequence.value
              << (response.replayed ? " (already applied)" : "") << "\n";
  }
  return kExitOk;
}

int RunCli(int argc, char** argv) {
  // Text only (issue 33): an argument that is not UTF-8 would be journaled as raw bytes (an
  // actor, a key, a name) and make the journal unreadable to every JSON reader.
  for (int i = 1; i < argc; ++i) {
    if (auto problem = TextProblem(argv[i], Controls::kWhitespace)) {
      std::cerr << "usage error: argument " << i << " is not valid text: " << *problem << " ("
                << CodeOf(Check::kInvalidText) << " " << InfoOf(Check::kInvalidText).name << ")\n";
      return kExitUsage;
    }
  }
  // CLI::NonNegativeNumber names its range as 0.000000 to 1.797...e308; this says 0 to 2^63-1.
  const CLI::Range kNonNegative(int64_t{0}, std::numeric_limits<int64_t>::max());
  CLI::App app{"jcmreg: the JCM registry of JCM credits and their authorization as ITMOs"};
  // Options not matched by a subcommand fall through to its parents (inherited by every
  // subcommand added below): the global options may come anywhere on the line.
  app.fallthrough();
  app.require_subcommand(1);
  GlobalOptions global;
  global.db = DefaultDb();
  CLI::Option* db_option =
      app.add_option("--db", global.db,
                     "registry database: a file or postgresql://... (default $JCMREG_DB or "
                     "data/registry.db)");
  app.add_flag("--json", global.json, "machine-readable output (JSON)");
  app.add_option("--actor", global.actor, "who is acting (journaled)");
  app.add_option("--idempotency-key", global.idempotency_key, "apply at most once under this key");
  std::vector<SubcommandRunner> runners;
  for (const SubcommandModule& module : Modules()) runners.push_back(module(app, global));
  // Short names for the global options in the code below.
  const std::string& db = global.db;
  const bool& json = global.json;
  const std::string& actor = global.actor;
  const std::string& idem = global.idempotency_key;

  auto* init = app.add_subcommand("init", "create an empty registry and its signing key");

  // Generic command: any journaled command with JSON arguments.
  std::string exec_command, exec_args = "{}";
  auto* exec = app.add_subcommand("exec", "run any registry command with JSON arguments");
  exec->add_option("command", exec_command, "e.g. transfer")->required();
  exec->add_option("args", exec_args, "JSON object");

  auto* party = app.add_subcommand("party", "Parties")->require_subcommand(1);
  std::string party_code, party_name;
  auto* party_add = party->add_subcommand("add", "add a Party");
  party_add->add_option("code", party_code, "ISO alpha-3")->required();
  party_add->add_option("name", party_name, "name")->required();
  auto* party_list = party->add_subcommand("list", "list Parties");

  auto* reg = app.add_subcommand("registry", "Party ITMO registries")->require_subcommand(1);
  std::string reg_code, reg_party, reg_name;
  auto* reg_add = reg->add_subcommand("add", "add a registry hosted on this system");
  reg_add->add_option("code", reg_code, "e.g. JPN01")->required();
  reg_add->add_option("--party", reg_party, "owning Party")->required();
  reg_add->add_option("--name", reg_name, "name")->required();
  auto* reg_list = reg->add_subcommand("list", "list registries");

  auto* entity = app.add_subcommand("entity", "entities")->require_subcommand(1);
  std::string ent_name, ent_country, ent_ident;
  auto* ent_add = entity->add_subcommand("add", "add an entity");
  ent_add->add_option("--name", ent_name, "legal name")->required();
  ent_add->add_option("--country", ent_country, "country of incorporation (alpha-3)")->required();
  ent_add->add_option("--identification", ent_ident, "identification number");
  auto* ent_list = entity->add_subcommand("list", "list entities");

  auto* account = app.add_subcommand("account", "accounts")->require_subcommand(1);
  std::string acc_registry, acc_type, acc_name, acc_status;
  int64_t acc_holder = 0, acc_id = 0;
  auto* acc_open = account->add_subcommand("open", "open an account");
  acc_open->add_option("--registry", acc_registry, "registry, e.g. JPN01")->required();
  acc_open->add_option("--type", acc_type,
                       "government_holding | entity_holding | retirement | cancellation")
      ->required();
  acc_open->add_option("--name", acc_name, "name")->required();
  acc_open->add_option("--holder", acc_holder, "entity id (entity holding accounts)");
  auto* acc_status_cmd = account->add_subcommand("status", "block, unblock or close an account");
  acc_status_cmd->add_option("account", acc_id, "account number")->required();
  acc_status_cmd->add_option("status", acc_status, "open | blocked | closed")->required();
  auto* acc_list = account->add_subcommand("list", "list accounts");

  int64_t iss_account = 0;
  std::vector<std::string> iss_vintages;
  std::string iss_project, iss_jc, iss_start, iss_end;
  auto* issue = app.add_subcommand("issue", "issue credits: one block per vintage");
  issue->add_option("--account", iss_account, "receiving holding account")->required();
  issue->add_option("--vintage", iss_vintages, "YEAR:QUANTITY, repeatable")->required();
  issue->add_option("--project", iss_project, "project reference, e.g. MN004");
  issue->add_option("--jc-decision", iss_jc, "JC issuance decision id");
  issue->add_option("--monitoring-start", iss_start, "YYYY-MM-DD");
  issue->add_option("--monitoring-end", iss_end, "YYYY-MM-DD");

  int64_t mv_from = 0, mv_to = 0, mv_quantity = 0, mv_vintage = 0, mv_year = 0;
  std::vector<std::string> mv_ranges;
  std::string mv_project, mv_purpose;
  auto add_move_options = [&](CLI::App* sub, bool to_required) {
    sub->add_option("--from", mv_from, "source account")->required();
    auto* to = sub->add_option("--to", mv_to, "destination account");
    if (to_required) to->required();
    sub->add_option("--quantity", mv_quantity, "tonnes, taken in serial order");
    sub->add_option("--range", mv_ranges, "serial range N-M, repeatable");
    sub->add_option("--project", mv_project, "only credits of this project");
    sub->add_option("--vintage", mv_vintage, "only credits of this vintage");
  };
  auto* transfer = app.add_subcommand("transfer", "transfer credits to another account");
  add_move_options(transfer, true);
  auto* retire = app.add_subcommand("retire", "retire credits: use towards an NDC (無効化)");
  add_move_options(retire, false);
  retire->add_option("--year", mv_year, "calendar year of use")->required();
  auto* cancel = app.add_subcommand("cancel", "cancel credits: any other purpose (取消し)");
  add_move_options(cancel, false);
  cancel->add_option("--purpose", mv_purpose, "oimp | omge | voluntary | other")->required();

  auto* project_cmd = app.add_subcommand("project", "JCM projects")->require_subcommand(1);
  std::string project_ref;
  auto* project_records = project_cmd->add_subcommand(
      "records", "a project's cycle records (project.record), oldest first");
  project_records->add_option("ref", project_ref, "project reference, e.g. ID034")->required();

  int64_t hold_account = 0, hold_seq = 0;
  std::string hold_date;
  auto* holdings = app.add_subcommand("holdings", "what an account holds, now or in the past");
  holdings->add_option("account", hold_account, "account number")->required();
  holdings->add_option("--as-of", hold_date, "a date YYYY-MM-DD (end of day, UTC) or time");
  holdings->add_option("--at-sequence", hold_seq, "a journal sequence")->check(kNonNegative);
  int64_t h_after = 0, h_limit = static_cast<int64_t>(kPageSizeMax);
  holdings->add_option("--after", h_after,
                       "blocks whose first serial is above this (the next_after of the last page)")
      ->check(kNonNegative);
  holdings->add_option("--limit", h_limit, "at most this many blocks (1..1000, default 1000)")
      ->check(CLI::Range(int64_t{1}, static_cast<int64_t>(kPageSizeMax)));

  std::string trace_serial, trace_registry = "JPN01";
  auto* trace = app.add_subcommand("trace", "the lineage of a serial number or ITMO identifier");
  trace->add_option("serial", trace_serial, "serial number or ITMO identifier")->required();
  trace->add_option("--registry", trace_registry, "registry of a plain serial (default JPN01)");

  int64_t j_after = 0, j_limit = 100;
  auto* journal_cmd = app.add_subcommand("journal", "read the journal");
  journal_cmd->add_option("--after", j_after, "entries after this sequence")
      ->check(kNonNegative);
  journal_cmd->add_option("--limit", j_limit, "at most this many (1..1000, default 100)")
      ->check(CLI::Range(int64_t{1}, static_cast<int64_t>(kPageSizeMax)));

  auto* verify = app.add_subcommand("verify", "verify the journal, replay it, check invariants");
  std::vector<std::string> v_expect_heads;
  std::string v_witness;
  verify->add_option("--expect-head", v_expect_heads,
                     "SEQ:HASHHEX the journal must hold (a published head; repeatable): fails on a "
                     "truncated, rolled-back or forked copy");
  verify->add_option("--witness", v_witness,
                     "a witness file (serve --witness): the journal must hold every head in it");
  auto* head_cmd = app.add_subcommand(
      "head", "print the journal head as SEQ:HASHHEX, to publish (verify --expect-head)");
  auto* lots = app.add_subcommand("lots", "list issuance lots, a page at a time");
  int64_t l_after = 0, l_limit = static_cast<int64_t>(kPageSizeMax);
  lots->add_option("--after", l_after, "lots after this id (the next_after of the last page)")
      ->check(kNonNegative);
  lots->add_option("--limit", l_limit, "at most this many (1..1000, default 1000)")
      ->check(CLI::Range(int64_t{1}, static_cast<int64_t>(kPageSizeMax)));
  auto* totals = app.add_subcommand("totals", "totals per account type per registry");
  std::string due_party, due_today;
  bool due_all = false;
  auto* due = app.add_subcommand(
      "due",
      "what is due: AEFs, initial reports, OIMP first transfers and notifications, JC "
      "shares not issued");
  due->add_option("--party", due_party, "only what this Party owes (e.g. JPN)");
  due->add_option("--today", due_today, "judge as of this date YYYY-MM-DD (default: today, UTC)");
  due->add_flag("--all", due_all, "also list what is done");
  std::string demo_data = DataDir() + "/jcm";
  auto* demo = app.add_subcommand("demo", "create a demo registry from the real JCM data");
  demo->add_option(
      "--data", demo_data,
      "folder with mongolia_issuances.csv (default " + demo_data + "; $JCMREG_DATA/jcm when set)");
  auto* checks = app.add_subcommand("checks", "print the check catalogue");
  std::string help_name;
  auto* help = app.add_subcommand("help", "help on a subcommand or a registry command's fields");
  help->add_option("name", help_name, "a subcommand (report, serve...) or a command (transfer)");
  auto* key_cmd = app.add_subcommand("key", "the journal's signing key")->require_subcommand(1);
  key_cmd->fallthrough();
  auto* key_rotate = key_cmd->add_subcommand(
      "rotate", "a new signing key, journaled under the old one (see docs/operations.md)");
  key_rotate->fallthrough();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return ExitForParseError(app, e);
  }
  global.db_given = db_option->count() > 0;
  if (help->parsed()) return Help(app, help_name, global.json);
  for (const SubcommandRunner& run : runners) {
    if (const std::optional<int> status = run()) return *status;
  }

  if (checks->parsed()) {
    Json rows = Json::array();
    for (const CheckInfo& c : CheckCatalogue()) {
      if (json) {
        rows.push_back(Json{{"code", CodeOf(c.check)}, {"check", std::string(c.name)},
                            {"http", c.http_status}, {"rule", std::string(c.rule)},
                            {"description", std::string(c.description)}});
      } else {
        std::cout << CodeOf(c.check) << "  " << c.name << "  (" << c.rule << ")\n    "
                  << c.description << "\n";
      }
    }
    if (json) std::cout << service::DumpJsonLossy(rows, 2) << "\n";
    return kExitOk;
  }

  // verify and head only read, with the public key.
  g_allow_key_not_in_force = key_rotate->parsed() || verify->parsed() || head_cmd->parsed();
  g_public_key_only = verify->parsed() || head_cmd->parsed();
  const bool creating = init->parsed() || demo->parsed();
  if (demo->parsed() && std::filesystem::exists(db)) {
    std::cerr << "error: " << db << " exists; demo builds a new registry\n";
    return kExitError;
  }
  if (demo->parsed()) {
    if (const std::string problem = CheckDemoData(demo_data); !problem.empty()) {
      std::cerr << "error: " << problem << "\n";
      return kExitError;
    }
  }
  auto session = OpenSession(db, creating);
  if (!session) {
    std::cerr << "error: " << session.error() << "\n";
    return kExitError;
  }
  Session& s = *session;
  if (init->parsed()) {
    std::cout << "created " << db << " with signing key " << journal::KeyPath(s.key_path) << "\n";
    return kExitOk;
  }
  if (demo->parsed()) return RunDemo(s, demo_data, json);
  if (key_rotate->parsed()) {
    auto rotated = journal::RotateKey(*s.store, s.key_path, s.clock->Now(), actor);
    if (!rotated) {
      std::cerr << "error: key rotate: " << rotated.error() << "\n";
      return kExitError;
    }
    const journal::Rotation& r = rotated->rotation;
    if (json) {
      std::cout << service::DumpJsonLossy(Json{{"rotation_entry", r.sequence},
                                               {"signs_from", r.sequence + 1},
                                               {"old_public_key", journal::ToHex(r.old_key)},
                                               {"new_public_key", journal::ToHex(r.new_key)},
                                               {"resumed", rotated->resumed}},
                                          2)
                << "\n";
    } else {
      std::cout << (rotated->resumed ? "completed the interrupted rotation of journal entry "
                                     : "rotated the signing key at journal entry ")
                << r.sequence << ": old " << journal::ToHex(r.old_key) << "\n  new "
                << journal::ToHex(r.new_key) << " signs from entry " << r.sequence + 1
                << "\n  " << journal::KeyPath(s.key_path)
                << " now holds the new secret key (the old one is deleted); "
                << journal::PublicKeyPath(s.key_path) << " the new public key\n"
                << "  restart every server of this registry: a running server still signs with "
                   "the old key\n";
    }
    return kExitOk;
  }
  if (exec->parsed()) {
    // As strictly as the HTTP API reads a body: no duplicate keys, NUL, BOM or bad UTF-8.
    auto args = service::ParseRequestJson(exec_args);
    if (!args) return PrintFailure(service::Failure::Of(std::move(args).error()), json);
    if (!args->is_object()) {
      std::cerr << "usage: args must be a JSON object\n";
      return kExitUsage;
    }
    return Run(s, exec_command, *args, actor, idem, json);
  }
  if (party_add->parsed()) {
    return Run(s, "party.add", {{"code", party_code}, {"name", party_name}}, actor, idem, json);
  }
  if (party_list->parsed()) return PrintResult(service::ListDocumentsJson(*s.store, "party"), json);
  if (reg_add->parsed()) {
    return Run(s, "registry.add", {{"code", reg_code}, {"party", reg_party}, {"name", reg_name}},
               actor, idem, json);
  }
  if (reg_list->parsed()) {
    return PrintResult(service::ListDocumentsJson(*s.store, "registry"), json);
  }
  if (ent_add->parsed()) {
    Json args = {{"name", ent_name}, {"country", ent_country}};
    if (!ent_ident.empty()) args["identification"] = ent_ident;
    return Run(s, "entity.add", args, actor, idem, json);
  }
  if (ent_list->parsed()) return PrintResult(service::ListDocumentsJson(*s.store, "entity"), json);
  if (acc_open->parsed()) {
    Json args = {{"registry", acc_registry}, {"type", acc_type}, {"name", acc_name}};
    if (acc_holder != 0) args["holder"] = acc_holder;
    return Run(s, "account.open", args, actor, idem, json);
  }
  if (acc_status_cmd->parsed()) {
    return Run(s, "account.set_status", {{"account", acc_id}, {"status", acc_status}}, actor, idem,
               json);
  }
  if (acc_list->parsed()) return PrintResult(service::ListAccountsJson(*s.store), json);
  if (issue->parsed()) {
    Json vintages = Json::array();
    for (const std::string& spec : iss_vintages) {
      Json line;
      if (!ParseVintageSpec(spec, line)) {
        std::cerr << "usage: --vintage takes YEAR:QUANTITY, got '" << spec << "'\n";
        return kExitUsage;
      }
      vintages.push_back(line);
    }
    Json args = {{"account", iss_account}, {"vintages", vintages}};
    if (!iss_project.empty()) args["project"] = iss_project;
    if (!iss_jc.empty()) args["jc_decision"] = iss_jc;
    if (!iss_start.empty()) args["monitoring_start"] = iss_start;
    if (!iss_end.empty()) args["monitoring_end"] = iss_end;
    return Run(s, "issue", args, actor, idem, json);
  }
  for (auto [sub, command] : {std::pair{transfer, "transfer"}, std::pair{retire, "retire"},
                              std::pair{cancel, "cancel"}}) {
    if (!sub->parsed()) continue;
    Json args = {{"from", mv_from}};
    if (mv_to != 0) args["to"] = mv_to;
    if (!mv_ranges.empty()) args["ranges"] = mv_ranges;
    if (sub->count("--quantity") > 0) args["quantity"] = mv_quantity;
    if (!mv_project.empty()) args["project"] = mv_project;
    if (mv_vintage != 0) args["vintage"] = mv_vintage;
    if (sub == retire) args["use_year"] = mv_year;
    if (sub == cancel) args["purpose"] = mv_purpose;
    return Run(s, command, args, actor, idem, json);
  }
  if (project_records->parsed()) {
    if (!ParseActivityRef(project_ref)) {
      std::cerr << "usage: '" << project_ref << "' is not a project reference like ID034\n";
      return kExitUsage;
    }
    const auto result = service::ProjectRecordsJson(*s.store, project_ref);
    if (!result || json) return PrintResult(result, json);
    // For people: one line per record, then where each monitoring period stands.
    const Json& r = *result;
    std::cout << r["project"].get<std::string>() << " (" << r["state"].get<std::string>()
              << "): " << r["records"].size() << " record(s)\n";
    for (const Json& record : r["records"]) {
      std::cout << record.value("number", int64_t{0}) << "\t" << record.value("date", "") << "\t"
                << record.value("kind", "");
      if (record.contains("withdraws")) std::cout << " of " << record.value("withdraws", "");
      if (record.contains("monitoring_period")) {
        std::cout << " " << record["monitoring_period"].value("start", "") << ".."
                  << record["monitoring_period"].value("end", "");
      }
      if (record.contains("crediting_period")) {
        std::cout << " " << record["crediting_period"].value("start", "") << ".."
                  << record["crediting_period"].value("end", "");
      }
      if (record.contains("tpe")) {
        std::cout << " by " << record.value("tpe", "") << " (" << record.value("report_ref", "")
                  << ")";
      }
      if (record.contains("jc_decision")) std::cout << " JC " << record.value("jc_decision", "");
      if (record.contains("project_state")) {
        std::cout << " [" << record["project_state"].value("from", "") << " -> "
                  << record["project_state"].value("to", "") << "]";
      }
      std::cout << "\n\t" << record["document"].value("url", "") << "\n\tsha256 "
                << record["document"].value("sha256", "") << "\n";
    }
    for (const Json& p : r["monitoring_periods"]) {
      std::cout << "monitoring period " << p.value("start", "") << ".." << p.value("end", "")
                << ": " << p.value("state", "") << "\n";
    }
    return kExitOk;
  }
  if (holdings->parsed()) {
    std::optional<Sequence> at;
    std::optional<std::string> date;
    if (holdings->count("--at-sequence") > 0) at = Sequence{hold_seq};
    if (!hold_date.empty()) date = hold_date;
    return PrintResult(service::Holdings(*s.store, AccountId{hold_account}, at, date, h_after,
                                         static_cast<size_t>(h_limit)),
                       json);
  }
  if (trace->parsed()) {
    if (const auto itmo = ParseItmoId(trace_serial)) {
      return PrintResult(service::Trace(*s.store, itmo->registry, itmo->serial), json);
    }
    const auto range = ParseSerialRange(trace_serial);
    const auto registry = ParseRegistryCode(trace_registry);
    if (!range || range->first != range->last || !registry) {
      std::cerr << "usage: '" << trace_serial
                << "' is neither a serial number nor an ITMO identifier\n";
      return kExitUsage;
    }
    return PrintResult(service::Trace(*s.store, *registry, range->first), json);
  }
  if (journal_cmd->parsed()) {
    return PrintResult(service::JournalPage(*s.store, Sequence{j_after},
                                            static_cast<size_t>(std::max<int64_t>(j_limit, 0))),
                       json);
  }
  if (verify->parsed()) return Verify(s, v_expect_heads, v_witness, json);
  if (head_cmd->parsed()) {
    auto head = journal::ReadHead(*s.store);
    if (!head) {
      std::cerr << "error: cannot read the journal head: " << head.error().message << "\n";
      return kExitError;
    }
    if (json) {
      std::cout << Json{{"sequence", head->sequence},
                        {"hash", journal::ToHex(head->hash)},
                        {"head", journal::FormatHead(*head)}}
                       .dump(2)
                << "\n";
    } else {
      std::cout << journal::FormatHead(*head) << "\n";
    }
    return kExitOk;
  }
  if (lots->parsed()) {
    return PrintResult(
        service::LotsPage(*s.store, IssuanceId{l_after}, static_cast<size_t>(l_limit)), json);
  }
  if (totals->parsed()) return PrintResult(service::TotalsByAccountType(*s.store), json);
  if (due->parsed()) {
    const std::string today =
        due_today.empty() ? service::SystemClock().Now().substr(0, 10) : due_today;
    if (!ParseCalendarDate(today)) {
      std::cerr << "usage: --today '" << today << "' is not a date YYYY-MM-DD\n";
      return kExitUsage;
    }
    if (!due_party.empty() && !ParsePartyCode(due_party)) {
      std::cerr << "usage: --party '" << due_party << "' is not a Party code like JPN\n";
      return kExitUsage;
    }
    const auto result = service::DueJson(
        *s.store, today, due_party.empty() ? std::nullopt : std::optional(due_party), due_all);
    if (!result || json) return PrintResult(result, json);
    // For people: one line per item, overdue first.
    for (const Json& item : (*result)["due"]) {
      std::cout << item["status"].get<std::string>() << "\t"
                << (item["due"].get<std::string>().empty() ? std::string("-")
                                                           : item["due"].get<std::string>())
                << "\t" << item["party"].get<std::string>() << "\t"
                << item["kind"].get<std::string>() << "\t" << item["what"].get<std::string>()
                << (item.contains("done") ? " (done " + item["done"].get<std::string>() + ")"
                                          : std::string())
                << "\n";
    }
    if ((*result)["due"].empty()) std::cout << "nothing due on " << today << "\n";
    return kExitOk;
  }
  std::cerr << app.help() << "\n";
  return kExitUsage;
}

}  // namespace registry::cli
