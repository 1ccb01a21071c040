// The hpcad executable: parses the command line and owns MPI's lifecycle. Everything
// else lives in the libraries.
#include <malloc.h>
#include <mpi.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <iostream>

#include "hpcad/cli/inspect.hpp"
#include "hpcad/comm/mpi_comm.hpp"
#include "hpcad/core/error.hpp"
#include "hpcad/core/interrupt.hpp"
#include "hpcad/io/generate.hpp"
#include "hpcad/io/hdf5.hpp"
#include "hpcad/pipeline/job.hpp"

namespace {

// Slurm's --signal warning (forwarded by jobs/slurm/*.sbatch) must not kill the job: the
// run may still finish in time, and if it does not, no output is renamed into place.
extern "C" void note_time_limit_warning(int) {
  constexpr char kMessage[] = "hpcad: received SIGUSR1 (time-limit warning); continuing\n";
  [[maybe_unused]] auto ignored = ::write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
}

// SIGTERM (Slurm's and mpirun's way of stopping a job) and SIGINT: the job stops at its next
// block boundary on every rank together and removes its temporaries. The handler only
// records the signal; a second one takes the default action (SA_RESETHAND), so a stuck job
// can still be killed from the terminal.
extern "C" void stop_at_next_block(int signal) { hpcad::request_interrupt(signal); }

void install_signal_handlers() {
  std::signal(SIGUSR1, note_time_limit_warning);
  struct sigaction action {};
  action.sa_handler = stop_at_next_block;
  action.sa_flags = SA_RESTART | SA_RESETHAND;
  sigemptyset(&action.sa_mask);
  for (const int signal : {SIGTERM, SIGINT}) sigaction(signal, &action, nullptr);
}

/// Rank 0 prints the agreed failure once; every rank returns the exit code: 128 + signal for
/// an interruption (the shell's convention), else 1.
int report_failure(const hpcad::PeerError& e, bool root) {
  if (e.signal() != 0) {
    if (root)
      std::cerr << "hpcad: interrupted by " << hpcad::signal_name(e.signal()) << " (rank "
                << e.failed_rank() << ")" << std::endl;
    return 128 + e.signal();
  }
  if (root) {
    std::cerr << "hpcad: error: " << e.what() << "\n  (rank " << e.failed_rank() << ", phase "
              << e.phase();
    if (e.failed_count() > 1) std::cerr << "; " << e.failed_count() << " ranks failed";
    std::cerr << ")" << std::endl;
  }
  return 1;
}

constexpr const char* kCommands[] = {"run", "train", "score", "generate", "inspect"};

void add_job_options(CLI::App* command, hpcad::JobRequest& request) {
  command
      ->add_option("-c,--config", request.config_path,
                   "TOML config file (see configs/reference.toml)")
      ->required()
      ->check(CLI::ExistingFile);
  command
      ->add_option("--set", request.overrides,
                   "override a config key, e.g. --set input.path=x.h5 --set detector.n_trees=200; "
                   "typed like the file; relative paths resolve against the current directory")
      ->take_last()
      ->allow_extra_args(false);
}

}  // namespace

