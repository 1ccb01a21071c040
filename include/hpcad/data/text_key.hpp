#pragma once
/// Series keys (the [features] group_by / order_by columns) may hold text in CSV and Parquet
/// inputs: node names ("node-07"), ISO 8601 timestamps. The readers turn a key's text into
/// one double, the same on every rank and in both formats, that keeps what the series steps
/// use a key for:
/// - a number ("7", "1.5e3") is that number;
/// - an ISO 8601 timestamp ("2024-03-01", "2024-03-01T12:00:05.25Z", "2024-03-01 12:00:05",
///   offsets "+02:00" / "+0200" / "+02") is its time in seconds since 1970-01-01T00:00:00Z,
///   so timestamps sort as times (whole seconds are exact; fractions are rounded to double);
/// - any other text is a hash of its bytes: equal texts give equal values, two different
///   texts the same value with probability 2^-52. Such values lie in [2^60, 2^61) and have
///   no meaningful order: a text group_by is compared for equality only (its rows must be
///   contiguous, which cannot be checked), a text order_by is an error. (A numeric key in
///   that range, beyond the 2^53 where doubles hold integers exactly, counts as a hash too.)
#include <string_view>

namespace hpcad {

/// Local. The key value of `text` (see above); NaN for empty text.
double key_from_text(std::string_view text);

/// Local. Whether `key` is a hash of text (key_from_text of text that is neither a number
/// nor a timestamp): compare it for equality only.
bool is_text_hash(double key);

}  // namespace hpcad
