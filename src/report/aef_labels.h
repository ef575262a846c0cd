// The five tables of the agreed electronic format (4/CMA.6 annex II; DOMAIN.md §5.1-5.5): their
// sheet names and exact column labels, in order. Header-only constant data with no dependency, so
// that both the report writers (report/aef_format.cc) and the confidentiality command
// (service/confidentiality_commands.cc, which validates a claimed table and column) use one list.
#pragma once

#include <array>
#include <string_view>

namespace registry::report {

struct AefTableLabels {
  std::string_view name;                     // Sheet name: "Submission", "Authorizations", ...
  const std::string_view* columns;           // Exact labels, in order.
  size_t column_count;
  std::string_view row_key;                  // The column identifying a row ("" for Submission).
};

inline constexpr std::string_view kSubmissionColumns[] = {
    "Party", "Version", "Reported year", "Date of submission",
    "Review status of the initial report",
    "Result of the consistency check of this AEF submission",
    "First year of the NDC implementation period", "Last year of the NDC implementation period",
    "Reference to the Article 6 technical expert review report of the initial report"};

inline constexpr std::string_view kAuthorizationsColumns[] = {
    "Authorization ID", "Date of authorization", "Cooperative approach ID",
    "Version of the authorization", "Authorized quantity", "Metric",
    "Applicable GWP value(s)", "Applicable non-GHG metric", "Sector(s)", "Activity type(s)",
    "Purposes for authorization", "Authorized Party(ies) ID", "Authorized entity(ies) ID",
    "OIMP authorized by the Party", "Authorized timeframe",
    "Authorization terms and conditions", "Authorization documentation",
    "First transfer definition for OIMP", "Additional explanatory information"};

inline constexpr std::string_view kActionsColumns[] = {
    "Action date", "Action type", "Action subtype", "Cooperative approach ID",
    "Authorization ID", "First transferring participating Party ID", "Party ITMO registry ID",
    "First ID", "Last ID", "Underlying unit registry ID", "First unit ID", "Last unit ID",
    "Metric", "Applicable GWP value(s)", "Applicable non-GHG metric", "Quantity (t CO2 eq)",
    "Quantity (in non-GHG metric)", "Mitigation type", "Vintage",
    "Transferring participating Party ID", "Acquiring participating Party ID",
    "Purpose for which the ITMO has been used towards or cancelled for OIMP",
    "Using/cancelling participating Party ID", "Using/cancelling authorized entity ID",
    "Calendar year for which the ITMOs are used towards the Party's NDC",
    "Result of the consistency checks", "Additional explanatory information"};

inline constexpr std::string_view kHoldingsColumns[] = {
    "Cooperative approach ID", "Authorization ID", "First transferring participating Party ID",
    "Party ITMO registry ID", "First ID", "Last ID", "Underlying unit registry ID",
    "First unit ID", "Last unit ID", "Metric", "Applicable GWP value(s)",
    "Applicable non-GHG metric", "Quantity (t CO2 eq)", "Quantity (in non-GHG metric)",
    "Mitigation type", "Vintage"};

// The header cells of annex II Table 5. The annex's footnotes b and d-f ("Identification number
// in the country of incorporation", "This field is optional") are not part of the labels.
inline constexpr std::string_view kEntitiesColumns[] = {
    "Date of the authorization",        "Name",
    "Country of incorporation",         "Identification number",
    "Cooperative approach ID",          "Conditions",
    "Change and revocation conditions", "Additional explanatory information"};

// In the order of AefWorkbook::tables. The row key of a confidentiality claim limited to one row
// (R-REP-07): Authorizations by Authorization ID (every version of it), Actions and Holdings by
// First ID (the first ITMO identifier of the block), Authorized entities by Name; the Submission
// table has one row and no row key.
inline constexpr std::array<AefTableLabels, 5> kAefTables = {{
    {"Submission", kSubmissionColumns, std::size(kSubmissionColumns), ""},
    {"Authorizations", kAuthorizationsColumns, std::size(kAuthorizationsColumns),
     "Authorization ID"},
    {"Actions", kActionsColumns, std::size(kActionsColumns), "First ID"},
    {"Holdings", kHoldingsColumns, std::size(kHoldingsColumns), "First ID"},
    {"Authorized entities", kEntitiesColumns, std::size(kEntitiesColumns), "Name"},
}};

// The text a public output shows in place of a value claimed confidential.
inline constexpr std::string_view kConfidentialText = "Confidential";

}  // namespace registry::report
