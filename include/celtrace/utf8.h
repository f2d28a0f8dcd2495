// UTF-8 validity: names from leaked archives and catalogue text are bytes, and JSON (records,
// the index manifest) holds only valid UTF-8. Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace celtrace {

// Length of the valid UTF-8 sequence starting at text[i] (i < text.size()), or 0 if there is
// none: a stray continuation byte, a truncated sequence, an overlong form, a surrogate or a
// value past U+10FFFF.
size_t Utf8SequenceLength(std::string_view text, size_t i);

// Whether all of `text` is valid UTF-8.
bool IsValidUtf8(std::string_view text);

}  // namespace celtrace
