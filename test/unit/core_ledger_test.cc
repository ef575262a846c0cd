// Goal: the pure ledger decisions (core/ledger.h) give the documented answer or refusal, and
// CheckLedgerInvariants (core/invariants.h) detects each of its six violations.
// Method: small hand-built accounts, blocks and lots; each violation is planted into an otherwise
// consistent snapshot, which must first be reported clean.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/invariants.h"
#include "core/ledger.h"
#include "core/limits.h"

namespace registry {
namespace {

Account MakeAccount(int64_t id, AccountType type, const std::string& registry = "JPN01",
                    AccountStatus status = AccountStatus::kOpen) {
  Account a;
  a.id = AccountId{id};
  a.registry = RegistryCode{registry};
  a.type = type;
  a.status = status;
  a.name = "a" + std::to_string(id);
  return a;
}

Block MakeBlock(int64_t id, int64_t first, int64_t last, int64_t account = 1, int64_t lot = 1) {
  Block b;
  b.id = BlockId{id};
  b.lot = IssuanceId{lot};
  b.range = SerialRange{first, last};
  b.account = AccountId{account};
  b.created = Sequence{1};
  return b;
}

template <class T>
Check CheckOf(const T& result) {
  EXPECT_FALSE(static_cast<bool>(result));
  return result.error().check;
}

TEST(CoreLedger, DecideIssuanceAllocatesMonotonically) {
  const Account gov = MakeAccount(1, AccountType::kGovernmentHolding);
  const auto out = DecideIssuance(
      gov, {{Vintage{2019}, Quantity{10}}, {Vintage{2020}, Quantity{5}}}, 101);
  ASSERT_TRUE(out.has_value());
  ASSERT_EQ(out->ranges.size(), 2u);
  EXPECT_EQ(out->ranges[0], (SerialRange{101, 110}));
  EXPECT_EQ(out->ranges[1], (SerialRange{111, 115}));
  EXPECT_EQ(out->next_serial, 116);
  EXPECT_TRUE(DecideIssuance(MakeAccount(2, AccountType::kEntityHolding),
                             {{Vintage{2021}, Quantity{1}}}, 1)
                  .has_value());
}

TEST(CoreLedger, DecideIssuanceRefusals) {
  const Account gov = MakeAccount(1, AccountType::kGovernmentHolding);
  const std::vector<IssuanceLine> one = {{Vintage{2021}, Quantity{10}}};
  EXPECT_EQ(CheckOf(DecideIssuance(MakeAccount(1, AccountType::kGovernmentHolding, "JPN01",
                                               AccountStatus::kBlocked),
                                   one, 1)),
            Check::kAccountBlocked);
  EXPECT_EQ(CheckOf(DecideIssuance(MakeAccount(1, AccountType::kGovernmentHolding, "JPN01",
                                               AccountStatus::kClosed),
                                   one, 1)),
            Check::kAccountClosed);
  EXPECT_EQ(CheckOf(DecideIssuance(MakeAccount(1, AccountType::kRetirement), one, 1)),
            Check::kWrongDestinationType);
  EXPECT_EQ(CheckOf(DecideIssuance(MakeAccount(1, AccountType::kCancellation), one, 1)),
            Check::kWrongDestinationType);
  EXPECT_EQ(CheckOf(DecideIssuance(gov, {}, 1)), Check::kFieldMissing);
  EXPECT_EQ(CheckOf(DecideIssuance(gov, std::vector<IssuanceLine>(kVintagesPerIssuanceMax + 1,
                                                                  {Vintage{2021}, Quantity{1}}),
                                   1)),
            Check::kTooManyItems);
  EXPECT_EQ(CheckOf(DecideIssuance(gov, {{Vintage{1999}, Quantity{1}}}, 1)),
            Check::kVintageOutOfRange);
  EXPECT_EQ(CheckOf(DecideIssuance(gov, {{Vintage{2101}, Quantity{1}}}, 1)),
            Check::kVintageOutOfRange);
  EXPECT_EQ(CheckOf(DecideIssuance(gov, {{Vintage{2021}, Quantity{0}}}, 1)),
            Check::kQuantityNotPositive);
  EXPECT_EQ(CheckOf(DecideIssuance(gov, {{Vintage{2021}, Quantity{-5}}}, 1)),
            Check::kQuantityNotPositive);
  EXPECT_EQ(CheckOf(DecideIssuance(gov, {{Vintage{2021}, Quantity{kIssuanceQuantityMax + 1}}}, 1)),
            Check::kQuantityTooLarge);
  // Serial exhaustion: the last serial would pass kSerialMax.
  EXPECT_EQ(CheckOf(DecideIssuance(gov, {{Vintage{2021}, Quantity{2}}}, kSerialMax)),
            Check::kQuantityTooLarge);
  EXPECT_TRUE(DecideIssuance(gov, {{Vintage{2021}, Quantity{1}}}, kSerialMax).has_value());
  const auto refused = DecideIssuance(gov, {{Vintage{2021}, Quantity{-5}}}, 1);
  EXPECT_NE(refused.error().message.find("-5"), std::string::npos) << refused.error().message;
}

TEST(CoreLedger, CheckMovementAccounts) {
  const Account gov = MakeAccount(1, AccountType::kGovernmentHolding);
  const Account ent = MakeAccount(2, AccountType::kEntityHolding);
  const Account ret = MakeAccount(3, AccountType::kRetirement);
  const Account can = MakeAccount(4, AccountType::kCancellation);
  const Account other = MakeAccount(5, AccountType::kGovernmentHolding, "MNG01");
  const Account blocked = MakeAccount(6, AccountType::kGovernmentHolding, "JPN01",
                                      AccountStatus::kBlocked);
  const Account closed = MakeAccount(7, AccountType::kGovernmentHolding, "JPN01",
                                     AccountStatus::kClosed);
  using K = MovementKind;
  EXPECT_TRUE(CheckMovementAccounts(K::kTransfer, gov, ent).ok());
  EXPECT_TRUE(CheckMovementAccounts(K::kRetirement, gov, ret).ok());
  EXPECT_TRUE(CheckMovementAccounts(K::kCancellation, ent, can).ok());
  EXPECT_EQ(CheckOf(CheckMovementAccounts(K::kTransfer, ret, gov)),
            Check::kTerminalAccountCannotSend);
  EXPECT_EQ(CheckOf(CheckMovementAccounts(K::kTransfer, can, gov)),
            Check::kTerminalAccountCannotSend);
  EXPECT_EQ(CheckOf(CheckMovementAccounts(K::kTransfer, blocked, gov)), Check::kAccountBlocked);
  EXPECT_EQ(CheckOf(CheckMovementAccounts(K::kTransfer, gov, blocked)), Check::kAccountBlocked);
  EXPECT_EQ(CheckOf(CheckMovementAccounts(K::kTransfer, closed, gov)), Check::kAccountClosed);
  EXPECT_EQ(CheckOf(CheckMovementAccounts(K::kTransfer, gov, closed)), Check::kAccountClosed);
  EXPECT_EQ(CheckOf(CheckMovementAccounts(K::kTransfer, gov, gov)), Check::kSameAccount);
  EXPECT_EQ(CheckOf(CheckMovementAccounts(K::kTransfer, gov, other)),
            Check::kCrossRegistryTransfer);
  EXPECT_EQ(CheckOf(CheckMovementAccounts(K::kTransfer, gov, ret)), Check::kWrongDestinationType);
  EXPECT_EQ(CheckOf(CheckMovementAccounts(K::kRetirement, gov, can)),
            Check::kWrongDestinationType);
  EXPECT_EQ(CheckOf(CheckMovementAccounts(K::kCancellation, gov, ent)),
            Check::kWrongDestinationType);
}

TEST(CoreLedger, SelectRangesWholeAndPartial) {
  const std::vector<Block> blocks = {MakeBlock(2, 11, 20), MakeBlock(1, 1, 10)};
  const auto parts = SelectRanges({SerialRange{5, 15}}, blocks);
  ASSERT_TRUE(parts.has_value()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].block.id.value, 1);
  EXPECT_EQ((*parts)[0].moved, (SerialRange{5, 10}));
  EXPECT_EQ((*parts)[1].block.id.value, 2);
  EXPECT_EQ((*parts)[1].moved, (SerialRange{11, 15}));
  const auto two = SelectRanges({SerialRange{15, 20}, SerialRange{1, 2}}, blocks);
  ASSERT_TRUE(two.has_value());
  EXPECT_EQ(two->size(), 2u);
}

TEST(CoreLedger, SelectRangesRefusals) {
  const std::vector<Block> blocks = {MakeBlock(1, 1, 10), MakeBlock(2, 21, 30)};
  EXPECT_EQ(CheckOf(SelectRanges({}, blocks)), Check::kFieldMissing);
  EXPECT_EQ(CheckOf(SelectRanges({SerialRange{5, 4}}, blocks)), Check::kSerialRangeInvalid);
  EXPECT_EQ(CheckOf(SelectRanges({SerialRange{0, 4}}, blocks)), Check::kSerialRangeInvalid);
  EXPECT_EQ(CheckOf(SelectRanges({SerialRange{1, 5}, SerialRange{5, 6}}, blocks)),
            Check::kSerialRangeInvalid);
  // Two ranges in one block would split it twice.
  EXPECT_EQ(CheckOf(SelectRanges({SerialRange{1, 2}, SerialRange{5, 6}}, blocks)),
            Check::kSerialRangeInvalid);
  const auto gap = SelectRanges({SerialRange{5, 25}}, blocks);
  EXPECT_EQ(CheckOf(gap), Check::kSerialRangeNotHeld);
  EXPECT_NE(gap.error().message.find("serial 11 "), std::string::npos) << gap.error().message;
  EXPECT_EQ(CheckOf(SelectRanges({SerialRange{31, 31}}, blocks)), Check::kSerialRangeNotHeld);
  EXPECT_EQ(CheckOf(SelectRanges({SerialRange{1, 5}}, {})), Check::kSerialRangeNotHeld);
  EXPECT_EQ(CheckOf(SelectRanges(std::vector<SerialRange>(kRangesPerRequestMax + 1,
                                                          SerialRange{1, 1}),
                                 blocks)),
            Check::kTooManyItems);
}

TEST(CoreLedger, SelectQuantityHolderKeepsFirstSubRange) {
  const std::vector<Block> blocks = {MakeBlock(2, 21, 30), MakeBlock(1, 1, 10)};
  const auto parts = SelectQuantity(Quantity{13}, blocks);
  ASSERT_TRUE(parts.has_value());
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].moved, (SerialRange{1, 10}));   // Ascending serial order: whole block.
  EXPECT_EQ((*parts)[1].moved, (SerialRange{28, 30}));  // Then the last 3 of the next.
  EXPECT_EQ(CheckOf(SelectQuantity(Quantity{0}, blocks)), Check::kQuantityNotPositive);
  EXPECT_EQ(CheckOf(SelectQuantity(Quantity{-1}, blocks)), Check::kQuantityNotPositive);
  const auto above = SelectQuantity(Quantity{21}, blocks);
  EXPECT_EQ(CheckOf(above), Check::kQuantityAboveHolding);
  EXPECT_NE(above.error().message.find("20"), std::string::npos) << above.error().message;
  EXPECT_TRUE(SelectQuantity(Quantity{20}, blocks).has_value());
}

