#include "procfs/children.hpp"

#include <limits>

#include "procfs/fields.hpp"

namespace procfs {

bool parse_children(std::string_view text, std::vector<pid_t>& out) {
  if (text.ends_with('\n')) text.remove_suffix(1);
  const std::size_t before = out.size();
  while (!text.empty()) {
    const std::size_t space = text.find(' ');
    auto pid = parse_u64(text.substr(0, space));
    if (!pid || *pid == 0 || *pid > static_cast<std::uint64_t>(std::numeric_limits<pid_t>::max())) {
      out.resize(before);
      return false;
    }
    out.push_back(static_cast<pid_t>(*pid));
    text.remove_prefix(space == std::string_view::npos ? text.size() : space + 1);
  }
  return true;
}

}  // namespace procfs
