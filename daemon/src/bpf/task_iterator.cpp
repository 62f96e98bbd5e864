#include "task_iterator.hpp"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "procmon/unique_fd.hpp"
#include "task_iter.skel.h"

namespace procmond::bpf {

namespace {

// The init pid namespace's inode number (PROC_PID_INIT_INO): the records
// carry the kernel's global pids, which are ours only there.
constexpr ino_t kInitPidNamespaceInode = 0xEFFFFFFCu;

// The kernel fills at most its seq_file buffer (8 pages) per read: a larger
// buffer would only hold more of RSS.
constexpr std::size_t kBuffer = 64 * 1024;

// libbpf's own messages: the first warning (usually the one that says why a
// load failed) is kept rather than printed, since a fallback to /proc is not
// an error.
thread_local std::string* libbpf_first = nullptr;

int keep_libbpf_message(libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG || libbpf_first == nullptr || !libbpf_first->empty()) return 0;
  char line[512];
  if (std::vsnprintf(line, sizeof(line), format, args) > 0) {
    *libbpf_first = line;
    while (!libbpf_first->empty() && libbpf_first->back() == '\n') libbpf_first->pop_back();
  }
  return 0;
}

[[noreturn]] void unavailable(const std::string& why) {
  throw std::runtime_error(why);
}

void check_environment() {
  struct stat st {};
  if (::stat("/sys/kernel/btf/vmlinux", &st) != 0)
    unavailable("the kernel has no BTF (/sys/kernel/btf/vmlinux: " +
                std::string(std::strerror(errno)) + ")");
  if (::stat("/proc/self/ns/pid", &st) == 0 && st.st_ino != kInitPidNamespaceInode)
    unavailable(
        "procmond runs in a pid namespace of its own, where the kernel's task pids are not "
        "the ones /proc shows");
}

std::string load_failure(int error, const std::string& libbpf_said) {
  std::string why =
      "the BPF task iterator could not be loaded: " + std::string(std::strerror(error));
  // Not permitted says all; otherwise libbpf's first warning says what failed.
  if (error == EPERM || error == EACCES)
    return why + " (it needs root, or CAP_BPF with CAP_PERFMON)";
  return libbpf_said.empty() ? why : why + " (" + libbpf_said + ")";
}

}  // namespace

void TaskIterator::SkeletonDeleter::operator()(task_iter* skeleton) const {
  task_iter__destroy(skeleton);
}

void TaskIterator::LinkDeleter::operator()(bpf_link* link) const {
  bpf_link__destroy(link);
}

TaskIterator::TaskIterator() {
  check_environment();
  std::string said;
  libbpf_first = &said;
  auto previous = libbpf_set_print(keep_libbpf_message);
  struct Restore {
    libbpf_print_fn_t fn;
    ~Restore() {
      libbpf_set_print(fn);
      libbpf_first = nullptr;
    }
  } restore{previous};

  skeleton_.reset(task_iter__open_and_load());
  if (!skeleton_) unavailable(load_failure(errno, said));
  link_.reset(bpf_program__attach_iter(skeleton_->progs.dump_task, nullptr));
  if (!link_) unavailable(load_failure(errno, said));
}

TaskIterator::~TaskIterator() = default;

bool TaskIterator::walk(const Take& take) {
  procmon::UniqueFd fd(bpf_iter_create(bpf_link__fd(link_.get())));
  if (!fd) throw std::system_error(errno, std::generic_category(), "bpf_iter_create");
  buf_.resize(kBuffer);
  std::size_t kept = 0;  // bytes of a record the last read cut
  for (;;) {
    ssize_t n = ::read(fd.get(), buf_.data() + kept, buf_.size() - kept);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "read the BPF task iterator");
    }
    if (n == 0) return kept == 0;  // a cut record at the end is a malformed walk
    const std::size_t have = kept + static_cast<std::size_t>(n);
    auto used = take({buf_.data(), have});
    if (!used) return false;
    kept = have - *used;
    std::memmove(buf_.data(), buf_.data() + *used, kept);
  }
}

}  // namespace procmond::bpf