TEST(CoreLedger, BuildMovementSplitsAndInherits) {
  Block block = MakeBlock(7, 1, 100);
  block.first_transferred = true;
  block.held_inconsistent = true;
  const Destination to{AccountId{3}, 2025, std::nullopt};
  const Movement m = BuildMovement({SelectedPart{block, SerialRange{41, 60}}}, to, {});
  EXPECT_EQ(m.closed, std::vector<BlockId>{BlockId{7}});
  EXPECT_EQ(m.moved.tonnes, 20);
  ASSERT_EQ(m.created.size(), 3u);
  EXPECT_EQ(m.created[0].range, (SerialRange{1, 40}));
  EXPECT_EQ(m.created[0].account.value, 1);
  EXPECT_EQ(m.created[1].range, (SerialRange{41, 60}));
  EXPECT_EQ(m.created[1].account.value, 3);
  EXPECT_EQ(m.created[1].use_year, 2025);
  EXPECT_EQ(m.created[2].range, (SerialRange{61, 100}));
  for (const NewBlock& nb : m.created) {
    EXPECT_EQ(nb.parent.value, 7);
    EXPECT_EQ(nb.lot.value, 1);
    EXPECT_TRUE(nb.first_transferred);  // Never unmarked.
    EXPECT_TRUE(nb.held_inconsistent);
  }
  const Block fresh = MakeBlock(8, 1, 10);
  const Movement whole = BuildMovement(
      {SelectedPart{fresh, SerialRange{1, 10}}},
      Destination{AccountId{4}, 0, CancellationPurpose::kOmge}, {true});
  ASSERT_EQ(whole.created.size(), 1u);
  EXPECT_TRUE(whole.created[0].first_transferred);
  EXPECT_EQ(whole.created[0].cancellation_purpose, CancellationPurpose::kOmge);
}

