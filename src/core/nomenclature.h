// The AEF controlled values (common nomenclatures, DOMAIN.md §5.6) are data, not code: they live
// in data/nomenclature/*.csv (one value per row under a "value" header) and are loaded into the
// registry with the journaled command nomenclature.set. This file parses such a CSV text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace registry {

// The lists the registry checks against: sectors, activity_types, underlying_registries.
inline constexpr const char* kNomenclatureLists[] = {"sectors", "activity_types",
                                                     "underlying_registries"};
bool IsNomenclatureList(std::string_view name);

// Parses a nomenclature CSV: a header "value", then one non-empty, distinct value per row.
Result<std::vector<std::string>, std::string> ParseNomenclatureCsv(std::string_view text);

}  // namespace registry
