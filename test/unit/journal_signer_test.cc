// journal::BatchSigner signs on a helper thread what the writer queues. Its signatures must be
// exactly those of journal::Sign (Ed25519 is deterministic), every one written by the time
// Finish returns, whatever the interleaving of Add and Finish; it must also stop cleanly with
// work still queued.
#include "journal/signer.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/limits.h"
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
  for (const std::string& f : {std::to_string(e.sequence.value), e.time, e.actor,
                               e.idempotency_key, e.command, e.payload, e.result}) {
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
  for (const size_t size : {size_t{0}, size_t{1}, size_t{55}, size_t{56}, size_t{64}, size_t{1000},
                            size_t{100000}}) {
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

// The threads of this process and their nice values, from /proc (Linux keeps one per thread).
std::map<std::string, int> ThreadNices() {
  std::map<std::string, int> out;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Field 19 is the nice value; the fields after the command's ')' start at field 3.
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 19 && rest >> field; ++i) {
    }
    out[task.path().filename().string()] = std::stoi(field);
  }
  return out;
}

// The helper yields to the writer: it runs at kWriterFeederNice, the writer's thread as it was.
// On one core there is no helper: no thread starts.
TEST(BatchSigner, TheHelperRunsAtTheFeedersNiceValue) {
  const std::vector<int> expected = std::thread::hardware_concurrency() > 1
                                        ? std::vector<int>{kWriterFeederNice}
                                        : std::vector<int>{};
  const auto before = ThreadNices();
  const SigningKey key = GenerateKey();
  BatchSigner signer(key);
  Signature out{};
  signer.Add(HashOf(1), &out);
  signer.Finish();
  // The helper sets its nice value once it runs, which may be after Finish returns.
  std::vector<int> started;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    started.clear();
    for (const auto& [tid, nice] : ThreadNices()) {
      if (before.count(tid) == 0) started.push_back(nice);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  } while (started != expected && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(started, expected);
  EXPECT_EQ(ThreadNices().at(std::to_string(::gettid())), before.at(std::to_string(::gettid())));
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