// A consistent snapshot: lot 1 [1,100] issued as block 1 to account 1, then block 1 split at
// sequence 2 into 2 [1,60] (account 1) and 3 [61,100] (account 2, retirement).
struct Snapshot {
  std::vector<IssuanceLot> lots;
  std::vector<Block> blocks;
  std::vector<Account> accounts;
  Snapshot() {
    IssuanceLot lot;
    lot.id = IssuanceId{1};
    lot.registry = RegistryCode{"JPN01"};
    lot.range = SerialRange{1, 100};
    lots.push_back(lot);
    accounts = {MakeAccount(1, AccountType::kGovernmentHolding),
                MakeAccount(2, AccountType::kRetirement)};
    Block root = MakeBlock(1, 1, 100);
    root.closed = Sequence{2};
    Block kept = MakeBlock(2, 1, 60);
    kept.parent = BlockId{1};
    kept.created = Sequence{2};
    Block moved = MakeBlock(3, 61, 100, 2);
    moved.parent = BlockId{1};
    moved.created = Sequence{2};
    blocks = {root, kept, moved};
  }
  // The whole-snapshot check, and the streaming check verify uses must agree on it.
  std::vector<std::string> Check() const {
    std::vector<std::string> problems = CheckLedgerInvariants(lots, blocks, accounts);
    std::vector<Block> sorted = blocks;
    std::sort(sorted.begin(), sorted.end(),
              [](const Block& a, const Block& b) { return a.id.value < b.id.value; });
    LedgerInvariantStream stream(lots, accounts, [&sorted](BlockId id) -> std::optional<Block> {
      for (const Block& b : sorted) {
        if (b.id == id) return b;
      }
      return std::nullopt;
    });
    for (const Block& b : sorted) stream.Add(b);
    EXPECT_EQ(stream.Finish(), problems.empty())
        << (problems.empty() ? "the stream found a violation the snapshot check did not"
                             : "the stream missed: " + problems.front());
    return problems;
  }
};

