// The portal's public pages rendered on the server. See http/pages.h.
#include "http/pages.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <set>
#include <utility>
#include <vector>

#include "core/aef_actions.h"
#include "core/ids.h"
#include "core/itmo_id.h"
#include "core/text.h"
#include "web/web_assets.h"

namespace registry::http::pages {
namespace {

constexpr int64_t kPageSize = 25;  // As app.js's PAGE_SIZE.

// ---- Labels, read from src/web/i18n.js ---------------------------------------------------------

using Labels = std::map<std::string, std::string, std::less<>>;

// The entries `key: "text"` or `"key": "text"` of the object that starts at `at` (after its
// '{'), up to its closing '}'. i18n.js holds nothing else there: no nested object, no expression.
size_t ReadSection(std::string_view js, size_t at, Labels& out) {
  auto skip = [&] {
    while (at < js.size()) {
      if (std::isspace(static_cast<unsigned char>(js[at])) || js[at] == ',') {
        ++at;
      } else if (js.substr(at, 2) == "//") {
        while (at < js.size() && js[at] != '\n') ++at;
      } else {
        break;
      }
    }
  };
  auto string = [&](std::string& text) {  // At the opening quote.
    for (++at; at < js.size() && js[at] != '"'; ++at) {
      if (js[at] == '\\' && at + 1 < js.size()) ++at;
      text += js[at];
    }
    ++at;
  };
  for (skip(); at < js.size() && js[at] != '}'; skip()) {
    std::string key;
    if (js[at] == '"') {
      string(key);
    } else {
      while (at < js.size() &&
             (std::isalnum(static_cast<unsigned char>(js[at])) || js[at] == '_' || js[at] == '.')) {
        key += js[at++];
      }
    }
    skip();
    if (key.empty() || at >= js.size() || js[at] != ':') break;  // Not an entry: stop.
    ++at;
    skip();
    if (at >= js.size() || js[at] != '"') break;
    std::string text;
    string(text);
    out[key] = std::move(text);
  }
  return at;
}

struct Dictionary {
  Labels en, ja;
};

const Dictionary& Dict() {
  static const Dictionary dict = [] {
    Dictionary d;
    const web::WebAsset* asset = web::FindWebAsset("/i18n.js");
    if (asset == nullptr) return d;
    const std::string_view js = asset->body;
    for (auto [name, labels] : {std::pair{"\n  en: {", &d.en}, std::pair{"\n  ja: {", &d.ja}}) {
      const size_t at = js.find(name);
      if (at != std::string_view::npos)
        ReadSection(js, at + std::string_view(name).size(), *labels);
    }
    return d;
  }();
  return dict;
}

std::string Template(Lang lang, std::string_view key) {
  const Dictionary& d = Dict();
  if (lang == Lang::kJa) {
    if (auto it = d.ja.find(key); it != d.ja.end()) return it->second;
  }
  if (auto it = d.en.find(key); it != d.en.end()) return it->second;
  return std::string(key);
}

// The label with {name} replaced by vars[name], which are HTML already.
std::string LabelHtml(Lang lang, std::string_view key,
                      const std::map<std::string, std::string>& html_vars) {
  const std::string text = Escape(Template(lang, key));
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '{') {
      const size_t end = text.find('}', i);
      if (end != std::string::npos) {
        const auto it = html_vars.find(text.substr(i + 1, end - i - 1));
        if (it != html_vars.end()) {
          out += it->second;
          i = end + 1;
          continue;
        }
      }
    }
    out += text[i++];
  }
  return out;
}

// ---- Small helpers ------------------------------------------------------------------------------

std::string Str(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) return v.dump();
  return "";
}

std::string Field(const Json& o, const char* key) {
  if (!o.is_object()) return "";
  const auto it = o.find(key);
  return it == o.end() ? "" : Str(*it);
}

