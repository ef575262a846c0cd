#include "core/ids.h"

#include <cctype>

namespace registry {
namespace {

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool Matches(std::string_view text, std::string_view pattern) {
  // pattern: 'A' = uppercase letter, '9' = digit, other = literal.
  if (text.size() != pattern.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char p = pattern[i];
    const char c = text[i];
    if (p == 'A' && !IsUpper(c)) return false;
    if (p == '9' && !IsDigit(c)) return false;
    if (p != 'A' && p != '9' && p != c) return false;
  }
  return true;
}

}  // namespace

std::optional<PartyCode> ParsePartyCode(std::string_view text) {
  if (!Matches(text, "AAA")) return std::nullopt;
  return PartyCode{std::string(text)};
}

std::optional<RegistryCode> ParseRegistryCode(std::string_view text) {
  if (!Matches(text, "AAA99")) return std::nullopt;
  return RegistryCode{std::string(text)};
}

std::optional<CaId> ParseCaId(std::string_view text) {
  // The pattern's 'A' stands for any uppercase letter, so the "CA" prefix is checked apart.
  if (!Matches(text, "AA9999") || text.substr(0, 2) != "CA") return std::nullopt;
  return CaId{std::string(text)};
}

std::optional<ProjectRef> ParseProjectRef(std::string_view text) {
  if (!Matches(text, "AA999")) return std::nullopt;
  return ProjectRef{std::string(text)};
}

std::optional<ProjectRef> ParseActivityRef(std::string_view text) {
  if (text.size() < 2 || text.size() > 32 || !IsUpper(text[0])) return std::nullopt;
  for (const char c : text) {
    if (!IsUpper(c) && !IsDigit(c) && c != '-' && c != '.') return std::nullopt;
  }
  return ProjectRef{std::string(text)};
}

PartyCode PartyOfRegistry(const RegistryCode& registry) {
  return PartyCode{registry.value.substr(0, 3)};
}

std::optional<Quantity> AddQuantities(Quantity a, Quantity b) {
  int64_t sum = 0;
  if (__builtin_add_overflow(a.tonnes, b.tonnes, &sum)) return std::nullopt;
  return Quantity{sum};
}

}  // namespace registry
