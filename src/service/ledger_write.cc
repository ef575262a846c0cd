#include "service/ledger_write.h"
#include "service/proposal.h"

#include <cstdio>

#include "core/limits.h"
#include "service/adjustments.h"
#include "service/article6_hooks.h"

namespace registry::service {

std::string EntityKey(EntityId id) {
  char key[24];
  std::snprintf(key, sizeof key, "%010lld", static_cast<long long>(id.value));
  return key;
}

Json AccountJson(const Account& a) {
  Json out = {{"id", a.id.value},
              {"registry", a.registry.value},
              {"type", std::string(ToString(a.type))},
              {"status", std::string(ToString(a.status))},
              {"name", a.name}};
  if (a.holder.value != 0) out["holder"] = a.holder.value;
  return out;
}

Json BlockJson(const Block& b) {
  // Built key by key: an initializer list copies every pair (each a small JSON array) once more.
  Json out = Json::object();
  out.emplace("id", b.id.value);
  out.emplace("lot", b.lot.value);
  out.emplace("first", b.range.first);
  out.emplace("last", b.range.last);
  out.emplace("quantity", b.range.Count().tonnes);
  out.emplace("account", b.account.value);
  out.emplace("first_transferred", b.first_transferred);
  out.emplace("created", b.created.value);
  if (b.parent) out["parent"] = b.parent->value;
  if (b.closed) out["closed"] = b.closed->value;
  if (b.use_year != 0) out["use_year"] = b.use_year;
  if (b.cancellation_purpose) {
    out["cancellation_purpose"] = std::string(ToString(*b.cancellation_purpose));
  }
  if (b.held_inconsistent) out["held_inconsistent"] = true;
  return out;
}

Json LotJson(const IssuanceLot& l) {
  return Json{{"id", l.id.value},
              {"registry", l.registry.value},
              {"first", l.range.first},
              {"last", l.range.last},
              {"quantity", l.range.Count().tonnes},
              {"project", l.project.value},
              {"vintage", l.vintage.year},
              {"cooperative_approach", l.cooperative_approach.value},
              {"first_transferring_party", l.first_transferring_party.value},
              {"itmo", l.itmo},
              {"authorization_id", l.authorization_id},
              {"authorization_version", l.authorization_version},
              {"purposes", l.purposes},
              {"mitigation_type", l.mitigation_type},
              {"sector", l.sector},
              {"activity_type", l.activity_type},
              {"jc_decision", l.jc_decision},
              {"monitoring_start", l.monitoring_start},
              {"monitoring_end", l.monitoring_end},
              {"created", l.created.value}};
}

CommandResult<Json> WriteIssuance(Transaction& tx, const Account& account,
                                  const std::vector<IssuanceLine>& lines,
                                  std::vector<IssuanceLot> lots, const Context& ctx,
                                  const std::vector<bool>& first_transferred) {
  REGISTRY_ASSERT(lines.size() == lots.size());
  REGISTRY_ASSERT(first_transferred.empty() || first_transferred.size() == lots.size());
  ASSIGN_OR_RETURN(const int64_t next, Lift(tx.NextSerial(account.registry)));
  ASSIGN_OR_RETURN(const IssuanceRanges ranges, DecideIssuance(account, lines, next));
  Json blocks = Json::array();
  for (size_t i = 0; i < lines.size(); ++i) {
    IssuanceLot& lot = lots[i];
    lot.range = ranges.ranges[i];
    lot.created = ctx.sequence;
    ASSIGN_OR_RETURN(lot.id, Lift(tx.InsertLot(lot)));
    Block block;
    block.lot = lot.id;
    block.range = lot.range;
    block.account = account.id;
    block.created = ctx.sequence;
    // An OIMP-authorized ITMO whose first transfer is defined as issuance is first transferred
    // now (2/CMA.3 annex para 2(b)); the Article 6.2 issuance path decides which.
    block.first_transferred = !first_transferred.empty() && first_transferred[i];
    ASSIGN_OR_RETURN(block.id, Lift(tx.InsertBlock(block)));
    Json item = LotJson(lot);
    item["block"] = block.id.value;
    blocks.push_back(item);
  }
  RETURN_IF_ERROR(tx.SetNextSerial(account.registry, ranges.next_serial));
  return Json{{"account", account.id.value}, {"lots", blocks}};
}

namespace {

// The default destination of a retirement or cancellation: the registry's first open account of
// the needed type.
CommandResult<Account> DefaultDestination(Transaction& tx, const Account& from,
                                          MovementKind kind) {
  const AccountType type =
      kind == MovementKind::kRetirement ? AccountType::kRetirement : AccountType::kCancellation;
  ASSIGN_OR_RETURN(const std::vector<Account> accounts, Lift(tx.ListAccounts()));
  for (const Account& account : accounts) {
    if (account.registry == from.registry && account.type == type &&
        account.status == AccountStatus::kOpen) {
      return account;
    }
  }
  return Fail(Failure::Refused(Check::kUnknownAccount,
                               "registry " + from.registry.value + " has no open " +
                                   std::string(ToString(type)) + " account; name one with 'to'"));
}

CommandResult<bool> ParseDestinationDetails(const Json& args, MoveRequest& request) {
  request.destination.account = request.to.id;
  if (request.kind == MovementKind::kRetirement) {
    ASSIGN_OR_RETURN(const int64_t year, IntArg(args, "use_year"));
    if (year < kFirstItmoVintage - 30 || year > kVintageMax) {
      return Fail(Failure::Refused(Check::kFieldInvalid,
                                   "use_year " + std::to_string(year) + " is not a valid year"));
    }
    request.destination.use_year = static_cast<int32_t>(year);
  }
  if (request.kind == MovementKind::kCancellation) {
    ASSIGN_OR_RETURN(const std::string purpose_text, TextArg(args, "purpose", 16));
    const auto purpose = ParseCancellationPurpose(purpose_text);
    if (!purpose) {
      return Fail(Failure::Refused(Check::kFieldInvalid,
                                   "purpose '" + purpose_text +
                                       "' is not oimp, omge, voluntary or other"));
    }
    request.destination.cancellation_purpose = *purpose;
  }
  return true;
}

}  // namespace

CommandResult<MoveRequest> ParseMoveRequest(Transaction& tx, const Json& args,
                                            MovementKind kind) {
  MoveRequest request;
  request.kind = kind;
  ASSIGN_OR_RETURN(const int64_t from_id, IntArg(args, "from"));
  ASSIGN_OR_RETURN(const auto to_id, OptionalIntArg(args, "to"));
  ASSIGN_OR_RETURN(request.ranges, RangesArg(args, "ranges"));
  ASSIGN_OR_RETURN(const auto quantity, OptionalIntArg(args, "quantity"));
  ASSIGN_OR_RETURN(const auto project, OptionalTextArg(args, "project", 32));
  ASSIGN_OR_RETURN(const auto vintage, OptionalIntArg(args, "vintage"));
  if (request.ranges.empty() == !quantity.has_value()) {
    return Fail(Failure::Refused(Check::kFieldMissing,
                                 "give exactly one of 'quantity' or 'ranges'"));
  }
  if (!request.ranges.empty() && (project || vintage)) {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "'project' and 'vintage' filter a quantity, not serial ranges"));
  }
  request.quantity = Quantity{quantity.value_or(0)};
  if (project) {
    const auto ref = ParseActivityRef(*project);
    if (!ref) {
      return Fail(Failure::Refused(
          Check::kFieldInvalid,
          "project '" + *project + "' is not an activity reference like TH014 or BKK-EBUS-1"));
    }
    request.filter.project = *ref;
  }
  if (vintage) request.filter.vintage = Vintage{static_cast<int32_t>(*vintage)};
  ASSIGN_OR_RETURN(request.from, LoadAccount(tx, AccountId{from_id}));
  if (to_id) {
    ASSIGN_OR_RETURN(request.to, LoadAccount(tx, AccountId{*to_id}));
  } else if (kind == MovementKind::kTransfer) {
    return Fail(Failure::Refused(Check::kFieldMissing, "field 'to' is required"));
  } else {
    ASSIGN_OR_RETURN(request.to, DefaultDestination(tx, request.from, kind));
  }
  RETURN_IF_ERROR(ParseDestinationDetails(args, request));
  return request;
}

