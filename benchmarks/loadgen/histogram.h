// A log-linear latency histogram in the style of HdrHistogram (no Debian package ships a C/C++
// HdrHistogram, so this is our own, small and allocation-free after construction).
//
// Values are non-negative integers (the driver records nanoseconds). Values below
// kSubBucketCount are counted exactly; above, each power of two is split into kSubBucketHalf
// linear buckets, so a reported value is at most 1/kSubBucketHalf (0.8 %) above the true one.
// Values above kValueMax are clamped to kValueMax (and counted in clamped()).
//
// Thread safety: none; the driver keeps one histogram per thread and merges them at the end.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cassert>
#include <cstdint>

namespace rsvpd::loadgen {

class Histogram {
 public:
  static constexpr int kSubBucketBits = 8;
  static constexpr uint64_t kSubBucketCount = uint64_t{1} << kSubBucketBits;  // 256
  static constexpr uint64_t kSubBucketHalf = kSubBucketCount / 2;             // 128
  static constexpr int kValueBits = 40;  // 2^40 ns ~ 18 minutes: far beyond any run.
  static constexpr uint64_t kValueMax = (uint64_t{1} << kValueBits) - 1;
  static constexpr std::size_t kBucketCount =
      kSubBucketCount + (kValueBits - kSubBucketBits) * kSubBucketHalf;
  static_assert(kValueBits < 63 && kSubBucketBits < kValueBits);

  void record(uint64_t value) noexcept {
    if (value > kValueMax) {
      value = kValueMax;
      ++clamped_;
    }
    ++counts_[index_of(value)];
    ++total_;
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }

  void merge(const Histogram& other) noexcept {
    for (std::size_t i = 0; i < kBucketCount; ++i) counts_[i] += other.counts_[i];
    total_ += other.total_;
    clamped_ += other.clamped_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }

  // The smallest bucket upper bound at or below which `quantile` (0..1] of the values lie;
  // exact max for quantile 1. Returns 0 when empty.
  uint64_t value_at(double quantile) const noexcept {
    if (total_ == 0) return 0;
    if (quantile >= 1.0) return max_;
    auto rank = static_cast<uint64_t>(quantile * static_cast<double>(total_));
    if (static_cast<double>(rank) < quantile * static_cast<double>(total_)) ++rank;
    rank = std::clamp<uint64_t>(rank, 1, total_);
    uint64_t seen = 0;
    for (std::size_t i = 0; i < kBucketCount; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(highest_in(i), max_);
    }
    return max_;
  }

  uint64_t total() const noexcept { return total_; }
  uint64_t clamped() const noexcept { return clamped_; }
  uint64_t min() const noexcept { return total_ == 0 ? 0 : min_; }
  uint64_t max() const noexcept { return max_; }

  // Exposed for the unit checks: bucket of a value and the bucket's inclusive bounds.
  static std::size_t index_of(uint64_t value) noexcept {
    assert(value <= kValueMax);
    if (value < kSubBucketCount) return static_cast<std::size_t>(value);
    const int msb = 63 - std::countl_zero(value);
    const int shift = msb - (kSubBucketBits - 1);  // Keeps the top kSubBucketBits bits.
    const uint64_t mantissa = value >> shift;      // In [kSubBucketHalf, kSubBucketCount).
    return static_cast<std::size_t>(kSubBucketCount + (shift - 1) * kSubBucketHalf +
                                    (mantissa - kSubBucketHalf));
  }
  static uint64_t lowest_in(std::size_t index) noexcept {
    if (index < kSubBucketCount) return index;
    const uint64_t k = index - kSubBucketCount;
    const uint64_t shift = k / kSubBucketHalf + 1;
    return (k % kSubBucketHalf + kSubBucketHalf) << shift;
  }
  static uint64_t highest_in(std::size_t index) noexcept {
    if (index < kSubBucketCount) return index;
    const uint64_t k = index - kSubBucketCount;
    const uint64_t shift = k / kSubBucketHalf + 1;
    return ((k % kSubBucketHalf + kSubBucketHalf + 1) << shift) - 1;
  }

 private:
  std::array<uint64_t, kBucketCount> counts_{};
  uint64_t total_ = 0;
  uint64_t clamped_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace rsvpd::loadgen
