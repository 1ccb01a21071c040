#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

#include "../support/detector_testing.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/detectors/detector.hpp"
#include "hpcad/pipeline/config.hpp"

namespace hpcad {
namespace {

const char* kMinimal = R"([input]
path = "data/x.h5"
label = "y"

[detector]
type = "iforest"
n_trees = 50

[threshold]
contamination = 0.02

[output]
path = "out/scores.h5"
)";

Config parse(const std::string& text, std::vector<std::string> overrides = {}) {
  return parse_config(text, "/jobs/cfg/job.toml", overrides, "/home/user");
}

// Expects a ConfigError whose message contains every fragment.
void expect_error(const std::string& text, std::vector<std::string> overrides,
                  std::initializer_list<const char*> fragments) {
  try {
    parse(text, overrides);
    ADD_FAILURE() << "no error for:\n" << text;
  } catch (const ConfigError& e) {
    for (const char* f : fragments)
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos)
          << "message: " << e.what() << "\nmissing: " << f;
  }
}

TEST(Config, ParsesValuesAndResolvesPathsAgainstTheFile) {
  const Config c = parse(kMinimal);
  EXPECT_EQ(c.input.path, "/jobs/cfg/data/x.h5");
  EXPECT_EQ(c.input.label, "y");
  EXPECT_EQ(c.detector_params.integer("n_trees"), 50);
  EXPECT_EQ(c.detector_params.integer("sample_size"), 256);  // default
  EXPECT_DOUBLE_EQ(*c.contamination, 0.02);
  EXPECT_FALSE(c.score_threshold);
  EXPECT_EQ(c.output_path, "/jobs/cfg/out/scores.h5");
  EXPECT_EQ(c.model_path, "/jobs/cfg/hpcad-out/model.h5");
}

