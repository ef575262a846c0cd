// Four-eyes proposals: create (reserving serials), approve (the underlying command runs inside
// the approval), reject and expire (releasing the reservation). See service/proposal.h.
#include <algorithm>
#include <cstdio>

#include "core/limits.h"
#include "core/utc_time.h"
#include "service/access.h"
#include "service/json_text.h"
#include "service/ledger_write.h"
#include "service/proposal.h"
#include "service/registry.h"

namespace registry::service {
namespace {

constexpr size_t kHoldsPerAccountMax = kPageSizeMax;

// Reserved ranges of `account` overlapping `range`, ascending (every one of them).
CommandResult<std::vector<SerialRange>> ReservedWithin(Transaction& tx, AccountId account,
                                                       const SerialRange& range) {
  ASSIGN_OR_RETURN(const auto rows, Lift(tx.ReservationsOverlapping(account, range, SIZE_MAX)));
  std::vector<SerialRange> out;
  out.reserve(rows.size());
  for (const Reservation& r : rows) out.push_back(r.range);
  return out;
}

CommandResult<Json> LoadProposal(Transaction& tx, const Json& args) {
  ASSIGN_OR_RETURN(const int64_t id, IntArg(args, "id"));
  ASSIGN_OR_RETURN(const auto doc, Lift(tx.GetDocument("proposal", ProposalKey(id))));
  if (!doc) {
    return Fail(Failure::Refused(Check::kUnknownProposal,
                                 "proposal " + std::to_string(id) + " does not exist"));
  }
  Json proposal = Json::parse(doc->body);
  if (proposal.at("status") != "pending") {
    return Fail(Failure::Refused(Check::kProposalNotPending,
                                 "proposal " + std::to_string(id) + " is " +
                                     proposal.at("status").get<std::string>() +
                                     ", not pending"));
  }
  return proposal;
}

// Deletes the proposal's reservations (the ranges it records as "reserved").
CommandResult<bool> Release(Transaction& tx, const Json& proposal) {
  if (proposal.at("account").is_null()) return true;
  const AccountId account{proposal.at("account").get<int64_t>()};
  const int64_t id = proposal.at("id").get<int64_t>();
  for (const Json& text : proposal.at("reserved")) {
    const auto range = ParseSerialRange(text.get<std::string>());
    REGISTRY_ASSERT(range.has_value());
    RETURN_IF_ERROR(tx.DeleteReservation(account, range->first, id));
  }
  return true;
}

CommandResult<Json> Decide(Transaction& tx, Json proposal, const std::string& status,
                           const Context& ctx) {
  proposal["status"] = status;
  proposal["decided_by"] = ctx.actor;
  proposal["decided"] = ctx.time;
  RETURN_IF_ERROR(tx.PutDocument("proposal", ProposalKey(proposal.at("id").get<int64_t>()),
                                 DumpJson(proposal), ctx.sequence));
  return proposal;
}

// Resolves a quantity to serials of `account` that no pending proposal reserves.
//
// QuantityRule::kSplit (every proposal made since 2026-12-01): the split rule of a direct transfer
// by quantity (R-ID-03; core SelectQuantity): blocks in ascending serial order, the mover taking
// the last serials of each and the holder keeping the first, so with nothing reserved a proposal
// reserves exactly what the direct transfer would move. Within a block only its last free run
// is taken (a movement takes one range per block); a quantity that would need two runs of one
// block is refused, naming both totals.
//
// QuantityRule::kLowest (proposals journaled before, whose payload has no "quantity_rule"): the
// lowest free serials, kept so that those entries replay to the answers they gave.
enum class QuantityRule { kLowest, kSplit };

CommandResult<std::vector<SerialRange>> FreeSerials(Transaction& tx, AccountId account,
                                                    const Json& args, QuantityRule rule) {
  ASSIGN_OR_RETURN(const int64_t quantity, IntArg(args, "quantity"));
  if (quantity <= 0) {
    return Fail(Failure::Refused(Check::kQuantityNotPositive,
                                 "quantity " + std::to_string(quantity) + " is not positive"));
  }
  BlockFilter filter;
  ASSIGN_OR_RETURN(const auto project, OptionalTextArg(args, "project", 32));
  ASSIGN_OR_RETURN(const auto vintage, OptionalIntArg(args, "vintage"));
  if (project) {
    const auto ref = ParseActivityRef(*project);
    if (!ref) {
      return Fail(Failure::Refused(
          Check::kFieldInvalid,
          "project '" + *project + "' is not an activity reference like TH014 or BKK-EBUS-1"));
    }
    filter.project = *ref;
  }
  if (vintage) filter.vintage = Vintage{static_cast<int32_t>(*vintage)};
  ASSIGN_OR_RETURN(const auto blocks, Lift(tx.LiveBlocks(account, filter, kBlocksPerMovementMax)));
  std::vector<SerialRange> taken;
  int64_t missing = quantity;
  int64_t free_in_all = 0;  // Every unreserved serial of the blocks read (kSplit's refusal).
  for (const Block& block : blocks) {
    if (missing == 0) break;
    ASSIGN_OR_RETURN(const auto reserved, ReservedWithin(tx, account, block.range));
    if (rule == QuantityRule::kLowest) {
      const auto take = [&](int64_t first, int64_t last) {
        const int64_t count = std::min(missing, last - first + 1);
        if (count <= 0) return;
        taken.push_back(SerialRange{first, first + count - 1});
        missing -= count;
      };
      int64_t cursor = block.range.first;
      for (const SerialRange& r : reserved) {
        if (r.last < cursor || r.first > block.range.last) continue;
        if (r.first > cursor) take(cursor, r.first - 1);
        cursor = std::max(cursor, r.last + 1);
      }
      if (cursor <= block.range.last) take(cursor, block.range.last);
      continue;
    }
    int64_t reserved_count = 0;
    for (const SerialRange& r : reserved) {
      reserved_count += std::min(r.last, block.range.last) - std::max(r.first, block.range.first) + 1;
    }
    free_in_all += block.range.Count().tonnes - reserved_count;
    // The block's last free run [run_first, run_last]: below the reservations that reach its end.
    int64_t run_last = block.range.last;
    int64_t run_first = block.range.first;
    for (auto it = reserved.rbegin(); it != reserved.rend(); ++it) {
      if (it->last >= run_last) {
        run_last = std::min(run_last, it->first - 1);
        continue;
      }
      run_first = std::max(block.range.first, it->last + 1);
      break;
    }
    if (run_last < run_first) continue;
    const int64_t count = std::min(missing, run_last - run_first + 1);
    taken.push_back(SerialRange{run_last - count + 1, run_last});
    missing -= count;
  }
  if (missing > 0) {
    const int64_t found = quantity - missing;
    std::string message = "account " + std::to_string(account.value) + " holds only " +
                          std::to_string(found) +
                          " matching units not reserved by a pending proposal";
    if (rule == QuantityRule::kSplit && free_in_all > found) {
      message += " that one movement can take (one run of free serials per block; " +
                 std::to_string(free_in_all) +
                 " in all: give serial ranges, or move them in parts)";
    }
    return Fail(Failure::Refused(Check::kQuantityAboveHolding,
                                 message + "; " + std::to_string(quantity) + " asked"));
  }
  // `taken` is ascending already: blocks come by first serial, each giving ranges in order.
  std::vector<SerialRange> merged;
  for (const SerialRange& r : taken) {
    if (!merged.empty() && merged.back().last + 1 == r.first) {
      merged.back().last = r.last;
    } else {
      merged.push_back(r);
    }
  }
  if (merged.size() > kRangesPerRequestMax) {
    return Fail(Failure::Refused(Check::kTooManyItems,
                                 "the quantity spans more than " +
                                     std::to_string(kRangesPerRequestMax) + " free ranges"));
  }
  return merged;
}

CommandResult<Json> CreateProposal(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(const std::string command, TextArg(args, "command", 64));
  if (!NeedsFourEyes(command)) {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "command '" + command + "' needs no proposal; run it directly"));
  }
  if (Handlers().find(command) == Handlers().end()) {
    return Fail(Failure::Refused(Check::kUnknownCommand, "unknown command '" + command + "'"));
  }
  const auto inner_it = args.find("args");
  if (inner_it == args.end() || !inner_it->is_object()) {
    return Fail(Failure::Refused(Check::kFieldMissing,
                                 "field 'args' (the command's arguments, an object) is required"));
  }
  ASSIGN_OR_RETURN(const auto expires_arg, OptionalTextArg(args, "expires_at", 20));
  const auto now = ParseUtcTime(ctx.time);
  REGISTRY_ASSERT(now.has_value());
  std::string expires_at = FormatUtcTime(*now + kProposalLifetimeSecondsMax);
  if (expires_arg) {
    // Lenient, as when the journaled proposals were made: a live request's expires_at is also
    // a real calendar time no later than kProposalLifetimeSecondsMax ahead (service/values.h).
    const auto at = ParseUtcTime(*expires_arg);
    if (!at || *at <= *now) {
      return Fail(Failure::Refused(Check::kFieldInvalid,
                                   "field 'expires_at' must be a future time like "
                                   "2026-01-30T09:00:00Z"));
    }
    expires_at = *expires_arg;
  }
  Json resolved = *inner_it;
  Json account = nullptr;
  std::vector<SerialRange> reserve;
  ASSIGN_OR_RETURN(const auto from, OptionalIntArg(resolved, "from"));
  if (from) {
    ASSIGN_OR_RETURN(const Account source, LoadAccount(tx, AccountId{*from}));
    account = source.id.value;
    ASSIGN_OR_RETURN(const bool full, Lift(tx.ReservingProposalsReach(
                                          source.id, static_cast<int64_t>(kHoldsPerAccountMax))));
    if (full) {
      return Fail(Failure::Refused(Check::kTooManyItems,
                                   "account " + std::to_string(*from) + " has " +
                                       std::to_string(kHoldsPerAccountMax) +
                                       " pending proposals already"));
    }
    ASSIGN_OR_RETURN(reserve, RangesArg(resolved, "ranges"));
    if (reserve.empty()) {
      ASSIGN_OR_RETURN(const auto rule_text, OptionalTextArg(args, "quantity_rule", 16));
      QuantityRule rule = QuantityRule::kLowest;  // Absent: an entry journaled before the rule.
      if (rule_text == std::string(kQuantityRuleSplit)) {
        rule = QuantityRule::kSplit;
      } else if (rule_text && *rule_text != "lowest") {
        return Fail(Failure::Refused(Check::kFieldInvalid,
                                     "field 'quantity_rule' is \"" +
                                         std::string(kQuantityRuleSplit) + "\" or \"lowest\""));
      }
      ASSIGN_OR_RETURN(reserve, FreeSerials(tx, source.id, resolved, rule));
      resolved.erase("quantity");
      resolved.erase("project");
      resolved.erase("vintage");
      Json texts = Json::array();
      for (const SerialRange& r : reserve) texts.push_back(FormatSerialRange(r));
      resolved["ranges"] = texts;
    }
  }
  // Dry run: the command must apply now (it is checked again at approval).
  Context trial_ctx = ctx;
  trial_ctx.dry_run = true;
  RETURN_IF_ERROR(tx.Savepoint());
  auto trial = ApplyCommand(tx, command, resolved, trial_ctx);
  RETURN_IF_ERROR(tx.RollbackToSavepoint());
  if (!trial) return Fail(std::move(trial).error());

