#pragma once
/// Graceful stops on SIGTERM and SIGINT. The signal handler (installed by main()) only
/// records the signal; the job notices it at its next block boundary, inside a guarded phase,
/// so every rank leaves together, the temporaries are removed and the exit code says which
/// signal stopped the job. The record is process-wide state by nature (a signal is).
#include <string>

namespace hpcad {

/// Local. Records `signal` (the first one wins). Async-signal-safe: for signal handlers.
void request_interrupt(int signal) noexcept;

/// Local. The recorded signal, 0 if none.
int interrupt_signal() noexcept;

/// Local. Throws Interrupted when a signal was recorded; called at block boundaries.
void throw_if_interrupted();

/// "SIGTERM" for SIGTERM, etc.
std::string signal_name(int signal);

}  // namespace hpcad
