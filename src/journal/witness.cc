// The journal head and the witness file. See journal/witness.h.
#include "journal/witness.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "journal/chain.h"

namespace registry::journal {
namespace {

constexpr size_t kHashHex = 64;
// A witness line is about 110 bytes; the tail read at Open holds many.
constexpr off_t kTailBytes = 8192;

std::string Short(const Hash& hash) { return ToHex(hash).substr(0, 16) + "..."; }

// The head at the start of a witness line: the text before the first space.
std::optional<Head> HeadOfLine(std::string_view line) {
  return ParseHead(line.substr(0, line.find(' ')));
}

Status<std::string> SyncParent(const std::string& file) {
  const std::string parent = std::filesystem::path(file).parent_path().string();
  const std::string dir = parent.empty() ? std::string(1, '.') : parent;
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Fail("cannot open " + dir + ": " + std::strerror(errno));
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Fail("cannot sync " + dir);
  return {};
}

}  // namespace

std::string FormatHead(const Head& head) {
  return std::to_string(head.sequence) + ":" + ToHex(head.hash);
}

std::optional<Head> ParseHead(std::string_view text) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || text.size() - colon - 1 != kHashHex) {
    return std::nullopt;
  }
  Head head;
  const char* end = text.data() + colon;
  const auto [ptr, ec] = std::from_chars(text.data(), end, head.sequence);
  if (ec != std::errc() || ptr != end || head.sequence < 0) return std::nullopt;
  const std::string hex(text.substr(colon + 1));
  for (const char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return std::nullopt;
    }
  }
  if (!FromHex(hex, head.hash.data(), head.hash.size())) return std::nullopt;
  if (head.sequence == 0 && head.hash != Hash{}) return std::nullopt;
  return head;
}

StoreResult<Head> ReadHead(Store& store) {
  auto tx = store.BeginRead();
  if (!tx) return Fail(tx.error());
  auto last = (*tx)->LastEntry();
  if (!last) return Fail(last.error());
  if (!last->has_value()) return Head{};
  return Head{(*last)->sequence.value, (*last)->hash};
}

Result<std::vector<Head>, std::string> ReadWitness(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("cannot read the witness file " + path + ": " + std::strerror(errno));
  std::vector<Head> heads;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (in.eof()) break;  // No newline after it: a write cut by a crash, left out.
    auto head = HeadOfLine(line);
    if (!head) {
      return Fail("the witness file " + path + " line " + std::to_string(number) +
                  " is not SEQ:HASHHEX TIME: '" + line.substr(0, 100) + "'");
    }
    heads.push_back(*head);
  }
  if (in.bad()) return Fail("cannot read the witness file " + path);
  return heads;
}

std::string CheckAgainstWitness(Store& store, const Head& witnessed) {
  if (witnessed.sequence == 0) return "";
  auto tx = store.BeginRead();
  if (!tx) return "cannot read the journal: " + tx.error().message;
  auto entries = (*tx)->ReadEntries(Sequence{witnessed.sequence - 1}, 1);
  if (!entries) return "cannot read the journal: " + entries.error().message;
  if (entries->empty() || entries->front().sequence.value != witnessed.sequence) {
    auto last = (*tx)->LastEntry();
    const int64_t end = last && last->has_value() ? (*last)->sequence.value : 0;
    return "the journal ends at entry " + std::to_string(end) + ", before the witnessed head " +
           std::to_string(witnessed.sequence) + ":" + Short(witnessed.hash) +
           ": this database is a truncated or rolled-back copy";
  }
  const JournalEntry& e = entries->front();
  if (e.hash != witnessed.hash) {
    return "journal entry " + std::to_string(e.sequence.value) + " has the hash " + Short(e.hash) +
           ", not the witnessed " + Short(witnessed.hash) +
           ": the journal was rewritten or forked after it was witnessed";
  }
  return "";
}

Result<std::unique_ptr<Witness>, std::string> Witness::Open(
    const std::string& path, std::chrono::milliseconds sync_interval) {
  const bool existed = std::filesystem::exists(path);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Fail("cannot open the witness file " + path + ": " + std::strerror(errno));
  auto fail = [&](const std::string& why) {
    ::close(fd);
    return Fail("the witness file " + path + ": " + why);
  };
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return fail("not a regular file");
  std::optional<Head> last;
  if (st.st_size > 0) {
    const off_t from = st.st_size > kTailBytes ? st.st_size - kTailBytes : 0;
    std::string tail(static_cast<size_t>(st.st_size - from), '\0');
    if (::pread(fd, tail.data(), tail.size(), from) != static_cast<ssize_t>(tail.size())) {
      return fail(std::string("cannot read: ") + std::strerror(errno));
    }
    if (tail.back() != '\n') {
      // A torn last line: cut it off, so the next line starts on a line of its own.
      const size_t newline = tail.rfind('\n');
      if (newline == std::string::npos && from > 0) return fail("its last line is not a head");
      const size_t keep = newline == std::string::npos ? 0 : newline + 1;
      if (::ftruncate(fd, from + static_cast<off_t>(keep)) != 0 || ::fdatasync(fd) != 0) {
        return fail(std::string("cannot cut its torn last line: ") + std::strerror(errno));
      }
      tail.resize(keep);
    }
    if (!tail.empty()) {
      tail.pop_back();  // The newline of the last line.
      const size_t start = tail.rfind('\n');
      if (start == std::string::npos && from > 0) return fail("its last line is not a head");
      last = HeadOfLine(std::string_view(tail).substr(start == std::string::npos ? 0 : start + 1));
      if (!last) return fail("its last line is not SEQ:HASHHEX TIME");
    }
  }
  if (!existed) {
    if (auto s = SyncParent(path); !s) return fail(s.error());
  }
  return std::unique_ptr<Witness>(new Witness(path, fd, sync_interval, last));
}

Witness::Witness(std::string path, int fd, std::chrono::milliseconds sync_interval,
                 std::optional<Head> last)
    : path_(std::move(path)),
      fd_(fd),
      sync_interval_(sync_interval),
      last_(last),
      last_sync_(std::chrono::steady_clock::now()) {}

Witness::~Witness() {
  Sync();
  ::close(fd_);
}

void Witness::Seal(const Head& head, const std::string& time) {
  const std::string line = FormatHead(head) + " " + time + "\n";
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Report(std::string("cannot append: ") + std::strerror(errno));
      return;
    }
    written += static_cast<size_t>(n);
  }
  last_ = head;
  unsynced_ = true;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_sync_ >= sync_interval_) Sync();
}

bool Witness::Sync() {
  if (!unsynced_) return true;
  last_sync_ = std::chrono::steady_clock::now();
  if (::fdatasync(fd_) != 0) {
    Report(std::string("cannot sync: ") + std::strerror(errno));
    return false;
  }
  unsynced_ = false;
  failing_ = false;
  return true;
}

void Witness::Report(const std::string& what) {
  ++failures_;
  if (failing_) return;
  failing_ = true;
  std::cerr << "witness " << path_ << ": " << what
            << " (the journal goes on; the head is not witnessed until a write succeeds)"
            << std::endl;
}

}  // namespace registry::journal