  ASSIGN_OR_RETURN(const auto counter, Lift(tx.GetDocument("counter", "proposal")));
  const int64_t id = counter ? Json::parse(counter->body).at("value").get<int64_t>() + 1 : 1;
  RETURN_IF_ERROR(
      tx.PutDocument("counter", "proposal", DumpJson(Json{{"value", id}}), ctx.sequence));
  Json ranges = Json::array();
  for (const SerialRange& r : reserve) ranges.push_back(FormatSerialRange(r));
  const Json proposal = {{"id", id},          {"command", command},       {"args", resolved},
                         {"initiator", ctx.actor}, {"status", "pending"}, {"created", ctx.time},
                         {"expires_at", expires_at}, {"account", account}, {"reserved", ranges}};
  RETURN_IF_ERROR(tx.PutDocument("proposal", ProposalKey(id), DumpJson(proposal), ctx.sequence));
  for (const SerialRange& r : reserve) {
    // The dry run refused serials reserved already, so an overlap here is one within the
    // proposal's own ranges.
    if (auto inserted = tx.InsertReservation(Reservation{AccountId{*from}, r, id}); !inserted) {
      if (inserted.error().code != ErrorCode::kFailedPrecondition) {
        return Fail(Failure::Of(inserted.error()));
      }
      return Fail(Failure::Refused(Check::kSerialsReserved, inserted.error().message));
    }
  }
  return proposal;
}

