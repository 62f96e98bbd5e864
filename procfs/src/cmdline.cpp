#include "procfs/cmdline.hpp"

namespace procfs {

std::vector<std::string> parse_cmdline(std::string_view text) {
  std::vector<std::string> args;
  if (text.empty()) return args;  // kernel thread or zombie
  if (text.back() == '\0') text.remove_suffix(1);
  std::size_t start = 0;
  while (true) {
    std::size_t end = text.find('\0', start);
    if (end == std::string_view::npos) {
      args.emplace_back(text.substr(start));
      break;
    }
    args.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return args;
}

}  // namespace procfs
