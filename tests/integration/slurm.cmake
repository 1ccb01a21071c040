# tests/integration/slurm.cmake — include()d from tests/CMakeLists.txt.
# integration.slurm: brings up a real one-node Slurm cluster (scripts/slurm-cluster, root
# only; installs Debian's slurm packages when missing), submits jobs/slurm/run.sbatch with
# 2 tasks under srun --mpi=pmix and checks the outputs, then checks the #SBATCH --signal
# USR1 forwarding. Exit 77 (skip) only where the cluster cannot be set up (not root, or
# the packages cannot be installed).
if(NOT DEFINED HPCAD_PYTHON)
  set(HPCAD_PYTHON /usr/bin/python3)
endif()
add_test(NAME integration.slurm
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/slurm_test.sh $<TARGET_FILE:hpcad> ${CMAKE_SOURCE_DIR})
set_tests_properties(integration.slurm PROPERTIES
  TIMEOUT 600
  SKIP_RETURN_CODE 77
  LABELS "integration;slurm"
  RESOURCE_LOCK slurm_cluster
  ENVIRONMENT "HPCAD_PYTHON=${HPCAD_PYTHON}")