int64_t Int(const Json& o, const char* key) {
  if (!o.is_object()) return 0;
  const auto it = o.find(key);
  return it != o.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

std::string UrlEncode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// "2026-12-09T10:00:00Z" -> "2026-12-09 10:00 UTC"; a date stays a date (app.js's when).
std::string When(const std::string& time) {
  if (time.size() <= 10) return time;
  return time.substr(0, 10) + " " + time.substr(11, 5) + " UTC";
}

std::string Join(const Json& list, std::string_view sep) {
  std::string out;
  if (!list.is_array()) return Str(list);
  for (const Json& v : list) {
    if (!out.empty()) out += sep;
    out += Str(v);
  }
  return out;
}

std::string StateLabel(Lang lang, const std::string& state) {
  return state.empty() ? "" : LabelHtml(lang, "state." + state, {});
}

// A table: columns (label, numeric), rows of cells that are HTML already.
struct Column {
  std::string label;  // HTML.
  bool num = false;
};

std::string Table(const std::vector<Column>& columns,
                  const std::vector<std::vector<std::string>>& rows,
                  const std::string& caption_html, std::string_view id = "") {
  // The container scrolls on a narrow screen: it takes the focus so that the keyboard scrolls it
  // too, and is a region named by the caption (its text: the caption's HTML without its tags).
  std::string name;
  for (bool in_tag = false; const char c : caption_html) {
    if (c == '<') in_tag = true;
    if (!in_tag) name += c;
    if (c == '>') in_tag = false;
  }
  std::string html =
      "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"" + name + "\"";
  if (!id.empty()) html += " id=\"" + Escape(id) + "\"";
  html += "><table><caption>" + caption_html + "</caption><thead><tr>";
  for (const Column& c : columns) {
    html += std::string("<th scope=\"col\"") + (c.num ? " class=\"num\"" : "") + ">" + c.label +
            "</th>";
  }
  html += "</tr></thead><tbody>";
  for (const auto& row : rows) {
    html += "<tr>";
    for (size_t i = 0; i < row.size() && i < columns.size(); ++i) {
      html +=
          std::string("<td") + (columns[i].num ? " class=\"num\"" : "") + ">" + row[i] + "</td>";
    }
    html += "</tr>";
  }
  return html + "</tbody></table></div>";
}

std::string Facts(const std::vector<std::pair<std::string, std::string>>& pairs,
                  std::string_view id = "") {
  std::string html = "<dl class=\"facts\"";
  if (!id.empty()) html += " id=\"" + Escape(id) + "\"";
  html += ">";
  for (const auto& [label, value] : pairs) {
    if (value.empty()) continue;
    html += "<dt>" + label + "</dt><dd>" + value + "</dd>";
  }
  return html + "</dl>";
}

std::string Message(const std::string& html) {
  return "<div class=\"msg bad\" role=\"alert\">" + html + "</div>";
}

std::string ProjectHref(const std::string& ref) { return "/projects/" + UrlEncode(ref); }

std::string ProjectLink(const std::string& ref) {
  if (ref.empty()) return "";
  return "<a class=\"project-link\" href=\"" + Escape(ProjectHref(ref)) + "\">" + Escape(ref) +
         "</a>";
}

std::string AsOf(Lang lang, const Sources& sources) {
  return "<p class=\"as-of muted\">" +
         LabelHtml(lang, "chart.asOf",
                   {{"time", "<span class=\"data\">" + Escape(When(sources.as_of)) + "</span>"}}) +
         "</p>";
}

// ---- The frame of every page --------------------------------------------------------------------

// The page in the frame of index.html (the same header, nav, footer and scripts), with links that
// work without the script: the nav's Projects goes to /projects, the others to the script's pages.
// `self` is the page's own address without lang, for the language links.
std::string Frame(Lang lang, const std::string& title_html, std::string_view page,
                  const std::string& main_html, const std::string& self) {
  const char* lang_code = lang == Lang::kJa ? "ja" : "en";
  std::string html = std::string("<!doctype html>\n<html lang=\"") + lang_code + "\">\n<head>\n" +
                     "<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n" +
                     "<title>" + title_html + " · " + LabelHtml(lang, "brand", {}) + "</title>\n" +
                     "<link rel=\"stylesheet\" href=\"/style.css\">\n"
                     "<link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\n"
                     "</head>\n<body>\n<header>\n"
                     "  <div class=\"brand\" data-i18n=\"brand\">" +
                     LabelHtml(lang, "brand", {}) + "</div>\n  <nav id=\"nav\">\n";
  const std::pair<const char*, const char*> nav[] = {
      {"/#/", "nav.home"},
      {"/projects", "nav.projects"},
      {"/issuances", "nav.issuances"},
      {"/authorizations", "nav.authorizations"},
      {"/statistics", "nav.statistics"},
      {"/#/lookup", "nav.lookup"},
      {"/reports", "nav.reports"},
      {"/#/link", "nav.link"},
      {"/#/console", "nav.console"},
  };
  for (const auto& [href, key] : nav) {
    const bool console = std::string_view(key) == "nav.console";
    const std::string_view h(href);
    const bool active =
        h == "/projects" ? page.rfind("project", 0) == 0 : h.size() > 1 && h.substr(1) == page;
    html += std::string("    <a href=\"") + href + "\"" +
            (console  ? " class=\"console-link\""
             : active ? " class=\"active\""
                      : "") +
            " data-i18n=\"" + key + "\">" + LabelHtml(lang, key, {}) + "</a>\n";
  }
  const std::string sep = self.find('?') == std::string::npos ? "?" : "&";
  html +=
      "  </nav>\n"
      "  <select id=\"lang\" aria-label=\"" +
      LabelHtml(lang, "language", {}) + "\" data-i18n-label=\"language\">" +
      "<option value=\"en\">English</option><option value=\"ja\"" +
      (lang == Lang::kJa ? " selected" : "") + ">日本語</option></select>\n" +
      "  <noscript><div class=\"lang-links\"><a href=\"" + Escape(self + sep + "lang=en") +
      "\" lang=\"en\">English</a> · <a href=\"" + Escape(self + sep + "lang=ja") +
      "\" lang=\"ja\">日本語</a></div></noscript>\n"
      "</header>\n<main id=\"main\" data-server=\"" +
      Escape(page) + "\"><div class=\"view\">\n" + main_html +
      "\n</div></main>\n<footer><span data-i18n=\"footer\">" + LabelHtml(lang, "footer", {}) +
      "</span> <a href=\"/v1/openapi.json\">OpenAPI</a></footer>\n"
      "<script src=\"/i18n.js\"></script>\n<script src=\"/app.js\"></script>\n"
      "</body>\n</html>\n";
  return html;
}

Page Error(int status, Lang lang, const std::string& message_html, const std::string& self,
           std::string_view page = "error") {
  const std::string title =
      LabelHtml(lang, "page.errorTitle", {{"status", std::to_string(status)}});
  const std::string main = "<h1>" + title + "</h1>\n" + Message(message_html) +
                           "\n<p><a href=\"/projects\">" + LabelHtml(lang, "project.all", {}) +
                           "</a></p>";
  return Page{status, Frame(lang, title, page, main, self)};
}

// Checks the query against the names a page takes: each at most once.
std::optional<Page> CheckQuery(const std::multimap<std::string, std::string>& query,
                               const std::vector<std::string>& takes, Lang lang,
                               const std::string& self) {
  std::string names;
  for (const std::string& n : takes) names += (names.empty() ? "" : ", ") + n;
  for (auto it = query.begin(); it != query.end(); it = query.upper_bound(it->first)) {
    if (std::find(takes.begin(), takes.end(), it->first) == takes.end()) {
      return Error(400, lang,
                   LabelHtml(lang, "page.unknownParam",
                             {{"name", Escape(it->first)}, {"names", Escape(names)}}),
                   self);
    }
    if (query.count(it->first) > 1) {
      return Error(400, lang, LabelHtml(lang, "page.repeatedParam", {{"name", Escape(it->first)}}),
                   self);
    }
  }
  return std::nullopt;
}

std::string Param(const std::multimap<std::string, std::string>& query, const std::string& name) {
  const auto it = query.find(name);
  return it == query.end() ? "" : it->second;
}

std::optional<Page> ReadFailed(const Read& read, Lang lang, const std::string& self) {
  if (read.status == 200) return std::nullopt;
  return Error(read.status, lang,
               LabelHtml(lang, "page.unavailable",
                         {{"message", "<span class=\"server-text\" lang=\"en\">" +
                                          Escape(read.message) + "</span>"}}),
               self);
}

const Json& ListOf(const Read& read, const char* key) {
  static const Json kEmpty = Json::array();
  const auto it = read.body.find(key);
  return it != read.body.end() && it->is_array() ? *it : kEmpty;
}

std::string RefOf(const Json& p) {
  const std::string ref = Field(p, "ref");
  return ref.empty() ? Field(p, "reference") : ref;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---- Lists: /projects, /issuances, /authorizations
// -----------------------------------------------

// A list page's state in its URL: the search words, a value per filter, the sort and the page.
struct ListState {
  std::string q, sort;
  std::map<std::string, std::string> filters;
  int64_t page = 1;
};

// A filter of a list: its parameter, its label, what a value must look like (a value that cannot
// be one is refused with a 400 page), and how a value is shown (HTML).
struct ListFilter {
  std::string name;
  std::string label_key;
  std::function<bool(const std::string&)> valid;
  std::function<std::string(const std::string&)> option_html;
};

// What a list page is: its path, title, table and the columns it sorts by (a numeric one sorts
// by number).
struct ListSpec {
  std::string path;       // "/issuances"
  std::string page;       // main's data-server: "issuances"
  std::string id;         // the table's container, as app.js names it: "lots"
  std::string title_key;  // "issuances.title"
  std::string caption_key;
  std::vector<ListFilter> filters;
  std::vector<std::string> sort_keys;
  std::vector<Column> columns;
};

// One row: its value per filter, the text searched, its value per sort key, its cells (HTML).
struct ListRow {
  std::map<std::string, std::string> filter;
  std::string search;
  std::map<std::string, std::string> text;
  std::map<std::string, int64_t> number;
  std::vector<std::string> cells;
};

// The list's path with the state's parameters (those not empty, page 1 left out).
std::string ListHref(const ListSpec& spec, const ListState& s) {
  std::string q;
  auto add = [&](const std::string& name, const std::string& value) {
    if (value.empty()) return;
    q += (q.empty() ? "?" : "&") + name + "=" + UrlEncode(value);
  };
  add("q", s.q);
  for (const ListFilter& f : spec.filters) {
    const auto it = s.filters.find(f.name);
    if (it != s.filters.end()) add(f.name, it->second);
  }
  add("sort", s.sort);
  if (s.page > 1) add("page", std::to_string(s.page));
  return spec.path + q;
}

std::string ListOfNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The state the query asks for, or the 400 page saying what is wrong with it: a parameter the
// page does not take or given twice, a sort by no column, a filter value that cannot be one.
// The page number is checked once the rows are counted (ListPage).
std::optional<Page> ReadListState(const ListSpec& spec,
                                  const std::multimap<std::string, std::string>& query, Lang lang,
                                  ListState& s) {
  s.q = Param(query, "q");
  s.sort = Param(query, "sort");
  std::vector<std::string> takes = {"q"};
  for (const ListFilter& f : spec.filters) {
    takes.push_back(f.name);
    const std::string value = Param(query, f.name);
    if (!value.empty()) s.filters[f.name] = value;
  }
  for (const char* name : {"sort", "page", "lang"}) takes.emplace_back(name);
  const std::string self = ListHref(spec, s);
  if (auto bad = CheckQuery(query, takes, lang, self)) return bad;
  const std::string sort_key = s.sort.substr(s.sort.rfind('-', 0) == 0 ? 1 : 0);
  if (!s.sort.empty() &&
      std::find(spec.sort_keys.begin(), spec.sort_keys.end(), sort_key) == spec.sort_keys.end()) {
    return Error(
        400, lang,
        LabelHtml(lang, "page.badSort",
                  {{"sort", Escape(s.sort)}, {"keys", Escape(ListOfNames(spec.sort_keys))}}),
        spec.path, spec.page);
  }
  for (const ListFilter& f : spec.filters) {
    const auto it = s.filters.find(f.name);
    if (it != s.filters.end() && !f.valid(it->second)) {
      return Error(400, lang,
                   LabelHtml(lang, "page.badFilter." + f.name, {{"value", Escape(it->second)}}),
                   spec.path, spec.page);
    }
  }
  return std::nullopt;
}

// The list page: the filters as links (no form, no script needed), the count, a page of the
// rows that match, filtered, searched and sorted as the query says, and the pager; `after` is
// HTML put below it.
Page ListPage(const ListSpec& spec, ListState s, const std::vector<ListRow>& rows,
              const std::multimap<std::string, std::string>& query, Lang lang,
              const std::string& after = "") {
  std::vector<std::string> words;
  {
    std::string word;
    for (const char c : Lower(s.q) + " ") {
      if (std::isspace(static_cast<unsigned char>(c))) {
        if (!word.empty()) words.push_back(word);
        word.clear();
      } else {
        word += c;
      }
    }
  }
  std::map<std::string, std::set<std::string>> values;
  std::vector<const ListRow*> shown;
  for (const ListRow& r : rows) {
    bool match = true;
    for (const ListFilter& f : spec.filters) {
      const auto value = r.filter.find(f.name);
      const std::string v = value == r.filter.end() ? "" : value->second;
      if (!v.empty()) values[f.name].insert(v);
      const auto asked = s.filters.find(f.name);
      if (asked != s.filters.end() && asked->second != v) match = false;
    }
    if (!match) continue;
    const std::string text = Lower(r.search);
    if (!std::all_of(words.begin(), words.end(),
                     [&](const std::string& w) { return text.find(w) != std::string::npos; })) {
      continue;
    }
    shown.push_back(&r);
  }
  const std::string sort_key = s.sort.substr(s.sort.rfind('-', 0) == 0 ? 1 : 0);
  if (!sort_key.empty()) {
    const bool desc = s.sort[0] == '-';
    std::stable_sort(shown.begin(), shown.end(), [&](const ListRow* a, const ListRow* b) {
      const auto x = a->number.find(sort_key), y = b->number.find(sort_key);
      if (x != a->number.end() && y != b->number.end()) {
        return desc ? y->second < x->second : x->second < y->second;
      }
      const auto tx = a->text.find(sort_key), ty = b->text.find(sort_key);
      const std::string l = tx == a->text.end() ? "" : tx->second;
      const std::string r = ty == b->text.end() ? "" : ty->second;
      return desc ? r < l : l < r;
    });
  }
  const int64_t pages =
      std::max<int64_t>(1, (static_cast<int64_t>(shown.size()) + kPageSize - 1) / kPageSize);
  const std::string page_text = Param(query, "page");
  if (!page_text.empty()) {
    const bool digits =
        page_text.size() <= 9 && std::all_of(page_text.begin(), page_text.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        });
    const int64_t n = digits ? std::stoll(page_text) : 0;
    if (n < 1 || n > pages) {
      s.page = 1;
      return Error(400, lang,
                   LabelHtml(lang, "page.badPage",
                             {{"page", Escape(page_text)}, {"pages", std::to_string(pages)}}),
                   ListHref(spec, s), spec.page);
    }
    s.page = n;
  }
  const std::string self = ListHref(spec, s);
  const std::string title = LabelHtml(lang, spec.title_key, {});
  std::string main = "<h1>" + title + "</h1>\n";
  main +=
      "<nav class=\"filters-nav\" aria-label=\"" + LabelHtml(lang, "filter.search", {}) + "\">\n";
  for (const ListFilter& f : spec.filters) {
    std::string html = "<p class=\"filter-links\"><span class=\"filter-name\">" +
                       LabelHtml(lang, f.label_key, {}) + ":</span> ";
    ListState all = s;
    all.filters.erase(f.name);
    all.page = 1;
    const auto asked = s.filters.find(f.name);
    html += "<a href=\"" + Escape(ListHref(spec, all)) + "\"" +
            (asked == s.filters.end() ? " aria-current=\"true\"" : "") + ">" +
            LabelHtml(lang, "filter.all", {}) + "</a>";
    std::set<std::string> options = values[f.name];
    if (asked != s.filters.end()) options.insert(asked->second);
    for (const std::string& v : options) {
      ListState one = s;
      one.filters[f.name] = v;
      one.page = 1;
      const bool current = asked != s.filters.end() && asked->second == v;
      html += " · <a href=\"" + Escape(ListHref(spec, one)) + "\"" +
              (current ? " aria-current=\"true\"" : "") + ">" +
              (f.option_html ? f.option_html(v) : Escape(v)) + "</a>";
    }
    main += html + "</p>\n";
  }
  main += "</nav>\n";
  main += "<p id=\"" + Escape(spec.id) + "-count\" class=\"muted\">" +
          LabelHtml(lang, "filter.count",
                    {{"shown", GroupThousands(static_cast<int64_t>(shown.size()))},
                     {"count", GroupThousands(static_cast<int64_t>(rows.size()))}}) +
          "</p>\n";
  std::vector<std::vector<std::string>> cells;
  for (size_t i = static_cast<size_t>((s.page - 1) * kPageSize);
       i < shown.size() && i < static_cast<size_t>(s.page * kPageSize); ++i) {
    cells.push_back(shown[i]->cells);
  }
  if (cells.empty()) {
    main += "<p class=\"muted\">" + LabelHtml(lang, "none", {}) + "</p>\n";
  } else {
    main += "<div id=\"" + Escape(spec.id) + "\">" +
            Table(spec.columns, cells, LabelHtml(lang, spec.caption_key, {})) +
            "\n<div class=\"pager\">";
    if (s.page > 1) {
      ListState prev = s;
      --prev.page;
      main += "<a class=\"prev\" rel=\"prev\" href=\"" + Escape(ListHref(spec, prev)) + "\">" +
              LabelHtml(lang, "prev", {}) + "</a> ";
    }
    main += "<span>" +
            LabelHtml(lang, "pageOf",
                      {{"page", std::to_string(s.page)},
                       {"pages", std::to_string(pages)},
                       {"count", GroupThousands(static_cast<int64_t>(shown.size()))}}) +
            "</span>";
    if (s.page < pages) {
      ListState next = s;
      ++next.page;
      main += " <a class=\"next\" rel=\"next\" href=\"" + Escape(ListHref(spec, next)) + "\">" +
              LabelHtml(lang, "next", {}) + "</a>";
    }
    main += "</div></div>\n";
  }
  main += after;
  return Page{200, Frame(lang, title, spec.page, main, self)};
}

bool AnyText(const std::string&) { return true; }

bool IsRegistryCode(const std::string& v) { return ParseRegistryCode(v).has_value(); }

bool IsPartyCode(const std::string& v) { return ParsePartyCode(v).has_value(); }

bool IsYear(const std::string& v) {
  return v.size() == 4 && std::all_of(v.begin(), v.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c));
         });
}

