#include "procfs/quick_read.hpp"

#include <fcntl.h>
#include <array>

#include <cerrno>

#include "procfs/read.hpp"

namespace procfs {
namespace {

template <typename Fields, typename Parse>
std::optional<Fields> read_one(pid_t pid, const char* file, Parse parse) {
  procmon::UniqueFd proc = open_at(AT_FDCWD, "/proc", O_DIRECTORY);
  if (!proc) return std::nullopt;
  SmallFileBuffer buf;
  const PidPath path = pid == 0 ? PidPath("self", file) : PidPath(pid, file);
  auto text = read_at(proc.get(), path.c_str(), buf);
  if (!text) return std::nullopt;
  Fields fields;
  if (!parse(*text, fields)) {
    errno = EINVAL;
    return std::nullopt;
  }
  return fields;
}

}  // namespace

std::optional<StatFields> read_stat(pid_t pid) {
  return read_one<StatFields>(pid, "stat", parse_stat);
}

std::optional<StatusFields> read_status(pid_t pid) {
  return read_one<StatusFields>(pid, "status", parse_status);
}

}  // namespace procfs
