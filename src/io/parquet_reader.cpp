#include "hpcad/io/parquet_reader.hpp"

#include <glob.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <system_error>

#include "hpcad/core/error.hpp"
#include "hpcad/core/memory.hpp"

namespace hpcad {

namespace fs = std::filesystem;

namespace {

// Sizes `v` to `n` values, with huge pages requested before the first touch.
void resize_output(std::vector<double>& v, std::size_t n) {
  v.reserve(n);
  advise_huge_pages(v.data(), n * sizeof(double));
  v.resize(n);
}

}  // namespace

std::vector<std::string> expand_input_paths(const std::string& path, const std::string& extension) {
  std::vector<std::string> out;
  if (path.find_first_of("*?[") != std::string::npos) {
    glob_t g{};
    const int rc = ::glob(path.c_str(), GLOB_NOSORT, nullptr, &g);
    if (rc == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) {
        std::error_code ec;
        if (fs::is_regular_file(g.gl_pathv[i], ec)) out.emplace_back(g.gl_pathv[i]);
      }
    }
    ::globfree(&g);
    if (out.empty()) throw IoError(path + ": no files match this pattern");
  } else {
    std::error_code ec;
    const auto st = fs::status(path, ec);
    if (ec || !fs::exists(st)) throw IoError(path + ": no such file or directory");
    if (fs::is_directory(st)) {
      for (const auto& entry : fs::directory_iterator(path, ec)) {
        std::error_code ec2;
        if (!entry.is_regular_file(ec2)) continue;
        const std::string name = entry.path().filename().string();
        if (name.size() >= extension.size() &&
            name.compare(name.size() - extension.size(), extension.size(), extension) == 0) {
          out.push_back(entry.path().string());
        }
      }
      if (ec) throw IoError(path + ": cannot list directory: " + ec.message());
      if (out.empty()) throw IoError(path + ": directory has no '" + extension + "' files");
    } else {
      out.push_back(path);
    }
  }
  // Byte-wise order, independent of the locale, so every rank sees the same order.
  std::sort(out.begin(), out.end());
  return out;
}

ParquetDataset::ParquetDataset(std::vector<std::string> paths) {
  if (paths.empty()) throw IoError("Parquet input: no files given");
  files_.reserve(paths.size());
  for (auto& p : paths) files_.emplace_back(std::move(p));
  const parquet::ParquetFile& first = files_.front();
  for (std::size_t f = 0; f < files_.size(); ++f) {
    const parquet::ParquetFile& file = files_[f];
    if (f > 0) {
      const auto& a = first.columns();
      const auto& b = file.columns();
      std::string diff;
      if (a.size() != b.size()) {
        diff = std::to_string(b.size()) + " columns instead of " + std::to_string(a.size());
      } else {
        for (std::size_t c = 0; c < a.size() && diff.empty(); ++c) {
          const bool readable_a = first.unreadable_reason(static_cast<int>(c)).empty();
          const bool readable_b = file.unreadable_reason(static_cast<int>(c)).empty();
          if (a[c].name != b[c].name) {
            diff = "column " + std::to_string(c) + " is '" + b[c].name + "' instead of '" +
                   a[c].name + "'";
          } else if (readable_a != readable_b ||
                     (readable_a && first.leaves()[a[c].first_leaf].type !=
                                        file.leaves()[b[c].first_leaf].type)) {
            diff = "column '" + a[c].name + "' has a different type";
          }
        }
      }
      if (!diff.empty()) {
        throw DataError(file.path() + ": schema differs from " + first.path() + ": " + diff);
      }
    }
    for (int g = 0; g < file.num_row_groups(); ++g) {
      groups_.push_back({static_cast<int>(f), g, num_rows_});
      group_rows_.push_back(file.row_group_rows(g));
      num_rows_ += file.row_group_rows(g);
    }
  }
}

std::vector<std::string> ParquetDataset::column_names() const {
  std::vector<std::string> names;
  for (const auto& c : files_.front().columns()) names.push_back(c.name);
  return names;
}

std::vector<std::string> ParquetDataset::readable_column_names() const {
  std::vector<std::string> names;
  const auto& f = files_.front();
  for (std::size_t c = 0; c < f.columns().size(); ++c) {
    if (f.unreadable_reason(static_cast<int>(c)).empty()) names.push_back(f.columns()[c].name);
  }
  return names;
}

