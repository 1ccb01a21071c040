// Micro-benchmark (not a test): ns per value of ExactSum against a plain double loop and
// Kahan summation. Usage: exact_sum_bench [values] [repeats]. Prints one line per method
// and data set: "<data> <method> <ns/value> <sum as hex float>"; scripts/bench/exact_sum
// turns them into docs/benchmarks.md.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "hpcad/core/exact_sum.hpp"

namespace {

double plain_sum(std::span<const double> values) {
  double sum = 0;
  for (const double v : values) sum += v;
  return sum;
}

double kahan_sum(std::span<const double> values) {
  double sum = 0, compensation = 0;
  for (const double v : values) {
    const double y = v - compensation;
    const double t = sum + y;
    compensation = (t - sum) - y;
    sum = t;
  }
  return sum;
}

double exact_span_sum(std::span<const double> values) {
  hpcad::ExactSum sum;
  sum.add(values);
  return sum.value();
}

double exact_one_by_one_sum(std::span<const double> values) {
  hpcad::ExactSum sum;
  for (const double v : values) sum.add(v);
  return sum.value();
}

/// Standard normal values: similar exponents, so consecutive adds hit the same digits
/// (the slow case for the superaccumulator: each add waits for the previous store).
std::vector<double> gaussian(std::size_t n, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  std::vector<double> values(n);
  for (double& v : values) v = normal(rng);
  return values;
}

/// Random signs, mantissas and exponents in [-300, 300]: cancellation and spread digits.
std::vector<double> wide_exponents(std::size_t n, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> mantissa(1.0, 2.0);
  std::uniform_int_distribution<int> exponent(-300, 300);
  std::vector<double> values(n);
  for (double& v : values)
    v = std::ldexp(rng() % 2 ? mantissa(rng) : -mantissa(rng), exponent(rng));
  return values;
}

void bench(const char* data, const char* method, std::span<const double> values, int repeats,
           const std::function<double(std::span<const double>)>& sum) {
  double best = INFINITY, result = 0;
  for (int r = 0; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    result = sum(values);
    const std::chrono::duration<double, std::nano> elapsed =
        std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count() / static_cast<double>(values.size()));
  }
  std::printf("%s %s %.3f %a\n", data, method, best, result);
}

}  // namespace

int main(int argc, char** argv) {
  const std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 10'000'000;
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  if (n == 0 || repeats <= 0) {
    std::fprintf(stderr, "usage: exact_sum_bench [values > 0] [repeats > 0]\n");
    return 2;
  }
  std::mt19937_64 rng(42);
  const std::pair<const char*, std::vector<double>> data_sets[] = {
      {"gaussian", gaussian(n, rng)}, {"wide_exponents", wide_exponents(n, rng)}};
  for (const auto& [name, values] : data_sets) {
    bench(name, "plain", values, repeats, plain_sum);
    bench(name, "kahan", values, repeats, kahan_sum);
    bench(name, "exact_span", values, repeats, exact_span_sum);
    bench(name, "exact_one_by_one", values, repeats, exact_one_by_one_sum);
  }
  return 0;
}
