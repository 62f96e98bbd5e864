#include "deliberate_leak.hpp"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace procmond {

std::size_t deliberate_leak_bytes(const char* value) {
  if (value == nullptr) return 0;
  const std::string_view text(value);
  if (text.empty()) return 0;
  std::string_view digits = text;
  std::size_t unit = 1;
  switch (text.back()) {
    case 'K':
      unit = std::size_t{1} << 10;
      break;
    case 'M':
      unit = std::size_t{1} << 20;
      break;
    case 'G':
      unit = std::size_t{1} << 30;
      break;
    default:
      break;
  }
  if (unit != 1) digits.remove_suffix(1);
  const auto n = knob_number(kDeliberateLeakVar, text, digits, kMaxDeliberateLeakBytes / unit,
                             "not a whole number of bytes, optionally with K, M or G (units of "
                             "1024)",
                             "more than 1G a cycle");
  return static_cast<std::size_t>(n) * unit;
}

void leak(std::size_t bytes) {
  if (bytes == 0) return;
  auto* p = static_cast<unsigned char*>(std::malloc(bytes));
  if (p == nullptr) return;     // out of memory: nothing leaked this time
  std::memset(p, 0xa5, bytes);  // not zero: every page written and resident
  // The pointer escapes, to the compiler only: it may drop neither the
  // allocation nor the writes, and the program keeps no pointer to them.
  asm volatile("" : : "r"(p) : "memory");
}

}  // namespace procmond
