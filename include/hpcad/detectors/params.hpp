#pragma once
/// Typed hyperparameters, declared by each detector and transform so the config layer can
/// validate their keys without knowing any of them, and model files can store them.
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hpcad {

class ParamSet;

/// The field of a typed table that selects its variant, e.g. `type = "kmeans"`.
inline constexpr const char* kTableTypeKey = "type";

/// One value: integer, real, string, boolean, a list of integers / reals / strings, or a list
/// of tables (each a ParamSet, e.g. ensemble members or feature steps).
using ParamValue =
    std::variant<std::int64_t, double, std::string, bool, std::vector<std::int64_t>,
                 std::vector<double>, std::vector<std::string>, std::vector<ParamSet>>;

enum class ParamKind {
  kInteger,
  kReal,
  kString,
  kBool,
  kIntegerList,
  kRealList,
  kStringList,
  kTableList,
  kRealOrString  ///< a number in the bounds, or one of `choices` (scikit-learn's gamma = "scale")
};

/// One hyperparameter: name, kind, default, bounds (integers exact in int64, reals as
/// doubles; lists bound each element), allowed strings, the fields of table-list elements.
struct ParamSpec {
  std::string name;
  ParamKind kind = ParamKind::kInteger;
  ParamValue default_value;
  std::int64_t int_min = std::numeric_limits<std::int64_t>::min();
  std::int64_t int_max = std::numeric_limits<std::int64_t>::max();
  double real_min = -std::numeric_limits<double>::infinity();
  double real_max = std::numeric_limits<double>::infinity();
  bool real_min_exclusive = false;   ///< reals must exceed real_min (e.g. a positive gamma)
  std::vector<std::string> choices;  ///< allowed strings; empty = any
  std::vector<ParamSpec> fields;     ///< kTableList: the keys of each table
  bool optional = false;             ///< kReal: NaN, the default, means "not given"
  /// kTableList of typed tables (ensemble members): one kTableList spec per allowed value of
  /// the tables' kTableTypeKey field, named by that value, whose `fields` are the keys a table
  /// of that type adds to `fields`. Empty for untyped tables.
  std::vector<ParamSpec> variants;
  std::string doc;

  static ParamSpec integer(std::string name, std::int64_t default_value, std::int64_t min,
                           std::int64_t max, std::string doc);
  static ParamSpec real(std::string name, double default_value, double min, double max,
                        std::string doc);
  static ParamSpec string(std::string name, std::string default_value,
                          std::vector<std::string> choices, std::string doc);
  /// A real that may be left out: NaN (its default) means "not given".
  static ParamSpec optional_real(std::string name, double min, double max, std::string doc);
  static ParamSpec boolean(std::string name, bool default_value, std::string doc);
  /// A number in (exclusive_min, max], or one of the strings `choices` (the default is one
  /// of them), e.g. gamma = 0.5 or gamma = "scale".
  static ParamSpec real_or_choice(std::string name, std::string default_value,
                                  double exclusive_min, double max,
                                  std::vector<std::string> choices, std::string doc);
  static ParamSpec integer_list(std::string name, std::vector<std::int64_t> default_value,
                                std::int64_t min, std::int64_t max, std::string doc);
  static ParamSpec real_list(std::string name, std::vector<double> default_value, double min,
                             double max, std::string doc);
  static ParamSpec string_list(std::string name, std::vector<std::string> default_value,
                               std::string doc);
  static ParamSpec table_list(std::string name, std::vector<ParamSpec> fields, std::string doc);
  /// Tables whose kTableTypeKey field picks one of `variants` (see above); `fields` should
  /// hold that key as a string with the variants' names as choices.
  static ParamSpec typed_table_list(std::string name, std::vector<ParamSpec> fields,
                                    std::vector<ParamSpec> variants, std::string doc);

  /// kTableList: the keys a table of `type` may have (`fields`, plus the variant's for
  /// typed tables); nullopt when the list is typed and `type` is none of its variants.
  std::optional<std::vector<ParamSpec>> table_fields(const std::string& type) const;

  /// Empty if `value` is acceptable, else why not (e.g. "must be at least 2"); for table
  /// lists the message names the element and key ("[2].window: must be at least 1").
  std::string check(const ParamValue& value) const;
};

/// Validated hyperparameter values, one per spec.
class ParamSet {
 public:
  ParamSet() = default;
  /// Every spec at its default.
  explicit ParamSet(const std::vector<ParamSpec>& specs);
  void set(const std::string& name, ParamValue value);
  std::int64_t integer(const std::string& name) const;
  double real(const std::string& name) const;
  /// kRealOrString: the number, or nullopt when the value is one of the strings.
  std::optional<double> number(const std::string& name) const;
  const std::string& string(const std::string& name) const;
  bool boolean(const std::string& name) const;
  const std::vector<std::int64_t>& integers(const std::string& name) const;
  const std::vector<double>& reals(const std::string& name) const;
  const std::vector<std::string>& strings(const std::string& name) const;
  const std::vector<ParamSet>& tables(const std::string& name) const;
  const std::map<std::string, ParamValue>& values() const { return values_; }
  bool operator==(const ParamSet&) const;

 private:
  const ParamValue& at(const std::string& name) const;
  std::map<std::string, ParamValue> values_;
};

/// The value as TOML text (e.g. `3`, `0.5`, `"x"`, `[1, 2]`, `[{ a = 1 }]`).
std::string to_string(const ParamValue& value);

/// What a kind accepts, for messages: "an integer", "an array of strings", ...
const char* kind_description(ParamKind kind);

/// The spec named `name` in `specs`, or nullptr.
const ParamSpec* find_spec(const std::vector<ParamSpec>& specs, const std::string& name);

}  // namespace hpcad
