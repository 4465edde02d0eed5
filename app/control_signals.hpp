// SIGINT, SIGTERM and SIGHUP for `podium serve`'s control loop, read from a signalfd(2).
#pragma once

#include <sys/signalfd.h>

#include <csignal>
#include <functional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/error_code.hpp>

namespace podium::app {

// Constructed on the main thread before any other thread starts: it blocks the three signals
// there, every thread started later inherits that mask, and the signals reach the process only
// through the descriptor, as data on the control io_context. No signal handler ever runs, so
// none can land on a relay or SFU thread. (boost::asio::signal_set's handler did not work
// under ThreadSanitizer, whose runtime defers a handler to a later point; CI saw SIGINT
// ignored for 5 s.) A signal sent while the components start waits in the descriptor.
class ControlSignals {
 public:
  explicit ControlSignals(boost::asio::io_context& io);
  ControlSignals(const ControlSignals&) = delete;
  ControlSignals& operator=(const ControlSignals&) = delete;

  // One signal per call, as boost::asio::signal_set::async_wait.
  void async_wait(std::function<void(const boost::system::error_code&, int signal)> handler);

 private:
  boost::asio::posix::stream_descriptor descriptor_;
  signalfd_siginfo info_{};
};

}  // namespace podium::app
