// Reading and writing the ABI's sized structs (those that begin with `uint32_t struct_size`) across
// versions: the one place where both sides of the boundary apply the compatibility rule of
// <wfp/plugin_abi.h>. Internal to this project (not installed): C hosts and plugins follow the same
// rule by hand, as docs/abi.md describes.
//
// The rule. A struct is written by one side and read by the other; the two may have been compiled
// against different minor versions, so each has its own idea of sizeof. Only the bytes both know
// are used:
//   - a reader copies min(writer's struct_size, sizeof) bytes and treats every field past them as
//     absent (zero here; WFP_HAS_FIELD on the copy tells which fields the writer gave);
//   - a side that fills a struct the other side provides (an out parameter) writes min(provider's
//     struct_size, sizeof) bytes, never past, and sets struct_size to that number;
//   - in an array of sized structs, the elements are as far apart as the first one's struct_size
//     (sizeof as the writer compiled it), which need not be the reader's sizeof.
// Header-only, C++17; works for any of the ABI's sized structs and for any header version.
#ifndef WFP_ABI_CPP_WFP_ABI_STRUCT_H_
#define WFP_ABI_CPP_WFP_ABI_STRUCT_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace wfp::abi {

// The number of bytes of a T both sides know, given the other side's struct_size.
template <typename T>
uint32_t CommonSize(uint32_t other_struct_size) {
  return std::min<uint32_t>(other_struct_size, static_cast<uint32_t>(sizeof(T)));
}

// A copy of the struct the other side wrote at `in`: the fields its struct_size covers, zero past
// them. The copy's struct_size is the number of bytes read (test fields with WFP_HAS_FIELD).
template <typename T>
T ReadStruct(const T* in) {
  static_assert(std::is_trivially_copyable_v<T>);
  T out{};
  const uint32_t n = CommonSize<T>(in->struct_size);
  std::memcpy(static_cast<void*>(&out), in, n);
  out.struct_size = n;
  return out;
}

// Writes `from` into the other side's struct at `out`, whose struct_size says how large it is:
// only the bytes both know, then struct_size = the number of bytes really written.
template <typename T>
void WriteStruct(const T& from, T* out) {
  static_assert(std::is_trivially_copyable_v<T>);
  const uint32_t n = CommonSize<T>(out->struct_size);
  std::memcpy(static_cast<void*>(out), &from, n);
  if (n >= sizeof(uint32_t)) out->struct_size = n;
}

// Element i of an array of sized structs the other side wrote: elements are first->struct_size
// bytes apart. Read the element with ReadStruct. The caller has checked that the first element's
// struct_size is at least the smallest size it accepts (never zero).
template <typename T>
const T* ArrayElement(const T* first, size_t i) {
  const auto* base = reinterpret_cast<const unsigned char*>(first);
  return reinterpret_cast<const T*>(base + i * static_cast<size_t>(first->struct_size));
}

}  // namespace wfp::abi

#endif  // WFP_ABI_CPP_WFP_ABI_STRUCT_H_
