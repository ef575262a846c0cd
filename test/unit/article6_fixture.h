// Shared set-up of the Article 6 tests: the basic registry (JPN01 accounts 1 gov, 2 retirement,
// 3 cancellation, 4 gov2; MNG01 5 gov, 6 retirement, plus 7 cancellation opened here), the AEF
// nomenclature loaded from data/nomenclature, the JPN-MNG cooperative approach (CA0042) with both
// Parties' Step 1, and project MN101 registered with the 20/80 allocation.
#pragma once

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "core/nomenclature.h"
#include "report/aef_builder.h"
#include "service/adjustments.h"
#include "testing/test_util.h"

namespace registry::testing {

inline std::string ReadSourceFile(const std::string& relative) {
  std::ifstream in(std::string(JCM_SOURCE_DIR) + "/" + relative, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void LoadNomenclature(TestRegistry& r) {
  for (const char* list : kNomenclatureLists) {
    auto values = ParseNomenclatureCsv(ReadSourceFile(std::string("data/nomenclature/") + list + ".csv"));
    ASSERT_TRUE(values.has_value()) << list;
    r.Ok("nomenclature.set", {{"list", list}, {"values", *values}});
  }
}

inline service::Json Step1Args(const std::string& party, const std::string& registry,
                               const std::string& purposes = "NDC") {
  return {{"key", "JPN-MNG"},
          {"party", party},
          {"date", "2025-03-31"},
          {"valid_from", "2025-03-31"},
          {"purposes", purposes},
          {"regulatory_refs", {"JCM Rules of Implementation ver05.0"}},
          {"change_terms", "Changes apply only to MOs not yet first transferred, except where the "
                           "authorization rested on deliberately false information."},
          {"party_itmo_registry_id", registry},
          {"underlying_registry_ids", {"JCM"}},
          {"vintage_from", 2021},
          {"metric", "GHG"},
          {"gwp_values", "AR5"},
          {"gases", {"CO2"}},
          {"sectors", {"Energy generation"}},
          {"activity_types", {"Solar"}}};
}

inline service::Json ProjectArgs(const std::string& ref) {
  return {{"ref", ref},
          {"host_party", "MNG"},
          {"title", "Solar test project " + ref},
          {"methodology", "MN_AM003"},
          {"methodology_version", "Ver3.0"},
          {"sector", "Energy generation"},
          {"activity_type", "Solar"},
          {"participants", {"Demo Power Co., Ltd."}},
          {"allocation", {{"MNG", 20}, {"JPN", 80}}},
          {"ca_key", "JPN-MNG"},
          {"state", "validation"}};
}

inline service::Json Step2aArgs(const std::string& party, const std::string& ref,
                                const std::string& purposes = "NDC") {
  return {{"party", party},
          {"project", ref},
          {"authorization_id", party + "-" + ref + "-1"},
          {"date", "2025-06-01"},
          {"purposes", purposes},
          {"vintages", {{{"vintage", 2021}, {"quantity", 1000}}, {{"vintage", 2022}, {"quantity", 1000}}}},
          {"acquiring_parties", {"JPN"}},
          {"change_terms", {{"increase", true}, {"decrease", true}, {"revocation", true},
                            {"false_information_exception", true}}}};
}

inline void RegisterProject(TestRegistry& r, const std::string& ref) {
  r.Ok("project.add", ProjectArgs(ref));
  r.Ok("project.transition", {{"ref", ref}, {"to", "registration_requested"},
                              {"jc_decision", "JC-REQ-" + ref}, {"date", "2025-05-01"}});
  r.Ok("project.transition", {{"ref", ref}, {"to", "registered"},
                              {"jc_decision", "JC-REG-" + ref}, {"date", "2025-05-20"}});
}

// The full set-up, without any Step 2a.
inline void SetUpArticle6(TestRegistry& r) {
  SetUpBasicRegistry(r);
  r.Ok("account.open", {{"registry", "MNG01"}, {"type", "cancellation"}, {"name", "mng cancel"}});
  LoadNomenclature(r);
  // With its CARP id: ITMOs are issued only once the approach has one (6/CMA.4 annex I para 33).
  r.Ok("ca.define", {{"key", "JPN-MNG"}, {"parties", {"JPN", "MNG"}}, {"ca_id", "CA0042"}});
  r.Ok("ca.authorize", Step1Args("JPN", "JPN01"));
  r.Ok("ca.authorize", Step1Args("MNG", "MNG01"));
  RegisterProject(r, "MN101");
}

// A JC decision id not used before in this process: each decision is issued once per side.
inline std::string NextJcDecision(const std::string& ref) {
  static int n = 0;
  return "JC-ISS-" + ref + "-" + std::to_string(++n);
}

// A JC issuance of `total` with MNG's 20 % share split over vintages into MNG01 account 5.
inline service::Json IssueMngArgs(const std::string& ref, int64_t total, service::Json vintages) {
  const int64_t mng = total / 5;
  return {{"account", 5},
          {"project", ref},
          {"jc_decision", NextJcDecision(ref)},
          {"decision_date", "2026-01-10"},
          {"monitoring_start", "2019-01-01"},
          {"monitoring_end", "2023-12-31"},
          {"total", total},
          {"shares", {{"MNG", mng}, {"JPN", total - mng}}},
          {"vintages", vintages}};
}

// The Japanese side of a JC issuance: Japan's 80 % share of `total` (4/5 of it), split over
// vintages, into JPN01 account 1. For ITMO vintages it is the host's (MNG's) first transfer to
// Japan (ARCHITECTURE decision 11).
inline service::Json IssueJpnArgs(const std::string& ref, int64_t total, service::Json vintages) {
  service::Json args = IssueMngArgs(ref, total, std::move(vintages));
  args["account"] = 1;
  return args;
}

// `party`'s AEF of `year` (version 1.0), built from the store; an empty one after a failure.
inline report::AefWorkbook AefOf(TestRegistry& r, const std::string& party, int32_t year) {
  auto wb = report::BuildAef(*r.store, report::AefRequest{PartyCode{party}, year, "1.0", ""});
  EXPECT_TRUE(wb.has_value()) << (wb ? "" : wb.error().Message());
  return wb ? *wb : report::EmptyAefWorkbook();
}

// Tonnes per "kind vintage" of `party`'s corresponding-adjustment flows ("first transfer 2021",
// "use 2022", "OIMP first transfer 2021").
inline std::map<std::string, int64_t> FlowTonnes(TestRegistry& r, const std::string& party) {
  auto tx = r.store->BeginRead();
  EXPECT_TRUE(tx.has_value());
  auto flows = service::FlowsOf(**tx, PartyCode{party});
  EXPECT_TRUE(flows.has_value());
  std::map<std::string, int64_t> out;
  for (const ItmoFlow& f : *flows) {
    const std::string kind = f.kind == ItmoFlow::Kind::kUse             ? "use"
                             : f.kind == ItmoFlow::Kind::kFirstTransfer ? "first transfer"
                                                                        : "OIMP first transfer";
    out[kind + " " + std::to_string(f.vintage.year)] += f.quantity.tonnes;
  }
  return out;
}

}  // namespace registry::testing