int main(int argc, char** argv) {
  // Block buffers, gathered samples and caches are megabytes each and come and go phase by
  // phase. Keeping 64 MiB of freed heap instead of handing it back lets the next one reuse
  // pages already mapped: on virtual machines each first touch of a page is a host fault
  // (measured: 0.3 GB/s), about 0.1 s of a 1M-row run.
  mallopt(M_TOP_PAD, 64 << 20);
  MPI_Init(&argc, &argv);
  install_signal_handlers();
  int exit_code = 0;
  {
    hpcad::MpiComm comm(MPI_COMM_WORLD);
    const bool root = comm.rank() == 0;
    hpcad::h5::silence_errors();

    CLI::App app{"hpcad: MPI-native anomaly detection. Launch with mpirun -n P, srun, or alone."};
    app.require_subcommand(1);
    app.set_version_flag("--version", HPCAD_VERSION);
    hpcad::JobRequest request;
    request.working_directory = std::filesystem::current_path().string();
    auto* run =
        app.add_subcommand("run", "train, score, evaluate and write scores, model and report");
    auto* train = app.add_subcommand("train", "train and write the model file [output].model");
    auto* score = app.add_subcommand("score", "score with a saved model and write [output].path");
    for (auto* command : {run, train, score}) add_job_options(command, request);
    score->add_option("-m,--model", request.model_path, "model file written by hpcad train or run")
        ->required();

    hpcad::GenerateOptions generate_options;
    auto* generate = app.add_subcommand(
        "generate", "write a synthetic labeled HDF5 dataset (/X, /y), in parallel");
    generate->add_option("--rows", generate_options.rows, "number of rows")
        ->required()
        ->check(CLI::Range(1LL, 1LL << 40));
    generate->add_option("--features", generate_options.features, "number of features")
        ->required()
        ->check(CLI::Range(1LL, 1LL << 20));
    generate
        ->add_option("--anomaly-fraction", generate_options.anomaly_fraction,
                     "probability that a row is an anomaly")
        ->capture_default_str()
        ->check(CLI::Range(0.0, 1.0));
    generate->add_option("--seed", generate_options.seed, "random seed")->capture_default_str();
    generate->add_option("-o,--output", generate_options.output, "output HDF5 file")->required();

    std::string inspect_path;
    auto* inspect =
        app.add_subcommand("inspect", "print a summary of a model file or a scores file");
    inspect->add_option("file", inspect_path, "model or scores file")
        ->required()
        ->check(CLI::ExistingFile);

    try {
      if (argc > 1 && argv[1][0] != '-' &&
          std::find(std::begin(kCommands), std::end(kCommands), std::string(argv[1])) ==
              std::end(kCommands))
        throw CLI::ExtrasError("unknown command '" + std::string(argv[1]) +
                                   "'; valid commands: run, train, score, generate, inspect",
                               CLI::ExitCodes::ExtrasError);
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      // Every rank parsed the same arguments; only rank 0 speaks.
      if (root) {
        exit_code = app.exit(e);
      } else {
        std::ostringstream sink;
        exit_code = app.exit(e, sink, sink);
      }
      MPI_Finalize();
      return exit_code;
    }

    try {
      if (run->parsed() || train->parsed() || score->parsed()) {
        request.kind = run->parsed()     ? hpcad::JobKind::kRun
                       : train->parsed() ? hpcad::JobKind::kTrain
                                         : hpcad::JobKind::kScore;
        if (!request.model_path.empty())
          request.model_path =
              std::filesystem::absolute(request.model_path).lexically_normal().string();
        const std::string summary = hpcad::run_job(comm, request);
        if (root) std::cout << summary << std::endl;
      } else if (generate->parsed()) {
        const hpcad::Log log(comm.rank(), comm.size());
        hpcad::guarded_phase(comm, "generate", [&] {
          const std::string job_id = hpcad::agree_job_id(comm);
          hpcad::generate_dataset(comm, generate_options, job_id, log);
        });
        if (root)
          std::cout << "wrote " << generate_options.rows << " x " << generate_options.features
                    << " to " << generate_options.output << std::endl;
      } else if (inspect->parsed()) {
        hpcad::guarded_phase(comm, "inspect", [&] {
          if (root) hpcad::inspect_file(inspect_path, std::cout);
        });
      }
    } catch (const hpcad::PeerError& e) {
      exit_code = report_failure(e, root);
    } catch (const std::exception& e) {
      // Outside a guarded phase the other ranks may be blocked in a collective: abort them.
      std::cerr << "hpcad: fatal error on rank " << comm.rank() << ": " << e.what() << std::endl;
      MPI_Abort(MPI_COMM_WORLD, 2);
    }
  }
  MPI_Finalize();
  return exit_code;
}
