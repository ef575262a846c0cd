// Reversals of removals (issue 31 item 7; docs/article6.md "Removals and reversals").
//
// A project whose units are removals (a REDD+ activity, afforestation) stores carbon that can be
// released again: a fire, logging. The release is a reversal. It is recorded against the
// project (`project.reversal`), in the project's own document, so that every reader of the
// project (its page, GET /v1/projects, the regular information) sees it; it is remediated by
// cancelling units that name it (`cancel {..., purpose: "other", reversal: "KH005/1"}`), which
// the AEF reports as a cancellation ("Other cancellations") of the Party whose registry cancels.
#pragma once

#include "service/command.h"

namespace registry::service {

// What a cancellation that names a reversal remediates: checked before the movement.
struct Remediation {
  std::string project;
  int64_t reversal = 0;
  int64_t outstanding = 0;  // Tonnes of the reversal not yet remediated.
};

// Reads `args.reversal` ("REF/N") of a cancellation: nullopt when absent; refuses a malformed or
// unknown reversal, one already remediated, or a purpose other than "other".
CommandResult<std::optional<Remediation>> RemediationOf(Transaction& tx, const Json& args);

// After the cancellation moved `moved` tonnes: refuses more than outstanding (the whole command is
// refused: nothing moves), else records the remediation on the reversal.
CommandResult<Json> RecordRemediation(Transaction& tx, const Remediation& remediation,
                                      int64_t moved, int64_t from_account, const Context& ctx);

// Adds project.reversal.
void AddReversalCommands(HandlerTable& table);

}  // namespace registry::service