TEST(Config, OverridesAreTypedAndPathsResolveAgainstTheWorkingDirectory) {
  const Config c =
      parse(kMinimal, {"detector.n_trees=200", "input.path=other.h5", "threshold.contamination=0.1",
                       "input.columns=[\"a\", \"b\"]", "input.skip_bad_rows=true"});
  EXPECT_EQ(c.detector_params.integer("n_trees"), 200);
  EXPECT_EQ(c.input.path, "/home/user/other.h5");
  EXPECT_DOUBLE_EQ(*c.contamination, 0.1);
  EXPECT_EQ(c.input.columns, (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(c.input.skip_bad_rows);
  EXPECT_EQ(parse(kMinimal, {"output.model=\"\""}).model_path, "");
  EXPECT_EQ(parse(kMinimal, {"detector.type=\"iforest\""}).detector_type, "iforest");
}

TEST(Config, DetectorTypeOverrideWinsOverTheFileInBothDirections) {
  // The file names an unknown type; the override replaces it before validation.
  const std::string unknown_in_file = "[input]\npath = \"x.h5\"\n[detector]\ntype = \"magic\"\n";
  EXPECT_EQ(parse(unknown_in_file, {"detector.type=iforest"}).detector_type, "iforest");
  // The file names a valid type; an override naming another type is what gets validated.
  expect_error(kMinimal, {"detector.type=magic"}, {"unknown detector type \"magic\""});
}

TEST(Config, MemoryPerRank) {
  EXPECT_EQ(parse(kMinimal).memory_per_rank, "auto");
  EXPECT_EQ(parse_memory_size("auto"), std::nullopt);
  EXPECT_EQ(parse_memory_size("512MiB"), std::int64_t{512} << 20);
  EXPECT_EQ(parse_memory_size("2G"), std::int64_t{2} << 30);
  EXPECT_EQ(parse_memory_size("64KiB"), std::int64_t{64} << 10);
  EXPECT_EQ(parse_memory_size("3TiB"), std::int64_t{3} << 40);
  EXPECT_EQ(parse_memory_size("1000"), 1000);
  for (const char* bad : {"", "0MiB", "-1G", "12XB", "1.5GiB", "GiB", "9999999999T"})
    EXPECT_THROW(parse_memory_size(bad), ConfigError) << bad;
  expect_error(kMinimal, {"run.memory_per_rank=lots"},
               {"--set run.memory_per_rank", "\"lots\"", "512MiB"});
}

TEST(Config, SetRejectsLineBreaksInValues) {
  expect_error(kMinimal, {"input.label=y\nz"}, {"--set input.label", "line break"});
}

TEST(Config, ScoreThresholdInsteadOfContamination) {
  const Config c = parse("[input]\npath = \"x.h5\"\n[threshold]\nscore = 0.6\n");
  EXPECT_DOUBLE_EQ(*c.score_threshold, 0.6);
  EXPECT_FALSE(c.contamination);
  EXPECT_DOUBLE_EQ(*parse("[input]\npath = \"x.h5\"\n").contamination, 0.01);  // default
}

TEST(Config, Errors) {
  expect_error("[input\npath = 1", {}, {"job.toml:1:", "invalid TOML"});
  expect_error("[inputs]\npath = \"x\"\n", {},
               {"job.toml:1", "'inputs' is not a valid section", "did you mean 'input'"});
  expect_error("[input]\npth = \"x.h5\"\n", {},
               {"job.toml:2", "unknown key 'input.pth'", "did you mean 'path'",
                "valid keys in [input]: path, format"});
  expect_error("[input]\npath = \"x.h5\"\n[detector]\nn_trees = \"many\"\n", {},
               {"job.toml:4", "detector.n_trees must be an integer"});
  expect_error("[input]\npath = \"x.h5\"\n[detector]\nsample_size = 1\n", {},
               {"job.toml:4", "detector.sample_size = 1: must be at least 2"});
  expect_error("[input]\npath = \"x.h5\"\n[threshold]\ncontamination = 0.9\n", {},
               {"job.toml:4", "threshold.contamination = 0.9: must be in [0, 0.5]"});
  expect_error("[input]\npath = \"x.h5\"\n[threshold]\ncontamination = 0.0\n", {},
               {"must be in (0, 0.5]"});
  expect_error("[input]\npath = \"x.h5\"\n[threshold]\ncontamination = 0.1\nscore = 0.5\n", {},
               {"not both"});
  expect_error("[input]\nformat = \"hdf5\"\n", {}, {"missing required key input.path"});
  expect_error("[input]\npath = \"\"\n", {}, {"job.toml:2", "input.path is empty"});
  expect_error("[input]\npath = \"x.h5\"\n", {"input.path="}, {"--set input.path", "is empty"});
  expect_error("[input]\npath = \"x.h5\"\nformat = \"xls\"\n", {},
               {"job.toml:3", "must be one of \"auto\", \"hdf5\""});
  expect_error("[input]\npath = \"x.h5\"\n[detector]\ntype = \"magic\"\n", {},
               {"unknown detector type \"magic\"", "valid detector types: \"iforest\""});
  expect_error("title = \"x\"\n[input]\npath = \"x.h5\"\n", {}, {"'title' is not a valid section"});
  expect_error("[input]\npath = \"x.h5\"\ncsv_delimiter = \"ab\"\n", {}, {"single character"});
  expect_error("[input]\npath = \"x.h5\"\ncolumns = [1, 2]\n", {},
               {"input.columns must be an array of strings"});
}

TEST(Config, OverrideErrors) {
  expect_error(kMinimal, {"detector.n_trees"}, {"--set detector.n_trees", "expected KEY=VALUE"});
  expect_error(kMinimal, {"n_trees=3"}, {"--set n_trees", "section.key"});
  expect_error(kMinimal, {"detector.n_tree=3"},
               {"--set detector.n_tree", "did you mean 'n_trees'"});
  expect_error(kMinimal, {"detectr.n_trees=3"},
               {"unknown section 'detectr'", "did you mean 'detector'"});
  expect_error(kMinimal, {"detector.n_trees=abc"}, {"--set detector.n_trees", "is not an integer"});
  expect_error(kMinimal, {"detector.n_trees=0"}, {"--set detector.n_trees", "must be at least 1"});
  expect_error(kMinimal, {"detector.n_trees=1.5"},
               {"--set detector.n_trees", "must be an integer"});
}

// ocsvm's gamma as scikit-learn's: "scale" (the default) or a positive number, in the file or
// with --set; anything else is an error naming the key.
TEST(Config, GammaIsANumberOrScale) {
  const std::string ocsvm = "[input]\npath = \"x.h5\"\n[detector]\ntype = \"ocsvm\"\n";
  EXPECT_EQ(parse(ocsvm).detector_params.string("gamma"), "scale");
  EXPECT_EQ(parse(ocsvm + "gamma = \"scale\"\n").detector_params.number("gamma"), std::nullopt);
  EXPECT_EQ(parse(ocsvm + "gamma = 0.5\n").detector_params.number("gamma"), 0.5);
  EXPECT_EQ(parse(ocsvm + "gamma = 2\n").detector_params.number("gamma"), 2.0);
  EXPECT_EQ(parse(ocsvm, {"detector.gamma=scale"}).detector_params.string("gamma"), "scale");
  EXPECT_EQ(parse(ocsvm, {"detector.gamma=\"scale\""}).detector_params.string("gamma"), "scale");
  EXPECT_EQ(parse(ocsvm, {"detector.gamma=0.125"}).detector_params.number("gamma"), 0.125);
  expect_error(ocsvm + "gamma = 0\n", {}, {"job.toml:5", "detector.gamma = 0.0: must be in (0,"});
  expect_error(ocsvm + "gamma = -0.5\n", {}, {"detector.gamma = -0.5: must be in (0,"});
  expect_error(ocsvm + "gamma = \"auto\"\n", {},
               {"detector.gamma = \"auto\": must be one of \"scale\""});
  expect_error(ocsvm + "gamma = true\n", {}, {"detector.gamma", "a number or a string"});
  expect_error(ocsvm, {"detector.gamma=0"}, {"detector.gamma = 0.0: must be in (0,"});
  expect_error(ocsvm, {"detector.gamma=auto"}, {"detector.gamma = \"auto\""});
}

std::string ensemble_config(const std::string& members) {
  return "[input]\npath = \"x.h5\"\n[detector]\ntype = \"ensemble\"\ncombine = \"max\"\n" + members;
}

TEST(Config, EnsembleMembersTakeTheirDetectorsKeysWithDefaults) {
  const Config c =
      parse(ensemble_config("[[detector.members]]\ntype = \"kmeans\"\nn_clusters = 4\n"
                            "[[detector.members]]\ntype = \"pca\"\nname = \"p\"\nweight = 2\n"));
  EXPECT_EQ(c.detector_type, "ensemble");
  EXPECT_EQ(c.detector_params.string("combine"), "max");
  EXPECT_EQ(c.detector_params.string("normalization"), "robust_z");  // default
  const std::vector<ParamSet>& members = c.detector_params.tables("members");
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].string("type"), "kmeans");
  EXPECT_EQ(members[0].integer("n_clusters"), 4);
  EXPECT_EQ(members[0].integer("max_iter"), 300);  // the kmeans default
  EXPECT_EQ(members[0].string("name"), "");
  EXPECT_FALSE(members[0].values().count("n_components"));
  EXPECT_EQ(members[1].string("name"), "p");
  EXPECT_DOUBLE_EQ(members[1].real("weight"), 2.0);
  EXPECT_EQ(members[1].integer("n_components"), 0);
}

