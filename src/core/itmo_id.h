// The ITMO unique identifier of 6/CMA.4 annex I para 5: cooperative approach, originating Party
// registry, first transferring Party, serial number, vintage, written
// {CA}-{PartyRegistry}-{FirstTransferringParty}-{serial}-{vintage}, e.g. CA0042-UZB01-UZB-123456-2024
// (R-ID-02). Serials are plain digits with no leading zero. Parse(Format(x)) == x for every x.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/ids.h"

namespace registry {

struct ItmoId {
  CaId cooperative_approach;
  RegistryCode registry;
  PartyCode first_transferring_party;
  int64_t serial = 0;
  Vintage vintage;

  auto operator<=>(const ItmoId&) const = default;
};

// Returns nullopt unless every component is well formed: CA\d{4}, [A-Z]{3}\d{2}, [A-Z]{3},
// a serial in [1, kSerialMax] without leading zeros, and a vintage year in [2021, 2100].
std::optional<ItmoId> ParseItmoId(std::string_view text);
// Requires a well-formed id (as ParseItmoId would accept).
std::string FormatItmoId(const ItmoId& id);

}  // namespace registry
