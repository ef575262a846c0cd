// Shared write paths of the ledger: writing an issuance and carrying out a movement. Used by the
// ledger commands and by the Article 6.2 commands that add rules around them.
#pragma once

#include <string>
#include <vector>

#include "core/ledger.h"
#include "service/command.h"

namespace registry::service {

std::string EntityKey(EntityId id);
Json AccountJson(const Account& account);
Json BlockJson(const Block& block);
Json LotJson(const IssuanceLot& lot);

// Allocates serials and writes one lot and one block per line into `account`. lots[i] carries
// the attributes of line i (its range and id are filled in here).
CommandResult<Json> WriteIssuance(Transaction& tx, const Account& account,
                                  const std::vector<IssuanceLine>& lines,
                                  std::vector<IssuanceLot> lots, const Context& ctx,
                                  const std::vector<bool>& first_transferred = {});

// A movement request parsed from arguments: {from, to?, quantity | ranges, project?, vintage?,
// use_year (retirement), purpose (cancellation)}.
struct MoveRequest {
  MovementKind kind = MovementKind::kTransfer;
  Account from;
  Account to;
  std::vector<SerialRange> ranges;
  Quantity quantity;
  BlockFilter filter;
  Destination destination;
};

CommandResult<MoveRequest> ParseMoveRequest(Transaction& tx, const Json& args,
                                            MovementKind kind);

// Selects the parts a request names (by ranges or by quantity over the filter).
CommandResult<std::vector<SelectedPart>> SelectParts(Transaction& tx, const MoveRequest& request);

// Writes a movement: closes the parts' blocks and inserts the children. Returns the result JSON.
CommandResult<Json> WriteMovement(Transaction& tx, const MoveRequest& request,
                                  const std::vector<SelectedPart>& parts,
                                  const std::vector<bool>& first_transferred, const Context& ctx);

// The whole domestic movement command: parse, select, decide, write.
// The block a movement created (`nb`), as stored by the command at `created`.
Block StoredBlock(const NewBlock& nb, Sequence created);

// Sets the hold flag (4/CMA.6 para 40; block.hold and inconsistency.record) of the selected
// parts of blocks that stay in `account`: blocks are immutable, so each is closed and written
// again, the part with the flag `hold`, the rest as it was. Returns the parts' blocks as written;
// writes nothing in a dry run.
CommandResult<Json> WriteHold(Transaction& tx, const std::vector<SelectedPart>& parts,
                              AccountId account, bool hold, const Context& ctx);

CommandResult<Json> Move(Transaction& tx, const Json& args, const Context& ctx,
                         MovementKind kind);

}  // namespace registry::service
