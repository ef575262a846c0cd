#include "core/jcm_data.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace registry {
namespace {

int ColumnIndex(const CsvRow& header, const std::string& name) {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return static_cast<int>(i);
  }
  return -1;
}

bool IsIsoDate(const std::string& text) { return DaysFromIsoDate(text).has_value(); }

std::optional<PartyCode> SideOf(const std::string& country) {
  if (country == "Mongolia") return PartyCode{"MNG"};
  if (country == "Japan") return PartyCode{"JPN"};
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> DaysFromIsoDate(const std::string& date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  int y = 0, m = 0, d = 0;
  auto parse = [&](size_t at, size_t n, int& out) {
    const auto [p, ec] = std::from_chars(date.data() + at, date.data() + at + n, out);
    return ec == std::errc() && p == date.data() + at + n;
  };
  if (!parse(0, 4, y) || !parse(5, 2, m) || !parse(8, 2, d)) return std::nullopt;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (m < 1 || m > 12 || d < 1 || d > kDays[m - 1] + (m == 2 && leap ? 1 : 0)) return std::nullopt;
  // Days from civil (H. Hinnant's algorithm).
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return int64_t{era} * 146097 + doe - 719468;
}

int64_t ParseWholeAmount(const std::string& text) {
  std::string digits = text;
  if (digits.size() > 2 && digits.substr(digits.size() - 2) == ".0") {
    digits.resize(digits.size() - 2);
  }
  if (digits.empty() || digits.size() > 15) return -1;
  int64_t value = 0;
  const auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || p != digits.data() + digits.size() || value < 0) return -1;
  return value;
}

std::vector<IssuanceLine> SplitByCalendarYear(const std::string& start, const std::string& end,
                                              int64_t quantity) {
  const auto first = DaysFromIsoDate(start);
  const auto last = DaysFromIsoDate(end);
  std::vector<IssuanceLine> lines;
  if (!first || !last || *last < *first || quantity <= 0) return lines;
  const int y0 = std::stoi(start.substr(0, 4));
  const int y1 = std::stoi(end.substr(0, 4));
  const int64_t total_days = *last - *first + 1;
  std::vector<std::pair<int64_t, size_t>> remainders;  // (remainder, index)
  int64_t given = 0;
  for (int y = y0; y <= y1; ++y) {
    const int64_t from = std::max(*first, *DaysFromIsoDate(std::to_string(y) + "-01-01"));
    const int64_t to = std::min(*last, *DaysFromIsoDate(std::to_string(y) + "-12-31"));
    const int64_t days = to - from + 1;
    // quantity * days fits: quantity < 10^12 and days < 10^5.
    const int64_t share = quantity * days / total_days;
    remainders.emplace_back(quantity * days % total_days, lines.size());
    lines.push_back(IssuanceLine{Vintage{y}, Quantity{share}});
    given += share;
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = 0; given < quantity; ++i, ++given) {
    lines[remainders[i % remainders.size()].second].quantity.tonnes += 1;
  }
  std::erase_if(lines, [](const IssuanceLine& l) { return l.quantity.tonnes == 0; });
  return lines;
}

IssuanceTable ParseMongoliaIssuances(const std::vector<CsvRow>& rows) {
  IssuanceTable table;
  if (rows.empty()) {
    table.rejected.push_back({1, "the file is empty"});
    return table;
  }
  const CsvRow& header = rows[0];
  const char* names[] = {"reference_no", "project_title", "monitoring_start", "monitoring_end",
                         "decision_date", "total_notified", "country", "notified_amount",
                         "issuance_date", "issued_amount"};
  std::map<std::string, int> col;
  for (const char* name : names) {
    col[name] = ColumnIndex(header, name);
    if (col[name] < 0) {
      table.rejected.push_back({1, std::string("the header lacks column '") + name + "'"});
      return table;
    }
  }
  for (size_t i = 1; i < rows.size(); ++i) {
    const CsvRow& row = rows[i];
    const size_t line = i + 1;
    auto get = [&](const char* name) -> std::string {
      const int c = col[name];
      return static_cast<size_t>(c) < row.size() ? row[static_cast<size_t>(c)] : std::string();
    };
    IssuanceRecord r;
    r.line = line;
    const auto project = ParseProjectRef(get("reference_no"));
    const auto side = SideOf(get("country"));
    r.title = get("project_title");
    r.monitoring_start = get("monitoring_start");
    r.monitoring_end = get("monitoring_end");
    r.decision_date = get("decision_date");
    r.total_notified = ParseWholeAmount(get("total_notified"));
    r.notified = ParseWholeAmount(get("notified_amount"));
    const std::string issued_date = get("issuance_date");
    const std::string issued = get("issued_amount");
    if (!project) {
      table.rejected.push_back({line, "reference_no '" + get("reference_no") + "' is not like MN001"});
      continue;
    }
    if (!side) {
      table.rejected.push_back({line, "country '" + get("country") + "' is neither Mongolia nor Japan"});
      continue;
    }
    if (!IsIsoDate(r.monitoring_start) || !IsIsoDate(r.monitoring_end)) {
      table.rejected.push_back(
          {line, "the monitoring period is missing (the scrape lost it; see data/jcm/README.md)"});
      continue;
    }
    if (r.notified < 0 || r.total_notified < 0) {
      table.rejected.push_back({line, "an amount is not a whole number"});
      continue;
    }
    r.project = *project;
    r.side = *side;
    if (IsIsoDate(issued_date) && (issued_date < r.monitoring_end || issued_date < r.decision_date)) {
      // The Japan rows of 166 t (MN002) and 94 t (MN001) carry a later row's monitoring period
      // and decision: their own period was lost by the scrape (data/jcm/README.md).
      table.rejected.push_back({line, "issued on " + issued_date + ", before the end of its "
                                      "monitoring period (" + r.monitoring_end + ") or its JC "
                                      "decision (" + r.decision_date + "): the scrape lost this "
                                      "row's own monitoring period"});
      continue;
    }
    if (IsIsoDate(issued_date)) {
      r.issuance_date = issued_date;
      r.issued = ParseWholeAmount(issued);
      if (r.issued < 0) {
        table.rejected.push_back({line, "issued_amount '" + issued + "' is not a whole number"});
        continue;
      }
    }
    table.records.push_back(r);
  }
  return table;
}

}  // namespace registry