CommandResult<std::vector<SelectedPart>> SelectParts(Transaction& tx, const MoveRequest& request) {
  if (!request.ranges.empty()) {
    std::vector<Block> candidates;
    for (const SerialRange& range : request.ranges) {
      if (!range.IsValid()) break;  // SelectRanges names the invalid range.
      ASSIGN_OR_RETURN(auto found, Lift(tx.LiveBlocksOverlapping(request.from.id,
                                                                 request.from.registry, range)));
      for (Block& block : found) {
        bool seen = false;
        for (const Block& c : candidates) seen = seen || c.id == block.id;
        if (!seen) candidates.push_back(std::move(block));
      }
      if (candidates.size() > kBlocksPerMovementMax) break;
    }
    return Lift(SelectRanges(request.ranges, candidates));
  }
  if (request.quantity.tonnes <= 0) return Lift(SelectQuantity(request.quantity, {}));
  // Blocks are at least one tonne, so at most `quantity` blocks are needed; the limit keeps the
  // read bounded whatever the account holds.
  const size_t limit = static_cast<size_t>(
      std::min<int64_t>(request.quantity.tonnes, static_cast<int64_t>(kBlocksPerMovementMax) + 1));
  ASSIGN_OR_RETURN(auto candidates, Lift(tx.LiveBlocks(request.from.id, request.filter, limit)));
  if (candidates.size() > kBlocksPerMovementMax) {
    int64_t total = 0;
    for (size_t i = 0; i < kBlocksPerMovementMax; ++i) total += candidates[i].range.Count().tonnes;
    if (total < request.quantity.tonnes) {
      return Fail(Failure::Refused(Check::kTooManyItems,
                                   "the quantity spans more than " +
                                       std::to_string(kBlocksPerMovementMax) +
                                       " blocks; move it in parts"));
    }
  }
  return Lift(SelectQuantity(request.quantity, std::move(candidates)));
}

