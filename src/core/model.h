// The registry's records: accounts, issuance lots and serial blocks.
//
// Block model (ARCHITECTURE decision 2, DOMAIN R-ID-03):
//   1. Every credit is one serial number of one registry; an issuance lot is the range of serials
//      created for one vintage of one issuance, with the attributes every one of its credits
//      shares (project, vintage, cooperative approach, authorization, purposes, ...).
//   2. A block is a sub-range of one lot held by one account. Blocks are immutable: a movement
//      closes a block (closed = the journal sequence of the movement) and creates children that
//      point to it and partition its range.
//   3. At any sequence the live blocks of a lot partition the lot's range exactly:
//      issued = held + retired + cancelled, and no serial is in two live blocks.
//   4. A block in a retirement or cancellation account is never closed.
//   5. first_transferred never goes from true back to false along a lineage.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/ids.h"
#include "core/serial_range.h"

namespace registry {

enum class AccountType {
  kGovernmentHolding,  // 政府保有口座 (holding part)
  kEntityHolding,      // 法人等保有口座
  kRetirement,         // 無効化口座: use towards an NDC
  kCancellation,       // 取消口座: any other purpose
};

enum class AccountStatus { kOpen, kBlocked, kClosed };

// Why credits were cancelled (Act art. 57-11 取消し; AEF action subtypes).
enum class CancellationPurpose { kOimp, kOmge, kVoluntary, kOther };

std::string_view ToString(AccountType type);
std::string_view ToString(AccountStatus status);
std::string_view ToString(CancellationPurpose purpose);
std::optional<AccountType> ParseAccountType(std::string_view text);
std::optional<AccountStatus> ParseAccountStatus(std::string_view text);
std::optional<CancellationPurpose> ParseCancellationPurpose(std::string_view text);

// Retirement and cancellation accounts are terminal: nothing ever leaves them.
inline bool IsTerminal(AccountType type) {
  return type == AccountType::kRetirement || type == AccountType::kCancellation;
}

struct Account {
  AccountId id;
  RegistryCode registry;
  AccountType type = AccountType::kGovernmentHolding;
  AccountStatus status = AccountStatus::kOpen;
  std::string name;
  EntityId holder;  // 0 for a government account.
};

// The attributes shared by every credit of one issuance line (one vintage of one issuance).
struct IssuanceLot {
  IssuanceId id;
  RegistryCode registry;
  SerialRange range;
  ProjectRef project;
  Vintage vintage;
  CaId cooperative_approach;  // Empty while the CARP has not assigned it.
  PartyCode first_transferring_party;
  bool itmo = false;               // Authorized, vintage >= 2021: tracked as ITMOs.
  std::string authorization_id;    // The first transferring Party's authorization, if any.
  int32_t authorization_version = 0;
  std::string purposes;            // AEF form: "NDC", "OIMP", "NDC and OIMP", ... or "".
  std::string mitigation_type = "Emission reductions";
  std::string sector;
  std::string activity_type;
  std::string jc_decision;         // JC issuance decision id, if any.
  std::string monitoring_start;    // ISO dates of the monitoring period, if any.
  std::string monitoring_end;
  Sequence created;
};

struct Block {
  BlockId id;
  IssuanceId lot;
  SerialRange range;
  AccountId account;
  bool first_transferred = false;
  std::optional<BlockId> parent;
  Sequence created;
  std::optional<Sequence> closed;
  int32_t use_year = 0;  // Calendar year of use, for blocks in a retirement account.
  std::optional<CancellationPurpose> cancellation_purpose;
  bool held_inconsistent = false;  // 4/CMA.6 para 40 hold.
};

}  // namespace registry
