#include "runtime/request_id.h"

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <random>

namespace wfp::host {

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("-_.:/+=@").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

std::string NewRequestId() {
  static const uint64_t prefix = [] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 16 ^ device()) & 0xffffffffffULL;  // 40 bits
  }();
  static std::atomic<uint64_t> counter{0};
  return fmt::format("{:010x}{:010x}", prefix, ++counter & 0xffffffffffULL);
}

std::string RequestIdFor(const std::vector<std::pair<std::string, std::string>>& headers) {
  for (const auto& [name, value] : headers)
    if (name == "x-request-id") return IsValidRequestId(value) ? value : NewRequestId();
  return NewRequestId();
}

}  // namespace wfp::host
