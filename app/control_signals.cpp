#include "control_signals.hpp"

#include <pthread.h>

#include <cerrno>
#include <system_error>

#include <boost/asio/buffer.hpp>

namespace podium::app {

namespace {

int open_signal_descriptor() {
  sigset_t signals;
  sigemptyset(&signals);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&signals, signal);
  if (int error = pthread_sigmask(SIG_BLOCK, &signals, nullptr); error != 0) {
    throw std::system_error(error, std::generic_category(), "pthread_sigmask");
  }
  int fd = signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "signalfd");
  return fd;
}

}  // namespace

ControlSignals::ControlSignals(boost::asio::io_context& io)
    : descriptor_(io, open_signal_descriptor()) {}

void ControlSignals::async_wait(
    std::function<void(const boost::system::error_code&, int signal)> handler) {
  // signalfd(2) reads whole signalfd_siginfo records.
  descriptor_.async_read_some(
      boost::asio::buffer(&info_, sizeof info_),
      [this, handler = std::move(handler)](const boost::system::error_code& ec, std::size_t n) {
        if (ec) return handler(ec, 0);
        if (n != sizeof info_) return async_wait(handler);
        handler(ec, static_cast<int>(info_.ssi_signo));
      });
}

}  // namespace podium::app
