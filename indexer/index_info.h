// `celtrace-index info` and `verify`: a description of the live generation (counts, sizes,
// parameters) as JSON or text, and the verification report.
#pragma once

#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "celtrace/index_store.h"

namespace celtrace {

// Writes the description of INDEX's live generation: JSON (one object with at least
// `entries`, `episodes`, `titles`, `bytes`, `parameters`) or aligned text. Throws
// celtrace::IndexError if the index is unusable.
void WriteIndexInfo(const std::filesystem::path& index_dir, bool json, std::ostream& out);

// Verifies INDEX: checksums, then FAISS and catalogue consistency. Returns the problems
// found (empty: valid). Throws celtrace::IndexError if the index cannot be opened at all.
std::vector<std::string> VerifyIndex(const std::filesystem::path& index_dir);

}  // namespace celtrace
