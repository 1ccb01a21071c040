# hpcad_parquet: hpcad's own Parquet reader (no Arrow). Parsing only, no MPI.
# Expects from the including file: target hpcad_core, ${SNAPPY_LIBRARY},
# PkgConfig::SNAPPY_ZSTD_LZ4 (libzstd, liblz4), ZLIB::ZLIB and ${HPCAD_WARNINGS}.
set(HPCAD_PARQUET_ROOT ${CMAKE_CURRENT_LIST_DIR}/..)
add_library(hpcad_parquet STATIC
  ${HPCAD_PARQUET_ROOT}/src/io/parquet_reader.cpp
  ${HPCAD_PARQUET_ROOT}/src/io/parquet/thrift_compact.cpp
  ${HPCAD_PARQUET_ROOT}/src/io/parquet/metadata.cpp
  ${HPCAD_PARQUET_ROOT}/src/io/parquet/encoding.cpp
  ${HPCAD_PARQUET_ROOT}/src/io/parquet/compression.cpp
  ${HPCAD_PARQUET_ROOT}/src/io/parquet/parquet_file.cpp
)
target_include_directories(hpcad_parquet PUBLIC ${HPCAD_PARQUET_ROOT}/include)
target_compile_options(hpcad_parquet PRIVATE ${HPCAD_WARNINGS})
target_link_libraries(hpcad_parquet
  PUBLIC hpcad_core
  PRIVATE ${SNAPPY_LIBRARY} PkgConfig::SNAPPY_ZSTD_LZ4 ZLIB::ZLIB)
