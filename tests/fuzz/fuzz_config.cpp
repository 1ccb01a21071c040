// libFuzzer harness: the TOML config parser and its validation (parse_config), as `hpcad run
// --config` uses it. The input is the config text; bytes after a NUL are `--set` overrides,
// one per NUL-separated piece. Any exception other than hpcad's documented ConfigError /
// DataError / IoError (e.g. bad_alloc, out_of_range) escapes and is reported as a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hpcad/core/error.hpp"
#include "hpcad/pipeline/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> pieces;
  std::size_t start = 0;
  for (std::size_t nul; (nul = input.find('\0', start)) != std::string::npos; start = nul + 1)
    pieces.push_back(input.substr(start, nul - start));
  pieces.push_back(input.substr(start));
  const std::string text = pieces.front();
  const std::vector<std::string> overrides(pieces.begin() + 1, pieces.end());
  try {
    const hpcad::Config config = hpcad::parse_config(text, "fuzz/config.toml", overrides, "/fuzz");
    if (config.input.path.empty()) __builtin_trap();  // parse_config promises a required path
  } catch (const hpcad::ConfigError&) {
  } catch (const hpcad::DataError&) {
  } catch (const hpcad::IoError&) {
  }
  return 0;
}
