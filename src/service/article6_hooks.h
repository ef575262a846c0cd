// Article 6.2 service layer: loading and saving authorization versions (documents), the hook the
// domestic movements call (retirement needs both authorizations, R-AUTH-07; an OMGE or OIMP
// cancellation may be a first transfer), and the registration of the Article 6 commands.
#pragma once

#include <optional>
#include <vector>

#include "core/authorization.h"
#include "core/ledger.h"
#include "service/command.h"
#include "service/ledger_write.h"

namespace registry::service {

// Document kinds and keys. An authorization is one document per (Party, project) whose versions
// are the authorization's versions: key "MNG:MN006".
inline constexpr const char* kAuthorizationKind = "authorization";
inline constexpr const char* kProjectKind = "project";
inline constexpr const char* kCaKind = "cooperative_approach";
inline constexpr const char* kNomenclatureKind = "nomenclature";
// One per JC issuance decision and side issued here: key "MN006:JPN:JC-DECISION-ID".
inline constexpr const char* kIssuanceDecisionKind = "issuance_decision";
// A project's Credit Allocation Form, one document per project whose versions are the form's:
// key "MN003".
inline constexpr const char* kAllocationFormKind = "allocation_form";
// A JCM project's cycle records, one document per project whose versions are its records
// (project.record): key "ID034".
inline constexpr const char* kProjectCycleKind = "project_cycle";
std::string AuthorizationKey(const PartyCode& party, const ProjectRef& project);

Json AuthorizationToJson(const Authorization& a);
CommandResult<Authorization> AuthorizationFromJson(const Json& body);

// The current version of (party, project)'s authorization, or nullopt.
CommandResult<std::optional<Authorization>> LoadAuthorization(Transaction& tx,
                                                              const PartyCode& party,
                                                              const ProjectRef& project);

// Called by the domestic movements (ledger_write.cc Move) after the parts are selected: refuses
// a retirement of an ITMO without both authorizations, and returns per part whether the moved
// piece becomes first transferred (OMGE cancellation, OIMP use or cancellation).
struct Article6Parts {
  std::vector<bool> first_transferred;  // Per part: the moved piece becomes first transferred.
  Json details = Json::array();         // Per part: {lot, itmo, first_transfer}, for the AEF.
};
// Also refuses using or cancelling an ITMO after the first transferring Party's final date for use
// or cancellation (element (c)), judged by the command's journal time.
CommandResult<Article6Parts> Article6MovementHook(Transaction& tx, const MoveRequest& request,
                                                  const std::vector<SelectedPart>& parts, const Context& ctx);

// The Article 6 checks of an international transfer's selected parts to the `acquiring` Party:
// details per part ({lot, first, last, quantity, first_transfer}, for the AEF) and, per part,
// whether the moved piece is first transferred (false for units authorized for OIMP only).
struct InternationalParts {
  Json details = Json::array();
  std::vector<bool> first;
};
CommandResult<InternationalParts> CheckInternationalParts(Transaction& tx,
                                                          const MoveRequest& request,
                                                          const std::vector<SelectedPart>& parts,
                                                          const PartyCode& acquiring);

// The AEF mitigation type of a project's units: the one its document names, else the one of its
// activity type (core/aef_actions.h).
std::string MitigationTypeOfProject(const Json& project);

// Adds the Article 6 commands: nomenclature.set, ca.define, ca.authorize, ca.assign_id,
// project.add, project.transition, authorization.add (Step 2a), authorization.change,
// issue.jcm (Step 2b + issuance), transfer.international.
void AddArticle6Commands(HandlerTable& table);

}  // namespace registry::service