bool Mentions(const std::vector<std::string>& problems, const std::string& text) {
  for (const auto& p : problems) {
    if (p.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(CoreInvariants, ConsistentSnapshotIsClean) {
  EXPECT_TRUE(Snapshot().Check().empty());
}

TEST(CoreInvariants, LiveBlocksMustPartitionTheLot) {
  Snapshot s;
  s.blocks[1].range = SerialRange{1, 59};  // One tonne missing (and children no longer tile).
  EXPECT_TRUE(Mentions(s.Check(), "lot 1 issued 100 but its live blocks hold 99"));
}

TEST(CoreInvariants, NoSerialInTwoLiveBlocks) {
  Snapshot s;
  Block dup = MakeBlock(4, 50, 60);  // A second live block over serials 50-60.
  s.blocks.push_back(dup);
  EXPECT_TRUE(Mentions(s.Check(), "or overlap"));
}

TEST(CoreInvariants, ChildrenMustPartitionAndMatchTheirParent) {
  Snapshot s;
  s.blocks[2].created = Sequence{3};
  EXPECT_TRUE(Mentions(s.Check(), "does not match its parent"));
  Snapshot t;
  t.blocks[0].closed.reset();  // Live, yet has children.
  EXPECT_TRUE(Mentions(t.Check(), "is live but has children"));
  Snapshot u;
  u.blocks[2].closed = Sequence{3};  // Closed without children (and left a retirement account).
  EXPECT_TRUE(Mentions(u.Check(), "closed without children"));
}

TEST(CoreInvariants, NothingLeavesATerminalAccount) {
  Snapshot s;
  s.blocks[2].closed = Sequence{3};
  Block child = MakeBlock(4, 61, 100, 1);
  child.parent = BlockId{3};
  child.created = Sequence{3};
  s.blocks.push_back(child);
  const auto problems = s.Check();
  EXPECT_TRUE(Mentions(problems, "left a retirement account"));
  EXPECT_EQ(problems.size(), 1u) << problems.front();
}

TEST(CoreInvariants, FirstTransferNeverUnmarked) {
  Snapshot s;
  s.blocks[0].first_transferred = true;
  s.blocks[1].first_transferred = true;
  EXPECT_TRUE(Mentions(s.Check(), "lost its parent's first transfer"));
}

TEST(CoreInvariants, UnknownLotOrAccountAndOutsideLot) {
  Snapshot s;
  s.blocks[2].account = AccountId{99};
  EXPECT_TRUE(Mentions(s.Check(), "names an unknown lot or account"));
  Snapshot t;
  t.blocks[2].lot = IssuanceId{42};
  EXPECT_TRUE(Mentions(t.Check(), "names an unknown lot or account"));
  Snapshot u;
  u.blocks[2].range = SerialRange{61, 101};
  EXPECT_TRUE(Mentions(u.Check(), "lies outside its lot"));
}

}  // namespace
}  // namespace registry
