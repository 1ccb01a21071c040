#pragma once
/// Typed hyperparameters, declared by each detector so the config layer can validate
/// `[detector]` keys without knowing any detector.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hpcad {

using ParamValue = std::variant<std::int64_t, double, std::string>;

enum class ParamKind { kInteger, kReal, kString };

/// One hyperparameter: name, type, default, inclusive range (numbers) or choices (strings).
struct ParamSpec {
  std::string name;
  ParamKind kind = ParamKind::kInteger;
  ParamValue default_value;
  double min = 0;
  double max = 0;
  std::vector<std::string> choices;  ///< allowed strings; empty = any
  std::string doc;

  /// Empty if `value` is acceptable, else why not (e.g. "must be at least 2").
  std::string check(const ParamValue& value) const;
};

/// Validated hyperparameter values, one per spec of the detector.
class ParamSet {
 public:
  ParamSet() = default;
  /// Every spec at its default.
  explicit ParamSet(const std::vector<ParamSpec>& specs);
  void set(const std::string& name, ParamValue value) { values_[name] = std::move(value); }
  std::int64_t integer(const std::string& name) const;
  double real(const std::string& name) const;
  const std::string& string(const std::string& name) const;
  const std::map<std::string, ParamValue>& values() const { return values_; }
  bool operator==(const ParamSet&) const = default;

 private:
  const ParamValue& at(const std::string& name) const;
  std::map<std::string, ParamValue> values_;
};

std::string to_string(const ParamValue& value);

}  // namespace hpcad
