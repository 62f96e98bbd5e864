#pragma once
// The "Key:<spaces>value" lines of status, smaps_rollup and meminfo. A key
// counts only at the start of a line, so a comm of "VmHWM: 999" (status's
// first line is "Name:\t<comm>") is never taken for a field; a key seen twice
// makes the text malformed, since the kernel prints each once and a second
// one could only come from text a process chose.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace procfs {

// Calls fn(key, value) for each line that holds a ':'; the value has its
// leading blanks removed and no newline. Stops early when fn returns false.
template <typename Fn>
void for_each_field(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    const std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    value.remove_prefix(std::min(value.find_first_not_of(" \t"), value.size()));
    if (!fn(line.substr(0, colon), value)) return;
  }
}

// One field to read: its key, how its value parses, and where it goes.
struct FieldSpec {
  std::string_view key;
  std::optional<std::uint64_t> (*parse)(std::string_view value);
  std::optional<std::uint64_t>* out;
};

// Reads each spec's field into *out. False when a wanted key appears twice or
// its value does not parse; a key that is absent leaves *out empty.
bool read_fields(std::string_view text, std::span<const FieldSpec> specs);

// A whole unsigned decimal number, nothing before or after it.
std::optional<std::uint64_t> parse_u64(std::string_view digits);

// "1234 kB" -> 1,263,616 bytes; also a bare number of kB. Rejects anything else.
std::optional<std::uint64_t> parse_kib(std::string_view value);

// The first whitespace-separated word of a value ("1000\t1000\t..." -> "1000").
std::string_view first_word(std::string_view value);

// parse_u64 of the first word: status's "Uid:\t1000\t1000\t1000\t1000".
std::optional<std::uint64_t> parse_first_u64(std::string_view value);

}  // namespace procfs
