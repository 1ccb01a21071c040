#pragma once
/// Exact quantiles of values spread over ranks (medians, IQRs, quantile bins, rank
/// normalisation), without gathering the values: passes of integer bin counts narrow a
/// bracket around each wanted order statistic until few enough values remain to gather.
/// Counts are integers and values are compared by their bits, so the result is bitwise
/// identical for any rank count and any split of the values.
#include <functional>
#include <span>
#include <vector>

#include "hpcad/comm/comm.hpp"
#include "hpcad/core/types.hpp"

namespace hpcad {

/// Calls `visit(column, value)` for every local value, in any order. global_quantiles
/// invokes the pass several times (typically 3–5); every invocation must visit the same
/// values (e.g. rewind a RowSource and read it again).
using ColumnPass = std::function<void(const std::function<void(Index column, double value)>& visit)>;

/// Collective. result[c][k] is numpy.nanquantile(values of column c over all ranks, probs[k])
/// with numpy's default linear interpolation; NaN values are skipped, and a column without
/// any other value gives NaN. `probs` must lie in [0, 1] (InternalError otherwise).
std::vector<std::vector<double>> global_quantiles(Comm& comm, Index n_columns,
                                                  const ColumnPass& pass,
                                                  std::span<const double> probs);

/// Collective. Quantiles of one column held in memory on every rank.
std::vector<double> global_quantiles(Comm& comm, std::span<const double> local,
                                     std::span<const double> probs);

}  // namespace hpcad