CommandResult<Json> WriteMovement(Transaction& tx, const MoveRequest& request,
                                  const std::vector<SelectedPart>& parts,
                                  const std::vector<bool>& first_transferred, const Context& ctx) {
  // Serials reserved by a pending proposal move only through that proposal's approval, which
  // releases them first (service/proposal.h).
  std::vector<SerialRange> moving;
  for (const SelectedPart& part : parts) moving.push_back(part.moved);
  RETURN_IF_ERROR(CheckNotReserved(tx, request.from.id, moving));
  const Movement movement = BuildMovement(parts, request.destination, first_transferred);
  Json result = Json::object();
  result.emplace("from", request.from.id.value);
  result.emplace("to", request.to.id.value);
  result.emplace("quantity", movement.moved.tonnes);
  if (ctx.dry_run) return result;  // Every check is behind us (service/command.h).
  for (const BlockId& id : movement.closed) {
    RETURN_IF_ERROR(tx.CloseBlock(id, ctx.sequence));
  }
  Json moved = Json::array();
  for (const NewBlock& nb : movement.created) {
    Block block = StoredBlock(nb, ctx.sequence);
    ASSIGN_OR_RETURN(block.id, Lift(tx.InsertBlock(block)));
    if (block.account == request.to.id) moved.push_back(BlockJson(block));
  }
  result.emplace("blocks", std::move(moved));
  return result;
}

Block StoredBlock(const NewBlock& nb, Sequence created) {
  Block block;
  block.lot = nb.lot;
  block.range = nb.range;
  block.account = nb.account;
  block.first_transferred = nb.first_transferred;
  block.parent = nb.parent;
  block.created = created;
  block.use_year = nb.use_year;
  block.cancellation_purpose = nb.cancellation_purpose;
  block.held_inconsistent = nb.held_inconsistent;
  return block;
}

CommandResult<Json> WriteHold(Transaction& tx, const std::vector<SelectedPart>& parts,
                              AccountId account, bool hold, const Context& ctx) {
  Json changed = Json::array();
  if (ctx.dry_run) return changed;
  const Movement movement = BuildMovement(parts, Destination{account, 0, std::nullopt}, {});
  for (const BlockId& id : movement.closed) RETURN_IF_ERROR(tx.CloseBlock(id, ctx.sequence));
  for (const NewBlock& nb : movement.created) {
    bool selected = false;
    // The lot too: serials are numbered per issuing registry, so an account may hold two lots'
    // equal numbers.
    for (const SelectedPart& part : parts) {
      selected = selected || (part.block.lot == nb.lot && part.moved == nb.range);
    }
    Block block = StoredBlock(nb, ctx.sequence);
    if (selected) block.held_inconsistent = hold;
    ASSIGN_OR_RETURN(block.id, Lift(tx.InsertBlock(block)));
    if (selected) changed.push_back(BlockJson(block));
  }
  return changed;
}

CommandResult<Json> Move(Transaction& tx, const Json& args, const Context& ctx,
                         MovementKind kind) {
  ASSIGN_OR_RETURN(const MoveRequest request, ParseMoveRequest(tx, args, kind));
  RETURN_IF_ERROR(CheckMovementAccounts(kind, request.from, request.to));
  ASSIGN_OR_RETURN(const std::vector<SelectedPart> parts, SelectParts(tx, request));
  // Article 6.2: retirement needs both authorizations; a cancellation may be a first transfer.
  ASSIGN_OR_RETURN(const Article6Parts a6, Article6MovementHook(tx, request, parts, ctx));
  // Corresponding adjustments: held credits, finalized NDC periods.
  RETURN_IF_ERROR(CheckAdjustmentRules(tx, request, parts, a6.first_transferred));
  ASSIGN_OR_RETURN(Json result, WriteMovement(tx, request, parts, a6.first_transferred, ctx));
  result["article6"] = a6.details;
  return result;
}

}  // namespace registry::service
