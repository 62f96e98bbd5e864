#pragma once
// /proc/PID/status: the fields anyone here reads, each matched at a line
// start (fields.hpp). A field the kernel did not print stays empty: a zombie
// or a kernel thread has no Vm* lines. The caller decides what a missing
// field means; nothing here turns it into a 0.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace procfs {

struct StatusFields {
  std::optional<uid_t> uid;                           // Uid: the real uid (first of four)
  std::optional<std::uint32_t> threads;               // Threads:
  std::optional<std::uint64_t> vm_rss_bytes;          // VmRSS:
  std::optional<std::uint64_t> vm_hwm_bytes;          // VmHWM: the kernel's own peak RSS
  std::optional<std::uint64_t> voluntary_switches;    // voluntary_ctxt_switches:
  std::optional<std::uint64_t> involuntary_switches;  // nonvoluntary_ctxt_switches:
};

// False when the text is malformed: a field we read appears twice or its
// value does not parse. Absent fields are not an error here.
bool parse_status(std::string_view text, StatusFields& out);

}  // namespace procfs