int ParquetDataset::resolve_column(const std::string& name, const char* role,
                                   bool as_key) const {
  const parquet::ParquetFile& f = files_.front();
  const int c = f.find_column(name);
  if (c < 0) {
    std::string list;
    for (const auto& col : f.columns()) list += (list.empty() ? "" : ", ") + col.name;
    throw DataError(f.path() + ": no column '" + name + "' (wanted as " + role +
                    "); available columns: " + list);
  }
  const std::string why = f.unreadable_reason(c, as_key);
  if (!why.empty()) {
    throw DataError(f.path() + ": column '" + name + "' (wanted as " + role + ") " + why);
  }
  return c;
}

ParquetDataset::Selection ParquetDataset::select(const std::vector<std::string>& features,
                                                 const std::string& label,
                                                 const std::vector<std::string>& keys) const {
  const auto is_key = [&](const std::string& name) {
    return std::find(keys.begin(), keys.end(), name) != keys.end();
  };
  Selection selection;
  if (features.empty()) {
    const parquet::ParquetFile& f = files_.front();
    for (std::size_t c = 0; c < f.columns().size(); ++c) {
      if (f.columns()[c].name == label) continue;
      if (!f.unreadable_reason(static_cast<int>(c)).empty()) continue;
      selection.features.push_back(static_cast<int>(c));
      selection.names.push_back(f.columns()[c].name);
    }
    if (selection.features.empty()) throw DataError(f.path() + ": no numeric feature columns");
    for (const auto& key : keys)
      if (std::find(selection.names.begin(), selection.names.end(), key) ==
          selection.names.end()) {
        selection.features.push_back(resolve_column(key, "a series key", true));
        selection.names.push_back(key);
      }
  } else {
    for (const auto& name : features) {
      selection.features.push_back(resolve_column(name, "a feature", is_key(name)));
      selection.names.push_back(name);
    }
  }
  selection.label = label.empty() ? -1 : resolve_column(label, "the label");
  return selection;
}

Index ParquetDataset::group_first_row(Index g) const {
  return g < static_cast<Index>(groups_.size()) ? groups_[g].first_row : num_rows_;
}

void ParquetDataset::read_group(Index g, const Selection& selection, double* values, double* labels,
                                ReadState& state) const {
  const Group& grp = groups_[g];
  const parquet::ParquetFile& file = files_[grp.file];
  if (grp.file != state.file) {
    state.handle.reset();
    state.handle = std::make_unique<parquet::FileHandle>(file.path());
    state.file = grp.file;
  }
  const std::size_t nf = selection.features.size();
  for (std::size_t j = 0; j < nf; ++j)
    file.read_column(*state.handle, grp.row_group, selection.features[j], values + j, nf,
                     state.scratch);
  if (selection.label >= 0)
    file.read_column(*state.handle, grp.row_group, selection.label, labels, 1, state.scratch);
}

RowSlab ParquetDataset::read_slab(IndexRange groups, const std::vector<std::string>& features,
                                  const std::string& label) const {
  check_internal(groups.begin >= 0 && groups.begin <= groups.end &&
                     groups.end <= static_cast<Index>(groups_.size()),
                 "ParquetDataset::read_slab: row-group range outside the dataset");
  Selection selection = select(features, label);
  RowSlab slab;
  slab.schema.n_features = static_cast<Index>(selection.features.size());
  slab.schema.feature_names = selection.names;
  slab.global_rows = num_rows_;
  slab.global_begin = group_first_row(groups.begin);
  slab.has_labels = selection.label >= 0;
  const Index rows = group_first_row(groups.end) - slab.global_begin;
  const std::size_t nf = selection.features.size();
  resize_output(slab.values, static_cast<std::size_t>(rows) * nf);
  if (slab.has_labels) resize_output(slab.labels, static_cast<std::size_t>(rows));

  ReadState state;
  for (Index g = groups.begin; g < groups.end; ++g) {
    const auto row = static_cast<std::size_t>(groups_[g].first_row - slab.global_begin);
    read_group(g, selection, slab.values.data() + row * nf,
               slab.has_labels ? slab.labels.data() + row : nullptr, state);
  }
  return slab;
}

}  // namespace hpcad
