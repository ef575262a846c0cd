// The journal's hash and seals (journal/chain.h): the entry hash is SHA-256 of the canonical
// encoding whatever library computes it; a seal verifies under its key for its own range and the
// hash of its last entry only, and a signature of the format before seals (over the bare hash) is
// a seal of its one entry and of nothing else.
#include <gtest/gtest.h>
#include <sodium.h>

#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "journal/chain.h"

namespace registry::journal {
namespace {

Hash HashOf(uint32_t n) {
  Hash h{};
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>((n >> (8 * (i % 4))) + i);
  return h;
}

// The entry hash of journal/chain.h, computed independently with libsodium's SHA-256 (which
// computed it before libcrypto did): the canonical encoding, and so every stored hash, is the
// same whatever library computes it.
Hash ReferenceHash(const JournalEntry& e) {
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  auto field = [&](const std::string& f) {
    const uint64_t size = f.size();
    uint8_t prefix[8];
    for (int i = 0; i < 8; ++i) prefix[i] = static_cast<uint8_t>(size >> (8 * i));
    crypto_hash_sha256_update(&state, prefix, sizeof prefix);
    crypto_hash_sha256_update(&state, reinterpret_cast<const uint8_t*>(f.data()), f.size());
  };
  for (const std::string& f : {std::to_string(e.sequence.value), e.time, e.actor, e.idempotency_key,
                               e.command, e.payload, e.result}) {
    field(f);
  }
  crypto_hash_sha256_update(&state, e.prev_hash.data(), e.prev_hash.size());
  Hash h{};
  crypto_hash_sha256_final(&state, h.data());
  return h;
}

TEST(EntryHash, IsTheSha256OfTheCanonicalEncodingWhateverTheSizes) {
  ASSERT_GE(sodium_init(), 0);
  std::mt19937 rng(11);
  auto text = [&](size_t n) {
    std::string s(n, ' ');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    return s;
  };
  JournalEntry empty;
  EXPECT_EQ(EntryHash(empty), ReferenceHash(empty));
  for (const size_t size :
       {size_t{0}, size_t{1}, size_t{55}, size_t{56}, size_t{64}, size_t{1000}, size_t{100000}}) {
    JournalEntry e;
    e.sequence = Sequence{static_cast<int64_t>(rng())};
    e.time = "2026-12-01T00:00:00Z";
    e.actor = text(size % 17);
    e.idempotency_key = text(size % 5);
    e.command = "transfer";
    e.payload = text(size);
    e.result = text(size / 2);
    e.prev_hash = HashOf(static_cast<uint32_t>(size));
    EXPECT_EQ(EntryHash(e), ReferenceHash(e)) << size;
    e.result += "x";  // Any change changes the hash.
    EXPECT_NE(EntryHash(e), ReferenceHash(JournalEntry{}));
    EXPECT_EQ(EntryHash(e), ReferenceHash(e)) << size;
  }
  // From other threads too (each has its own context).
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      JournalEntry e;
      e.payload = std::string(static_cast<size_t>(100 * t), 'p');
      for (int i = 0; i < 100; ++i) {
        e.sequence = Sequence{i};
        good += EntryHash(e) == ReferenceHash(e) ? 1 : 0;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(good.load(), 400);
}

Seal SealOf(const SigningKey& key, int64_t first, const JournalEntry& last) {
  return MakeSeal(key, Sequence{first}, last);
}

JournalEntry EntryAt(int64_t sequence) {
  JournalEntry e;
  e.sequence = Sequence{sequence};
  e.time = "2026-12-07T00:00:00Z";
  e.command = "transfer";
  e.payload = "{}";
  e.result = "{}";
  e.prev_hash = HashOf(static_cast<uint32_t>(sequence));
  e.hash = EntryHash(e);
  return e;
}

TEST(Seal, VerifiesForItsRangeKeyAndLastHashOnly) {
  const SigningKey key = GenerateKey();
  const SigningKey other = GenerateKey();
  JournalEntry last = EntryAt(20);
  last.seal = SealOf(key, 5, last);
  ASSERT_TRUE(last.seal->key.has_value());
  EXPECT_EQ(*last.seal->key, key.public_key);
  EXPECT_TRUE(VerifySeal(key.public_key, last));
  EXPECT_FALSE(VerifySeal(other.public_key, last));

  JournalEntry moved = last;  // The same seal claiming another first entry.
  moved.seal->first = Sequence{4};
  EXPECT_FALSE(VerifySeal(key.public_key, moved));
  moved = last;  // ... or carried by another entry.
  moved.sequence = Sequence{21};
  EXPECT_FALSE(VerifySeal(key.public_key, moved));
  moved = last;  // ... or over another hash.
  moved.hash[31] ^= 1;
  EXPECT_FALSE(VerifySeal(key.public_key, moved));
  moved = last;  // ... or with one bit of its signature changed.
  moved.seal->signature[7] ^= 1;
  EXPECT_FALSE(VerifySeal(key.public_key, moved));
  moved = last;  // A batch seal read as one of the old format does not verify either.
  moved.seal->key.reset();
  moved.seal->first = moved.sequence;
  EXPECT_FALSE(VerifySeal(key.public_key, moved));
  last.seal.reset();
  EXPECT_FALSE(VerifySeal(key.public_key, last));
}

TEST(Seal, ASignatureOfTheFormatBeforeSealsIsASealOfItsOneEntry) {
  const SigningKey key = GenerateKey();
  JournalEntry e = EntryAt(9);
  e.seal = Seal{e.sequence, std::nullopt, Sign(key, e.hash)};
  EXPECT_TRUE(VerifySeal(key.public_key, e));
  JournalEntry wider = e;  // It covers its own entry, never a range.
  wider.seal->first = Sequence{8};
  EXPECT_FALSE(VerifySeal(key.public_key, wider));
  JournalEntry as_batch = e;  // Nor is it a batch seal of that entry.
  as_batch.seal->key = key.public_key;
  EXPECT_FALSE(VerifySeal(key.public_key, as_batch));
}

TEST(Seal, TheMessageIsNeverABareHash) {
  const Hash h = HashOf(3);
  const std::string message = SealMessage(Sequence{1}, Sequence{1}, h);
  EXPECT_EQ(message.size(), 12u + 8u + 8u + 32u);
  EXPECT_EQ(message.compare(0, 12, std::string("jcm.seal.v1") + '\0'), 0);
  EXPECT_EQ(message.compare(28, 32, std::string(h.begin(), h.end())), 0);
  EXPECT_NE(SealMessage(Sequence{1}, Sequence{2}, h), SealMessage(Sequence{2}, Sequence{2}, h));
}

}  // namespace
}  // namespace registry::journal
