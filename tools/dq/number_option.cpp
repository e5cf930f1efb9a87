#include "number_option.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace dq::tool {
namespace {

// %g without a needless exponent for the ranges used here (1024, 1048576, 4294967296).
std::string show(double v) {
  char buf[64];
  if (std::fabs(v) < 1e15 && v == std::floor(v))
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string expected(const NumberRange &r) {
  return std::string("expected ") + (r.whole ? "a whole number" : "a number") + " from " +
         show(r.min) + " to " + show(r.max);
}

// Digits with at most one '.', an optional exponent, an optional leading sign: the only
// spellings accepted (from_chars alone would also take "nan", "inf" and "infinity").
bool is_decimal(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t digits = 0;
  bool dot = false;
  for (; i < s.size(); ++i) {
    if (s[i] >= '0' && s[i] <= '9') {
      ++digits;
    } else if (s[i] == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == start) return false;
  }
  return i == s.size();
}

CLI::Option *add_validated(CLI::App &app, const std::string &name, NumberRange range,
                           const std::string &description,
                           std::function<void(double)> store) {
  auto parse = [name, range, store](const std::string &text) {
    std::string error;
    const std::optional<double> v = parse_number(text, range, &error);
    if (!v) throw CLI::ValidationError(name + " " + text, error);
    store(*v);
  };
  return app.add_option_function<std::string>(
      name, parse, description + " [" + show(range.min) + ".." + show(range.max) + "]");
}

}  // namespace

std::optional<double> parse_number(std::string_view text, const NumberRange &range,
                                   std::string *error) {
  double v = 0;
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);  // from_chars: no '+'
  const bool decimal = is_decimal(text);
  const auto [end, ec] =
      decimal ? std::from_chars(digits.data(), digits.data() + digits.size(), v)
              : std::from_chars_result{digits.data(), std::errc::invalid_argument};
  const bool ok = decimal && ec == std::errc() && end == digits.data() + digits.size() &&
                  std::isfinite(v) && v >= range.min && v <= range.max &&
                  (!range.whole || v == std::floor(v));
  if (!ok) {
    if (error) *error = expected(range);
    return std::nullopt;
  }
  return v == 0 ? 0.0 : v;  // "-0" is 0
}

CLI::Option *add_number_option(CLI::App &app, const std::string &name, double &target,
                               NumberRange range, const std::string &description) {
  return add_validated(app, name, range, description, [&target](double v) { target = v; });
}

CLI::Option *add_count_option(CLI::App &app, const std::string &name, int &target, int min,
                              int max, const std::string &description) {
  return add_validated(app, name, {double(min), double(max), true}, description,
                       [&target](double v) { target = static_cast<int>(v); });
}

CLI::Option *add_count_option(CLI::App &app, const std::string &name, int64_t &target,
                              int64_t min, int64_t max, const std::string &description) {
  // Whole doubles are exact up to 2^53: the ranges here stay far below it.
  return add_validated(app, name, {double(min), double(max), true}, description,
                       [&target](double v) { target = static_cast<int64_t>(v); });
}

double number_from_env(const char *variable, NumberRange range, double fallback) {
  const char *text = std::getenv(variable);
  if (!text || !*text) return fallback;
  std::string error;
  const std::optional<double> v = parse_number(text, range, &error);
  if (v) return *v;
  std::fprintf(stderr, "dq: %s=%s ignored: %s\n", variable, text, error.c_str());
  return fallback;
}

}  // namespace dq::tool
