#include "procfs/fields.hpp"

#include <charconv>

namespace procfs {

std::optional<std::uint64_t> parse_u64(std::string_view digits) {
  if (digits.empty() || digits.front() < '0' || digits.front() > '9') return std::nullopt;
  std::uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc{} || ptr != digits.data() + digits.size()) return std::nullopt;
  return v;
}

std::optional<std::uint64_t> parse_kib(std::string_view value) {
  if (value.ends_with(" kB")) value.remove_suffix(3);
  auto kib = parse_u64(value);
  if (!kib || *kib > UINT64_MAX / 1024) return std::nullopt;
  return *kib * 1024;
}

std::string_view first_word(std::string_view value) {
  return value.substr(0, value.find_first_of(" \t"));
}

std::optional<std::uint64_t> parse_first_u64(std::string_view value) {
  return parse_u64(first_word(value));
}

bool read_fields(std::string_view text, std::span<const FieldSpec> specs) {
  for (const FieldSpec& spec : specs) spec.out->reset();
  bool ok = true;
  for_each_field(text, [&](std::string_view key, std::string_view value) {
    for (const FieldSpec& spec : specs) {
      if (key != spec.key) continue;
      ok = !spec.out->has_value() && (*spec.out = spec.parse(value)).has_value();
      break;
    }
    return ok;
  });
  return ok;
}

}  // namespace procfs
