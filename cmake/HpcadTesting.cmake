# Test helpers. MPI tests run under mpiexec with each rank count, oversubscribed, with a
# timeout so a deadlock fails instead of hanging CI. The OMPI_ALLOW_RUN_AS_ROOT variables
# let root run them (CI is root); they are ignored for other users.
find_package(GTest REQUIRED)
set(HPCAD_PYTHON /usr/bin/python3 CACHE FILEPATH "Python with Debian's python3-sklearn/h5py/pandas")
set(HPCAD_MPI_ENV OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    OMPI_MCA_rmaps_base_oversubscribe=1 PRTE_MCA_rmaps_default_mapping_policy=:oversubscribe)
set(HPCAD_MPIEXEC ${MPIEXEC_EXECUTABLE} --oversubscribe)

# hpcad_add_mpi_test(NAME <name> COMMAND <cmd...> [RANKS 1 2 3 4] [TIMEOUT s])
function(hpcad_add_mpi_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "COMMAND;RANKS;LABELS" ${ARGN})
  if(NOT ARG_RANKS)
    set(ARG_RANKS 1 2 3 4)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  foreach(n ${ARG_RANKS})
    add_test(NAME ${ARG_NAME}.np${n}
             COMMAND ${HPCAD_MPIEXEC} -n ${n} ${ARG_COMMAND})
    set_tests_properties(${ARG_NAME}.np${n} PROPERTIES
      TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "${HPCAD_MPI_ENV}" LABELS "mpi;${ARG_LABELS}")
  endforeach()
endfunction()

# The shared data (ADBench, Parquet test files) lives beside the repository.
get_filename_component(_hpcad_shared_default ${PROJECT_SOURCE_DIR}/../shared ABSOLUTE)
set(HPCAD_SHARED_DIR ${_hpcad_shared_default} CACHE PATH "The shared data directory (datasets, parquet-testing)")
