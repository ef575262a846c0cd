// The PostgreSQL server the tests use. Header-only so that tests which link no registry library
// (the system tests drive `jcmreg` processes) can share it.
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>

namespace registry::testing {

// $JCM_TEST_POSTGRES_URL, else the URL `scripts/test-services.sh start` wrote, else empty (no
// server).
inline std::string PostgresUrl() {
  if (const char* env = std::getenv("JCM_TEST_POSTGRES_URL")) return env;
  std::ifstream in("/tmp/jcm-test-pg/url");
  std::string url;
  in >> url;
  return url;
}

}  // namespace registry::testing
