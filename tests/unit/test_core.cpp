#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "hpcad/core/rng.hpp"
#include "hpcad/core/sha256.hpp"

namespace hpcad {
namespace {

// FIPS 180-4 / NIST CAVP example digests.
TEST(Sha256, NistVectors) {
  EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  const std::string text(1000, 'x');
  Sha256 hash;
  for (std::size_t i = 0; i < text.size(); i += 7) hash.update(std::string_view(text).substr(i, 7));
  EXPECT_EQ(hash.hex_digest(), sha256_hex(text));
}

TEST(RandomStream, ReproducibleAndIndependent) {
  RandomStream a(42, "test.a", 3), b(42, "test.a", 3);
  RandomStream c(42, "test.a", 4), d(42, "test.b", 3);
  for (int i = 0; i < 100; ++i) {
    const auto x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, c.next_u64());
    EXPECT_NE(x, d.next_u64());
  }
}

TEST(RandomStream, UniformMomentsAndBounds) {
  RandomStream rng(7, "test.c", 0);
  double sum = 0, sum_sq = 0, normal_sum = 0, normal_sq = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double u = rng.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
    sum_sq += u * u;
    ASSERT_LT(rng.below(10), 10u);
    const double z = rng.normal();
    normal_sum += z;
    normal_sq += z * z;
  }
  EXPECT_NEAR(sum / n, 0.5, 0.005);
  EXPECT_NEAR(sum_sq / n - 0.25, 1.0 / 12, 0.002);
  EXPECT_NEAR(normal_sum / n, 0.0, 0.01);
  EXPECT_NEAR(normal_sq / n, 1.0, 0.02);
}

TEST(SampleWithoutReplacement, DistinctSortedInRange) {
  for (Index population : {1, 2, 10, 256, 257, 100000}) {
    for (Index count : {Index{1}, population / 2, population}) {
      if (count < 1) continue;
      RandomStream rng(1, "test.a", static_cast<std::uint64_t>(population * 31 + count));
      const auto s = sample_without_replacement(population, count, rng);
      ASSERT_EQ(static_cast<Index>(s.size()), count);
      EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
      EXPECT_EQ(std::set<Index>(s.begin(), s.end()).size(), s.size());
      EXPECT_GE(s.front(), 0);
      EXPECT_LT(s.back(), population);
    }
  }
}

TEST(SampleWithoutReplacement, EveryElementEquallyLikely) {
  const Index population = 50, count = 10, trials = 20000;
  std::vector<int> hits(population, 0);
  for (Index t = 0; t < trials; ++t) {
    RandomStream rng(9, "test.a", static_cast<std::uint64_t>(t));
    for (Index i : sample_without_replacement(population, count, rng)) ++hits[i];
  }
  const double expected = static_cast<double>(trials) * count / population;  // 4000
  for (int h : hits) EXPECT_NEAR(h, expected, 5 * std::sqrt(expected));      // 5 sigma
}

}  // namespace
}  // namespace hpcad
