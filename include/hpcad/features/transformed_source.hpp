#pragma once
/// The detector's view of the input: raw blocks from a source, through the model's fitted
/// transforms, checked to be finite.
#include <string>
#include <vector>

#include "hpcad/data/row_source.hpp"
#include "hpcad/features/transform.hpp"

namespace hpcad {

class TransformedSource final : public RowSource {
 public:
  /// Collective. `steps` are fitted and outlive this source; `input_name` names the input in
  /// errors. With `reject_non_finite`, a non-finite output value is a DataError naming the
  /// input, global row and column.
  TransformedSource(RowSource& input, std::vector<const Transform*> steps, std::string input_name,
                    bool reject_non_finite);

  const TableInfo& info() const override { return info_; }
  Comm& comm() const override { return input_.comm(); }
  bool next(RowBlock& block) override;
  void rewind() override;
  void set_progress(ProgressSink* progress) override { input_.set_progress(progress); }

  /// Local. Non-finite values this rank's input held in the current pass (before the steps).
  Index non_finite_inputs() const { return non_finite_inputs_; }

 private:
  void transform(const RowBlock& raw, RowBlock& block);

  RowSource& input_;
  std::vector<const Transform*> steps_;
  std::string input_name_;
  bool reject_non_finite_;
  TableInfo info_;
  std::vector<Schema> schemas_;               ///< input schema of each step, then the output
  std::vector<std::vector<double>> history_;  ///< per step: its last input rows
  std::vector<std::vector<double>> buffers_;  ///< per step: its output of the current block
  Index non_finite_inputs_ = 0;
};

}  // namespace hpcad
