// Shared set-up of the project cycle tests (issue 31 item 2): the basic registry plus Indonesia
// (Party IDN, registry IDN01 with its government account 7) and the real project ID034 of
// data/jcm/projects.csv ("Energy Saving by Introducing High Efficiency Autoclave to Infusion
// Manufacturing Factory 2", PT. Otsuka Indonesia and Otsuka Pharmaceutical Factory, Inc.,
// ID_AM028 Ver1.0, registered 18 December 2024), added in validation so that its cycle can be
// recorded from the registration request on. The allocation (50/50) is an assumption: the
// project's Credit Allocation Form is not public.
#pragma once

#include <string>

#include "testing/test_util.h"

namespace registry::testing {

inline void SetUpId034(TestRegistry& r) {
  SetUpBasicRegistry(r);
  r.Ok("party.add", {{"code", "IDN"}, {"name", "Indonesia"}});
  r.Ok("registry.add", {{"code", "IDN01"}, {"party", "IDN"}, {"name", "JCM Registry (Indonesia)"}});
  r.Ok("account.open",
       {{"registry", "IDN01"}, {"type", "government_holding"}, {"name", "idn gov"}});
  r.Ok("project.add",
       {{"ref", "ID034"},
        {"host_party", "IDN"},
        {"title",
         "Energy Saving by Introducing High Efficiency Autoclave to Infusion Manufacturing "
         "Factory 2"},
        {"methodology", "ID_AM028"},
        {"methodology_version", "Ver1.0"},
        {"participants", {"PT. Otsuka Indonesia", "Otsuka Pharmaceutical Factory, Inc."}},
        {"allocation", {{"IDN", 50}, {"JPN", 50}}},
        {"state", "validation"}});
}

// 64 hex digits standing for the SHA-256 of document `n` (any 64 hex digits are a digest here).
inline std::string Sha(int n) {
  std::string hex = std::to_string(n);
  return std::string(64 - hex.size(), 'a') + hex;
}

// A project.record of ID034 of `kind` on `date`, document number `n`, plus `extra`.
inline service::Json RecordArgs(const std::string& kind, const std::string& date, int n,
                                service::Json extra = service::Json::object()) {
  service::Json args = {{"ref", "ID034"},
                        {"kind", kind},
                        {"date", date},
                        {"document",
                         {{"sha256", Sha(n)},
                          {"url", "https://www.jcm.go.jp/id-jp/projects/ID034/" + kind + "-" +
                                      std::to_string(n) + ".pdf"}}}};
  for (const auto& [k, v] : extra.items()) args[k] = v;
  return args;
}

// ID034 through validation and registration (records 1-3), as the real project was registered
// on 18 December 2024: the validation report of a third-party entity, the registration request,
// the JC's registration.
inline void RegisterId034ByRecords(TestRegistry& r) {
  r.Ok("project.record", RecordArgs("validation_report", "2024-10-15", 1,
                                    {{"tpe", "Japan Quality Assurance Organization"},
                                     {"report_ref", "JQA-VAL-ID034"}}));
  r.Ok("project.record", RecordArgs("registration_request", "2024-10-30", 2));
  r.Ok("project.record",
       RecordArgs("registration", "2024-12-18", 3, {{"jc_decision", "ID-JC-2024-12-18-ID034"}}));
}

}  // namespace registry::testing
