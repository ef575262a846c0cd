#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "core/text.h"

namespace registry::cli {
namespace {

// Seconds as "m:ss", or "h:mm:ss" from an hour.
std::string Clock(double seconds) {
  const auto total = static_cast<int64_t>(std::llround(std::max(0.0, seconds)));
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", static_cast<long long>(total / 3600),
                  static_cast<long long>(total / 60 % 60), static_cast<long long>(total % 60));
  } else {
    std::snprintf(text, sizeof text, "%lld:%02lld", static_cast<long long>(total / 60),
                  static_cast<long long>(total % 60));
  }
  return text;
}

}  // namespace

std::string ProgressText(std::string_view label, std::string_view unit, int64_t done, int64_t total,
                         double seconds) {
  std::string text = std::string(label) + ": " + GroupThousands(done);
  if (total > 0) text += " / " + GroupThousands(total);
  text += " " + std::string(unit);
  if (total > 0) {
    char percent[32];
    std::snprintf(percent, sizeof percent, " (%.1f %%)",
                  100.0 * static_cast<double>(std::min(done, total)) / static_cast<double>(total));
    text += percent;
  }
  if (seconds <= 0 || done <= 0) return text;               // No rate yet, so no time left either.
  const double rate = static_cast<double>(done) / seconds;  // The average since the start.
  text += ", " + GroupThousands(std::llround(rate)) + "/s";
  if (total > 0) {
    text += ", " + Clock(static_cast<double>(std::max<int64_t>(0, total - done)) / rate) + " left";
  }
  return text;
}

Progress::Progress(std::string label, std::string unit, int64_t total, ProgressTerminal terminal)
    : label_(std::move(label)),
      unit_(std::move(unit)),
      total_(total),
      terminal_(std::move(terminal)),
      start_(terminal_.is_terminal ? terminal_.now() : 0),
      last_draw_(start_) {}

Progress::~Progress() { Done(); }

void Progress::Update(int64_t done) {
  done_ = done;
  if (!terminal_.is_terminal || finished_) return;
  if (terminal_.now() - last_draw_ < kProgressInterval) return;
  Draw();
}

void Progress::Done() {
  if (finished_) return;
  finished_ = true;
  if (drawn_width_ == 0) return;
  Draw();
  terminal_.write("\n");
}

void Progress::Draw() {
  last_draw_ = terminal_.now();
  std::string text = ProgressText(label_, unit_, done_, total_, last_draw_ - start_);
  const size_t width = text.size();
  // A shorter line than the last one is padded, so that no old character stays on screen.
  if (width < drawn_width_) text.append(drawn_width_ - width, ' ');
  drawn_width_ = std::max(drawn_width_, width);
  terminal_.write("\r" + text);
}

std::unique_ptr<Progress> StderrProgress(std::string label, std::string unit, int64_t total,
                                         bool json) {
  ProgressTerminal terminal;
  terminal.is_terminal = !json && isatty(STDERR_FILENO) == 1;
  terminal.write = [](std::string_view text) { std::cerr << text << std::flush; };
  terminal.now = [] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  return std::make_unique<Progress>(std::move(label), std::move(unit), total, std::move(terminal));
}

}  // namespace registry::cli
