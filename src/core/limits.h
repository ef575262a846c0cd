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
inline constexpr size_t kHttpThreadsMax = 1024;  // jcmreg serve --threads: requests at once.

static_assert(kIssuanceQuantityMax < (int64_t{1} << 53));
static_assert(kBatchSizeMax <= kWriterQueueMax);

}  // namespace registry