CommandResult<Json> ApproveProposal(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(Json proposal, LoadProposal(tx, args));
  const std::string id = std::to_string(proposal.at("id").get<int64_t>());
  if (proposal.at("initiator") == ctx.actor) {
    return Fail(Failure::Refused(Check::kSelfApproval, "proposal " + id + " was made by " +
                                                           ctx.actor +
                                                           ", who cannot also approve it"));
  }
  if (ctx.time >= proposal.at("expires_at").get<std::string>()) {
    return Fail(Failure::Refused(Check::kProposalNotPending,
                                 "proposal " + id + " expired at " +
                                     proposal.at("expires_at").get<std::string>()));
  }
  ASSIGN_OR_RETURN(const auto approver, Lift(tx.GetDocument("user", ctx.actor)));
  if (approver) {
    const Json user = Json::parse(approver->body);
    const Principal who{ctx.actor, user.at("role").get<std::string>(),
                        user.at("scope").get<std::string>()};
    if (!RoleMayApprove(who, proposal.at("command").get<std::string>())) {
      return Fail(Failure::Refused(Check::kForbidden, "user " + ctx.actor + " (" + who.role +
                                                          ") may not approve proposal " + id));
    }
  }
  RETURN_IF_ERROR(Release(tx, proposal));
  ASSIGN_OR_RETURN(const Json result, ApplyCommand(tx, proposal.at("command").get<std::string>(),
                                                   proposal.at("args"), ctx));
  proposal["result"] = result;
  return Decide(tx, std::move(proposal), "approved", ctx);
}

