// Command-line checks shared by the programs (CLI11 validators).
#pragma once

#include <CLI/CLI.hpp>
#include <cmath>
#include <string>

namespace celtrace {

// A number from lo to hi, both included (either may be infinite): CLI::Range, which lets NaN
// through (NaN compares false with both bounds, so a bar of NaN would accept or refuse
// everything, whichever way its comparison is written), with NaN refused too.
inline CLI::Validator Within(double lo, double hi) {
  const CLI::Validator range = CLI::Range(lo, hi);
  return CLI::Validator(
      [range](std::string& text) {
        double value = 0;
        if (CLI::detail::lexical_cast(text, value) && std::isnan(value)) {
          return "Value " + text + " is not a number";
        }
        return range(text);
      },
      range.get_description());
}

}  // namespace celtrace
