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
  ++walk_;
  // What each member that left had when last seen, by its parent then.
  fresh_.clear();
  for (const auto& [k, m] : previous_) {
    if (current_.contains(k)) continue;
    fresh_[m.ppid] += m.own_ns + m.reaped_ns;
    departed_.insert_or_assign(k, Departed{m, walk_});
  }

  for (const auto& [k, m] : current_) {
    MemberCpu last{};  // a new member grows from nothing
    if (const auto before = previous_.find(k); before != previous_.end()) {
      last = before->second;
    } else if (const auto gone = departed_.find(k); gone != departed_.end()) {
      // It missed a walk, it did not leave: back from what it had, and the
      // credit its parent got for it taken back.
      last = gone->second.last;
      std::uint64_t credit = last.own_ns + last.reaped_ns;
      credit -= take(carried_, last.ppid, credit);
      take(fresh_, last.ppid, credit);
      departed_.erase(gone);
    }
    total_ns_ += growth(m.own_ns, last.own_ns);
    std::uint64_t reaped = growth(m.reaped_ns, last.reaped_ns);
    reaped -= take(carried_, m.pid, reaped);
    reaped -= take(fresh_, m.pid, reaped);
    total_ns_ += reaped;
  }
  std::erase_if(departed_,
                [&](const auto& kv) { return walk_ - kv.second.walk >= kRememberWalks; });
  // A child reaped between its parent's read and its own shows in the
  // parent's reaped CPU one walk late: its credit waits one walk, no longer.
  std::swap(carried_, fresh_);
  std::swap(previous_, current_);
  return total_ns_;
}

}  // namespace perfkit
