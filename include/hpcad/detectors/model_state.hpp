#pragma once
/// Learned state of a detector or transform: named arrays plus named children (ensemble
/// members, pipeline steps, a drift profile), so model files need no model-specific code.
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hpcad {

class ModelState {
 public:
  std::map<std::string, std::vector<double>> reals;
  std::map<std::string, std::vector<std::int64_t>> integers;
  std::map<std::string, ModelState> children;
  /// Where this state came from ("model.h5:/state"), for messages; not compared.
  std::string where;

  /// The real array `name`; DataError naming it and `where` when it is missing or, if
  /// `size` is given, has another length.
  const std::vector<double>& real(const std::string& name,
                                  std::optional<std::size_t> size = std::nullopt) const;
  /// The integer array `name`; DataError as real().
  const std::vector<std::int64_t>& integer(const std::string& name,
                                           std::optional<std::size_t> size = std::nullopt) const;
  /// A one-element real / integer array as a value.
  double real_value(const std::string& name) const { return real(name, 1)[0]; }
  std::int64_t integer_value(const std::string& name) const { return integer(name, 1)[0]; }
  /// DataError "<where>: <model> state is not finite" unless every value of the named real
  /// arrays is finite (after their sizes were checked with real()).
  void require_finite(std::initializer_list<const char*> names, const char* model) const;
  /// The child `name`; DataError naming it when missing.
  const ModelState& child(const std::string& name) const;

  bool operator==(const ModelState& other) const {
    return reals == other.reals && integers == other.integers && children == other.children;
  }
};

}  // namespace hpcad
