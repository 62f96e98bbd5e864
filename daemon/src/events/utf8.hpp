#pragma once
// UTF-8 checks for text a process chose (comm, exe, argv): it may hold any
// bytes, and JSON and terminals both need to be told what is not text.

#include <cstddef>
#include <string>
#include <string_view>

namespace procmond {

// Length of the valid UTF-8 sequence starting at s[0] (1-4), or 0 when the
// bytes there are not one (overlong forms, surrogates and > U+10FFFF too).
std::size_t utf8_sequence_length(std::string_view s);

bool is_valid_utf8(std::string_view s);

// `s` with each byte that starts no valid sequence replaced by U+FFFD.
std::string sanitize_utf8(std::string_view s);

}  // namespace procmond
