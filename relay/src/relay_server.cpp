#include "podium/relay/relay_server.hpp"

#include <boost/asio/ssl/context.hpp>

#include "podium/monitoring/logging.hpp"
#include "turn/shared_state.hpp"
#include "turn/worker.hpp"

namespace podium::relay {

namespace asio = boost::asio;

struct RelayServer::Impl {
  Impl(const config::RelayConfig& config, monitoring::Metrics& metrics) : shared(config, metrics) {}

  SharedState shared;
  std::unique_ptr<asio::ssl::context> tls;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<config::ListenUrl> bound;
  bool started = false;
};

RelayServer::RelayServer(const config::RelayConfig& config, monitoring::Metrics& metrics)
    : impl_(std::make_unique<Impl>(config, metrics)) {}

RelayServer::~RelayServer() {
  stop();
}

namespace {

std::unique_ptr<asio::ssl::context> make_tls_context(const config::TlsConfig& tls) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  context->use_certificate_chain_file(tls.cert);
  context->use_private_key_file(tls.key, asio::ssl::context::pem);
  return context;
}

}  // namespace

void RelayServer::start() {
  auto& impl = *impl_;
  const auto& config = impl.shared.config;
  unsigned count =
      config.workers ? config.workers : std::max(1u, std::thread::hardware_concurrency());
  if (config.tls) impl.tls = make_tls_context(*config.tls);
  for (unsigned i = 0; i < count; ++i) {
    impl.workers.push_back(std::make_unique<Worker>(i, impl.shared));
  }
  // Every worker binds every listener with SO_REUSEPORT; the kernel spreads clients across
  // them by 5-tuple hash, so a client's packets always reach the same worker. Port 0 is
  // resolved by the first worker and reused by the others.
  for (const auto& listen : config.listen) {
    config::Endpoint endpoint = listen.endpoint;
    for (auto& worker : impl.workers) {
      switch (listen.transport) {
        case config::Transport::udp:
          endpoint = worker->listen_udp(endpoint);
          break;
        case config::Transport::tcp:
          endpoint = worker->listen_stream(endpoint, ClientTransport::tcp, nullptr);
          break;
        case config::Transport::tls:
          endpoint = worker->listen_stream(endpoint, ClientTransport::tls, impl.tls.get());
          break;
        case config::Transport::dtls:
          throw std::system_error(std::make_error_code(std::errc::protocol_not_supported),
                                  "dtls:// listeners are not supported yet");
      }
    }
    impl.bound.push_back({listen.transport, endpoint});
  }
  for (auto& worker : impl.workers) worker->start();
  impl.started = true;
  log::get("relay")->info("relay started: {} worker threads, realm {}", count, impl.shared.realm);
}

void RelayServer::stop() {
  if (!impl_ || !impl_->started) return;
  impl_->started = false;
  for (auto& worker : impl_->workers) worker->stop();
  for (auto& worker : impl_->workers) worker->join();
  impl_->workers.clear();
}

std::vector<config::ListenUrl> RelayServer::listeners() const {
  return impl_->bound;
}

}  // namespace podium::relay
