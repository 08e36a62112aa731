// The bit pattern of a double: tests that claim bit-for-bit equal doubles compare these (so that
// −0 and +0 differ and NaNs compare).
#pragma once

#include <cstdint>
#include <cstring>

namespace qdiff {

inline uint64_t Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

}  // namespace qdiff
