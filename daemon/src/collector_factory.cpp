// make_collector(): which collector, and why not BPF when it is not.

#include <stdexcept>
#include <system_error>

#include "collector.hpp"
#include "linux_collector.hpp"
#if PROCMOND_HAVE_BPF
#include "bpf/bpf_collector.hpp"
#endif

namespace procmond {

namespace {

// The BPF collector, or the reason it cannot be had (thrown).
std::unique_ptr<Collector> make_bpf_collector(const CollectorOptions& options) {
  if (options.proc_root != "/proc")
    throw std::runtime_error("the BPF collector reads the kernel's own tasks, not the tree at " +
                             options.proc_root);
#if PROCMOND_HAVE_BPF
  return std::make_unique<bpf::BpfCollector>(options);
#else
  throw std::runtime_error(
      "this procmond was built without it (libbpf-dev, bpftool or clang was missing at build "
      "time, or PROCMOND_WITH_BPF was off)");
#endif
}

}  // namespace

std::unique_ptr<Collector> make_collector(const CollectorOptions& options,
                                          std::string* why_not_bpf) {
  if (why_not_bpf) why_not_bpf->clear();
  if (options.kind == CollectorKind::kProc) return std::make_unique<LinuxCollector>(options);
  // A proc root that cannot be opened (std::system_error) and a bad
  // deliberate knob (std::invalid_argument) are not reasons to fall back.
  try {
    return make_bpf_collector(options);
  } catch (const std::system_error&) {
    throw;
  } catch (const std::runtime_error& e) {
    if (options.kind == CollectorKind::kBpf)
      throw std::runtime_error(std::string("the BPF collector cannot be used: ") + e.what());
    if (why_not_bpf) *why_not_bpf = e.what();
    return std::make_unique<LinuxCollector>(options);
  }
}

const char* to_string(CollectorKind kind) {
  switch (kind) {
    case CollectorKind::kAuto:
      return "auto";
    case CollectorKind::kBpf:
      return "bpf";
    case CollectorKind::kProc:
      return "proc";
  }
  return "?";
}

std::optional<CollectorKind> parse_collector_kind(std::string_view text) {
  for (auto kind : {CollectorKind::kAuto, CollectorKind::kBpf, CollectorKind::kProc})
    if (text == to_string(kind)) return kind;
  return std::nullopt;
}

}  // namespace procmond
