// Parquet block reader: ranks get whole row groups (partition_groups), one block per group.
#include "block_readers.hpp"
#include "hpcad/data/partition.hpp"
#include "hpcad/io/parquet_reader.hpp"
#include "hpcad/io/sources.hpp"

namespace hpcad {
namespace {

class ParquetReader final : public BlockReader {
 public:
  ParquetReader(const InputSpec& spec, int ranks, int rank)
      : path_(spec.path), dataset_(expand_input_paths(spec.path, ".parquet")) {
    selection_ = dataset_.select(spec.columns, spec.label, spec.key_columns);
    const std::vector<Index> group_rows = dataset_.row_group_rows();
    groups_ = partition_groups(group_rows, ranks, rank);
    info_.schema.n_features = static_cast<Index>(selection_.features.size());
    info_.schema.feature_names = selection_.names;
    info_.global_rows = dataset_.num_rows();
    info_.local_begin = dataset_.group_first_row(groups_.begin);
    info_.local_rows = dataset_.group_first_row(groups_.end) - info_.local_begin;
    info_.has_labels = selection_.label >= 0;
  }

  const TableInfo& info() const override { return info_; }
  Index block_count() const override { return groups_.size(); }
  std::string kind() const override { return kFormatParquet; }

  void read(Index b, RowBlock& block) override {
    const Index g = groups_.begin + b;
    const Index begin = dataset_.group_first_row(g);
    const Index rows = dataset_.group_first_row(g + 1) - begin;
    const Index d = info_.schema.n_features;
    // Buffers only grow, so their pages are touched once, not once per row group.
    if (values_.size() < static_cast<std::size_t>(rows * d))
      values_.resize(static_cast<std::size_t>(rows * d));
    if (info_.has_labels && labels_.size() < static_cast<std::size_t>(rows))
      labels_.resize(static_cast<std::size_t>(rows));
    dataset_.read_group(g, selection_, values_.data(), labels_.data(), state_);
    block.global_begin = begin;
    block.n_rows = rows;
    block.n_features = d;
    block.values = std::span<const double>(values_).first(static_cast<std::size_t>(rows * d));
    block.labels = info_.has_labels
                       ? std::span<const double>(labels_).first(static_cast<std::size_t>(rows))
                       : std::span<const double>();
    check_labels(block.labels, begin, path_);
  }

 private:
  std::string path_;
  ParquetDataset dataset_;
  ParquetDataset::Selection selection_;
  IndexRange groups_;
  TableInfo info_;
  ParquetDataset::ReadState state_;
  std::vector<double> values_, labels_;
};

}  // namespace

std::unique_ptr<BlockReader> open_parquet_reader(const InputSpec& spec, int ranks, int rank) {
  return std::make_unique<ParquetReader>(spec, ranks, rank);
}

}  // namespace hpcad
