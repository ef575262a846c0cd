// service::DumpJson against nlohmann::json::dump, which it replaces where the registry writes
// JSON on its hot paths: the journal hashes the text and verify compares replayed documents with
// the stored ones, so the bytes must be the same for every document, compact and indented, and
// an invalid UTF-8 string must be refused the same way. Method: randomized comparison over
// documents built to reach every branch (printable ASCII, escapes, control characters, DEL,
// valid and invalid UTF-8, integers at their limits, floats, nesting, empty containers); the seed
// is printed and JCM_SEED replays it.
#include "service/json_text.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>

namespace registry::service {
namespace {

uint64_t Seed() {
  const char* env = std::getenv("JCM_SEED");
  const uint64_t seed = env != nullptr ? std::strtoull(env, nullptr, 10) : std::random_device{}();
  std::printf("json_text seed %llu (JCM_SEED replays it)\n", static_cast<unsigned long long>(seed));
  return seed;
}

class RandomJson {
 public:
  explicit RandomJson(uint64_t seed) : rng_(seed) {}

  Json Value(int depth) {
    switch (Pick(depth < 4 ? 10 : 8)) {
      case 0: return nullptr;
      case 1: return Pick(2) == 0;
      case 2: return Integer();
      case 3: return static_cast<uint64_t>(rng_());  // Unsigned, above INT64_MAX half the time.
      case 4: return Float();
      case 5: case 6: case 7: return Text();
      case 8: {
        Json object = Json::object();
        for (size_t n = Pick(5); n > 0; --n) object[Text()] = Value(depth + 1);
        return object;
      }
      default: {
        Json array = Json::array();
        for (size_t n = Pick(5); n > 0; --n) array.push_back(Value(depth + 1));
        return array;
      }
    }
  }

  // Mostly what the registry writes (identifiers, numbers, names), sometimes anything.
  std::string Text() {
    static const char* const kPieces[] = {
        "JPN",    "MN001",  "2026-03-01T09:30:00Z", "a b",  "\"",      "\\",    "/",
        "\x01",   "\x1f",   "\x7f",                 "\n",   "\t",      "\xc3\xa9",  // é
        "\xe6\x97\xa5", "\xf0\x9f\x8c\x8f",  // 日, 🌏
        "",       "\xff",   "\xc3",                 "\xed\xa0\x80"};  // Invalid UTF-8.
    std::string out;
    for (size_t n = Pick(4); n > 0; --n) {
      if (Pick(3) == 0) {
        out += kPieces[Pick(std::size(kPieces))];
      } else {
        for (size_t k = Pick(12); k > 0; --k) out.push_back(static_cast<char>(0x20 + Pick(0x5f)));
      }
    }
    return out;
  }

 private:
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

  int64_t Integer() {
    switch (Pick(4)) {
      case 0: return std::numeric_limits<int64_t>::min();
      case 1: return std::numeric_limits<int64_t>::max();
      case 2: return static_cast<int64_t>(Pick(2001)) - 1000;
      default: return static_cast<int64_t>(rng_());
    }
  }

  double Float() {
    switch (Pick(4)) {
      case 0: return 0.1;
      case 1: return -0.0;
      case 2: return 1e300;
      default: return std::uniform_real_distribution<double>(-1e6, 1e6)(rng_);
    }
  }

  std::mt19937_64 rng_;
};

// Both writers' answer: the text, or the exception's message.
std::string Written(const std::function<std::string()>& write) {
  try {
    return write();
  } catch (const Json::exception& e) {
    return std::string("exception: ") + e.what();
  }
}

TEST(JsonText, KnownDocuments) {
  const Json doc = Json::parse(R"({"b":[1,-2,{"c":null,"d":[]}],"a":"x\"y","e":{},"f":true})");
  EXPECT_EQ(DumpJson(doc), R"({"a":"x\"y","b":[1,-2,{"c":null,"d":[]}],"e":{},"f":true})");
  EXPECT_EQ(DumpJson(doc, 2), doc.dump(2));
  EXPECT_EQ(DumpJson(Json("caf\xc3\xa9")), "\"caf\xc3\xa9\"");  // UTF-8 stays as it is.
  EXPECT_EQ(DumpJson(Json("\x7f")), "\"\x7f\"");
  EXPECT_EQ(DumpJson(Json("\x01")), "\"\\u0001\"");
  EXPECT_THROW(DumpJson(Json("\xff")), Json::type_error);
  EXPECT_EQ(DumpJson(Json(0.1)), "0.1");
  EXPECT_EQ(DumpJson(Json(std::numeric_limits<uint64_t>::max())), "18446744073709551615");
}

TEST(JsonText, TheSameBytesAsNlohmannForRandomDocuments) {
  const uint64_t seed = Seed();
  RandomJson random(seed);
  int refused = 0;
  for (int i = 0; i < 20000; ++i) {
    const Json doc = random.Value(0);
    for (const int indent : {-1, 0, 2, 4}) {
      const std::string expected = Written([&] { return doc.dump(indent); });
      const std::string got = Written([&] { return DumpJson(doc, indent); });
      ASSERT_EQ(got, expected) << "document " << i << ", indent " << indent << ", seed " << seed;
      if (indent == -1 && expected.rfind("exception", 0) == 0) ++refused;
    }
  }
  EXPECT_GT(refused, 100);  // The invalid UTF-8 branch was reached.
}

}  // namespace
}  // namespace registry::service
