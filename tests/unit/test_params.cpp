#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "hpcad/detectors/params.hpp"

namespace hpcad {
namespace {

const std::vector<ParamSpec> kStepFields = {
    ParamSpec::string("op", "log1p", {"log1p", "diff"}, ""),
    ParamSpec::integer("lag", 1, 1, 1000, ""),
    ParamSpec::string_list("columns", {}, ""),
};

TEST(Params, IntegerBoundsAreExactInInt64) {
  const auto max = std::numeric_limits<std::int64_t>::max();
  const ParamSpec spec = ParamSpec::integer("seed", 0, 0, max - 1, "");
  EXPECT_EQ(spec.check(ParamValue{max - 1}), "");
  // max - 1 and max are the same double: a double bound could not tell them apart.
  EXPECT_EQ(spec.check(ParamValue{max}), fmt::format("must be at most {}", max - 1));
  EXPECT_EQ(spec.check(ParamValue{std::int64_t{-1}}), "must be at least 0");
  EXPECT_EQ(spec.check(ParamValue{1.5}), "must be an integer");
}

TEST(Params, ListsCheckEveryElement) {
  const ParamSpec layers = ParamSpec::integer_list("layers", {8, 4}, 1, 4096, "");
  EXPECT_EQ(layers.check(ParamValue{std::vector<std::int64_t>{16, 8, 16}}), "");
  EXPECT_EQ(layers.check(ParamValue{std::vector<std::int64_t>{16, 0}}),
            "element 1: must be at least 1");
  const ParamSpec weights = ParamSpec::real_list("weights", {}, 0, 1, "");
  EXPECT_EQ(weights.check(ParamValue{std::vector<double>{0.5, 2.0}}),
            "element 1: must be in [0, 1]");
  EXPECT_EQ(weights.check(ParamValue{std::int64_t{3}}), "must be an array of numbers");
}

TEST(Params, TableListsCheckEveryTableAgainstItsFields) {
  const ParamSpec steps = ParamSpec::table_list("steps", kStepFields, "");
  ParamSet good(kStepFields);
  good.set("op", std::string("diff"));
  good.set("lag", std::int64_t{5});
  EXPECT_EQ(steps.check(ParamValue{std::vector<ParamSet>{good}}), "");
  ParamSet bad = good;
  bad.set("lag", std::int64_t{0});
  EXPECT_EQ(steps.check(ParamValue{std::vector<ParamSet>{good, bad}}),
            "element 1: lag: must be at least 1");
  ParamSet unknown = good;
  unknown.set("window", std::int64_t{3});
  EXPECT_EQ(steps.check(ParamValue{std::vector<ParamSet>{unknown}}),
            "element 0: window: unknown key");
}

// scikit-learn's gamma: a positive number or "scale", nothing else.
TEST(Params, RealOrChoiceTakesANumberInItsBoundsOrOneOfTheStrings) {
  const ParamSpec gamma = ParamSpec::real_or_choice("gamma", "scale", 0.0, 1e300, {"scale"}, "");
  EXPECT_EQ(gamma.default_value, ParamValue{std::string("scale")});
  EXPECT_EQ(gamma.check(ParamValue{std::string("scale")}), "");
  EXPECT_EQ(gamma.check(ParamValue{0.5}), "");
  EXPECT_EQ(gamma.check(ParamValue{5e-324}), "");
  EXPECT_EQ(gamma.check(ParamValue{0.0}), "must be in (0, 1e+300]");
  EXPECT_EQ(gamma.check(ParamValue{-1.0}), "must be in (0, 1e+300]");
  EXPECT_EQ(gamma.check(ParamValue{2e300}), "must be in (0, 1e+300]");
  EXPECT_EQ(gamma.check(ParamValue{NAN}), "must be finite");
  EXPECT_EQ(gamma.check(ParamValue{std::string("auto")}), "must be one of \"scale\"");
  EXPECT_EQ(gamma.check(ParamValue{true}), "must be a number or a string");
  ParamSet set({gamma});
  EXPECT_EQ(set.number("gamma"), std::nullopt);
  set.set("gamma", 0.25);
  EXPECT_EQ(set.number("gamma"), 0.25);
}

TEST(Params, RenderAsToml) {
  EXPECT_EQ(to_string(ParamValue{std::int64_t{3}}), "3");
  EXPECT_EQ(to_string(ParamValue{2.0}), "2.0");
  EXPECT_EQ(to_string(ParamValue{0.25}), "0.25");
  EXPECT_EQ(to_string(ParamValue{std::string("x")}), "\"x\"");
  EXPECT_EQ(to_string(ParamValue{true}), "true");
  EXPECT_EQ(to_string(ParamValue{std::vector<std::int64_t>{1, 2}}), "[1, 2]");
  ParamSet table(kStepFields);
  EXPECT_EQ(to_string(ParamValue{std::vector<ParamSet>{table}}),
            "[{ columns = [], lag = 1, op = \"log1p\" }]");
}

}  // namespace
}  // namespace hpcad
