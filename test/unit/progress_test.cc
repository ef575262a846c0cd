// The progress line of the CLI (cli/progress.h) driven by a fake clock and a fake terminal: its
// text (done, total, rate, time left), how often it redraws, and its silence off a terminal.
#include "cli/progress.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace registry::cli {
namespace {

// A terminal that records what is written and a clock the test moves.
struct FakeTerminal {
  double seconds = 100;  // Any start: only differences count.
  std::vector<std::string> writes;

  ProgressTerminal Make(bool is_terminal) {
    return ProgressTerminal{is_terminal,
                            [this](std::string_view text) { writes.emplace_back(text); },
                            [this] { return seconds; }};
  }
};

TEST(ProgressText, SaysDoneTotalPercentRateAndTimeLeft) {
  EXPECT_EQ(ProgressText("verify", "entries", 250000, 1000000, 5.0),
            "verify: 250,000 / 1,000,000 entries (25.0 %), 50,000/s, 0:15 left");
  // Time left past an hour reads h:mm:ss; the rate is the average since the start.
  EXPECT_EQ(ProgressText("verify", "entries", 1000, 10000000, 1.0),
            "verify: 1,000 / 10,000,000 entries (0.0 %), 1,000/s, 2:46:39 left");
  EXPECT_EQ(ProgressText("import issuances", "rows", 12, 12, 3.0),
            "import issuances: 12 / 12 rows (100.0 %), 4/s, 0:00 left");
}

TEST(ProgressText, WithoutATotalOrARateSaysOnlyWhatItKnows) {
  EXPECT_EQ(ProgressText("report aef", "rows", 1234567, 0, 2.0),
            "report aef: 1,234,567 rows, 617,284/s");
  EXPECT_EQ(ProgressText("verify", "entries", 0, 500, 0.0), "verify: 0 / 500 entries (0.0 %)");
}

TEST(Progress, RedrawsInPlaceAtMostEveryIntervalAndEndsTheLine) {
  FakeTerminal terminal;
  {
    Progress progress("verify", "entries", 1000, terminal.Make(true));
    terminal.seconds += 0.1;
    progress.Update(100);  // Too soon after the start: a short command draws nothing.
    EXPECT_TRUE(terminal.writes.empty());
    terminal.seconds += 0.2;
    progress.Update(300);
    ASSERT_EQ(terminal.writes.size(), 1u);
    EXPECT_EQ(terminal.writes[0], "\rverify: 300 / 1,000 entries (30.0 %), 1,000/s, 0:01 left");
    terminal.seconds += 0.1;
    progress.Update(400);  // 0.1 s after the last draw.
    EXPECT_EQ(terminal.writes.size(), 1u);
    terminal.seconds += 0.2;
    progress.Update(600);
    ASSERT_EQ(terminal.writes.size(), 2u);
    EXPECT_EQ(terminal.writes[1], "\rverify: 600 / 1,000 entries (60.0 %), 1,000/s, 0:00 left");
    terminal.seconds += 0.4;
    progress.Update(1000);
    progress.Done();  // The final figures, then the line ends; nothing after.
    progress.Update(1000);
  }
  ASSERT_EQ(terminal.writes.size(), 5u);
  EXPECT_EQ(terminal.writes[3], "\rverify: 1,000 / 1,000 entries (100.0 %), 1,000/s, 0:00 left");
  EXPECT_EQ(terminal.writes[4], "\n");
}

TEST(Progress, AShorterLineIsPaddedOverTheLongerOne) {
  FakeTerminal terminal;
  Progress progress("import", "rows", 0, terminal.Make(true));
  terminal.seconds += 1;
  progress.Update(100000);  // "import: 100,000 rows, 100,000/s"
  terminal.seconds += 99;
  progress.Update(100000);  // "import: 100,000 rows, 1,000/s": two characters shorter.
  ASSERT_EQ(terminal.writes.size(), 2u);
  EXPECT_EQ(terminal.writes[0], "\rimport: 100,000 rows, 100,000/s");
  EXPECT_EQ(terminal.writes[1], "\rimport: 100,000 rows, 1,000/s  ");
}

TEST(Progress, OffATerminalNothingIsEverWritten) {
  FakeTerminal terminal;
  {
    Progress progress("verify", "entries", 10, terminal.Make(false));
    for (int i = 1; i <= 10; ++i) {
      terminal.seconds += 1;
      progress.Update(i);
    }
  }
  EXPECT_TRUE(terminal.writes.empty());
}

TEST(Progress, ACommandFasterThanOneIntervalLeavesNoLine) {
  FakeTerminal terminal;
  {
    Progress progress("verify", "entries", 10, terminal.Make(true));
    terminal.seconds += 0.05;
    progress.Update(10);
  }  // Destroyed without Done(): it ends its line itself, and here there is none.
  EXPECT_TRUE(terminal.writes.empty());
}

}  // namespace
}  // namespace registry::cli
