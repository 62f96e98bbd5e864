#include "tree_cpu.hpp"

#include <algorithm>

namespace perfkit {
namespace {

std::uint64_t growth(std::uint64_t now, std::uint64_t before) {
  return now > before ? now - before : 0;
}

}  // namespace

// Takes up to `amount` from the credit of `parent` in `credits`; returns what it took.
std::uint64_t TreeCpu::take(Credits& credits, pid_t parent, std::uint64_t amount) {
  auto it = credits.find(parent);
  if (it == credits.end() || amount == 0) return 0;
  const std::uint64_t taken = std::min(amount, it->second);
  it->second -= taken;
  return taken;
}

std::uint64_t TreeCpu::end_walk() {
  // What each member that left had when last seen, by its parent then.
  fresh_.clear();
  for (const auto& [k, m] : previous_)
    if (!current_.contains(k)) fresh_[m.ppid] += m.own_ns + m.reaped_ns;

  for (const auto& [k, m] : current_) {
    const auto before = previous_.find(k);
    const bool seen = before != previous_.end();
    total_ns_ += growth(m.own_ns, seen ? before->second.own_ns : 0);
    std::uint64_t reaped = growth(m.reaped_ns, seen ? before->second.reaped_ns : 0);
    reaped -= take(carried_, m.pid, reaped);
    reaped -= take(fresh_, m.pid, reaped);
    total_ns_ += reaped;
  }
  // A child reaped between its parent's read and its own shows in the
  // parent's reaped CPU one walk late: its credit waits one walk, no longer.
  std::swap(carried_, fresh_);
  std::swap(previous_, current_);
  return total_ns_;
}

}  // namespace perfkit
