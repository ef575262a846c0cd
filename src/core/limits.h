// Every bound of the registry in one place. Each loop over external input is bounded by one.
#pragma once

#include <cstddef>
#include <cstdint>

namespace registry {

inline constexpr size_t kRequestBodyBytesMax = 64 * 1024;
inline constexpr size_t kRangesPerRequestMax = 256;
inline constexpr size_t kBlocksPerMovementMax = 4096;  // Blocks one movement may consume.
inline constexpr size_t kVintagesPerIssuanceMax = 64;
inline constexpr int64_t kIssuanceQuantityMax = int64_t{1'000'000'000'000};  // 10^12 t
inline constexpr size_t kTextFieldBytesMax = 4096;
inline constexpr size_t kIdempotencyKeyBytesMax = 128;
inline constexpr size_t kPageSizeMax = 1000;
inline constexpr size_t kWriterQueueMax = 4096;
inline constexpr size_t kBatchSizeMax = 256;
inline constexpr size_t kHttpThreadsMax = 1024;
// The longest a four-eyes proposal may stay pending, which is also how long it stays pending
// when it names no expires_at: its reservation blocks its serials until then. A live
// proposal.create asking for a later expires_at is refused (service/values.h).
inline constexpr int64_t kProposalLifetimeSecondsMax = 7 * 24 * 3600;
// How deeply a request's JSON may nest (service::ParseRequestJson); the deepest any command
// reads is 3 (proposal.create > args > vintages > item).
inline constexpr size_t kJsonDepthMax = 64;  // jcmreg serve --threads: requests at once.
// The nice value of the threads that feed the single writer or finish after it: the HTTP
// transport's event loop and workers, the signing helper. The writer is the serialization point
// of every write, so when the cores are all busy the kernel should run it first (on 2 cores the
// writer otherwise waited for a core a quarter as long as it ran; with this, about 9% more
// four-eyes transfers over HTTP: docs/benchmarks.md). Raising one's own nice value needs no
// privilege, and a machine with cores to spare sees no difference.
inline constexpr int kWriterFeederNice = 10;

static_assert(kIssuanceQuantityMax < (int64_t{1} << 53));
static_assert(kBatchSizeMax <= kWriterQueueMax);

}  // namespace registry
