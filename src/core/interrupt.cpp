#include "hpcad/core/interrupt.hpp"

#include <csignal>
#include <cstring>

#include "hpcad/core/error.hpp"

namespace hpcad {
namespace {

volatile std::sig_atomic_t recorded_signal = 0;

}  // namespace

Interrupted::Interrupted(int signal)
    : Error("interrupted by " + signal_name(signal)), signal_(signal) {}

void request_interrupt(int signal) noexcept {
  if (recorded_signal == 0) recorded_signal = signal;
}

int interrupt_signal() noexcept { return recorded_signal; }

void throw_if_interrupted() {
  if (const int signal = recorded_signal; signal != 0) throw Interrupted(signal);
}

std::string signal_name(int signal) {
  const char* abbreviation = sigabbrev_np(signal);
  return abbreviation ? std::string("SIG") + abbreviation : "signal " + std::to_string(signal);
}

}  // namespace hpcad