CommandResult<Json> RejectProposal(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(Json proposal, LoadProposal(tx, args));
  ASSIGN_OR_RETURN(const auto reason, OptionalTextArg(args, "reason", kTextFieldBytesMax));
  RETURN_IF_ERROR(Release(tx, proposal));
  proposal["reason"] = reason.value_or("");
  return Decide(tx, std::move(proposal), "rejected", ctx);
}

CommandResult<Json> ExpireProposal(Transaction& tx, const Json& args, const Context& ctx) {
  ASSIGN_OR_RETURN(Json proposal, LoadProposal(tx, args));
  if (ctx.time < proposal.at("expires_at").get<std::string>()) {
    return Fail(Failure::Refused(Check::kFieldInvalid,
                                 "proposal " + std::to_string(proposal.at("id").get<int64_t>()) +
                                     " runs until " +
                                     proposal.at("expires_at").get<std::string>()));
  }
  RETURN_IF_ERROR(Release(tx, proposal));
  return Decide(tx, std::move(proposal), "expired", ctx);
}

}  // namespace

std::string ProposalKey(int64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "P%012lld", static_cast<long long>(id));
  return buf;
}

std::optional<Json> WithQuantityRule(const std::string& command, const Json& args) {
  if (command != "proposal.create" || !args.is_object() || args.contains("quantity_rule")) {
    return std::nullopt;
  }
  const auto inner = args.find("args");
  if (inner == args.end() || !inner->is_object() || !inner->contains("quantity")) {
    return std::nullopt;
  }
  Json out = args;
  out["quantity_rule"] = kQuantityRuleSplit;
  return out;
}

bool NeedsFourEyes(const std::string& command) {
  return command == "transfer" || command == "retire" || command == "cancel" ||
         command.find("transfer") != std::string::npos || command.rfind("authorization.", 0) == 0 ||
         command == "peer.set";
}

CommandResult<bool> CheckNotReserved(Transaction& tx, AccountId account,
                                     const std::vector<SerialRange>& ranges) {
  for (const SerialRange& r : ranges) {
    ASSIGN_OR_RETURN(const auto held, Lift(tx.ReservationsOverlapping(account, r, 1)));
    if (held.empty()) continue;
    return Fail(Failure::Refused(Check::kSerialsReserved,
                                 "serials " + FormatSerialRange(*Intersect(r, held[0].range)) +
                                     " of account " + std::to_string(account.value) +
                                     " are reserved by pending proposal " +
                                     std::to_string(held[0].proposal)));
  }
  return true;
}

void AddProposalCommands(HandlerTable& table) {
  table.emplace("proposal.create", CreateProposal);
  table.emplace("proposal.approve", ApproveProposal);
  table.emplace("proposal.reject", RejectProposal);
  table.emplace("proposal.expire", ExpireProposal);
}

}  // namespace registry::service