Page ProjectsPage(const std::multimap<std::string, std::string>& query, Lang lang,
                  const Sources& sources) {
  ListSpec spec{"/projects",
                "projects",
                "projects",
                "projects.title",
                "projects.caption",
                {{"host", "col.host", IsPartyCode, nullptr},
                 {"state", "col.state", AnyText,
                  [lang](const std::string& v) { return StateLabel(lang, v); }}},
                {"ref", "title", "host_party", "state", "methodology", "issued"},
                {{LabelHtml(lang, "col.reference", {})},
                 {LabelHtml(lang, "col.title", {})},
                 {LabelHtml(lang, "col.host", {})},
                 {LabelHtml(lang, "col.state", {})},
                 {LabelHtml(lang, "col.methodology", {})},
                 {LabelHtml(lang, "col.issuedHere", {}), true}}};
  ListState s;
  if (auto bad = ReadListState(spec, query, lang, s)) return *bad;
  const std::string self = ListHref(spec, s);
  const Read projects = sources.list("project");
  if (auto failed = ReadFailed(projects, lang, self)) return *failed;
  const Read lots = sources.lots();
  if (auto failed = ReadFailed(lots, lang, self)) return *failed;
  std::map<std::string, int64_t> issued;
  for (const Json& l : ListOf(lots, "lots")) issued[Field(l, "project")] += Int(l, "quantity");
  std::vector<ListRow> rows;
  for (const Json& p : ListOf(projects, "projects")) {
    const std::string ref = RefOf(p);
    ListRow r;
    r.filter = {{"host", Field(p, "host_party")}, {"state", Field(p, "state")}};
    r.search = ref + " " + Field(p, "title") + " " + Field(p, "host_party") + " " +
               Field(p, "methodology") + " " + Join(p.value("participants", Json::array()), " ");
    r.text = {{"ref", ref},
              {"title", Field(p, "title")},
              {"host_party", Field(p, "host_party")},
              {"state", Field(p, "state")},
              {"methodology", Field(p, "methodology")}};
    r.number = {{"issued", issued[ref]}};
    r.cells = {ProjectLink(ref),
               Escape(Field(p, "title")),
               Escape(Field(p, "host_party")),
               StateLabel(lang, Field(p, "state")),
               Escape(Field(p, "methodology")),
               GroupThousands(issued[ref])};
    rows.push_back(std::move(r));
  }
  return ListPage(spec, std::move(s), rows, query, lang);
}

