// Four-eyes proposals (ISSUE 4 item 3): transfers, international transfers, retirements,
// cancellations and authorization changes are proposed by one user and carried out only when a
// second user approves; the initiator can never approve.
//
// A proposal of a movement reserves its serial numbers: a quantity is resolved at proposal time
// to free (unreserved) serials of the source account, so two proposals can never spend the same
// units. How is journaled with the proposal ("quantity_rule"): "split", the split rule of a
// direct transfer (R-ID-03: the mover takes the last serials of each block), which
// Registry::Execute adds to every new proposal by quantity; absent (entries journaled before
// 2026-12-01) or "lowest", the lowest free serials, so that old journals replay as they were.
// Reservations are rows of the store (Transaction::InsertReservation), one per range, so a
// movement checks its ranges against them in O(log n) however many proposals are pending;
// rejecting or expiring a proposal releases them, and approving releases them just before the
// movement runs inside the same command.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "service/command.h"

namespace registry::service {

// The "quantity_rule" of proposals by quantity made from now on (see above).
inline constexpr const char* kQuantityRuleSplit = "split";

// The arguments of a new proposal.create by quantity that names no rule, with "quantity_rule":
// "split" added; nullopt for every other request (unchanged). Called on live requests only,
// never on a journal's replay.
std::optional<Json> WithQuantityRule(const std::string& command, const Json& args);

// True when `command` must go through a proposal (four-eyes).
bool NeedsFourEyes(const std::string& command);

// Refuses (kSerialsReserved) when any of `ranges` of `account` is reserved by a pending proposal.
CommandResult<bool> CheckNotReserved(Transaction& tx, AccountId account,
                                     const std::vector<SerialRange>& ranges);

// "proposal.create" {command, args, expires_at?}; "proposal.approve" {id};
// "proposal.reject" {id, reason?}; "proposal.expire" {id}.
void AddProposalCommands(HandlerTable& table);

// The document key of proposal `id` ("P000000000042"): keys sort in id order.
std::string ProposalKey(int64_t id);

}  // namespace registry::service
