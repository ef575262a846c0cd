// The difference between two versions of a Party's AEF (a revised AEF, 4/CMA.6 para 32; R-CC-02):
// per table, the rows added, removed and changed. Rows are matched by a key per table:
//   Submission: the single row (cells compared one by one);
//   Authorizations: Authorization ID + Version of the authorization;
//   Actions: Action date + Action type + Action subtype + Party ITMO registry ID + First unit ID
//            + Last unit ID;
//   Holdings: Party ITMO registry ID + First unit ID + Last unit ID;
//   Authorized entities: Name + Cooperative approach ID + Date of the authorization.
// Rows with the same key are paired in order of appearance; a changed row lists each differing
// cell with its exact label and both values.
#pragma once

#include <nlohmann/json.hpp>

#include "report/aef_format.h"

namespace registry::report {

// {"identical": bool, "tables": [{"table", "old_rows", "new_rows", "added": [{label: cell}],
//  "removed": [...], "changed": [{"key", "cells": [{"column", "old", "new"}]}]}]}
nlohmann::ordered_json AefDiff(const AefWorkbook& old_workbook, const AefWorkbook& new_workbook);

}  // namespace registry::report
