// FNV-1a, 64 bit (offset basis 14695981039346656037, prime 1099511628211): a stable hash of bytes,
// the same on every build and machine. Used as the journal's line checksum
// (harness/campaign/journal.h) and for the CSV bytes each journal record covers. Hashing b after
// a continues from Fnv1a64(a): Fnv1a64(b, Fnv1a64(a)) == Fnv1a64(a + b).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace qdiff {

constexpr uint64_t kFnv1a64Basis = 14695981039346656037ull;

constexpr uint64_t Fnv1a64(std::string_view bytes, uint64_t h = kFnv1a64Basis) {
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace qdiff
