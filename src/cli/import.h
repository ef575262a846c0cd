// `jcmreg import projects FILE` and `jcmreg import issuances FILE`: the real public JCM data
// (data/jcm, see its README for the quirks) loaded through the service, one journaled command per
// row. Every row is either taken or reported with its line and reason; none is dropped silently.
// The demo uses the same functions.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "service/registry.h"

namespace registry::cli {

struct ImportRow {
  size_t line = 0;
  std::string reason;
};

struct ImportReport {
  size_t taken = 0;
  int64_t tonnes = 0;               // Issuances: the tonnes issued by the rows taken.
  std::vector<ImportRow> rejected;  // Rows not taken, with the reason.
  std::vector<ImportRow> notes;     // Rows taken with something worth saying (e.g. no sector).
};

// Told, before each row, how many rows of the file are done and how many there are (a progress
// line on a terminal; the demo passes none).
using ImportProgress = std::function<void(size_t done, size_t total)>;

// Loads the AEF nomenclature lists of `dir` (sectors.csv, ...) that are not loaded yet.
ImportReport ImportNomenclature(service::Registry& registry, const std::string& dir);

// projects.csv: adds missing host Parties, then one project.add per row. The AEF sector and
// activity type are inferred from the title by a documented keyword table when it can; the
// credit allocation is set only for Mongolia projects (20/80, R-JCM-07), the only side split the
// public data shows.
ImportReport ImportProjects(service::Registry& registry, const std::string& csv_text,
                            const ImportProgress& progress = {});

// mongolia_issuances.csv: one issue.jcm per side's issued share into that side's first open
// government holding account, split per calendar-year vintage (SplitByCalendarYear), in
// issuance-date order; `clock`, when given, is set to each row's issuance date.
ImportReport ImportIssuances(service::Registry& registry, const std::string& csv_text,
                             service::FixedClock* clock, const ImportProgress& progress = {});

// Registers the `import` subcommand with the jcmreg CLI.
void RegisterImportCommand();

}  // namespace registry::cli