// /issuances: every lot, newest first, as app.js's #/issuances (registry, host, vintage, kind).
Page IssuancesPage(const std::multimap<std::string, std::string>& query, Lang lang,
                   const Sources& sources) {
  ListSpec spec{
      "/issuances",
      "issuances",
      "lots",
      "issuances.title",
      "issuances.caption",
      {{"registry", "col.registry", IsRegistryCode, nullptr},
       {"host", "col.host", IsPartyCode, nullptr},
       {"vintage", "col.vintage", IsYear, nullptr},
       {"kind", "col.kind", [](const std::string& v) { return v == "itmo" || v == "jcm"; },
        [lang](const std::string& v) {
          return v == "itmo" ? std::string("ITMO") : LabelHtml(lang, "kind.jcm", {});
        }}},
      {"registry", "project", "vintage", "first", "quantity", "itmo", "authorization_id",
       "jc_decision"},
      {{LabelHtml(lang, "col.registry", {})},
       {LabelHtml(lang, "col.project", {})},
       {LabelHtml(lang, "col.vintage", {}), true},
       {LabelHtml(lang, "col.serials", {})},
       {LabelHtml(lang, "col.quantity", {}), true},
       {LabelHtml(lang, "col.kind", {})},
       {LabelHtml(lang, "col.authorization", {})},
       {LabelHtml(lang, "col.decision", {})}}};
  ListState s;
  if (auto bad = ReadListState(spec, query, lang, s)) return *bad;
  const std::string self = ListHref(spec, s);
  const Read lots = sources.lots();
  if (auto failed = ReadFailed(lots, lang, self)) return *failed;
  const Read projects = sources.list("project");
  if (auto failed = ReadFailed(projects, lang, self)) return *failed;
  std::map<std::string, std::string> host;
  for (const Json& p : ListOf(projects, "projects")) host[RefOf(p)] = Field(p, "host_party");
  std::vector<ListRow> rows;
  const Json& all = ListOf(lots, "lots");
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const Json& l = *it;
    const int64_t first = Int(l, "first"), last = Int(l, "last");
    const bool itmo = l.value("itmo", false);
    std::string authorization = Field(l, "authorization_id");
    if (!authorization.empty()) authorization += " v" + Field(l, "authorization_version");
    const std::string project = Field(l, "project");
    ListRow r;
    r.filter = {{"registry", Field(l, "registry")},
                {"host", host[project]},
                {"vintage", Field(l, "vintage")},
                {"kind", itmo ? "itmo" : "jcm"}};
    r.search = Field(l, "registry") + " " + project + " " + Field(l, "vintage") + " " +
               Field(l, "jc_decision") + " " + Field(l, "authorization_id") + " " +
               Field(l, "cooperative_approach");
    r.text = {{"registry", Field(l, "registry")},
              {"project", project},
              {"authorization_id", authorization},
              {"jc_decision", Field(l, "jc_decision")}};
    r.number = {{"vintage", Int(l, "vintage")},
                {"first", first},
                {"quantity", Int(l, "quantity")},
                {"itmo", itmo ? 1 : 0}};
    const std::string serials =
        first == last ? std::to_string(first) : std::to_string(first) + "–" + std::to_string(last);
    r.cells = {Escape(Field(l, "registry")),
               ProjectLink(project),
               Escape(Field(l, "vintage")),
               "<a href=\"/#/lookup/" + Escape(UrlEncode(Field(l, "registry"))) + "/" +
                   std::to_string(first) + "\">" + serials + "</a>",
               GroupThousands(Int(l, "quantity")),
               itmo ? "<span class=\"tag itmo\">ITMO " + Escape(Field(l, "cooperative_approach")) +
                          "</span>"
                    : "<span class=\"tag\">" + LabelHtml(lang, "kind.jcm", {}) + "</span>",
               Escape(authorization),
               Escape(Field(l, "jc_decision"))};
    rows.push_back(std::move(r));
  }
  return ListPage(spec, std::move(s), rows, query, lang);
}

// /authorizations: each Party's authorizations (party, project, state), and the cooperative
// approaches (Step 1) below, as app.js's #/authorizations.
Page AuthorizationsPage(const std::multimap<std::string, std::string>& query, Lang lang,
                        const Sources& sources) {
  ListSpec spec{"/authorizations",
                "authorizations",
                "authorizations",
                "authorizations.title",
                "authorizations.title",
                {{"party", "col.party", IsPartyCode, nullptr},
                 {"state", "col.state",
                  [](const std::string& v) { return v == "in_force" || v == "revoked"; },
                  [lang](const std::string& v) {
                    return LabelHtml(lang, v == "revoked" ? "auth.revoked" : "auth.inForce", {});
                  }}},
                {"authorization_id", "party", "version", "project", "date", "state"},
                {{LabelHtml(lang, "col.authorizationId", {})},
                 {LabelHtml(lang, "col.party", {})},
                 {LabelHtml(lang, "col.version", {}), true},
                 {LabelHtml(lang, "col.project", {})},
                 {LabelHtml(lang, "col.purposes", {})},
                 {LabelHtml(lang, "col.firstTransfer", {})},
                 {LabelHtml(lang, "col.date", {})},
                 {LabelHtml(lang, "col.state", {})}}};
  ListState s;
  if (auto bad = ReadListState(spec, query, lang, s)) return *bad;
  const std::string self = ListHref(spec, s);
  const Read auths = sources.list("authorization");
  if (auto failed = ReadFailed(auths, lang, self)) return *failed;
  const Read cas = sources.list("cooperative_approach");
  if (auto failed = ReadFailed(cas, lang, self)) return *failed;
  std::vector<ListRow> rows;
  for (const Json& a : ListOf(auths, "authorizations")) {
    std::string id = Field(a, "authorization_id");
    if (id.empty()) id = Field(a, "id");
    std::string version = Field(a, "version");
    if (version.empty()) version = Field(a, "_version");
    std::string first_transfer = Field(a, "first_transfer_definition");
    if (first_transfer.empty()) first_transfer = Field(a, "first_transfer");
    const bool revoked = a.value("revoked", false);
    ListRow r;
    r.filter = {{"party", Field(a, "party")}, {"state", revoked ? "revoked" : "in_force"}};
    r.search = id + " " + Field(a, "party") + " " + Field(a, "project") + " " +
               Join(a.value("purposes", Json()), " ");
    r.text = {{"authorization_id", id},
              {"party", Field(a, "party")},
              {"project", Field(a, "project")},
              {"date", Field(a, "date")},
              {"state", revoked ? "revoked" : "in_force"}};
    r.number = {{"version", Int(a, "version") != 0 ? Int(a, "version") : Int(a, "_version")}};
    r.cells = {Escape(id),
               Escape(Field(a, "party")),
               Escape(version),
               ProjectLink(Field(a, "project")),
               Escape(Join(a.value("purposes", Json()), ",")),
               Escape(first_transfer),
               Escape(Field(a, "date")),
               LabelHtml(lang, revoked ? "auth.revoked" : "auth.inForce", {})};
    rows.push_back(std::move(r));
  }
  std::string after;
  std::vector<std::vector<std::string>> approaches;
  for (const Json& c : ListOf(cas, "cooperative_approaches")) {
    std::string id = Field(c, "ca_id");
    if (id.empty()) id = Field(c, "key");
    std::string name = Field(c, "name");
    if (name.empty()) name = Field(c, "title");
    if (name.empty()) name = Field(c, "key");
    approaches.push_back(
        {Escape(id), Escape(name), Escape(Join(c.value("parties", Json::array()), ", "))});
  }
  if (!approaches.empty()) {
    after = "<h2>" + LabelHtml(lang, "authorizations.cas", {}) + "</h2>\n" +
            Table({{LabelHtml(lang, "col.caId", {})},
                   {LabelHtml(lang, "col.name", {})},
                   {LabelHtml(lang, "col.parties", {})}},
                  approaches, LabelHtml(lang, "authorizations.cas", {}), "cooperative-approaches") +
            "\n";
  }
  return ListPage(spec, std::move(s), rows, query, lang, after);
}

// ---- /projects/REF ------------------------------------------------------------------------------

