// The registry link's rules (ARCHITECTURE decision 12; the protocol is docs/link.md): the states
// of a transfer between two installations and the reconciliation of their views of it. Pure: no
// JSON, no clock, no network. The messages themselves are service/link_message.h; sending and
// retrying them is link/.
//
// A transfer between installations is two-phase, as the Kyoto data exchange standards did it:
//
//   sender:   proposed ──(answer accepted)──────────────────────> completed
//                 │    ──(answer rejected)──────────────────────> released
//                 └─(time-out)─> terminating ─(answer accepted)─> completed
//                                            ─(answer terminated)> released
//   receiver: (none) ──transfer, its rules hold──> accepted
//                    ──transfer, a rule refuses─> rejected
//                    ──terminate──────────────────> terminated (a later transfer is answered so)
//
// The sender never ends a transfer on its own: only a signed answer of the receiver completes or
// releases it. So once both sides have ended it, its units exist in exactly one registry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/checks.h"
#include "core/serial_range.h"

namespace registry::link {

enum class SenderState { kProposed, kTerminating, kCompleted, kReleased };
enum class Outcome { kAccepted, kRejected, kTerminated };

std::string_view ToString(SenderState state);
std::string_view ToString(Outcome outcome);
std::optional<SenderState> ParseSenderState(std::string_view text);
std::optional<Outcome> ParseOutcome(std::string_view text);

// Whether the sender's transfer is still open (its units reserved in its transit account).
inline bool IsOpen(SenderState state) {
  return state == SenderState::kProposed || state == SenderState::kTerminating;
}

// The state a sender's transfer goes to on the receiver's answer `outcome`; nullopt when the
// answer cannot end it (an answer to a closed transfer, or "terminated" to one the sender never
// asked to terminate: the receiver answers "terminated" only to a terminate message, or to a
// transfer it had terminated before).
std::optional<SenderState> AfterAnswer(SenderState state, Outcome outcome);

// The units of one transfer as one side sees them: serial ranges of the originating registry.
struct LinkUnits {
  std::string registry;  // The originating registry of the serials ("THA01").
  SerialRange range;
};

// One side's view of one link transfer with one peer.
struct TransferView {
  std::string transaction;  // "THA01-57": the sending registry and its journal sequence.
  bool outgoing = false;    // This side sent it.
  // The sender's state (outgoing), or the receiver's outcome (incoming): ToString of either.
  std::string state;
  std::vector<LinkUnits> units;
};

struct Mismatch {
  Check check = Check::kLinkReconciliationMismatch;
  std::string transaction;
  std::string message;
};

struct Reconciliation {
  int64_t agreed = 0;     // Transactions both sides see ended the same way, with the same units.
  int64_t in_flight = 0;  // Open at the sender, and consistent with the receiver so far.
  std::vector<Mismatch> mismatches;
  bool clean() const { return mismatches.empty(); }
};

// Compares this side's view (`ours`) with the peer's (`theirs`) for the transfers between them:
// each outgoing transfer of one side against the incoming one of the other. A transfer one side
// completed and the other did not accept, one released that the other accepted (units in both),
// one the receiver knows and the sender does not, or units that differ, is a mismatch.
Reconciliation Reconcile(const std::vector<TransferView>& ours,
                         const std::vector<TransferView>& theirs);

// Whether a transaction id is well formed: a registry code, '-', a positive decimal sequence.
bool IsTransactionId(std::string_view id);

}  // namespace registry::link