TEST(Config, EnsembleErrorsNameTheMember) {
  expect_error(ensemble_config(""), {},
               {"job.toml", "detector.members: an ensemble needs at least one member"});
  expect_error(ensemble_config("[[detector.members]]\ntype = \"pca\"\n[[detector.members]]\n"
                               "type = \"kmeans\"\nn_clusters = 0\n"),
               {},
               {"job.toml:10: detector.members[1] (kmeans).n_clusters = 0: must be at least 1"});
  expect_error(
      ensemble_config("[[detector.members]]\ntype = \"kmeans\"\nn_cluster = 3\n"), {},
      {"unknown key 'detector.members[0] (kmeans).n_cluster'; did you mean 'n_clusters'?"});
  expect_error(ensemble_config("[[detector.members]]\ntype = \"ensemble\"\n"), {},
               {"detector.members[0].type = \"ensemble\": must be one of \"iforest\""});
  expect_error(ensemble_config("[[detector.members]]\nseed = 1\n"), {},
               {"detector.members[0]: missing key 'type'"});
  expect_error(ensemble_config("[[detector.members]]\ntype = \"pca\"\nweight = -1\n"), {},
               {"detector.members[0] (pca).weight = -1.0: must be in [0,"});
}

std::vector<std::string> detector_types() {
  std::vector<std::string> types;
  for (const DetectorInfo& info : detector_registry()) types.push_back(info.type);
  return types;
}