// Authorized against issued per vintage as horizontal bars, two per vintage (authorized, issued),
// drawn here as SVG; the table beside it holds the same numbers. No style attribute (the
// Content-Security-Policy allows style.css only): colours by class.
std::string AuthorizedIssuedChart(
    Lang lang, const std::string& id, const std::string& title_html,
    const std::vector<std::tuple<std::string, int64_t, int64_t>>& rows) {
  int64_t max = 1;
  for (const auto& [v, a, i] : rows) max = std::max({max, a, i});
  const int bar = 14, gap = 10, left = 70, width = 640, right = 110;
  const int group = 2 * bar + gap;
  const int height = static_cast<int>(rows.size()) * group + gap;
  std::string svg = "<svg class=\"bar-chart\" viewBox=\"0 0 " + std::to_string(width) + " " +
                    std::to_string(height) + "\" role=\"img\" aria-labelledby=\"" + Escape(id) +
                    "-title\" preserveAspectRatio=\"xMinYMin meet\">";
  const std::string authorized = LabelHtml(lang, "col.authorized", {});
  const std::string issued = LabelHtml(lang, "col.issued", {});
  for (size_t k = 0; k < rows.size(); ++k) {
    const auto& [vintage, a, i] = rows[k];
    const int y = gap + static_cast<int>(k) * group;
    svg += "<g class=\"bar-row\"><text class=\"bar-label\" x=\"" + std::to_string(left - 8) +
           "\" y=\"" + std::to_string(y + bar + 4) + "\" text-anchor=\"end\">" + Escape(vintage) +
           "</text>";
    int row = 0;
    for (const auto& [value, series, label] :
         {std::tuple{a, 0, authorized}, std::tuple{i, 1, issued}}) {
      const int64_t w = (width - left - right) * value / max;
      const int yy = y + row++ * bar;
      svg += "<rect class=\"bar series-" + std::to_string(series) + "\" data-value=\"" +
             std::to_string(value) + "\" x=\"" + std::to_string(left) + "\" y=\"" +
             std::to_string(yy) + "\" width=\"" +
             std::to_string(value > 0 ? std::max<int64_t>(w, 1) : 0) + "\" height=\"" +
             std::to_string(bar - 2) + "\"><title>" + Escape(vintage) + " " + label + ": " +
             GroupThousands(value) + "</title></rect><text class=\"bar-value\" x=\"" +
             std::to_string(left + w + 6) + "\" y=\"" + std::to_string(yy + bar - 4) + "\">" +
             GroupThousands(value) + "</text>";
    }
    svg += "</g>";
  }
  svg += "</svg>";
  const std::string legend =
      "<ul class=\"legend\"><li><span class=\"swatch series-0\" "
      "aria-hidden=\"true\"></span>" +
      authorized + "</li><li><span class=\"swatch series-1\" aria-hidden=\"true\"></span>" +
      issued + "</li></ul>";
  return "<figure id=\"" + Escape(id) + "\" class=\"chart\"><figcaption id=\"" + Escape(id) +
         "-title\">" + title_html + "</figcaption>" + svg + legend + "</figure>";
}

std::string AuthorizationSection(Lang lang, const Json& a, const Json* ca, const std::string& ref,
                                 const Sources& sources) {
  const std::string party = Field(a, "party");
  std::string version = Field(a, "version");
  if (version.empty()) version = Field(a, "_version");
  std::string html = "<section class=\"authorization\" data-party=\"" + Escape(party) + "\">";
  html += "<h3>" +
          LabelHtml(lang, "project.partyAuthorization",
                    {{"party", Escape(party)},
                     {"id", Escape(Field(a, "authorization_id"))},
                     {"version", Escape(version)}}) +
          "</h3>";
  if (a.contains("withheld")) {
    return html + "<p class=\"muted\">" + Escape(Field(a, "withheld")) + "</p></section>";
  }
  const Json authorized = a.value("authorized", Json::object());
  const Json issued_by = a.value("issued", Json::object());
  const Json* step1 = nullptr;
  if (ca != nullptr && ca->contains("step1") && (*ca)["step1"].is_object() &&
      (*ca)["step1"].contains(party)) {
    step1 = &(*ca)["step1"][party];
  }
  bool any_issued = false;
  if (issued_by.is_object()) {
    for (const auto& [v, q] : issued_by.items())
      any_issued = any_issued || (q.is_number() && q.get<int64_t>() > 0);
  }
  const std::string missing = LabelHtml(lang, "step.missing", {});
  const std::string date = Field(a, "date");
  std::string effective = Field(a, "effective_date");
  if (effective.empty()) effective = date;
  html += Facts({
      {LabelHtml(lang, "step.1", {}), step1 != nullptr && !step1->contains("withheld")
                                          ? LabelHtml(lang, "step.1done",
                                                      {{"ca", Escape(Field(*ca, "ca_id"))},
                                                       {"date", Escape(Field(*step1, "c_date"))}})
                                          : missing},
      {LabelHtml(lang, "step.2a", {}),
       LabelHtml(lang, "step.2adone", {{"date", Escape(date)}, {"effective", Escape(effective)}})},
      {LabelHtml(lang, "step.2b", {}),
       any_issued ? LabelHtml(lang, "step.2bdone", {{"decision", Escape(Field(a, "jc_decision"))}})
                  : missing},
      {LabelHtml(lang, "col.purposes", {}), Escape(Join(a.value("purposes", Json()), ", "))},
      {LabelHtml(lang, "project.acquiring", {}),
       Escape(Join(a.value("acquiring_parties", Json::array()), ", "))},
      {LabelHtml(lang, "col.state", {}),
       LabelHtml(lang, a.value("revoked", false) ? "auth.revoked" : "auth.inForce", {})},
  });
  std::set<std::string> vintages;
  if (authorized.is_object()) {
    for (const auto& [v, q] : authorized.items()) vintages.insert(v);
  }
  if (issued_by.is_object()) {
    for (const auto& [v, q] : issued_by.items()) vintages.insert(v);
  }
  std::vector<std::tuple<std::string, int64_t, int64_t>> numbers;
  std::vector<std::vector<std::string>> rows;
  for (const std::string& v : vintages) {
    const int64_t au = Int(authorized, v.c_str()), is = Int(issued_by, v.c_str());
    numbers.emplace_back(v, au, is);
    rows.push_back({Escape(v), GroupThousands(au), GroupThousands(is), GroupThousands(au - is)});
  }
  const std::string id = "chart-authorized-" + party;
  const std::string title = LabelHtml(lang, "project.chartOf", {{"party", Escape(party)}});
  html += AsOf(lang, sources);
  html += "<div class=\"chart-row\">" + AuthorizedIssuedChart(lang, id, title, numbers) +
          Table({{LabelHtml(lang, "col.vintage", {})},
                 {LabelHtml(lang, "col.authorized", {}), true},
                 {LabelHtml(lang, "col.issued", {}), true},
                 {LabelHtml(lang, "col.remaining", {}), true}},
                rows, LabelHtml(lang, "project.vintagesOf", {{"party", Escape(party)}})) +
          "</div>";
  static_cast<void>(ref);
  return html + "</section>";
}

// The ITMO identifier of `serial` of `lot` (core/itmo_id.h), "" for a lot of JCM credits only
// (R-ID-05: the JCM serial and the ITMO identifier of the same unit, linked).
std::string ItmoIdOf(const Json& lot, int64_t serial) {
  if (!lot.value("itmo", false)) return "";
  const auto id = ParseItmoId(Field(lot, "cooperative_approach") + "-" + Field(lot, "registry") +
                              "-" + Field(lot, "first_transferring_party") + "-" +
                              std::to_string(serial) + "-" + Field(lot, "vintage"));
  return id ? FormatItmoId(*id) : "";
}

// A serial range [first, last] of `lot` linked to the portal's lookup of its first serial, and
// the ITMO identifiers of its ends, each linked to the lookup of that identifier ("" for JCM
// credits only).
std::pair<std::string, std::string> SerialsAndItmoIds(const Json& lot, int64_t first,
                                                      int64_t last) {
  const std::string registry = Field(lot, "registry");
  const std::string range =
      first == last ? std::to_string(first) : std::to_string(first) + "–" + std::to_string(last);
  const std::string serials = "<a class=\"serials\" href=\"/#/lookup/" +
                              Escape(UrlEncode(registry)) + "/" + std::to_string(first) + "\">" +
                              range + "</a>";
  const std::string a = ItmoIdOf(lot, first), b = ItmoIdOf(lot, last);
  if (a.empty() || b.empty()) return {serials, ""};
  const auto link = [](const std::string& id) {
    return "<a href=\"/#/lookup/" + Escape(UrlEncode(id)) + "\">" + Escape(id) + "</a>";
  };
  return {serials, "<code class=\"itmo-id\">" + link(a) + (first == last ? "" : " … " + link(b)) +
                       "</code>"};
}

