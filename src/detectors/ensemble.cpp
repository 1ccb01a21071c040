#include "hpcad/detectors/ensemble.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "hpcad/comm/selection.hpp"
#include "hpcad/core/error.hpp"

namespace hpcad {
namespace {

/// Scale of a normal distribution's MAD: 1.4826 MAD estimates its standard deviation.
constexpr double kMadToSigma = 1.4826;
/// Rows scored at once while collecting training scores (bounds the members' scratch).
constexpr Index kChunkRows = 4096;

/// Member names become HDF5 dataset names (/scores/<name>) and model groups.
bool valid_name(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

/// The member's own hyperparameters: its table without the ensemble's fields, with the
/// ensemble's seed when that is set (>= 0).
ParamSet member_params(const DetectorInfo& info, const ParamSet& table, std::int64_t seed) {
  ParamSet params(info.params);
  for (const ParamSpec& spec : info.params) params.set(spec.name, table.values().at(spec.name));
  if (seed >= 0) params.set("seed", seed);
  return params;
}

/// The rows of another source scaled by a ColumnScaling (the ensemble's standardize).
class ScaledSource final : public RowSource {
 public:
  ScaledSource(RowSource& input, const ColumnScaling& scaling) : input_(input), scaling_(scaling) {}
  const TableInfo& info() const override { return input_.info(); }
  Comm& comm() const override { return input_.comm(); }
  bool next(RowBlock& block) override {
    if (!input_.next(block)) return false;
    block.values = scaling_.apply(block.values, scaled_);
    return true;
  }
  void rewind() override { input_.rewind(); }
  void set_progress(ProgressSink* progress) override { input_.set_progress(progress); }
  std::int64_t spare_bytes() const override { return input_.spare_bytes(); }

 private:
  RowSource& input_;
  const ColumnScaling& scaling_;
  std::vector<double> scaled_;
};

/// Position of `score` in the distribution tabled by `q` (ascending quantiles at k / (K-1)):
/// linear between neighbouring quantiles, the middle of a run of equal quantiles it equals,
/// 0 below the smallest and 1 above the largest.
double empirical_cdf(std::span<const double> q, double score) {
  if (std::isnan(score)) return score;
  const auto lo = std::lower_bound(q.begin(), q.end(), score) - q.begin();
  const auto hi = std::upper_bound(q.begin(), q.end(), score) - q.begin();
  const auto last = static_cast<double>(q.size() - 1);
  if (hi > lo) return static_cast<double>(lo + hi - 1) / 2 / last;
  if (lo == 0) return 0;
  if (lo == static_cast<std::ptrdiff_t>(q.size())) return 1;
  const double below = q[lo - 1], above = q[lo];
  return (static_cast<double>(lo - 1) + (score - below) / (above - below)) / last;
}

/// Rethrows a member's configuration or data error naming the member.
template <typename Body>
void as_member(const std::string& label, Body body) {
  try {
    body();
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: {}", label, e.what()));
  } catch (const DataError& e) {
    throw DataError(fmt::format("{}: {}", label, e.what()));
  }
}

/// Scratch space for every member's scores of `rows` rows.
std::vector<std::vector<double>> member_scratch(std::size_t members, std::size_t rows) {
  return std::vector<std::vector<double>>(members, std::vector<double>(rows));
}

}  // namespace

std::vector<ParamSpec> Ensemble::param_specs(const std::vector<DetectorInfo>& member_types) {
  std::vector<std::string> types;
  std::vector<ParamSpec> variants;
  for (const DetectorInfo& info : member_types) {
    types.push_back(info.type);
    variants.push_back(ParamSpec::table_list(info.type, info.params, info.description));
  }
  return {
      ParamSpec::typed_table_list(
          "members",
          {ParamSpec::string(kTableTypeKey, "", types, "the member's detector"),
           ParamSpec::string("name", "", {},
                             "names the member's scores (/scores/<name>); \"\" = its type, "
                             "with _2, _3, ... appended when taken"),
           ParamSpec::real("weight", 1.0, 0.0, std::numeric_limits<double>::max(),
                           "the member's weight when combine = \"weighted_mean\"")},
          std::move(variants), "the member detectors, each with its own parameters"),
      ParamSpec::boolean("standardize", false,
                         "scale columns to zero mean and unit variance before the members see "
                         "them (global, stored in the model)"),
      ParamSpec::integer("seed", -1, -1, std::numeric_limits<std::int64_t>::max(),
                         "every member's seed (replacing theirs); -1 = each member's own"),
      ParamSpec::string("normalization", "robust_z", {"rank", "robust_z"},
                        "rank: empirical CDF of the member's training scores; robust_z: "
                        "(s - median) / (1.4826 MAD) of them"),
      ParamSpec::string("combine", "mean", {"mean", "max", "weighted_mean"},
                        "how normalised member scores combine"),
  };
}

Ensemble::Ensemble(ParamSet params) : params_(std::move(params)) {
  const std::vector<ParamSet>& tables = params_.tables("members");
  if (tables.empty())
    throw ConfigError(
        "detector.members: an ensemble needs at least one member ([[detector.members]] with a "
        "type)");
  const bool weighted = params_.string("combine") == "weighted_mean";
  rank_normalization_ = params_.string("normalization") == "rank";
  combine_max_ = params_.string("combine") == "max";
  // Explicit names first, so a default name never takes one given later in the list.
  std::set<std::string> taken;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const std::string& name = tables[i].string("name");
    if (name.empty()) continue;
    if (!valid_name(name))
      throw ConfigError(fmt::format(
          "detector.members[{}].name = \"{}\": must be 1 to 64 letters, digits, '_' or '-'", i,
          name));
    if (!taken.insert(name).second)
      throw ConfigError(
          fmt::format("detector.members[{}].name = \"{}\": another member has this name", i, name));
  }
  for (std::size_t i = 0; i < tables.size(); ++i) {
    const std::string& type = tables[i].string(kTableTypeKey);
    Member member;
    member.label = fmt::format("detector.members[{}] ({})", i, type);
    member.name = tables[i].string("name");
    if (member.name.empty()) {
      member.name = type;
      for (int suffix = 2; taken.count(member.name); ++suffix)
        member.name = fmt::format("{}_{}", type, suffix);
      taken.insert(member.name);
    }
    member.weight = weighted ? tables[i].real("weight") : 1.0;
    weight_total_ += member.weight;
    const DetectorInfo& info = find_detector(type);
    as_member(member.label, [&] {
      member.detector = info.make(member_params(info, tables[i], params_.integer("seed")));
    });
    members_.push_back(std::move(member));
  }
  if (!(weight_total_ > 0) || !std::isfinite(weight_total_))
    throw ConfigError(
        "detector.members: the weights must have a positive, finite sum for combine = "
        "\"weighted_mean\"");
}

bool Ensemble::scores_collectively() const {
  return std::any_of(members_.begin(), members_.end(),
                     [](const Member& m) { return m.detector->scores_collectively(); });
}

std::vector<std::string> Ensemble::part_names() const {
  std::vector<std::string> names;
  for (const Member& m : members_) names.push_back(m.name);
  return names;
}

void Ensemble::fit(FitContext& context, RowSource& input) {
  scaling_ = ColumnScaling::fit(input, params_.boolean("standardize"));
  ScaledSource source(input, scaling_);
  for (std::size_t m = 0; m < members_.size(); ++m) {
    context.log.info("ensemble: fitting member {} of {}: {}", m + 1, members_.size(),
                     members_[m].label);
    as_member(members_[m].label, [&] { members_[m].detector->fit(context, source); });
  }
  fit_normalization(context, source);
}

void Ensemble::fit_normalization(FitContext& context, RowSource& source) {
  const Index n_members = static_cast<Index>(members_.size());
  const bool collective = scores_collectively();
  // One pass over the training rows visiting f(member, raw score) for every row; the
  // quantile selection calls it several times, and the scores are recomputed rather than
  // kept (they would cost 8 bytes per row and member beyond the memory budget).
  // A collective member (exact neighbours) scores a row only among all rows, so its
  // training scores are computed once and kept (8 bytes per row and member).
  std::vector<std::vector<double>> resident;
  if (collective) {
    resident.assign(members_.size(),
                    std::vector<double>(static_cast<std::size_t>(source.local_rows())));
    score_members_collective(context.comm, source,
                             std::vector<std::span<double>>(resident.begin(), resident.end()));
  }
  auto pass_of = [&](std::function<double(Index, double)> f) -> ColumnPass {
    return [&, f](const std::function<void(Index, double)>& visit) {
      std::vector<std::vector<double>> scratch(members_.size());
      std::vector<std::span<double>> parts(members_.size());
      auto visit_scores = [&](const std::vector<std::vector<double>>& scores) {
        for (Index m = 0; m < n_members; ++m)
          for (const double s : scores[m]) visit(m, f(m, s));
      };
      if (collective) return visit_scores(resident);
      source.rewind();
      RowBlock block;
      while (source.next(block))
        for (Index begin = 0; begin < block.n_rows; begin += kChunkRows) {
          const RowBlock rows = block.slice(begin, std::min(kChunkRows, block.n_rows - begin));
          for (Index m = 0; m < n_members; ++m) {
            scratch[m].resize(static_cast<std::size_t>(rows.n_rows));
            parts[m] = scratch[m];
          }
          score_members(rows, parts);
          visit_scores(scratch);
        }
    };
  };
  const auto raw = [](Index, double s) { return s; };
  if (rank_normalization_) {
    std::vector<double> probs(kQuantilePoints);
    for (Index k = 0; k < kQuantilePoints; ++k)
      probs[k] = static_cast<double>(k) / static_cast<double>(kQuantilePoints - 1);
    quantiles_.clear();
    for (const auto& q : global_quantiles(context.comm, n_members, pass_of(raw), probs))
      quantiles_.insert(quantiles_.end(), q.begin(), q.end());
  } else {
    const std::vector<double> half = {0.5};
    median_.clear();
    for (const auto& q : global_quantiles(context.comm, n_members, pass_of(raw), half))
      median_.push_back(q[0]);
    // The MAD; when it is 0 (over half the scores equal the median) the largest absolute
    // deviation scales instead, and 1 when every score equals the median.
    const std::vector<double> half_and_max = {0.5, 1.0};
    const auto deviation = [&](Index m, double s) { return std::abs(s - median_[m]); };
    scale_.clear();
    for (const auto& q :
         global_quantiles(context.comm, n_members, pass_of(deviation), half_and_max))
      scale_.push_back(q[0] > 0 ? kMadToSigma * q[0] : q[1] > 0 ? q[1] : 1.0);
  }
  for (double v : rank_normalization_ ? quantiles_ : median_)
    if (!std::isfinite(v))
      throw DataError("ensemble: a member's training scores are not finite (or there are none)");
}

void Ensemble::score_members(const RowBlock& block,
                             std::span<const std::span<double>> parts) const {
  // One buffer per thread: scoring is const and thread-safe, and a fresh one per block
  // would cost page faults on every call when standardize is on.
  thread_local std::vector<double> scaled;
  RowBlock rows = block;
  rows.values = scaling_.apply(block.values, scaled);
  for (std::size_t m = 0; m < members_.size(); ++m) members_[m].detector->score(rows, parts[m]);
}

void Ensemble::score_members_collective(Comm& comm, RowSource& rows,
                                        std::span<const std::span<double>> parts) const {
  ScaledSource scaled(rows, scaling_);
  for (std::size_t m = 0; m < members_.size(); ++m)
    members_[m].detector->score_collective(comm, scaled, parts[m]);
}

double Ensemble::normalize(std::size_t member, double score) const {
  if (!rank_normalization_) return (score - median_[member]) / scale_[member];
  const auto table = std::span(quantiles_).subspan(member * kQuantilePoints, kQuantilePoints);
  return empirical_cdf(table, score);
}

void Ensemble::combine(std::span<const std::span<double>> parts, std::span<double> out) const {
  for (std::size_t i = 0; i < out.size(); ++i) {
    double combined = combine_max_ ? -std::numeric_limits<double>::infinity() : 0.0;
    for (std::size_t m = 0; m < members_.size(); ++m) {
      const double z = normalize(m, parts[m][i]);
      combined = combine_max_ ? std::max(combined, z) : combined + members_[m].weight * z;
    }
    out[i] = combine_max_ ? combined : combined / weight_total_;
  }
}

void Ensemble::score_parts(const RowBlock& block, std::span<double> out,
                           std::span<const std::span<double>> parts) const {
  check_internal(parts.size() == members_.size(), "ensemble score parts");
  score_members(block, parts);
  combine(parts, out);
}

void Ensemble::score_parts_collective(Comm& comm, RowSource& rows, std::span<double> out,
                                      std::span<const std::span<double>> parts) const {
  check_internal(parts.size() == members_.size(), "ensemble score parts");
  score_members_collective(comm, rows, parts);
  combine(parts, out);
}

void Ensemble::score(const RowBlock& block, std::span<double> out) const {
  auto scratch = member_scratch(members_.size(), out.size());
  score_parts(block, out, std::vector<std::span<double>>(scratch.begin(), scratch.end()));
}

void Ensemble::score_collective(Comm& comm, RowSource& rows, std::span<double> out) const {
  auto scratch = member_scratch(members_.size(), out.size());
  score_parts_collective(comm, rows, out,
                         std::vector<std::span<double>>(scratch.begin(), scratch.end()));
}

ModelState Ensemble::save_state() const {
  ModelState state;
  scaling_.save(state.children["standardize"]);  // beside robust_z's own "scale"
  ModelState& members = state.children["members"];
  for (const Member& m : members_) members.children[m.name] = m.detector->save_state();
  if (rank_normalization_) {
    state.reals["quantiles"] = quantiles_;
  } else {
    state.reals["median"] = median_;
    state.reals["scale"] = scale_;
  }
  return state;
}

void Ensemble::load_state(Index n_features, const ModelState& state) {
  scaling_ = ColumnScaling::load(state.child("standardize"), static_cast<std::size_t>(n_features),
                                 "ensemble");
  const ModelState& members = state.child("members");
  if (members.children.size() != members_.size() || !members.reals.empty() ||
      !members.integers.empty())
    throw DataError(
        fmt::format("{}: the ensemble's members group holds {} groups (and {} arrays), "
                    "expected the {} members' states",
                    members.where, members.children.size(),
                    members.reals.size() + members.integers.size(), members_.size()));
  for (Member& m : members_)
    as_member(m.label, [&] { m.detector->load_state(n_features, members.child(m.name)); });
  const std::size_t n = members_.size();
  if (rank_normalization_) {
    const auto& quantiles = state.real("quantiles", n * kQuantilePoints);
    state.require_finite({"quantiles"}, "ensemble");
    for (std::size_t m = 0; m < n; ++m) {
      const auto begin = quantiles.begin() + static_cast<std::ptrdiff_t>(m * kQuantilePoints);
      if (!std::is_sorted(begin, begin + kQuantilePoints))
        throw DataError(fmt::format("{}: the quantiles of member {} are not ascending", state.where,
                                    members_[m].name));
    }
    quantiles_ = quantiles;
  } else {
    const auto& median = state.real("median", n);
    const auto& scale = state.real("scale", n);
    state.require_finite({"median", "scale"}, "ensemble");
    for (const double s : scale)
      if (!(s > 0))
        throw DataError(fmt::format("{}: ensemble scales must be positive", state.where));
    median_ = median;
    scale_ = scale;
  }
}

}  // namespace hpcad
