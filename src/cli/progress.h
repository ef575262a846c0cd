// One line of progress for the long commands of the CLI (verify, import, report aef): what is
// done, of how many, the rate and the time left, redrawn in place on stderr ("\r") at most every
// kProgressInterval. Quiet when stderr is not a terminal or the output is JSON: a script reads
// stdout and a log file should not fill with carriage returns. The HTTP server never makes one;
// the services take a plain callback (e.g. service::VerifyOptions::progress) and know nothing of
// terminals.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace registry::cli {

// Redraws at most this often: a few times per second is enough for people and costs nothing.
inline constexpr double kProgressInterval = 0.25;  // Seconds.

// The text of a progress line, given the figures (pure, for tests), e.g.
//   "verify: 250,000 / 1,000,000 entries (25.0 %), 50,000/s, 0:15 left"
// and, with no total known (0), "report aef: 1,234 rows, 617/s".
std::string ProgressText(std::string_view label, std::string_view unit, int64_t done, int64_t total,
                         double seconds);

// Where a progress line goes and what time it is: the real ones (stderr, steady_clock) or a
// test's.
struct ProgressTerminal {
  bool is_terminal = false;                     // False: nothing is ever drawn.
  std::function<void(std::string_view)> write;  // Receives "\r..." redraws and the final "\n".
  std::function<double()> now;                  // Seconds on a monotonic clock.
};

// Not thread-safe: one thread updates it.
class Progress {
 public:
  Progress(std::string label, std::string unit, int64_t total, ProgressTerminal terminal);
  ~Progress();  // Ends a drawn line (Done()).
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Records `done` (of the total; 0: unknown). Draws when kProgressInterval has passed since the
  // start or the last draw, so a command that ends sooner draws nothing.
  void Update(int64_t done);
  void SetTotal(int64_t total) { total_ = total; }
  // Draws the final figures and ends the line, when a line was drawn; then stays quiet.
  void Done();

 private:
  void Draw();

  std::string label_;
  std::string unit_;
  int64_t total_;
  ProgressTerminal terminal_;
  double start_;
  double last_draw_;
  int64_t done_ = 0;
  size_t drawn_width_ = 0;  // 0: nothing drawn yet.
  bool finished_ = false;
};

// A progress line on this process's stderr, drawn only when stderr is a terminal (isatty) and
// `json` is false.
std::unique_ptr<Progress> StderrProgress(std::string label, std::string unit, int64_t total,
                                         bool json);

}  // namespace registry::cli
