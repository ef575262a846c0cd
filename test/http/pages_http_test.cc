// The portal's server-rendered pages over real HTTP (http/pages.h): GET /projects and
// /projects/REF answer HTML with the server's security headers; an unknown project is a 404 page
// naming it, a reference with markup or a huge page number a 400 page saying what is wrong, with
// the markup escaped; no page changes anything (the journal head stays where it was).
#include <gtest/gtest.h>
#include <httplib.h>

#include "http/api_fixture.h"
#include "unit/article6_fixture.h"

namespace registry::http {
namespace {

struct Html {
  int status = 0;
  std::string type, csp, text;
};

Html GetHtml(const Api& api, const std::string& path, const httplib::Headers& headers = {}) {
  auto res = api.Client().Get(path.c_str(), headers);
  if (!res) return {};
  return {res->status, res->get_header_value("Content-Type"),
          res->get_header_value("Content-Security-Policy"), res->body};
}

int64_t JournalHead(const Api& api) {
  return api.Get("/healthz").body.value("journal_sequence", -1);
}

// A registry with project MN901, whose title and participants carry markup.
Api WithProject() {
  return Api({}, true, [](testing::TestRegistry& r) {
    testing::LoadNomenclature(r);
    r.Ok("ca.define", {{"key", "JPN-MNG"}, {"parties", {"JPN", "MNG"}}, {"ca_id", "CA0042"}});
    Json project = testing::ProjectArgs("MN901");
    project["title"] = "<script>alert('x')</script> Solar & Wind";
    project["participants"] = {"<img src=x onerror=alert(1)>"};
    r.Ok("project.add", project);
  });
}

TEST(PagesHttp, AProjectPageIsHtmlWithEveryTextEscaped) {
  const Api api = WithProject();
  const int64_t head = JournalHead(api);
  const Html page = GetHtml(api, "/projects/MN901");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.type, "text/html; charset=utf-8");
  EXPECT_NE(page.csp.find("script-src 'self'"), std::string::npos);
  EXPECT_NE(page.text.find("<title>Project MN901 · JCM Registry</title>"), std::string::npos);
  EXPECT_NE(page.text.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Solar &amp; Wind"),
            std::string::npos);
  EXPECT_EQ(page.text.find("<script>alert"), std::string::npos);
  EXPECT_EQ(page.text.find("<img src=x"), std::string::npos);
  // In Japanese by Accept-Language or ?lang=ja.
  EXPECT_NE(GetHtml(api, "/projects/MN901", {{"Accept-Language", "ja,en;q=0.5"}})
                .text.find("<title>プロジェクト MN901 · JCMクレジット登録簿</title>"),
            std::string::npos);
  EXPECT_NE(GetHtml(api, "/projects/MN901?lang=ja").text.find("<html lang=\"ja\">"),
            std::string::npos);
  const Html list = GetHtml(api, "/projects?host=MNG");
  EXPECT_EQ(list.status, 200);
  EXPECT_NE(list.text.find("href=\"/projects/MN901\""), std::string::npos);
  EXPECT_EQ(list.text.find("<script>alert"), std::string::npos);
  EXPECT_EQ(JournalHead(api), head);
}

TEST(PagesHttp, AnUnknownProjectIsA404PageNamingIt) {
  const Api api = WithProject();
  const Html page = GetHtml(api, "/projects/XX999");
  EXPECT_EQ(page.status, 404);
  EXPECT_EQ(page.type, "text/html; charset=utf-8");
  EXPECT_NE(page.text.find("There is no project XX999 in this registry."), std::string::npos);
}

TEST(PagesHttp, BadInputIsA400PageThatSaysWhyAndChangesNothing) {
  const Api api = WithProject();
  const int64_t head = JournalHead(api);
  const Html script = GetHtml(api, "/projects/%3Cscript%3Ealert(1)%3C%2Fscript%3E");
  EXPECT_EQ(script.status, 400);
  EXPECT_EQ(script.text.find("<script>alert"), std::string::npos);
  EXPECT_NE(script.text.find("&lt;script&gt;alert(1)&lt;/script&gt;” is not a project reference"),
            std::string::npos);
  const Html huge = GetHtml(api, "/projects?page=99999999999999999999999999");
  EXPECT_EQ(huge.status, 400);
  EXPECT_NE(huge.text.find("The page number must be a whole number from 1 to 1"),
            std::string::npos);
  EXPECT_EQ(GetHtml(api, "/projects?sort=%3Cb%3E").status, 400);
  EXPECT_EQ(GetHtml(api, "/projects?color=red").status, 400);
  // A path under a project's is no reference; a write to a page is no route.
  EXPECT_EQ(GetHtml(api, "/projects/MN901/x").status, 400);
  auto post = api.Client().Post("/projects/MN901", "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 404);
  EXPECT_EQ(JournalHead(api), head);
}

TEST(PagesHttp, IssuancesAndAuthorizationsAreHtmlPagesAndBadFiltersA400Page) {
  const Api api = WithProject();
  const int64_t head = JournalHead(api);
  for (const char* path : {"/issuances", "/authorizations", "/issuances?vintage=2021&kind=itmo",
                           "/authorizations?party=JPN&state=in_force"}) {
    const Html page = GetHtml(api, path);
    EXPECT_EQ(page.status, 200) << path;
    EXPECT_EQ(page.type, "text/html; charset=utf-8") << path;
    EXPECT_NE(page.csp.find("script-src 'self'"), std::string::npos) << path;
  }
  const Html bad = GetHtml(api, "/issuances?registry=%3Cscript%3E");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.text.find("<script>"), std::string::npos);
  EXPECT_NE(bad.text.find("“&lt;script&gt;” is not a registry code"), std::string::npos);
  EXPECT_EQ(GetHtml(api, "/authorizations?state=expired").status, 400);
  EXPECT_EQ(GetHtml(api, "/issuances?vintage=2021&vintage=2022").status, 400);
  EXPECT_EQ(JournalHead(api), head);
}

TEST(PagesHttp, StatisticsIsAnHtmlPageWithTheNumbersOfThePublicApi) {
  const Api api({}, false, [](testing::TestRegistry& r) {
    r.Ok("issue", {{"account", 1}, {"vintages", {{{"vintage", 2021}, {"quantity", 1234567}}}}});
  });
  const int64_t head = JournalHead(api);
  const Html page = GetHtml(api, "/statistics");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.type, "text/html; charset=utf-8");
  EXPECT_NE(page.csp.find("script-src 'self'"), std::string::npos);
  // JPN01's government holding account holds what was issued; the year's summary says so.
  EXPECT_NE(
      page.text.find("<td>JPN01</td><td>government holding</td><td class=\"num\">1,234,567</td>"),
      std::string::npos)
      << page.text;
  EXPECT_NE(page.text.find("<td class=\"num\">1,234,567</td>", page.text.find("stats-annual")),
            std::string::npos);
  EXPECT_NE(page.text.find("href=\"/v1/statistics/annual?format=csv\""), std::string::npos);
  EXPECT_NE(page.text.find("<a href=\"/statistics\" class=\"active\""), std::string::npos);
  EXPECT_EQ(GetHtml(api, "/statistics?year=2021").status, 400);  // Takes no filter.
  // The CSV it links is a file to save, named (a browser shows a text/csv answer otherwise);
  // so are the AEF's files the reports page's forms ask for.
  for (const auto& [path, name] : std::vector<std::pair<std::string, std::string>>{
           {"/v1/statistics/annual?format=csv", "annual-summary.csv"},
           {"/v1/statistics/accounts?format=csv", "entity-holding-accounts.csv"},
           {"/v1/reports/aef?party=JPN&year=2026&format=xlsx", "AEF-JPN-2026.xlsx"},
           {"/v1/reports/aef?party=JPN&year=2026&format=csv&table=4", "AEF-JPN-2026-table4.csv"}}) {
    auto res = api.Client().Get(path.c_str());
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 200) << path;
    EXPECT_EQ(res->get_header_value("Content-Disposition"), "attachment; filename=\"" + name + "\"")
        << path;
  }
  auto json = api.Client().Get("/v1/statistics/annual");
  ASSERT_TRUE(json);
  EXPECT_FALSE(json->has_header("Content-Disposition"));
  const Html ja = GetHtml(api, "/statistics?lang=ja");
  EXPECT_NE(ja.text.find("<html lang=\"ja\">"), std::string::npos);
  EXPECT_EQ(JournalHead(api), head);
}

}  // namespace
}  // namespace registry::http