// Issue 7's normative keys: every detector takes `seed` and `standardize`. A config setting
// both parses, and the detector fits, scores (finite scores) and stores its model with them.
class EveryDetector : public testing::TestWithParam<std::string> {};

TEST_P(EveryDetector, TakesSeedAndStandardize) {
  const std::string& type = GetParam();
  const DetectorInfo& info = find_detector(type);
  ASSERT_NE(find_spec(info.params, "seed"), nullptr);
  ASSERT_NE(find_spec(info.params, "standardize"), nullptr);
  EXPECT_EQ(find_spec(info.params, "seed")->kind, ParamKind::kInteger);
  EXPECT_EQ(find_spec(info.params, "standardize")->kind, ParamKind::kBool);
  // Columns of very different scales, so that standardising matters where it can.
  RowSlab slab = testing_support::gaussian_slab(150, 3, 11);
  for (Index i = 0; i < slab.n_rows(); ++i)
    slab.values[i * 3 + 2] = 1000 + 50 * slab.values[i * 3 + 2];
  for (const bool standardize : {true, false}) {
    std::string text = fmt::format(
        "[input]\npath = \"x.h5\"\n[detector]\ntype = \"{}\"\n"
        "seed = 7\nstandardize = {}\n",
        type, standardize);
    if (type == "ensemble") text += "[[detector.members]]\ntype = \"knn\"\nmode = \"exact\"\n";
    const Config c = parse(text);
    EXPECT_EQ(c.detector_params.integer("seed"), 7);
    EXPECT_EQ(c.detector_params.boolean("standardize"), standardize);
    const auto detector = make_detector(type, c.detector_params);
    SerialComm comm;
    testing_support::fit_slab(*detector, slab, comm, 40);
    const auto source = make_memory_source(comm, slab, 40);
    std::vector<double> scores(static_cast<std::size_t>(slab.n_rows()));
    detector->score_collective(comm, *source, scores);
    for (const double s : scores) ASSERT_TRUE(std::isfinite(s)) << type;
    const auto loaded = make_detector(type, c.detector_params);
    loaded->load_state(3, detector->save_state());
    EXPECT_EQ(loaded->save_state(), detector->save_state()) << type;
  }
}

INSTANTIATE_TEST_SUITE_P(Registry, EveryDetector, testing::ValuesIn(detector_types()));

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The reference config documents every key with its default value.
TEST(Config, ReferenceConfigListsEveryKeyWithItsDefault) {
  const std::string path = std::string(HPCAD_SOURCE_DIR) + "/configs/reference.toml";
  const std::string text = read_file(path);
  ASSERT_FALSE(text.empty());
  const Config c = parse_config(text, path, {}, "/");
  std::string section;
  std::map<std::string, std::string> written;
  std::istringstream lines(text);
  // Keys of detectors other than the default appear commented, after `# type = "<type>"`,
  // as `#   key = value`.
  std::string other_detector;
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("[")) section = line.substr(1, line.find(']') - 1);
    if (line.starts_with("# type = \"")) other_detector = line.substr(10, line.find('"', 10) - 10);
    const auto eq = line.find(" = ");
    if (!line.empty() && line[0] != '#' && line[0] != '[' && eq != std::string::npos)
      written[section + "." + line.substr(0, eq)] = line.substr(eq + 3);
    if (line.starts_with("#   ") && eq != std::string::npos && !other_detector.empty())
      written["detector." + other_detector + "." + line.substr(4, eq - 4)] = line.substr(eq + 3);
  }
  for (const auto& [key, default_value] : config_keys()) {
    if (key == "input.path" || key == "threshold.score") continue;  // required / alternative
    ASSERT_TRUE(written.count(key)) << key << " is not in configs/reference.toml";
    EXPECT_EQ(written[key], default_value) << key;
  }
  EXPECT_NE(text.find("# score = "), std::string::npos);
}

}  // namespace
}  // namespace hpcad
