// Strong types for every identifier and quantity of the registry, so that a swapped argument
// fails to compile. Text identifiers are validated by their Parse functions; a value that exists
// is always well formed.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace registry {

// An integer identifier assigned by the store (account number, block id, journal sequence...).
template <class Tag>
struct IntId {
  int64_t value = 0;
  auto operator<=>(const IntId&) const = default;
};

using AccountId = IntId<struct AccountTag>;
using BlockId = IntId<struct BlockTag>;
using IssuanceId = IntId<struct IssuanceTag>;
using EntityId = IntId<struct EntityTag>;
using Sequence = IntId<struct SequenceTag>;  // Journal sequence number, from 1.
using ProposalId = IntId<struct ProposalTag>;

// A quantity of credits: an integer count of tonnes of CO2 equivalent. Never floating point.
struct Quantity {
  int64_t tonnes = 0;
  auto operator<=>(const Quantity&) const = default;
};

// The calendar year in which the underlying mitigation happened (6/CMA.4 decision para 5).
struct Vintage {
  int32_t year = 0;
  auto operator<=>(const Vintage&) const = default;
};

// First calendar year whose mitigation can become an ITMO (2/CMA.3 annex para 1(e)).
inline constexpr int32_t kFirstItmoVintage = 2021;
inline constexpr int32_t kVintageMin = 2000;
inline constexpr int32_t kVintageMax = 2100;

// Text identifiers. Each Parse returns nullopt when the text is not of the documented form.
template <class Tag>
struct TextId {
  std::string value;
  auto operator<=>(const TextId&) const = default;
  bool empty() const { return value.empty(); }
};

// ISO 3166-1 alpha-3 Party code, e.g. "JPN", "MNG".
using PartyCode = TextId<struct PartyTag>;
// Party ITMO registry ID: alpha-3 + two digits, e.g. "JPN01" (R-AEF-05).
using RegistryCode = TextId<struct RegistryTag>;
// Cooperative approach ID assigned by the CARP: "CA" + four digits, e.g. "CA0007". May be unknown
// (empty) until the CARP assigns it (4/CMA.6 para 5(a) "where available").
using CaId = TextId<struct CaTag>;
// The reference of a mitigation activity: for a JCM project its reference number, partner
// alpha-2 + three digits ("TH014", "MN006"); under another cooperative approach the reference that
// approach gives its activity ("BKK-EBUS-1"; ParseActivityRef).
using ProjectRef = TextId<struct ProjectTag>;

std::optional<PartyCode> ParsePartyCode(std::string_view text);
std::optional<RegistryCode> ParseRegistryCode(std::string_view text);
std::optional<CaId> ParseCaId(std::string_view text);
// A JCM project reference number only.
std::optional<ProjectRef> ParseProjectRef(std::string_view text);
// Any activity reference: 2 to 32 uppercase letters, digits, '-' and '.', starting with a
// letter (so every JCM reference too). No ':' or '/': references are parts of document keys
// ("TH014:JPN:JC-..") and of URL paths (/v1/projects/TH014).
std::optional<ProjectRef> ParseActivityRef(std::string_view text);

// The Party of a registry code: "JPN01" -> "JPN".
PartyCode PartyOfRegistry(const RegistryCode& registry);

// Checked arithmetic on quantities: nullopt on int64 overflow.
std::optional<Quantity> AddQuantities(Quantity a, Quantity b);

}  // namespace registry
