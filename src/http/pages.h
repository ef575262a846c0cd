// The portal's public pages rendered on the server (issue 30 item 7): GET /projects (the list,
// with ?page=&host=&state=&q=&sort= in the URL) and GET /projects/REF (a project's permalink)
// are whole HTML pages, readable without JavaScript; app.js, when it runs, draws the same page
// again with its sorting, CSV downloads and ITMO history. Labels come from src/web/i18n.js (the
// file the script uses, read once from the embedded assets), in English or Japanese (?lang=, else
// Accept-Language). Every text from the registry or the request is HTML-escaped. The pages read
// what the public API answers an anonymous caller (Sources), never the store directly.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace registry::http::pages {

using Json = nlohmann::json;

enum class Lang { kEn, kJa };

// Text for HTML: & < > " ' replaced by entities (safe in element content and in quoted
// attribute values).
std::string Escape(std::string_view text);

// The language of a page: ?lang=en|ja when given, else Japanese when Accept-Language prefers
// "ja" to English, else English.
Lang LangOf(std::string_view lang_param, std::string_view accept_language);

// The label `key` of src/web/i18n.js in `lang` (English when Japanese lacks it; the key itself
// when neither has it), {name} replaced by the escaped vars[name]. The result is HTML.
std::string Label(Lang lang, std::string_view key,
                  const std::map<std::string, std::string>& vars = {});

// One answer of the public API: status 200 and its body, or the error's status and message.
struct Read {
  int status = 200;
  Json body;
  std::string message;
};

// What the pages read, each as the public API answers an anonymous caller.
struct Sources {
  std::function<Read(const std::string& kind)> list;  // GET /v1/documents/{kind}
  std::function<Read(const std::string& kind, const std::string& key)> document;  // {current, ...}
  std::function<Read()> lots;  // {"lots": every lot, all pages}
  // The public statistics: "totals" (GET /v1/totals), "annual" (GET /v1/statistics/annual) and
  // "accounts" (GET /v1/statistics/accounts).
  std::function<Read(const std::string& name)> statistics;
  std::string as_of;           // "2026-12-09T10:00:00Z"
};

struct Page {
  int status = 200;
  std::string html;
};

// Whether a page is served at `path`: "/projects", and anything under "/projects/" (a project's
// page, or the 400 page saying that what follows is no project reference).
bool IsPagePath(std::string_view path);

// The page at `path`, given its query parameters (each name once: a repeated or unknown one is
// a 400 page naming it). A bad page number or project reference is a 400 page, an unknown project
// a 404 page naming it; a read that fails is a page with its status.
Page Render(std::string_view path, const std::multimap<std::string, std::string>& query, Lang lang,
            const Sources& sources);

// An error page (status and message) in the portal's frame, for the server's own refusals
// (rate limits).
Page ErrorPage(int status, std::string_view message, Lang lang);

}  // namespace registry::http::pages
