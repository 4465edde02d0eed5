// HTTP signaling on `signaling.listen`: the web client and, as they land, the rooms API and
// WHIP/WHEP endpoints.
#pragma once

#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "podium/config/config.hpp"
#include "podium/monitoring/metrics.hpp"

namespace podium::signaling {

class SignalingServer {
 public:
  SignalingServer(boost::asio::io_context& io, const config::SignalingConfig& config,
                  monitoring::Metrics& metrics);
  ~SignalingServer();
  void start();  // throws on bind failure
  void stop();
  boost::asio::ip::tcp::endpoint local_endpoint() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace podium::signaling
