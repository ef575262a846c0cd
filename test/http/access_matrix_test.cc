// Every route x every role x the scopes that matter (issue 33, Build 2): who may do what, written
// here from ARCHITECTURE.md "Who uses it", independently of the server's tables, and every cell
// asserted against a real server. A route the test does not know fails the test: a new route
// must say here who may call it.
//
// A cell is "allowed" when the answer is neither 401 unauthenticated nor 403 forbidden (it may
// still be refused by a rule: the body is only as valid as an authorization check needs), and
// "denied" when it is exactly that refusal, so a route that forgets its check, or checks the
// wrong thing, fails here.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "http/api_fixture.h"
#include "service/access.h"
#include "service/command.h"

namespace registry::http {
namespace {

struct Principal {
  std::string name;  // Empty: anonymous.
  std::string role;
  std::string scope;
  std::string token;
};

// The accounts of SetUpBasicRegistry: 1-4 in JPN01 (Japan), 5-6 in MNG01 (Mongolia).
std::string RegistryOfAccount(int64_t account) { return account <= 4 ? "JPN01" : "MNG01"; }

// Whether `scope` covers what `body` touches: the account it moves from or acts on, else the
// registry or Party it names; a request naming none of them only scope *.
bool Covers(const std::string& scope, const Json& body) {
  if (scope == "*") return true;
  const auto split = scope.find(':');
  const std::string kind = scope.substr(0, split);
  const std::string value = scope.substr(split + 1);
  for (const char* field : {"from", "account"}) {
    if (body.contains(field) && body[field].is_number_integer()) {
      const int64_t account = body[field].get<int64_t>();
      const std::string registry = RegistryOfAccount(account);
      if (kind == "account") return value == std::to_string(account);
      if (kind == "registry") return value == registry;
      return value == registry.substr(0, 3);
    }
  }
  if (body.contains("registry") && body["registry"].is_string()) {
    const std::string registry = body["registry"].get<std::string>();
    if (kind == "registry") return value == registry;
    return kind == "party" && value == registry.substr(0, 3);
  }
  if (body.contains("party") && body["party"].is_string()) {
    return kind == "party" && value == body["party"].get<std::string>();
  }
  return false;
}

// Who runs each command besides administrators (ARCHITECTURE.md "Who uses it"): the focal point
// authorizes the approach, projects and quantities, keeps its Party's NDC accounting and reports
// and approves international transfers; the JC secretariat registers projects and records
// issuance decisions; an account representative moves what its account holds. Commands not
// listed: administrators only.
const std::map<std::string, std::set<std::string>>& Runners() {
  static const std::map<std::string, std::set<std::string>> kRunners = {
      {"ca.define", {"focal_point"}},
      {"ca.assign_id", {"focal_point"}},
      {"ca.authorize", {"focal_point"}},
      {"authorization.add", {"focal_point"}},
      {"authorization.change", {"focal_point"}},
      {"ndc.configure", {"focal_point"}},
      {"ndc.inventory", {"focal_point"}},
      {"ndc.finalize", {"focal_point"}},
      {"report.initial.submit", {"focal_point"}},
      {"report.aef.submit", {"focal_point"}},
      {"notification.record", {"focal_point"}},
      {"inconsistency.record", {"focal_point"}},
      {"inconsistency.correct", {"focal_point"}},
      {"report.confidential.set", {"focal_point"}},
      {"report.confidential.clear", {"focal_point"}},
      {"entity.add", {"secretariat"}},
      {"project.add", {"secretariat"}},
      {"project.transition", {"secretariat"}},
      {"project.allocation_form", {"secretariat"}},
      {"project.reversal", {"secretariat"}},
      {"project.record", {"secretariat"}},
      {"issue", {"secretariat"}},
      {"issue.jcm", {"secretariat"}},
      {"issue.itmo", {"focal_point"}},
      {"transfer", {"focal_point", "account_representative"}},
      {"transfer.international", {"focal_point", "account_representative"}},
      {"retire", {"focal_point", "account_representative"}},
      {"cancel", {"focal_point", "account_representative"}},
      // A transfer to a peer installation's registry: an international transfer.
      {"link.transfer", {"focal_point", "account_representative"}},
  };
  return kRunners;
}

bool MayRun(const std::string& role, const std::string& command) {
  if (role == "administrator") return true;
  const auto it = Runners().find(command);
  return it != Runners().end() && it->second.count(role) > 0;
}

// Who may decide (approve, reject) a proposal of `command`: who may run it, never the
// secretariat or an auditor.
bool MayDecide(const std::string& role, const std::string& command) {
  return role != "secretariat" && role != "auditor" && MayRun(role, command);
}

// The pending transfer every decision below is about (made by "initiator" before the server
// starts): 1 t from account 1 to account 4.
const Json& ProposedTransfer() {
  static const Json kArgs = {{"from", 1}, {"to", 4}, {"quantity", 1}};
  return kArgs;
}

// A body for each command that names what its scope is judged by.
Json BodyOf(const std::string& command) {
  if (command == "transfer" || command == "transfer.international" || command == "retire" ||
      command == "cancel") {
    return ProposedTransfer();
  }
  if (command == "link.transfer") return {{"from", 1}, {"registry", "THA01"}, {"account", 1}};
  if (command == "issue" || command == "issue.jcm" || command == "issue.itmo" ||
      command == "account.set_status" || command == "block.hold") {
    return {{"account", 1}};
  }
  if (command == "account.open") return {{"registry", "JPN01"}, {"type", "retirement"}};
  if (command == "registry.add") return {{"code", "JPN09"}, {"party", "JPN"}, {"name", "x"}};
  if (command.rfind("user.", 0) == 0)
    return {{"name", "victim"}, {"role", "auditor"}, {"scope", "*"}, {"reason", "test"}};
  if (command == "proposal.create") return {{"command", "transfer"}, {"args", ProposedTransfer()}};
  if (command.rfind("proposal.", 0) == 0) return {{"id", 1}};
  static const std::set<std::string> kByParty = {
      "ca.authorize",          "authorization.add",       "authorization.change",
      "ndc.configure",         "ndc.inventory",           "ndc.finalize",
      "report.initial.submit", "report.confidential.set", "report.confidential.clear",
      "report.aef.submit",     "notification.record",     "inconsistency.record",
      "inconsistency.correct"};
  if (kByParty.count(command) > 0) return {{"party", "JPN"}};
  return Json::object();  // party.add, entity.add, nomenclature.set, ca.define, project.*: none.
}

// Whether `who` may run `command` with `body`, from the tables above.
bool MayWrite(const Principal& who, const std::string& command, const Json& body) {
  if (command.rfind("user.", 0) == 0) return who.role == "administrator" && who.scope == "*";
  if (command == "proposal.create") {
    return MayRun(who.role, body["command"].get<std::string>()) && Covers(who.scope, body["args"]);
  }
  if (command == "proposal.approve" || command == "proposal.reject") {
    return MayDecide(who.role, "transfer") && Covers(who.scope, ProposedTransfer());
  }
  if (command == "proposal.expire") {
    return (MayRun(who.role, "transfer") || MayDecide(who.role, "transfer")) &&
           Covers(who.scope, ProposedTransfer());
  }
  return MayRun(who.role, command) && Covers(who.scope, body);
}

// The POST routes and the command each runs (its body is the command's, less what the path
// gives).
const std::map<std::string, std::string>& WriteRoutes() {
  static const std::map<std::string, std::string> kRoutes = {
      {"/v1/parties", "party.add"},
      {"/v1/registries", "registry.add"},
      {"/v1/entities", "entity.add"},
      {"/v1/accounts", "account.open"},
      {"/v1/accounts/{id}/status", "account.set_status"},
      {"/v1/issuances", "issue"},
      {"/v1/transfers", "transfer"},
      {"/v1/retirements", "retire"},
      {"/v1/cancellations", "cancel"},
      {"/v1/users", "user.add"},
      {"/v1/users/{name}/deactivate", "user.deactivate"},
      {"/v1/users/{name}/activate", "user.activate"},
      {"/v1/users/{name}/token", "user.token"},
      {"/v1/proposals", "proposal.create"},
      {"/v1/proposals/{id}/approve", "proposal.approve"},
      {"/v1/proposals/{id}/reject", "proposal.reject"},
      {"/v1/proposals/{id}/expire", "proposal.expire"},
  };
  return kRoutes;
}

// Who may call each GET route.
enum class Reader { kAnyone, kToken, kAccount1, kWholeRegistry, kProposal1 };
const std::map<std::string, Reader>& ReadRoutes() {
  static const std::map<std::string, Reader> kRoutes = {
      {"/healthz", Reader::kAnyone},
      {"/metrics", Reader::kAnyone},
      {"/v1/openapi.json", Reader::kAnyone},
      {"/v1/checks", Reader::kAnyone},
      {"/v1/commands", Reader::kAnyone},
      {"/v1/totals", Reader::kAnyone},
      {"/v1/parties", Reader::kAnyone},
      {"/v1/registries", Reader::kAnyone},
      {"/v1/entities", Reader::kAnyone},
      {"/v1/projects", Reader::kAnyone},
      {"/v1/projects/{ref}/records", Reader::kAnyone},
      {"/v1/authorizations", Reader::kAnyone},
      {"/v1/cooperative-approaches", Reader::kAnyone},
      {"/v1/documents/{kind}", Reader::kAnyone},
      {"/v1/documents/{kind}/{key}", Reader::kAnyone},
      {"/v1/accounts", Reader::kAnyone},
      {"/v1/lots", Reader::kAnyone},
      {"/v1/trace/{registry}/{serial}", Reader::kAnyone},
      {"/v1/reports/aef", Reader::kAnyone},
      {"/v1/reports/aef/checks", Reader::kAnyone},
      {"/v1/reports/regular", Reader::kAnyone},
      {"/v1/reports/authorization", Reader::kAnyone},
      {"/v1/reports/initial", Reader::kAnyone},
      {"/v1/reports/adjustments", Reader::kAnyone},
      {"/v1/statistics/annual", Reader::kAnyone},
      {"/v1/statistics/accounts", Reader::kAnyone},
      {"/v1/accounts/{id}", Reader::kAccount1},
      {"/v1/accounts/{id}/holdings", Reader::kAccount1},
      {"/v1/journal", Reader::kWholeRegistry},
      {"/v1/link/peers", Reader::kAnyone},
      {"/v1/link/transfers", Reader::kWholeRegistry},
      {"/v1/link/reconcile", Reader::kWholeRegistry},
      {"/v1/verify", Reader::kWholeRegistry},
      {"/v1/proposals", Reader::kToken},
      {"/v1/due", Reader::kToken},
      {"/v1/proposals/{id}", Reader::kProposal1},
  };
  return kRoutes;
}

bool MayRead(const Principal& who, Reader reader) {
  switch (reader) {
    case Reader::kAnyone:
      return true;
    case Reader::kToken:
      return !who.name.empty();
    case Reader::kAccount1:
      return !who.name.empty() && Covers(who.scope, Json{{"account", 1}});
    case Reader::kWholeRegistry:
      return !who.name.empty() && who.scope == "*";
    case Reader::kProposal1:  // What the proposal moves, or where it goes.
      return !who.name.empty() &&
             (Covers(who.scope, ProposedTransfer()) || Covers(who.scope, Json{{"account", 4}}));
  }
  return false;
}

// The path with its parameters filled: account 1, proposal 1, a project document, serial 1 of
// JPN01, the user "victim".
std::string Fill(std::string path) {
  const std::map<std::string, std::string> kValues = {
      {"{id}", "1"},     {"{kind}", "project"}, {"{key}", "MN004"}, {"{registry}", "JPN01"},
      {"{serial}", "1"}, {"{name}", "victim"},  {"{type}", "?"},    {"{ref}", "MN004"}};
  for (const auto& [name, value] : kValues) {
    for (size_t at = path.find(name); at != std::string::npos; at = path.find(name)) {
      path.replace(at, name.size(), value);
    }
  }
  return path;
}

TEST(AccessMatrix, EveryRouteEveryRoleEveryScope) {
  std::vector<Principal> who = {
      {"", "", "", ""},
      {"admin", "administrator", "*", ""},
      {"admin-jpn", "administrator", "party:JPN", ""},
      {"fp-jpn", "focal_point", "party:JPN", ""},
      {"fp-mng", "focal_point", "party:MNG", ""},
      {"fp-jpn01", "focal_point", "registry:JPN01", ""},
      {"sec", "secretariat", "*", ""},
      {"rep1", "account_representative", "account:1", ""},
      {"rep5", "account_representative", "account:5", ""},
      {"auditor", "auditor", "*", ""},
  };
  ServerOptions options;
  options.rate_per_second = 0;  // Every cell is a request; none is refused for its rate.
  Api api(options, true, [](testing::TestRegistry& r) {
    r.Ok("user.add", {{"name", "victim"},
                      {"role", "auditor"},
                      {"scope", "*"},
                      {"token_hash", service::MakeToken().hash}});
    r.Ok("proposal.create", {{"command", "transfer"}, {"args", ProposedTransfer()}}, "initiator");
  });
  who[1].token = api.admin();
  for (size_t i = 2; i < who.size(); ++i) {
    who[i].token = api.AddUser(who[i].name, who[i].role, who[i].scope);
  }

  size_t cells = 0;
  std::ostringstream wrong;
  const auto check = [&](const Principal& p, const std::string& what, bool allowed,
                         const Answer& a) {
    ++cells;
    const std::string c = a.body.is_object() ? a.body.value("check", "") : "";
    const bool denied =
        (a.status == 401 && c == "unauthenticated") || (a.status == 403 && c == "forbidden");
    const bool as_expected =
        allowed ? !denied : denied && (p.name.empty() ? a.status == 401 : a.status == 403);
    if (!as_expected) {
      wrong << what << " as "
            << (p.name.empty() ? "anonymous" : p.name + " (" + p.role + ", " + p.scope + ")")
            << ": expected " << (allowed ? "allowed" : "denied") << ", got " << a.status << " "
            << a.body.dump() << "\n";
    }
  };

  std::set<std::string> commands_run;
  for (const RouteInfo& route : api.server().Routes()) {
    if (route.method == "GET") {
      const auto it = ReadRoutes().find(route.path);
      ASSERT_NE(it, ReadRoutes().end()) << "GET " << route.path << ": say here who may read it";
      for (const Principal& p : who) {
        check(p, "GET " + route.path, MayRead(p, it->second), api.Get(Fill(route.path), p.token));
      }
      continue;
    }
    ASSERT_EQ(route.method, "POST") << route.path;
    // A peer's message is authenticated by its signature, never by a token: every role is
    // refused alike (an unsigned body); test/unit/link_test.cc and test/system cover it.
    if (route.path == "/v1/link/messages") continue;
    if (route.path == "/v1/commands/{type}") {
      for (const auto& [command, handler] : service::Handlers()) {
        static_cast<void>(handler);
        commands_run.insert(command);
        const Json body = BodyOf(command);
        for (const Principal& p : who) {
          check(p, "POST /v1/commands/" + command, MayWrite(p, command, body),
                api.Post("/v1/commands/" + command, body, p.token));
        }
      }
      continue;
    }
    const auto it = WriteRoutes().find(route.path);
    ASSERT_NE(it, WriteRoutes().end()) << "POST " << route.path << ": say here what it runs";
    const std::string& command = it->second;
    Json body = BodyOf(command);
    // What the path gives is not in the body.
    if (route.path.find("{id}") != std::string::npos)
      body.erase(body.contains("id") ? "id" : "account");
    if (route.path.find("{name}") != std::string::npos) body.erase("name");
    if (command == "user.add") body.erase("name");
    const Json judged = command == "account.set_status" ? Json{{"account", 1}}
                        : command.rfind("proposal.", 0) == 0 && command != "proposal.create"
                            ? Json{{"id", 1}}
                            : BodyOf(command);
    const std::string sent_command = command;
    for (const Principal& p : who) {
      check(p, "POST " + route.path, MayWrite(p, sent_command, judged),
            api.Post(Fill(route.path), body, p.token));
    }
  }
  // Every command of the registry was tried through the generic route.
  for (const auto& [command, roles] : Runners()) {
    static_cast<void>(roles);
    EXPECT_EQ(commands_run.count(command), 1u) << command << " is not a command any more";
  }
  EXPECT_GT(cells, 500u);
  EXPECT_EQ(wrong.str(), "") << "cells asserted: " << cells;
}

// The focal point's own acts, which the old prefix rules refused (a focal point got 403 on
// ca.authorize, its Step 1), and the secretariat's.
TEST(AccessMatrix, FocalPointsAndTheSecretariatRunTheirOwnCommands) {
  Api api;
  const std::string fp = api.AddUser("fp", service::kRoleFocalPoint, "party:JPN");
  const std::string sec = api.AddUser("sec", service::kRoleSecretariat, "*");
  const Answer step1 = api.Post("/v1/commands/ca.authorize", Json{{"party", "JPN"}}, fp);
  EXPECT_NE(step1.status, 403) << step1.body.dump();
  const Answer other = api.Post("/v1/commands/ca.authorize", Json{{"party", "MNG"}}, fp);
  ExpectError(other, 403, "forbidden");
  const Answer project = api.Post("/v1/commands/project.add", Json::object(), sec);
  EXPECT_NE(project.status, 403) << project.body.dump();
  const Answer jcm = api.Post("/v1/commands/issue.jcm", Json{{"account", 1}}, sec);
  EXPECT_NE(jcm.status, 403) << jcm.body.dump();
}

}  // namespace
}  // namespace registry::http
