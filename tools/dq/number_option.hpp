// One validated parser for every size and count a dq option or variable takes: a finite
// decimal number ("256", "0.5", "1e3"; never nan, inf, hex or trailing text) inside the
// option's documented range, and a whole number where the option counts things. Replaces
// the conversions that turned "nan" into a 9.2 EB budget or "-1" into "not given".
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dq::tool {

struct NumberRange {
  double min, max;
  bool whole;  // an integer count
};

// The value, or nullopt with *error saying what was expected ("expected a whole number from 1
// to 1024").
std::optional<double> parse_number(std::string_view text, const NumberRange &range,
                                   std::string *error);

// Options whose value goes through parse_number; a bad value is a usage error (exit 2) that
// names the option, the value and the range. The range is appended to `description`.
CLI::Option *add_number_option(CLI::App &app, const std::string &name, double &target,
                               NumberRange range, const std::string &description);
CLI::Option *add_count_option(CLI::App &app, const std::string &name, int &target, int min,
                              int max, const std::string &description);
CLI::Option *add_count_option(CLI::App &app, const std::string &name, int64_t &target,
                              int64_t min, int64_t max, const std::string &description);

// An environment variable holding a number in `range`: its value, `fallback` when unset or
// empty, and also `fallback` (with one warning line on stderr) when it is not valid.
double number_from_env(const char *variable, NumberRange range, double fallback);

}  // namespace dq::tool
