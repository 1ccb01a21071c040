#pragma once
/// `hpcad inspect`: a human summary of a model file or a scores file.
#include <iosfwd>
#include <string>

namespace hpcad {

/// Local. Prints a summary of the model or scores file at `path`; a model file is fully
/// validated first (the same checks as `hpcad score`). Throws on other files.
void inspect_file(const std::string& path, std::ostream& out);

}  // namespace hpcad