// The project cycle's records (project.record), oldest first: what each is, its details, and its
// document linked by URL with its SHA-256.
std::string CycleSection(Lang lang, const Read& cycle) {
  std::string html = "<h2>" + LabelHtml(lang, "project.cycle", {}) + "</h2>\n";
  std::vector<std::vector<std::string>> rows;
  if (cycle.status == 200) {
    for (const Json& v : cycle.body.value("versions", Json::array())) {
      const Json r = v.value("body", Json::object());
      std::vector<std::string> details;
      if (r.contains("tpe")) {
        details.push_back(LabelHtml(
            lang, "cycle.tpe",
            {{"tpe", Escape(Field(r, "tpe"))}, {"report", Escape(Field(r, "report_ref"))}}));
      }
      for (const auto& [key, label] : {std::pair{"monitoring_period", "cycle.monitoring"},
                                       std::pair{"crediting_period", "cycle.crediting"}}) {
        if (!r.contains(key)) continue;
        details.push_back(LabelHtml(
            lang, label,
            {{"from", Escape(Field(r[key], "start"))}, {"to", Escape(Field(r[key], "end"))}}));
      }
      if (r.contains("withdraws")) {
        details.push_back(
            LabelHtml(lang, "cycle.withdraws", {{"what", Escape(Field(r, "withdraws"))}}));
      }
      if (r.contains("jc_decision")) {
        details.push_back(
            LabelHtml(lang, "cycle.decision", {{"id", Escape(Field(r, "jc_decision"))}}));
      }
      if (r.contains("project_state")) {
        details.push_back(StateLabel(lang, Field(r["project_state"], "from")) + " → " +
                          StateLabel(lang, Field(r["project_state"], "to")));
      }
      if (r.contains("note")) details.push_back(Escape(Field(r, "note")));
      std::string joined;
      for (const std::string& d : details) joined += (joined.empty() ? "" : "<br>") + d;
      const Json document = r.value("document", Json::object());
      const std::string url = Field(document, "url");
      rows.push_back({Escape(Field(r, "number")), Escape(Field(r, "date")),
                      LabelHtml(lang, "cycle." + Field(r, "kind"), {}), joined,
                      "<a class=\"document\" rel=\"noopener noreferrer\" href=\"" + Escape(url) +
                          "\">" + Escape(url) + "</a><br><code class=\"sha256\">" +
                          Escape(Field(document, "sha256")) + "</code>"});
    }
  }
  if (rows.empty())
    return html + "<p class=\"muted\">" + LabelHtml(lang, "project.noCycle", {}) + "</p>\n";
  return html +
         Table({{LabelHtml(lang, "col.number", {}), true},
                {LabelHtml(lang, "col.date", {})},
                {LabelHtml(lang, "col.record", {})},
                {LabelHtml(lang, "col.details", {})},
                {LabelHtml(lang, "col.document", {})}},
               rows, LabelHtml(lang, "project.cycle", {}), "project-cycle") +
         "\n";
}

Page ProjectPage(const std::string& ref, const std::multimap<std::string, std::string>& query,
                 Lang lang, const Sources& sources) {
  const std::string self = ProjectHref(ref);
  if (auto bad = CheckQuery(query, {"lang"}, lang, self)) return *bad;
  if (!ParseActivityRef(ref)) {
    return Error(400, lang, LabelHtml(lang, "page.badRef", {{"ref", Escape(ref)}}), "/projects",
                 "project");
  }
  const std::string title = LabelHtml(lang, "project.title", {{"ref", Escape(ref)}});
  const Read doc = sources.document("project", ref);
  if (doc.status == 404) {
    const std::string main = "<h1>" + title + "</h1>\n" +
                             Message(LabelHtml(lang, "project.unknown", {{"ref", Escape(ref)}})) +
                             "\n<p><a href=\"/projects\">" + LabelHtml(lang, "project.all", {}) +
                             "</a></p>";
    return Page{404, Frame(lang, title, "project", main, self)};
  }
  if (auto failed = ReadFailed(doc, lang, self)) return *failed;
  const Json p = doc.body.value("current", Json::object());
  const Read auths = sources.list("authorization");
  if (auto failed = ReadFailed(auths, lang, self)) return *failed;
  const Read cas = sources.list("cooperative_approach");
  if (auto failed = ReadFailed(cas, lang, self)) return *failed;
  const Read lots = sources.lots();
  if (auto failed = ReadFailed(lots, lang, self)) return *failed;
  const Read cycle = sources.document("project_cycle", ref);  // 404: no record yet.
  if (cycle.status != 404) {
    if (auto failed = ReadFailed(cycle, lang, self)) return *failed;
  }
  const Json* ca = nullptr;
  for (const Json& c : ListOf(cas, "cooperative_approaches")) {
    if (!Field(p, "ca_key").empty() && Field(c, "key") == Field(p, "ca_key")) ca = &c;
  }

  std::string main =
      "<h1>" + title + "</h1>\n<p class=\"lead data\">" + Escape(Field(p, "title")) + "</p>\n";
  std::string allocation;
  if (p.contains("allocation") && p["allocation"].is_object()) {
    for (const auto& [k, v] : p["allocation"].items()) {
      allocation += (allocation.empty() ? "" : ", ") + k + " " + Str(v) + "%";
    }
  }
  std::string methodology = Field(p, "methodology");
  if (!Field(p, "methodology_version").empty())
    methodology += " " + Field(p, "methodology_version");
  std::string sector = Field(p, "sector");
  if (!Field(p, "activity_type").empty()) {
    sector += (sector.empty() ? "" : " · ") + Field(p, "activity_type");
  }
  std::string mitigation_type = Field(p, "mitigation_type");
  if (mitigation_type.empty()) mitigation_type = DefaultMitigationType(Field(p, "activity_type"));
  std::string ca_text;
  if (ca != nullptr)
    ca_text = Field(*ca, "ca_id") + " (" + Join(ca->value("parties", Json::array()), ", ") + ")";
  main += Facts(
      {
          {LabelHtml(lang, "col.host", {}), Escape(Field(p, "host_party"))},
          {LabelHtml(lang, "project.participants", {}),
           Escape(Join(p.value("participants", Json::array()), "; "))},
          {LabelHtml(lang, "col.methodology", {}), Escape(methodology)},
          {LabelHtml(lang, "project.sector", {}), Escape(sector)},
          {LabelHtml(lang, "project.mitigationType", {}), Escape(mitigation_type)},
          {LabelHtml(lang, "col.state", {}), StateLabel(lang, Field(p, "state"))},
          {LabelHtml(lang, "project.registered", {}), Escape(Field(p, "registration_date"))},
          {LabelHtml(lang, "project.ca", {}), Escape(ca_text)},
          {LabelHtml(lang, "project.allocation", {}), Escape(allocation)},
          {LabelHtml(lang, "project.permalink", {}),
           "<a class=\"permalink\" href=\"" + Escape(self) + "\">" + Escape(self) + "</a>"},
      },
      "project-facts");

  main += "<h2>" + LabelHtml(lang, "project.decisions", {}) + "</h2>\n";
  std::vector<std::vector<std::string>> decisions;
  for (const Json& d : p.value("decisions", Json::array())) {
    // A move made by a cycle record that is no JC decision (a registration request) names it.
    const std::string id =
        !Field(d, "id").empty() || !d.contains("record")
            ? Escape(Field(d, "id"))
            : LabelHtml(lang, "project.byRecord", {{"n", Escape(Field(d, "record"))}});
    decisions.push_back(
        {Escape(Field(d, "date")), id,
         StateLabel(lang, Field(d, "from")) + " → " + StateLabel(lang, Field(d, "to"))});
  }
  main += decisions.empty() ? "<p class=\"muted\">" + LabelHtml(lang, "none", {}) + "</p>\n"
                            : Table({{LabelHtml(lang, "col.date", {})},
                                     {LabelHtml(lang, "col.decision", {})},
                                     {LabelHtml(lang, "col.change", {})}},
                                    decisions, LabelHtml(lang, "project.decisions", {})) +
                                  "\n";

  main += CycleSection(lang, cycle);

  main += "<h2>" + LabelHtml(lang, "project.authorizations", {}) + "</h2>\n";
  bool any = false;
  for (const Json& a : ListOf(auths, "authorizations")) {
    if (Field(a, "project") != ref) continue;
    any = true;
    main += AuthorizationSection(lang, a, ca, ref, sources) + "\n";
  }
  if (!any)
    main += "<p class=\"muted\">" + LabelHtml(lang, "project.noAuthorization", {}) + "</p>\n";

  main += "<h2>" + LabelHtml(lang, "project.issuances", {}) + "</h2>\n";
  std::vector<std::vector<std::string>> issuances;
  for (const Json& i : p.value("issuances", Json::array())) {
    std::string shares;
    if (i.contains("shares") && i["shares"].is_object()) {
      for (const auto& [k, v] : i["shares"].items()) {
        shares += (shares.empty() ? "" : ", ") + k + " " +
                  GroupThousands(v.is_number_integer() ? v.get<int64_t>() : 0);
      }
    }
    issuances.push_back({Escape(Field(i, "date")), Escape(Field(i, "jc_decision")),
                         Escape(Field(i, "side")), GroupThousands(Int(i, "total")),
                         Escape(shares)});
  }
  if (!issuances.empty()) {
    main += Table({{LabelHtml(lang, "col.date", {})},
                   {LabelHtml(lang, "col.decision", {})},
                   {LabelHtml(lang, "project.side", {})},
                   {LabelHtml(lang, "col.quantity", {}), true},
                   {LabelHtml(lang, "project.shares", {})}},
                  issuances, LabelHtml(lang, "project.decisionsIssued", {})) +
            "\n";
  }
  // Reversals of removals (issue 31 item 7), with what is remediated of each.
  std::vector<std::vector<std::string>> reversals;
  for (const Json& r : p.value("reversals", Json::array())) {
    reversals.push_back({Escape(Field(r, "date")), GroupThousands(Int(r, "quantity")),
                         Escape(Field(r, "cause")), GroupThousands(Int(r, "remediated")),
                         GroupThousands(Int(r, "quantity") - Int(r, "remediated"))});
  }
  if (!reversals.empty()) {
    main += "<h2>" + LabelHtml(lang, "project.reversals", {}) + "</h2>\n" +
            Table({{LabelHtml(lang, "col.date", {})},
                   {LabelHtml(lang, "col.quantity", {}), true},
                   {LabelHtml(lang, "project.cause", {})},
                   {LabelHtml(lang, "project.remediated", {}), true},
                   {LabelHtml(lang, "project.outstanding", {}), true}},
                  reversals, LabelHtml(lang, "project.reversals", {}), "project-reversals") +
            "\n";
  }
  std::vector<std::vector<std::string>> mine;
  for (const Json& l : ListOf(lots, "lots")) {
    if (Field(l, "project") != ref) continue;
    const int64_t first = Int(l, "first"), last = Int(l, "last");
    const bool itmo = l.value("itmo", false);
    const auto [serials, itmo_ids] = SerialsAndItmoIds(l, first, last);
    mine.push_back({Escape(Field(l, "registry")), Escape(Field(l, "vintage")), serials, itmo_ids,
                    GroupThousands(Int(l, "quantity")),
                    itmo ? "<span class=\"tag itmo\">ITMO " +
                               Escape(Field(l, "cooperative_approach")) + "</span>"
                         : "<span class=\"tag\">" + LabelHtml(lang, "kind.jcm", {}) + "</span>",
                    Escape(Field(l, "jc_decision"))});
  }
  main += mine.empty() ? "<p class=\"muted\">" + LabelHtml(lang, "none", {}) + "</p>\n"
                       : Table({{LabelHtml(lang, "col.registry", {})},
                                {LabelHtml(lang, "col.vintage", {}), true},
                                {LabelHtml(lang, "col.serials", {})},
                                {LabelHtml(lang, "col.itmoId", {})},
                                {LabelHtml(lang, "col.quantity", {}), true},
                                {LabelHtml(lang, "col.kind", {})},
                                {LabelHtml(lang, "col.decision", {})}},
                               mine, LabelHtml(lang, "project.lots", {}), "project-lots") +
                             "\n";
  main += "<h2>" + LabelHtml(lang, "project.history", {}) + "</h2>\n<p class=\"muted\">" +
          LabelHtml(lang, "page.historyNeedsScript", {}) + "</p>\n";
  return Page{200, Frame(lang, title, "project", main, self)};
}

