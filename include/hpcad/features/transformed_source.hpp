#pragma once
/// The detector's view of the input: raw blocks from a source, through the model's fitted
/// transforms, checked to be finite.
///
/// Windowed steps need the rows before a block. Within a rank each step keeps its last
/// history_rows() input rows from block to block. Before the first block of a pass, every
/// rank receives the last H = sum of the steps' history_rows() *raw* rows before its first
/// row from the ranks before it (point-to-point, from as many ranks back as those rows span,
/// through ranks with no rows) and replays the steps over them to rebuild each step's
/// history. Raw rows rather than per-step histories, because step s's history is step
/// s - 1's output, which a previous rank only knows after its whole pass; its raw last rows
/// it can read at once (RowSource::local_tail). Replaying H rows is exact because a step's
/// value depends on its history_rows() previous input rows only (series.hpp), so the last
/// history_rows(s) outputs of step s - 1 over H raw rows are already exact. Cost: O(H) rows
/// per rank and pass, independent of the row count.
///
/// Detectors make several passes (fit, then score). Given a cache budget that holds this
/// rank's feature rows, the first complete pass keeps them, and once every rank has them
/// later passes are served from memory without recomputing the steps (as Spark's persist()).
#include <string>
#include <vector>

#include "hpcad/core/error.hpp"
#include "hpcad/data/row_source.hpp"
#include "hpcad/features/transform.hpp"

namespace hpcad {

class TransformedSource final : public RowSource {
 public:
  /// Collective. `steps` are fitted and outlive this source; `input_name` names the input in
  /// errors. With `reject_non_finite`, a non-finite output value is a DataError naming the
  /// input, global row and column. `cache_budget_bytes`: the feature rows are kept after the
  /// first complete pass if they fit on every rank; 0 = never.
  TransformedSource(RowSource& input, std::vector<const Transform*> steps, std::string input_name,
                    bool reject_non_finite, std::int64_t cache_budget_bytes = 0);

  const TableInfo& info() const override { return info_; }
  Comm& comm() const override { return input_.comm(); }
  bool next(RowBlock& block) override;
  void rewind() override;
  void set_progress(ProgressSink* progress) override;
  /// Local. The input's spare memory less what this source's feature cache holds.
  std::int64_t spare_bytes() const override { return input_.spare_bytes() - cache_.bytes(); }

  /// Local. Non-finite values this rank's input held in the current pass (before the steps).
  Index non_finite_inputs() const { return non_finite_inputs_; }
  /// Local. True once passes are served from the cache.
  bool cached() const { return cache_complete_; }
  /// Raw rows before a rank's first row that the steps reach (the halo).
  Index halo_rows() const { return halo_rows_; }
  /// Local. Wall time of this source's halo exchanges so far, and their count.
  double halo_seconds() const { return halo_seconds_; }
  Index halo_passes() const { return halo_passes_; }

 private:
  /// Collective. The next block from the cache.
  bool next_cached(RowBlock& block);
  /// Collective, at the end of the first complete pass: the cache is used only if every
  /// rank holds its rows.
  void finish_caching();
  void transform(const RowBlock& raw, RowBlock& block);
  /// Throws the non_finite_error for the first non-finite value of `block`, the output of
  /// the steps for `raw` (unless the check is off or already done).
  void check_finite(const RowBlock& raw, const RowBlock& block) const;
  /// Runs the steps over `raw`, keeping each step's history; the output in `block`.
  void run_steps(const RowBlock& raw, RowBlock& block);
  /// Collective. Rebuilds every step's history from the raw rows of the ranks before.
  void exchange_halo();
  /// The DataError for a non-finite output value at block row `i`, column `j`, naming the
  /// step that produced it.
  DataError non_finite_error(const RowBlock& raw, Index i, Index j, double value) const;

  RowSource& input_;
  std::vector<const Transform*> steps_;
  std::string input_name_;
  bool reject_non_finite_;
  TableInfo info_;
  std::vector<Schema> schemas_;               ///< input schema of each step, then the output
  std::vector<std::vector<double>> history_;  ///< per step: its last input rows
  std::vector<std::vector<double>> buffers_;  ///< per step: its output of the current slice
  std::vector<double> output_;                ///< the last step's output of the current block
  Index halo_rows_ = 0;       ///< raw rows before a rank's first row that the steps reach
  Index slice_rows_ = 0;      ///< rows the steps run on at a time (see transform())
  bool halo_pending_ = true;  ///< the current pass has not exchanged its halo yet
  Index non_finite_inputs_ = 0;
  double halo_seconds_ = 0;
  Index halo_passes_ = 0;
  bool caching_ = false;         ///< this pass's blocks go to the cache
  bool cache_complete_ = false;  ///< passes come from the cache
  bool cache_decided_ = false;   ///< a complete pass has ended (and was checked if rejecting)
  RowCache cache_;
  Index next_cached_block_ = 0;
  Index cached_rows_done_ = 0;  ///< this pass, over all ranks (progress)
  ProgressSink* progress_ = nullptr;
};

}  // namespace hpcad
