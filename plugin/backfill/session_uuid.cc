#include "backfill/session_uuid.h"

namespace wfp::backfill {
namespace {

// SplitMix64's finalizer: a bijection of 64-bit values that spreads every input bit.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void AppendHex(uint64_t v, int digits, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) *out += kHex[(v >> (4 * i)) & 0xF];
}

}  // namespace

std::string NewSessionUuid(const uint64_t (&seed)[2], size_t ordinal) {
  constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;
  const uint64_t step = (static_cast<uint64_t>(ordinal) + 1) * kGolden;
  uint64_t hi = Mix(seed[0] + step);
  uint64_t lo = Mix(seed[1] + step);
  hi = (hi & ~0xF000ULL) | 0x4000ULL;              // version 4
  lo = (lo & ~(0xC0ULL << 56)) | (0x80ULL << 56);  // variant 10xx (RFC 9562)
  std::string out;
  out.reserve(36);
  AppendHex(hi >> 32, 8, &out);
  out += '-';
  AppendHex(hi >> 16, 4, &out);
  out += '-';
  AppendHex(hi, 4, &out);
  out += '-';
  AppendHex(lo >> 48, 4, &out);
  out += '-';
  AppendHex(lo, 12, &out);
  return out;
}

}  // namespace wfp::backfill
