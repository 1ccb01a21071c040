#include "hpcad/pipeline/resources.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>

#include "hpcad/core/error.hpp"
#include "hpcad/pipeline/config.hpp"

namespace hpcad {
namespace {

constexpr std::int64_t kMiB = std::int64_t{1} << 20;
constexpr double kAvailableShare = 0.8;  // leave room for the OS and page cache
constexpr auto kProgressInterval = std::chrono::seconds(5);

/// Collective. Ranks sharing this rank's host.
int ranks_on_this_node(Comm& comm) {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  const std::uint64_t mine = std::hash<std::string>{}(name);
  int count = 0;
  for (const std::uint64_t host : comm.allgather(mine)) count += host == mine;
  return count;
}

std::int64_t env_integer(const char* name) {
  const char* text = std::getenv(name);
  if (!text || !*text) return 0;
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  return end && *end == '\0' && value > 0 ? value : 0;
}

/// A /proc field in kB ("MemAvailable:", "VmHWM:"), in bytes; 0 when absent.
std::int64_t proc_field_bytes(const char* file, const std::string& field) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(field)) return std::atoll(line.c_str() + field.size()) * 1024;
  return 0;
}

}  // namespace

MemoryBudget resolve_memory_budget(Comm& comm, const std::string& memory_per_rank) {
  const int local_ranks = ranks_on_this_node(comm);
  if (const auto bytes = parse_memory_size(memory_per_rank)) return {*bytes, "run.memory_per_rank"};
  if (const std::int64_t per_cpu = env_integer("SLURM_MEM_PER_CPU"))
    return {per_cpu * kMiB * std::max<std::int64_t>(1, env_integer("SLURM_CPUS_PER_TASK")),
            "SLURM_MEM_PER_CPU"};
  if (const std::int64_t per_node = env_integer("SLURM_MEM_PER_NODE"))
    return {per_node * kMiB / local_ranks, "SLURM_MEM_PER_NODE"};
  const std::int64_t available = proc_field_bytes("/proc/meminfo", "MemAvailable:");
  if (available == 0)
    throw ConfigError(
        "run.memory_per_rank = \"auto\": cannot read MemAvailable from /proc/meminfo; set a "
        "size such as \"4GiB\"");
  // Every rank reads /proc/meminfo at its own moment; agree on the smallest share.
  const auto share =
      static_cast<std::int64_t>(kAvailableShare * static_cast<double>(available)) / local_ranks;
  return {comm.allreduce_value(share, ReduceOp::kMin), "MemAvailable"};
}

std::int64_t peak_rss_bytes() { return proc_field_bytes("/proc/self/status", "VmHWM:"); }

PassProgress::PassProgress(const Log& log, std::string phase) : log_(log) {
  start(std::move(phase));
}

void PassProgress::start(std::string phase) {
  phase_ = std::move(phase);
  start_ = last_ = std::chrono::steady_clock::now();
  last_done_ = 0;
}

void PassProgress::update(Index rows_done, Index rows_total) {
  const auto now = std::chrono::steady_clock::now();
  if (rows_done < last_done_) start_ = last_ = now;  // a new pass began
  last_done_ = rows_done;
  if (now - last_ < kProgressInterval || rows_total == 0) return;
  last_ = now;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double rate = static_cast<double>(rows_done) / seconds;
  log_.info("{}: {} of {} rows ({:.1f}%), {:.2f} M rows/s, ETA {:.0f}s", phase_, rows_done,
            rows_total, 100.0 * static_cast<double>(rows_done) / static_cast<double>(rows_total),
            rate * 1e-6, static_cast<double>(rows_total - rows_done) / rate);
}

}  // namespace hpcad
