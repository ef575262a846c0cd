// Fuzz target: a whole request through the whole server (issue 33, Build 8). The input is sent as
// it is, on a connection of its own, to a real server on 127.0.0.1 over a registry on a temporary
// SQLite file (Parties, registries, accounts and credits, an administrator whose token is
// kFuzzToken, so that inputs can reach the writes). The transport parses it, the router routes
// it, the handlers run. Properties: the server answers every input it can (or closes), every
// error answer is JSON naming a check of the catalogue, no answer is a 500 (a handler that threw:
// a bug), and after each input the server still answers /healthz. The saved corpus holds the
// invalid-UTF-8 requests of issue 33 (paths, queries, headers, idempotency keys, bodies).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/checks.h"
#include "fuzz_check.h"
#include "http/server.h"
#include "service/access.h"
#include "service/registry.h"
#include "storage/sqlite/sqlite_store.h"

namespace {

using registry::service::Json;

// The administrator's token in the corpus ("Authorization: Bearer " + this).
constexpr const char* kFuzzToken =
    "f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0";

struct World {
  std::string dir;
  std::unique_ptr<registry::Store> store;
  std::unique_ptr<registry::service::FixedClock> clock;
  std::unique_ptr<registry::service::Registry> registry;
  std::unique_ptr<registry::http::Server> server;
  int port = 0;

  World() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "jcm-fuzz-XXXXXX").string();
    FUZZ_CHECK(mkdtemp(tmpl.data()) != nullptr);
    dir = tmpl;
    const std::string db = dir + "/registry.db";
    const registry::journal::SigningKey key = registry::journal::GenerateKey();
    auto opened = registry::sqlite::Open(registry::sqlite::Options{db, true});
    FUZZ_CHECK(opened.has_value());
    store = std::move(opened).value();
    clock = std::make_unique<registry::service::FixedClock>("2026-01-01T00:00:00Z");
    registry = std::make_unique<registry::service::Registry>(*store, key, *clock);
    const auto run = [&](const std::string& command, const Json& args) {
      FUZZ_CHECK(registry->Execute({command, args, "setup", ""}).ok());
    };
    run("party.add", {{"code", "JPN"}, {"name", "Japan"}});
    run("party.add", {{"code", "MNG"}, {"name", "Mongolia"}});
    run("registry.add", {{"code", "JPN01"}, {"party", "JPN"}, {"name", "JCM Registry (Japan)"}});
    run("account.open", {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", "gov"}});
    run("account.open", {{"registry", "JPN01"}, {"type", "retirement"}, {"name", "retirement"}});
    run("account.open", {{"registry", "JPN01"}, {"type", "government_holding"}, {"name", "gov2"}});
    run("issue", {{"account", 1},
                  {"vintages", Json::array({{{"vintage", 2019}, {"quantity", 1000000}}})},
                  {"project", "MN004"}});
    run("user.add", {{"name", "admin"},
                     {"role", "administrator"},
                     {"scope", "*"},
                     {"token_hash", registry::service::HashToken(kFuzzToken)}});
    registry::http::ServerOptions options;
    options.port = 0;
    options.access_log = std::getenv("JCM_HTTP_LOG") != nullptr;
    options.rate_per_second = 0;
    options.threads = 2;
    options.head_timeout = std::chrono::milliseconds(500);
    options.request_timeout = std::chrono::milliseconds(1000);
    server = std::make_unique<registry::http::Server>(*store, *registry, options);
    auto bound = server->Start();
    FUZZ_CHECK(bound.has_value());
    port = *bound;
  }
};

// Sends `bytes`, half-closes (the server answers what it has), and reads until the server closes
// or 2 s pass. Returns what was read.
std::string Exchange(int port, std::string_view bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  FUZZ_CHECK(fd >= 0);
  timeval tv{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  FUZZ_CHECK(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) break;  // The server closed early (a refusal): read its answer.
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  ::shutdown(fd, SHUT_WR);
  std::string out;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// Checks each answer in `text` (pipelined requests get several).
void CheckAnswers(std::string_view text) {
  while (!text.empty()) {
    FUZZ_CHECK(text.substr(0, 9) == "HTTP/1.1 ");
    const int status = std::atoi(std::string(text.substr(9, 3)).c_str());
    FUZZ_CHECK(status >= 100 && status <= 599);
    FUZZ_CHECK(status != 500);
    const size_t head_end = text.find("\r\n\r\n");
    FUZZ_CHECK(head_end != std::string_view::npos);
    const std::string_view head = text.substr(0, head_end);
    const size_t at = head.find("Content-Length: ");
    FUZZ_CHECK(at != std::string_view::npos);
    const size_t length = std::strtoull(std::string(head.substr(at + 16, 20)).c_str(), nullptr, 10);
    if (text.size() < head_end + 4 + length) return;  // A HEAD answer, or cut by the timeout.
    const std::string_view body = text.substr(head_end + 4, length);
    if (status >= 400 && head.find("application/json") != std::string_view::npos) {
      const Json error = Json::parse(body, nullptr, false);
      FUZZ_CHECK(error.is_object());
      const std::string code = error.value("code", "");
      bool known = false;
      for (const registry::CheckInfo& info : registry::CheckCatalogue()) {
        known = known || registry::CodeOf(info.check) == code;
      }
      FUZZ_CHECK(known);
    }
    text.remove_prefix(head_end + 4 + length);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World* world = new World();  // Lives for the process: the server serves every input.
  if (size > 200000) return 0;
  const std::string answer =
      Exchange(world->port, std::string_view(reinterpret_cast<const char*>(data), size));
  CheckAnswers(answer);
  const std::string health = Exchange(world->port, "GET /healthz HTTP/1.1\r\n\r\n");
  FUZZ_CHECK(health.substr(0, 12) == "HTTP/1.1 200");
  return 0;
}
