// journal::BatchSigner signs on a helper thread what the writer queues. Its signatures must be
// exactly those of journal::Sign (Ed25519 is deterministic), every one written by the time
// Finish returns, whatever the interleaving of Add and Finish; it must also stop cleanly with
// work still queued.
#include "journal/signer.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <utility>


namespace registry::journal {
namespace {

Hash HashOf(uint32_t n) {
  Hash h{};
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<uint8_t>((n >> (8 * (i % 4))) + i);
  return h;
}

TEST(BatchSigner, SignaturesAreThoseOfSignAndAllWrittenWhenFinishReturns) {
  const SigningKey key = GenerateKey();
  BatchSigner signer(key);
  signer.Finish();  // Nothing queued: returns at once.
  std::mt19937 rng(7);
  uint32_t n = 0;
  for (int batch = 0; batch < 200; ++batch) {
    const int size = static_cast<int>(rng() % 40);  // 0 to 39, some batches empty.
    std::deque<std::pair<Hash, Signature>> entries;
    for (int i = 0; i < size; ++i) {
      auto& e = entries.emplace_back(HashOf(n++), Signature{});
      signer.Add(e.first, &e.second);
    }
    signer.Finish();
    for (const auto& [hash, signature] : entries) {
      ASSERT_EQ(signature, Sign(key, hash)) << "batch " << batch;
      ASSERT_TRUE(VerifySignature(key.public_key, hash, signature));
    }
  }
}

TEST(BatchSigner, StopsWithWorkStillQueued) {
  const SigningKey key = GenerateKey();
  std::deque<Signature> out(500);
  {
    BatchSigner signer(key);
    for (size_t i = 0; i < out.size(); ++i) signer.Add(HashOf(static_cast<uint32_t>(i)), &out[i]);
  }  // No Finish: the destructor stops the helper without waiting for the rest.
  // Whatever the helper signed before it stopped is whole and right; the rest is untouched.
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] != Signature{}) {
      EXPECT_EQ(out[i], Sign(key, HashOf(static_cast<uint32_t>(i)))) << i;
    }
  }
}

}  // namespace
}  // namespace registry::journal
