#pragma once
// Names of the CLI's enums (profile, kind, spawner), one table each, read
// both ways.

#include <array>
#include <stdexcept>
#include <string>
#include <utility>

namespace loadgen {

template <typename E, std::size_t N>
using NameTable = std::array<std::pair<E, const char*>, N>;

template <typename E, std::size_t N>
const char* name_of(const NameTable<E, N>& table, E value) {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  return "?";
}

// Throws std::invalid_argument naming `what` and the bad name.
template <typename E, std::size_t N>
E parse_name(const NameTable<E, N>& table, const std::string& name, const char* what) {
  for (const auto& [v, n] : table)
    if (name == n) return v;
  throw std::invalid_argument(std::string("unknown ") + what + " '" + name + "'");
}

}  // namespace loadgen
