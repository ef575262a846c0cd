// The portal's server-rendered pages (http/pages.h) without a server: HTML escaping of every
// text that comes from the registry or the request, the labels read from src/web/i18n.js in both
// languages, and the refusals (unknown project: 404 naming it; a bad reference, page number,
// sort or parameter: 400 saying what is wrong), over fake public API answers.
#include "http/pages.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>

namespace registry::http::pages {
namespace {

// Public API answers: one project whose title and participants carry markup, and `n` more.
Sources FakeSources(int n = 0, int* document_reads = nullptr) {
  Sources s;
  s.list = [n](const std::string& kind) {
    Read r;
    if (kind == "project") {
      Json projects = Json::array();
      projects.push_back({{"ref", "MN901"},
                          {"title", "<script>alert('x')</script> & \"Solar\""},
                          {"host_party", "MNG"},
                          {"state", "registered"},
                          {"participants", {"A<b>C"}}});
      for (int i = 0; i < n; ++i) {
        char ref[8];
        std::snprintf(ref, sizeof ref, "TH%03d", i);
        projects.push_back(
            {{"ref", ref}, {"title", "Project"}, {"host_party", "THA"}, {"state", "validation"}});
      }
      r.body = {{"projects", projects}};
    } else if (kind == "authorization") {
      r.body = {{"authorizations",
                 {{{"party", "JPN"},
                   {"project", "MN901"},
                   {"authorization_id", "JPN-<i>"},
                   {"authorized", {{"2021", 1000}, {"2022", 500}}},
                   {"issued", {{"2021", 400}}}}}}};
    } else {
      r.body = {{"cooperative_approaches", Json::array()}};
    }
    return r;
  };
  s.document = [document_reads](const std::string& kind, const std::string& key) {
    if (document_reads != nullptr) ++*document_reads;
    Read r;
    if (kind != "project" || key != "MN901") {
      r.status = 404;
      r.message = kind + " '" + key + "' does not exist";
      return r;
    }
    r.body = {{"current",
               {{"ref", "MN901"},
                {"title", "<script>alert('x')</script>"},
                {"host_party", "MNG"},
                {"state", "registered"},
                {"participants", {"A<b>C"}},
                {"reversals",
                 {{{"id", 1},
                   {"date", "2026-05-12"},
                   {"quantity", 1500},
                   {"cause", "Fire <b>"},
                   {"remediated", 1000}}}}}}};
    return r;
  };
  s.lots = [] {
    return Read{200,
                {{"lots",
                  {{{"project", "MN901"},
                    {"registry", "JPN01"},
                    {"vintage", 2021},
                    {"first", 1},
                    {"last", 400},
                    {"quantity", 400},
                    {"itmo", true},
                    {"cooperative_approach", "CA0042"}}}}},
                ""};
  };
  s.statistics = [](const std::string& name) {
    if (name == "totals") {
      return Read{200, {{"totals", {{"JPN01", {{"retirement", 1500}}}}}}, ""};
    }
    if (name == "annual") {
      return Read{200,
                  {{"years",
                    {{{"year", 2026},
                      {"registry", "JPN01"},
                      {"issuance", 2000},
                      {"transfer", 0},
                      {"international_transfer", 0},
                      {"acquisition", 0},
                      {"retirement", 1500},
                      {"cancellation", 0}}}}},
                  ""};
    }
    return Read{200,
                {{"accounts",
                  {{{"id", 4},
                    {"registry", "JPN01"},
                    {"name", "<i>Trader</i>"},
                    {"holder_name", "Demo & Co."},
                    {"holder_country", "JPN"},
                    {"status", "open"}}}}},
                ""};
  };
  s.as_of = "2026-12-09T10:00:00Z";
  return s;
}

Page Get(std::string_view path, std::multimap<std::string, std::string> query = {},
         Lang lang = Lang::kEn, const Sources& sources = FakeSources()) {
  return Render(path, query, lang, sources);
}

TEST(PagesEscape, EveryMarkupCharacterBecomesAnEntity) {
  EXPECT_EQ(Escape("<script>alert(\"x\" & 'y')</script>"),
            "&lt;script&gt;alert(&quot;x&quot; &amp; &#39;y&#39;)&lt;/script&gt;");
  EXPECT_EQ(Escape("プロジェクト TH014"), "プロジェクト TH014");  // UTF-8 passes through.
  EXPECT_EQ(Escape(""), "");
}

TEST(PagesLabels, ComeFromI18nJsInBothLanguagesWithEscapedValues) {
  EXPECT_EQ(Label(Lang::kEn, "project.title", {{"ref", "<b>"}}), "Project &lt;b&gt;");
  EXPECT_EQ(Label(Lang::kJa, "project.title", {{"ref", "TH014"}}), "プロジェクト TH014");
  EXPECT_EQ(Label(Lang::kJa, "nav.projects"), "プロジェクト");
  EXPECT_EQ(Label(Lang::kEn, "no.such.key"), "no.such.key");
  EXPECT_EQ(LangOf("ja", ""), Lang::kJa);
  EXPECT_EQ(LangOf("", "ja,en-US;q=0.8"), Lang::kJa);
  EXPECT_EQ(LangOf("", "en-US,ja;q=0.8"), Lang::kEn);
  EXPECT_EQ(LangOf("en", "ja"), Lang::kEn);
}

TEST(PagesProject, RendersThePageWithEveryRegistryTextEscaped) {
  const Page page = Get("/projects/MN901");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.html.find("<title>Project MN901 · JCM Registry</title>"), std::string::npos);
  EXPECT_EQ(page.html.find("<script>alert"), std::string::npos) << page.html;
  EXPECT_NE(page.html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(page.html.find("A&lt;b&gt;C"), std::string::npos);
  EXPECT_NE(page.html.find("JPN-&lt;i&gt;"), std::string::npos);
  // The chart of authorized against issued, its numbers in the table beside it, and its time.
  EXPECT_NE(page.html.find("data-value=\"1000\""), std::string::npos);
  EXPECT_NE(page.html.find("data-value=\"400\""), std::string::npos);
  EXPECT_NE(page.html.find("<td class=\"num\">600</td>"), std::string::npos);  // Not yet issued.
  EXPECT_NE(page.html.find("As of <span class=\"data\">2026-12-09 10:00 UTC</span>"),
            std::string::npos);
  // A reversal with what is left to remediate of it; the mitigation type from the activity's.
  const size_t reversals = page.html.find("Reversals of removals");
  ASSERT_NE(reversals, std::string::npos);
  EXPECT_NE(
      page.html.find("Fire &lt;b&gt;</td><td class=\"num\">1,000</td><td class=\"num\">500</td>",
                     reversals),
      std::string::npos)
      << page.html.substr(reversals);
  EXPECT_NE(page.html.find("Emission reductions"), std::string::npos);
  // Only the portal's own scripts, and no style attribute (the Content-Security-Policy).
  EXPECT_NE(page.html.find("<script src=\"/app.js\"></script>"), std::string::npos);
  EXPECT_EQ(page.html.find("style="), std::string::npos);
  const Page ja = Get("/projects/MN901", {{"lang", "ja"}}, Lang::kJa);
  EXPECT_NE(ja.html.find("<title>プロジェクト MN901 · JCMクレジット登録簿</title>"),
            std::string::npos);
  EXPECT_NE(ja.html.find("<html lang=\"ja\">"), std::string::npos);
}

TEST(PagesProject, AnUnknownProjectIsA404PageNamingIt) {
  const Page page = Get("/projects/XX999");
  EXPECT_EQ(page.status, 404);
  EXPECT_NE(page.html.find("There is no project XX999 in this registry."), std::string::npos);
  EXPECT_NE(page.html.find("<a href=\"/projects\">All projects</a>"), std::string::npos);
  const Page ja = Get("/projects/XX999", {}, Lang::kJa);
  EXPECT_EQ(ja.status, 404);
  EXPECT_NE(ja.html.find("この登録簿にプロジェクト XX999 はありません。"), std::string::npos);
}

TEST(PagesProject, AReferenceWithMarkupIsRefusedEscapedAndNothingIsRead) {
  int reads = 0;
  const Page page =
      Get("/projects/<script>alert(1)</script>", {}, Lang::kEn, FakeSources(0, &reads));
  EXPECT_EQ(page.status, 400);
  EXPECT_EQ(reads, 0);
  EXPECT_EQ(page.html.find("<script>alert"), std::string::npos);
  EXPECT_NE(page.html.find("“&lt;script&gt;alert(1)&lt;/script&gt;” is not a project reference"),
            std::string::npos);
  EXPECT_EQ(Get("/projects/MN901/x").status, 400);
  EXPECT_EQ(Get("/projects/MN901", {{"x", "1"}}).status, 400);
  EXPECT_EQ(Get("/projects/MN901", {{"lang", "<fr>"}}).status, 400);
  EXPECT_NE(Get("/projects/MN901", {{"lang", "<fr>"}}).html.find("“&lt;fr&gt;”"),
            std::string::npos);
}

TEST(PagesList, FiltersPagesAndRefusesABadPageNumberClearly) {
  const Page all = Get("/projects", {}, Lang::kEn, FakeSources(30));
  EXPECT_EQ(all.status, 200);
  EXPECT_NE(all.html.find("31 of 31 shown"), std::string::npos);
  EXPECT_NE(all.html.find("Page 1 / 2 (31)"), std::string::npos);
  EXPECT_NE(all.html.find("href=\"/projects?page=2\""), std::string::npos);
  EXPECT_EQ(all.html.find("<script>alert"), std::string::npos);
  const Page second = Get("/projects", {{"page", "2"}}, Lang::kEn, FakeSources(30));
  EXPECT_NE(second.html.find("Page 2 / 2 (31)"), std::string::npos);
  const Page mongolian = Get("/projects", {{"host", "MNG"}}, Lang::kEn, FakeSources(30));
  EXPECT_NE(mongolian.html.find("1 of 31 shown"), std::string::npos);
  EXPECT_NE(mongolian.html.find("href=\"/projects/MN901\""), std::string::npos);
  const Page sorted = Get("/projects", {{"sort", "-issued"}}, Lang::kEn, FakeSources(30));
  EXPECT_EQ(sorted.status, 200);
  EXPECT_LT(sorted.html.find("/projects/MN901"), sorted.html.find("/projects/TH000"));
  // A host that is no Party code is refused, the markup shown as text.
  const Page marked = Get("/projects", {{"host", "<img src=x>"}}, Lang::kEn, FakeSources(30));
  EXPECT_EQ(marked.status, 400);
  EXPECT_EQ(marked.html.find("<img"), std::string::npos);
  EXPECT_NE(marked.html.find("“&lt;img src=x&gt;” is not a Party code"), std::string::npos);
  for (const char* bad : {"0", "3", "-1", "1.5", "abc", "99999999999999999999999"}) {
    const Page page = Get("/projects", {{"page", bad}}, Lang::kEn, FakeSources(30));
    EXPECT_EQ(page.status, 400) << bad;
    EXPECT_NE(page.html.find("The page number must be a whole number from 1 to 2"),
              std::string::npos)
        << bad;
  }
  EXPECT_EQ(Get("/projects", {{"sort", "<x>"}}).status, 400);
  EXPECT_EQ(Get("/projects", {{"bogus", "1"}}).status, 400);
  std::multimap<std::string, std::string> twice{{"host", "MNG"}, {"host", "THA"}};
  EXPECT_EQ(Get("/projects", twice).status, 400);
}

TEST(PagesList, IssuancesAreRenderedWithTheirFiltersInTheUrl) {
  const Page all = Get("/issuances");
  EXPECT_EQ(all.status, 200);
  EXPECT_NE(all.html.find("<title>Issuances (serial blocks issued per vintage) · JCM Registry"),
            std::string::npos);
  EXPECT_NE(all.html.find("1 of 1 shown"), std::string::npos);
  EXPECT_NE(all.html.find("<div id=\"lots\">"), std::string::npos);
  EXPECT_NE(all.html.find("href=\"/projects/MN901\""), std::string::npos);
  EXPECT_NE(all.html.find("<a href=\"/#/lookup/JPN01/1\">1–400</a>"), std::string::npos);
  EXPECT_NE(all.html.find("ITMO CA0042"), std::string::npos);
  EXPECT_NE(all.html.find("href=\"/issuances?vintage=2021\""), std::string::npos);
  EXPECT_NE(all.html.find("<a href=\"/issuances\" class=\"active\""), std::string::npos);
  const Page some =
      Get("/issuances", {{"registry", "JPN01"}, {"vintage", "2021"}, {"kind", "itmo"}});
  EXPECT_EQ(some.status, 200);
  EXPECT_NE(some.html.find("1 of 1 shown"), std::string::npos);
  const Page none = Get("/issuances", {{"vintage", "2020"}, {"host", "THA"}});
  EXPECT_EQ(none.status, 200);
  EXPECT_NE(none.html.find("0 of 1 shown"), std::string::npos);
  EXPECT_NE(none.html.find("Nothing to show."), std::string::npos);
  const Page ja = Get("/issuances", {}, Lang::kJa);
  EXPECT_NE(ja.html.find("<title>発行（ビンテージごとに発行された識別番号ブロック）"),
            std::string::npos);
  // Bad input: a 400 page saying what is wrong, the markup escaped.
  const Page registry = Get("/issuances", {{"registry", "<b>"}});
  EXPECT_EQ(registry.status, 400);
  EXPECT_EQ(registry.html.find("<b>"), std::string::npos);
  EXPECT_NE(registry.html.find("“&lt;b&gt;” is not a registry code"), std::string::npos);
  const Page vintage = Get("/issuances", {{"vintage", "20x1"}});
  EXPECT_EQ(vintage.status, 400);
  EXPECT_NE(vintage.html.find("“20x1” is not a vintage"), std::string::npos);
  EXPECT_EQ(Get("/issuances", {{"kind", "credit"}}).status, 400);
  EXPECT_EQ(Get("/issuances", {{"sort", "colour"}}).status, 400);
  EXPECT_EQ(Get("/issuances", {{"page", "2"}}).status, 400);
  EXPECT_EQ(Get("/issuances", {{"party", "JPN"}}).status, 400);  // Not one of its filters.
}

TEST(PagesList, AuthorizationsAreRenderedWithTheirFiltersInTheUrl) {
  const Page all = Get("/authorizations");
  EXPECT_EQ(all.status, 200);
  EXPECT_NE(all.html.find("<div id=\"authorizations\">"), std::string::npos);
  EXPECT_NE(all.html.find("JPN-&lt;i&gt;"), std::string::npos);
  EXPECT_EQ(all.html.find("JPN-<i>"), std::string::npos);
  EXPECT_NE(all.html.find("href=\"/projects/MN901\""), std::string::npos);
  EXPECT_NE(all.html.find("<td>in force</td>"), std::string::npos);
  EXPECT_NE(all.html.find("href=\"/authorizations?party=JPN\""), std::string::npos);
  EXPECT_NE(Get("/authorizations", {{"party", "JPN"}}).html.find("1 of 1 shown"),
            std::string::npos);
  EXPECT_NE(Get("/authorizations", {{"state", "revoked"}}).html.find("0 of 1 shown"),
            std::string::npos);
  const Page bad = Get("/authorizations", {{"state", "<i>"}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.html.find("“&lt;i&gt;” is not a state of an authorization"), std::string::npos);
  EXPECT_EQ(Get("/authorizations", {{"party", "jpn"}}).status, 400);
  EXPECT_EQ(Get("/authorizations", {{"sort", "-nothing"}}).status, 400);
  const Page ja = Get("/authorizations", {{"party", "J"}}, Lang::kJa);
  EXPECT_EQ(ja.status, 400);
  EXPECT_NE(ja.html.find("「J」は締約国のコードではありません。"), std::string::npos);
}

TEST(PagesStatistics, TablesOfThePublicStatisticsWithTheirCsvAndEveryTextEscaped) {
  const Page page = Get("/statistics");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.html.find("<td>JPN01</td><td>retirement</td><td class=\"num\">1,500</td>"),
            std::string::npos)
      << page.html;
  EXPECT_NE(page.html.find("<td>2026</td><td>JPN01</td><td class=\"num\">2,000</td>"),
            std::string::npos);
  EXPECT_NE(page.html.find("&lt;i&gt;Trader&lt;/i&gt;</td><td>Demo &amp; Co.</td>"),
            std::string::npos);
  EXPECT_NE(page.html.find("href=\"/v1/statistics/accounts?format=csv\""), std::string::npos);
  EXPECT_EQ(Get("/statistics", {{"page", "2"}}).status, 400);
  const Page ja = Get("/statistics", {{"lang", "ja"}}, Lang::kJa);
  EXPECT_NE(ja.html.find("<td>JPN01</td><td>償却口座</td>"), std::string::npos) << ja.html;
}

TEST(PagesReports, FormsAndLinksThatWorkWithoutTheScript) {
  Sources sources = FakeSources();
  const auto list = sources.list;
  sources.list = [list](const std::string& kind) {
    if (kind != "cooperative_approach") return list(kind);
    return Read{200,
                {{"cooperative_approaches",
                  {{{"key", "JPN-MNG"}, {"ca_id", "CA0042"}, {"parties", {"JPN", "MNG"}}}}}},
                ""};
  };
  const Page page = Get("/reports", {}, Lang::kEn, sources);
  EXPECT_EQ(page.status, 200);
  // The AEF of the last whole year (as of 2026-12-09: 2025), straight from the API.
  EXPECT_NE(page.html.find("<form id=\"aef-xlsx-form\" class=\"report-form\" "
                           "action=\"/v1/reports/aef\" method=\"get\">"),
            std::string::npos)
      << page.html;
  EXPECT_NE(page.html.find("name=\"year\" value=\"2025\""), std::string::npos);
  EXPECT_NE(page.html.find("<option value=\"5\">table 5</option>"), std::string::npos);
  // The regular information of the BTR of 2027 (the AEFs of 2025 and 2026).
  EXPECT_NE(page.html.find("<form id=\"regular-form\" class=\"report-form\" "
                           "action=\"/v1/reports/regular\" method=\"get\">"),
            std::string::npos);
  EXPECT_NE(page.html.find("name=\"year\" value=\"2027\""), std::string::npos);
  EXPECT_NE(page.html.find("href=\"/v1/reports/authorization?ca=JPN-MNG&amp;party=MNG&amp;"
                           "format=pdf\""),
            std::string::npos);
  EXPECT_NE(page.html.find("href=\"/v1/reports/initial?ca=JPN-MNG&amp;party=JPN&amp;format=md\""),
            std::string::npos);
  EXPECT_NE(page.html.find("<a href=\"/reports\" class=\"active\""), std::string::npos);
  EXPECT_EQ(Get("/reports", {{"party", "JPN"}}).status, 400);
}

TEST(PagesPaths, TheProjectPagesAreServed) {
  EXPECT_TRUE(IsPagePath("/projects"));
  EXPECT_TRUE(IsPagePath("/projects/"));
  EXPECT_TRUE(IsPagePath("/projects/TH014"));
  EXPECT_TRUE(IsPagePath("/projects/TH014/x"));  // A 400 page: no project reference.
  EXPECT_TRUE(IsPagePath("/issuances"));
  EXPECT_TRUE(IsPagePath("/authorizations"));
  EXPECT_FALSE(IsPagePath("/issuances/x"));
  EXPECT_FALSE(IsPagePath("/projectsX"));
  EXPECT_FALSE(IsPagePath("/"));
}

}  // namespace
}  // namespace registry::http::pages
