#include "runtime/clock.h"

#include <chrono>

namespace wfp::host {

int64_t RealNowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace wfp::host