// ---- /statistics
// ---------------------------------------------------------------------------------

// A link to a CSV the server makes (the same file as the script's "Download CSV").
std::string CsvLink(Lang lang, const std::string& href) {
  return "<p class=\"csv\"><a href=\"" + Escape(href) + "\" download>" +
         LabelHtml(lang, "csv.downloadServer", {}) + "</a></p>";
}

// The public statistics (DOMAIN R-JP-07), as GET /v1/totals and /v1/statistics/* answer: credits
// per account type and registry, the annual transactions summary, the entity holding accounts.
Page StatisticsPage(const std::multimap<std::string, std::string>& query, Lang lang,
                    const Sources& sources) {
  const std::string self = "/statistics";
  if (auto bad = CheckQuery(query, {"lang"}, lang, self)) return *bad;
  const Read totals = sources.statistics("totals");
  if (auto failed = ReadFailed(totals, lang, self)) return *failed;
  const Read annual = sources.statistics("annual");
  if (auto failed = ReadFailed(annual, lang, self)) return *failed;
  const Read accounts = sources.statistics("accounts");
  if (auto failed = ReadFailed(accounts, lang, self)) return *failed;
  const std::string title = LabelHtml(lang, "statistics.title", {});
  std::string main = "<h1>" + title + "</h1>\n" + AsOf(lang, sources) + "\n";

  std::vector<std::vector<std::string>> by_type;
  const Json registries = totals.body.value("totals", Json::object());
  for (const auto& [registry, types] : registries.items()) {
    if (!types.is_object()) continue;
    for (const auto& [type, amount] : types.items()) {
      by_type.push_back({Escape(registry), LabelHtml(lang, "type." + type, {}),
                         GroupThousands(amount.is_number_integer() ? amount.get<int64_t>() : 0)});
    }
  }
  main += "<h2>" + LabelHtml(lang, "statistics.types", {}) + "</h2>\n" +
          Table({{LabelHtml(lang, "col.registry", {})},
                 {LabelHtml(lang, "col.accountType", {})},
                 {LabelHtml(lang, "col.amount", {}), true}},
                by_type, LabelHtml(lang, "statistics.types", {}), "stats-types") +
          "\n";

  constexpr const char* kKinds[] = {"issuance",    "transfer",   "international_transfer",
                                    "acquisition", "retirement", "cancellation"};
  std::vector<Column> columns = {{LabelHtml(lang, "col.year", {})},
                                 {LabelHtml(lang, "col.registry", {})}};
  for (const char* kind : kKinds) {
    columns.push_back({LabelHtml(lang, std::string("col.") + kind, {}), true});
  }
  std::vector<std::vector<std::string>> years;
  for (const Json& y : annual.body.value("years", Json::array())) {
    std::vector<std::string> row = {Str(y.value("year", Json())), Escape(Field(y, "registry"))};
    for (const char* kind : kKinds) row.push_back(GroupThousands(Int(y, kind)));
    years.push_back(std::move(row));
  }
  main += "<h2>" + LabelHtml(lang, "statistics.annual", {}) + "</h2>\n" +
          Table(columns, years, LabelHtml(lang, "statistics.annual", {}), "stats-annual") + "\n" +
          CsvLink(lang, "/v1/statistics/annual?format=csv") + "\n";

  std::vector<std::vector<std::string>> entities;
  for (const Json& a : accounts.body.value("accounts", Json::array())) {
    entities.push_back({Str(a.value("id", Json())), Escape(Field(a, "registry")),
                        Escape(Field(a, "name")), Escape(Field(a, "holder_name")),
                        Escape(Field(a, "holder_country")),
                        LabelHtml(lang, "status." + Field(a, "status"), {})});
  }
  main += "<h2>" + LabelHtml(lang, "statistics.entities", {}) + "</h2>\n" +
          Table({{LabelHtml(lang, "col.account", {}), true},
                 {LabelHtml(lang, "col.registry", {})},
                 {LabelHtml(lang, "col.name", {})},
                 {LabelHtml(lang, "col.holder", {})},
                 {LabelHtml(lang, "col.country", {})},
                 {LabelHtml(lang, "col.status", {})}},
                entities, LabelHtml(lang, "statistics.entities", {}), "stats-entities") +
          "\n" + CsvLink(lang, "/v1/statistics/accounts?format=csv") + "\n";
  return Page{200, Frame(lang, title, "statistics", main, self)};
}

