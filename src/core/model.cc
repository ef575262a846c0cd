#include "core/model.h"

#include <array>
#include <utility>

namespace registry {
namespace {

constexpr std::array<std::pair<AccountType, std::string_view>, 4> kAccountTypes = {{
    {AccountType::kGovernmentHolding, "government_holding"},
    {AccountType::kEntityHolding, "entity_holding"},
    {AccountType::kRetirement, "retirement"},
    {AccountType::kCancellation, "cancellation"},
}};
constexpr std::array<std::pair<AccountStatus, std::string_view>, 3> kStatuses = {{
    {AccountStatus::kOpen, "open"},
    {AccountStatus::kBlocked, "blocked"},
    {AccountStatus::kClosed, "closed"},
}};
constexpr std::array<std::pair<CancellationPurpose, std::string_view>, 4> kPurposes = {{
    {CancellationPurpose::kOimp, "oimp"},
    {CancellationPurpose::kOmge, "omge"},
    {CancellationPurpose::kVoluntary, "voluntary"},
    {CancellationPurpose::kOther, "other"},
}};

template <class E, size_t N>
std::string_view Name(const std::array<std::pair<E, std::string_view>, N>& table, E value) {
  for (const auto& [e, name] : table) {
    if (e == value) return name;
  }
  return "?";
}

template <class E, size_t N>
std::optional<E> Lookup(const std::array<std::pair<E, std::string_view>, N>& table,
                        std::string_view text) {
  for (const auto& [e, name] : table) {
    if (name == text) return e;
  }
  return std::nullopt;
}

}  // namespace

std::string_view ToString(AccountType type) { return Name(kAccountTypes, type); }
std::string_view ToString(AccountStatus status) { return Name(kStatuses, status); }
std::string_view ToString(CancellationPurpose purpose) { return Name(kPurposes, purpose); }

std::optional<AccountType> ParseAccountType(std::string_view text) {
  return Lookup(kAccountTypes, text);
}

std::optional<AccountStatus> ParseAccountStatus(std::string_view text) {
  return Lookup(kStatuses, text);
}

std::optional<CancellationPurpose> ParseCancellationPurpose(std::string_view text) {
  return Lookup(kPurposes, text);
}

}  // namespace registry
