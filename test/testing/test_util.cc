#include "testing/test_util.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "service/verify.h"
#include "storage/sqlite/sqlite_store.h"

namespace registry::testing {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "jcmreg-test-XXXXXX").string();
  REGISTRY_ASSERT(mkdtemp(tmpl.data()) != nullptr);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

TestRegistry::TestRegistry(bool synchronous_full_in)
    : db_path(dir.File("registry.db")),
      synchronous_full(synchronous_full_in),
      key(journal::GenerateKey()) {
  REGISTRY_ASSERT(journal::SaveKey(db_path, key).ok());
  Reopen();
}

void TestRegistry::Reopen() {
  registry.reset();
  store.reset();
  auto opened = sqlite::Open(sqlite::Options{db_path, synchronous_full});
  REGISTRY_ASSERT(opened.has_value());
  store = std::move(opened).value();
  registry = std::make_unique<service::Registry>(*store, key, clock);
}

service::Response TestRegistry::Run(const std::string& command, const service::Json& args,
                                    const std::string& actor) {
  return registry->Execute(service::Request{command, args, actor, ""});
}

service::Json TestRegistry::Ok(const std::string& command, const service::Json& args,
                               const std::string& actor) {
  const service::Response r = Run(command, args, actor);
  EXPECT_TRUE(r.ok()) << command << " " << args.dump() << ": "
                      << (r.ok() ? "" : r.failure->Message());
  return r.result;
}

int64_t JournalLength(Store& store) {
  auto tx = store.BeginRead();
  EXPECT_TRUE(tx.has_value());
  if (!tx) return -1;
  auto last = (*tx)->LastEntry();
  EXPECT_TRUE(last.has_value());
  return last && last->has_value() ? (*last)->sequence.value : 0;
}

std::string Digest(Store& store) {
  auto digest = store.ProjectionDigest();
  EXPECT_TRUE(digest.has_value());
  return digest.has_value() ? *digest : "";
}

void TestRegistry::Refused(const std::string& command, const service::Json& args, Check check) {
  const int64_t length = JournalLength(*store);
  const std::string digest = Digest(*store);
  const service::Response r = Run(command, args);
  ASSERT_FALSE(r.ok()) << command << " " << args.dump() << " was accepted";
  ASSERT_TRUE(r.failure->refusal.has_value()) << r.failure->Message();
  EXPECT_EQ(r.failure->refusal->check, check)
      << "got " << InfoOf(r.failure->refusal->check).name << ": " << r.failure->Message();
  EXPECT_EQ(JournalLength(*store), length) << command << " was refused but journaled";
  EXPECT_EQ(Digest(*store), digest) << command << " was refused but changed the registry";
}

void SetUpBasicRegistry(TestRegistry& r) {
  r.Ok("party.add", {{"code", "JPN"}, {"name", "Japan"}});
  r.Ok("party.add", {{"code", "MNG"}, {"name", "Mongolia"}});
  r.Ok("registry.add", {{"code", "JPN01"}, {"party", "JPN"}, {"name", "JCM Registry (Japan)"}});
  r.Ok("registry.add", {{"code", "MNG01"}, {"party", "MNG"}, {"name", "JCM Registry (Mongolia)"}});
  r.Ok("account.open", {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", "gov"}});
  r.Ok("account.open", {{"registry", "JPN01"}, {"type", "retirement"}, {"name", "retirement"}});
  r.Ok("account.open", {{"registry", "JPN01"}, {"type", "cancellation"}, {"name", "cancellation"}});
  r.Ok("account.open", {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", "gov2"}});
  r.Ok("account.open", {{"registry", "MNG01"}, {"type", "government_holding"}, {"name", "mng gov"}});
  r.Ok("account.open", {{"registry", "MNG01"}, {"type", "retirement"}, {"name", "mng ret"}});
}

void ExpectVerifies(TestRegistry& r) {
  auto pub = journal::LoadPublicKey(r.db_path);
  ASSERT_TRUE(pub.has_value());
  const auto report = service::Verify(*r.store, *pub, [] {
    return sqlite::Open(sqlite::Options{":memory:", false});
  });
  EXPECT_TRUE(report.ok()) << (report.problems.empty() ? "" : report.problems.front());
}

}  // namespace registry::testing