// ---- /reports
// ------------------------------------------------------------------------------------

// An <input> of a form, escaped.
std::string Input(const std::string& label_html, const std::string& name, const std::string& value,
                  const std::string& attributes) {
  return "<label>" + label_html + " <input name=\"" + name + "\" value=\"" + Escape(value) + "\" " +
         attributes + "></label> ";
}

// What the script's reports page offers, as links and forms that work without it: the AEF of a
// Party and year (a GET form straight to /v1/reports/aef, XLSX or one CSV table), the copies of
// authorizations and initial reports per approach and Party, the statistics' CSV.
Page ReportsPage(const std::multimap<std::string, std::string>& query, Lang lang,
                 const Sources& sources) {
  const std::string self = "/reports";
  if (auto bad = CheckQuery(query, {"lang"}, lang, self)) return *bad;
  const Read cas = sources.list("cooperative_approach");
  if (auto failed = ReadFailed(cas, lang, self)) return *failed;
  const std::string title = LabelHtml(lang, "reports.title", {});
  // The last whole year: the AEF of year Y is due by 15 April of Y+1.
  const int year = std::atoi(sources.as_of.substr(0, 4).c_str()) - 1;
  const std::string fields =
      Input(LabelHtml(lang, "col.party", {}), "party", "JPN",
            "size=\"4\" required pattern=\"[A-Z]{3}\" autocomplete=\"off\"") +
      Input(LabelHtml(lang, "reports.year", {}), "year", std::to_string(year),
            "size=\"5\" required pattern=\"[0-9]{4}\" inputmode=\"numeric\"");
  std::string tables;
  for (int n = 1; n <= 5; ++n) {
    tables += "<option value=\"" + std::to_string(n) + "\">" +
              LabelHtml(lang, "reports.aefTable", {{"n", std::to_string(n)}}) + "</option>";
  }
  std::string main = "<h1>" + title + "</h1>\n<h2>" + LabelHtml(lang, "reports.aef", {}) +
                     "</h2>\n<form id=\"aef-xlsx-form\" class=\"report-form\" "
                     "action=\"/v1/reports/aef\" method=\"get\">" +
                     fields +
                     "<input type=\"hidden\" name=\"format\" value=\"xlsx\"><button "
                     "type=\"submit\">" +
                     LabelHtml(lang, "reports.aefXlsx", {}) +
                     "</button></form>\n<form id=\"aef-csv-form\" class=\"report-form\" "
                     "action=\"/v1/reports/aef\" method=\"get\">" +
                     fields + "<label>" + LabelHtml(lang, "reports.table", {}) +
                     " <select name=\"table\">" + tables +
                     "</select></label> <input type=\"hidden\" name=\"format\" "
                     "value=\"csv\"><button type=\"submit\">" +
                     LabelHtml(lang, "reports.aefCsvButton", {}) + "</button></form>\n";

  // The regular information of the BTR (issue 31 item 5) of the coming year: the AEFs of the two
  // years before it.
  main += "<h2>" + LabelHtml(lang, "reports.regular", {}) + "</h2>\n<p class=\"muted hint\">" +
          LabelHtml(lang, "reports.regularHint", {}) +
          "</p>\n<form id=\"regular-form\" class=\"report-form\" "
          "action=\"/v1/reports/regular\" method=\"get\">" +
          Input(LabelHtml(lang, "col.party", {}), "party", "JPN",
                "size=\"4\" required pattern=\"[A-Z]{3}\" autocomplete=\"off\"") +
          Input(LabelHtml(lang, "reports.btrYear", {}), "year", std::to_string(year + 2),
                "size=\"5\" required pattern=\"[0-9]{4}\" inputmode=\"numeric\"") +
          "<input type=\"hidden\" name=\"format\" value=\"xlsx\"><button type=\"submit\">" +
          LabelHtml(lang, "reports.regularXlsx", {}) + "</button></form>\n";

  std::vector<std::vector<std::string>> copies;
  for (const Json& ca : ListOf(cas, "cooperative_approaches")) {
    const std::string key = Field(ca, "key");
    const std::string id = Field(ca, "ca_id").empty() ? key : Field(ca, "ca_id");
    for (const Json& party : ca.value("parties", Json::array())) {
      if (!party.is_string()) continue;
      const std::string q =
          "ca=" + UrlEncode(key) + "&party=" + UrlEncode(party.get<std::string>());
      const auto links = [&](const std::string& route) {
        return "<a href=\"" + Escape("/v1/reports/" + route + "?" + q + "&format=pdf") +
               "\">PDF</a> · <a href=\"" + Escape("/v1/reports/" + route + "?" + q + "&format=md") +
               "\">Markdown</a>";
      };
      copies.push_back(
          {Escape(id), Escape(party.get<std::string>()), links("authorization"), links("initial")});
    }
  }
  main += "<h2>" + LabelHtml(lang, "reports.copies", {}) + "</h2>\n<p class=\"muted hint\">" +
          LabelHtml(lang, "reports.copiesHint", {}) + "</p>\n" +
          Table({{LabelHtml(lang, "col.caId", {})},
                 {LabelHtml(lang, "col.party", {})},
                 {LabelHtml(lang, "reports.copy", {})},
                 {LabelHtml(lang, "reports.initial", {})}},
                copies, LabelHtml(lang, "reports.copies", {}), "report-copies") +
          "\n";
  main += "<h2>" + LabelHtml(lang, "reports.statistics", {}) +
          "</h2>\n<ul id=\"report-statistics\"><li><a "
          "href=\"/v1/statistics/annual?format=csv\" download>" +
          LabelHtml(lang, "reports.annualCsv", {}) +
          "</a></li><li><a href=\"/v1/statistics/accounts?format=csv\" download>" +
          LabelHtml(lang, "reports.accountsCsv", {}) + "</a></li><li><a href=\"/statistics\">" +
          LabelHtml(lang, "reports.statisticsPage", {}) + "</a></li></ul>\n";
  return Page{200, Frame(lang, title, "reports", main, self)};
}

}  // namespace

std::string Escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Lang LangOf(std::string_view lang_param, std::string_view accept_language) {
  if (lang_param == "ja") return Lang::kJa;
  if (lang_param == "en") return Lang::kEn;
  // The first language named: "ja,en-US;q=0.9" is Japanese, "en-US,ja;q=0.8" English.
  const std::string first = Lower(std::string(accept_language.substr(0, 2)));
  return first == "ja" ? Lang::kJa : Lang::kEn;
}

std::string Label(Lang lang, std::string_view key, const std::map<std::string, std::string>& vars) {
  std::map<std::string, std::string> html;
  for (const auto& [k, v] : vars) html[k] = Escape(v);
  return LabelHtml(lang, key, html);
}

bool IsPagePath(std::string_view path) {
  if (path == "/projects" || path == "/projects/") return true;
  if (path == "/issuances" || path == "/issuances/") return true;
  if (path == "/authorizations" || path == "/authorizations/") return true;
  if (path == "/statistics" || path == "/statistics/") return true;
  if (path == "/reports" || path == "/reports/") return true;
  // Anything under it too: a reference with a '/' ("/projects/<b>x</b>" decoded) gets the page
  // that says it is no reference, not the API's JSON 404.
  return path.rfind("/projects/", 0) == 0;
}

Page Render(std::string_view path, const std::multimap<std::string, std::string>& query, Lang lang,
            const Sources& sources) {
  const std::string lang_param = Param(query, "lang");
  if (!lang_param.empty() && lang_param != "en" && lang_param != "ja") {
    return Error(400, lang, LabelHtml(lang, "page.badLang", {{"lang", Escape(lang_param)}}),
                 std::string(path));
  }
  if (path == "/projects" || path == "/projects/") return ProjectsPage(query, lang, sources);
  if (path == "/issuances" || path == "/issuances/") return IssuancesPage(query, lang, sources);
  if (path == "/authorizations" || path == "/authorizations/") {
    return AuthorizationsPage(query, lang, sources);
  }
  if (path == "/statistics" || path == "/statistics/") return StatisticsPage(query, lang, sources);
  if (path == "/reports" || path == "/reports/") return ReportsPage(query, lang, sources);
  return ProjectPage(std::string(path.substr(std::string_view("/projects/").size())), query, lang,
                     sources);
}

Page ErrorPage(int status, std::string_view message, Lang lang) {
  return Error(status, lang, Escape(message), "/projects");
}

}  // namespace registry::http::pages
