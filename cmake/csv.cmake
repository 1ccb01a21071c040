# hpcad_csv: the parallel CSV reader (parsing only; talks to other ranks through Comm, so it
# needs no MPI itself). Included by the top-level CMakeLists.txt after hpcad_core and
# HPCAD_WARNINGS are defined.
add_library(hpcad_csv STATIC
  ${CMAKE_CURRENT_LIST_DIR}/../src/io/csv_reader.cpp
)
target_link_libraries(hpcad_csv PUBLIC hpcad_core)
target_compile_options(hpcad_csv PRIVATE ${HPCAD_WARNINGS})
# The public header uses std::span (via comm.hpp) and <charconv> floats: C++20 for consumers.
target_compile_features(hpcad_csv PUBLIC cxx_std_20)
