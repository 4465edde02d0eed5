#include "podium/relay/relay_server.hpp"

#include <algorithm>
#include <chrono>
#include <future>
#include <mutex>

#include <prometheus/gauge.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>

#include "net/dtls_listener.hpp"
#include "net/tls_certificate.hpp"
#include "podium/monitoring/logging.hpp"
#include "turn/shared_state.hpp"
#include "turn/worker.hpp"

namespace podium::relay {

namespace asio = boost::asio;

struct RelayServer::Impl {
  Impl(const config::RelayConfig& config, monitoring::Metrics& metrics)
      : shared(config, metrics),
        certificate_expiry(prometheus::BuildGauge()
                               .Name("podium_relay_tls_certificate_expiry_timestamp_seconds")
                               .Help("When the certificate of the tls:// listeners expires (its "
                                     "notAfter, Unix time); present when relay.tls is set.")
                               .Register(metrics.registry())),
        capacity(prometheus::BuildGauge()
                     .Name("podium_relay_allocation_capacity")
                     .Help("Allocations this relay can hold: relay.max_allocations, or the "
                           "number of relay addresses times relay.relay_ports if that is "
                           "smaller (one address and port each).")
                     .Register(metrics.registry())
                     .Add({})) {
    publish_capacity(config);
  }

  void publish_capacity(const config::RelayConfig& config) {
    capacity.Set(static_cast<double>(allocation_capacity(config)));
  }

  void publish_certificate(const TlsCertificate& certificate) {
    certificate_expiry.Add({}).Set(static_cast<double>(certificate.not_after()));
  }

  SharedState shared;
  prometheus::Family<prometheus::Gauge>& certificate_expiry;
  prometheus::Gauge& capacity;
  std::unique_ptr<TlsCertificateSlot> certificate;
  std::unique_ptr<asio::ssl::context> tls;
  std::unique_ptr<DtlsServer> dtls;  // with a dtls:// listener; outlives the workers
  monitoring::Metrics* metrics = nullptr;
  std::vector<std::unique_ptr<Worker>> workers;
  std::vector<config::ListenUrl> bound;
  bool started = false;
};

RelayServer::RelayServer(const config::RelayConfig& config, monitoring::Metrics& metrics)
    : impl_(std::make_unique<Impl>(config, metrics)) {
  impl_->metrics = &metrics;
}

RelayServer::~RelayServer() {
  stop();
}

namespace {

// The certificate comes from `slot` at each handshake, so a reload can replace it.
std::unique_ptr<asio::ssl::context> make_tls_context(TlsCertificateSlot& slot) {
  auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  slot.install(context->native_handle());
  return context;
}

// The port a listener's SO_REUSEPORT group will bind, taken without SO_REUSEPORT first: that bind
// fails if anything holds the port (so two relays never share one silently), and for port 0 it
// gets a port nobody holds. (Autobinding port 0 on a socket that has SO_REUSEPORT set may hand
// out a port that another process of the same user already holds with SO_REUSEPORT; the kernel
// would then spread that port's traffic over both processes.) Throws std::system_error.
config::Endpoint claim_port(const config::ListenUrl& listen) {
  asio::io_context io;
  const auto& address = listen.endpoint.address;
  if (listen.transport == config::Transport::udp || listen.transport == config::Transport::dtls) {
    asio::ip::udp::socket probe(io);
    asio::ip::udp::endpoint ep(address, listen.endpoint.port);
    probe.open(ep.protocol());
    if (address.is_v6()) probe.set_option(asio::ip::v6_only(true));
    probe.bind(ep);
    return {address, probe.local_endpoint().port()};
  }
  asio::ip::tcp::acceptor probe(io);
  asio::ip::tcp::endpoint ep(address, listen.endpoint.port);
  probe.open(ep.protocol());
  probe.set_option(asio::socket_base::reuse_address(true));  // TIME_WAIT from a previous run
  if (address.is_v6()) probe.set_option(asio::ip::v6_only(true));
  probe.bind(ep);
  return {address, probe.local_endpoint().port()};
}

// What differs between two relay configs and cannot change without a restart.
std::vector<std::string> restart_only_changes(const config::RelayConfig& a,
                                              const config::RelayConfig& b) {
  std::vector<std::string> changed;
  if (a.listen != b.listen) changed.push_back("relay.listen");
  if (a.realm != b.realm) changed.push_back("relay.realm");
  if (a.relay_ip != b.relay_ip || a.extra_relay_ips != b.extra_relay_ips) {
    changed.push_back("relay.relay_ip");
  }
  if (a.external_ip != b.external_ip) changed.push_back("relay.external_ip");
  if (a.relay_ports != b.relay_ports) changed.push_back("relay.relay_ports");
  if (a.workers != b.workers) changed.push_back("relay.workers");
  if (a.nonce_lifetime != b.nonce_lifetime) changed.push_back("relay.nonce_lifetime");
  if (a.proxy_protocol != b.proxy_protocol) changed.push_back("relay.proxy_protocol");
  if (a.rfc5780 != b.rfc5780) changed.push_back("relay.rfc5780");
  if (a.tls.has_value() != b.tls.has_value()) changed.push_back("relay.tls (added or removed)");
  return changed;
}

}  // namespace

void RelayServer::start() {
  auto& impl = *impl_;
  const auto& config = impl.shared.config;
  unsigned count =
      config.workers ? config.workers : std::max(1u, std::thread::hardware_concurrency());
  if (config.tls) {
    auto certificate = TlsCertificate::load(*config.tls);  // throws with the file at fault
    impl.publish_certificate(*certificate);
    impl.certificate = std::make_unique<TlsCertificateSlot>(std::move(certificate));
    impl.tls = make_tls_context(*impl.certificate);
    const bool any_dtls = std::any_of(config.listen.begin(), config.listen.end(), [](auto& l) {
      return l.transport == config::Transport::dtls;
    });
    if (any_dtls) {
      impl.dtls = std::make_unique<DtlsServer>(*impl.certificate, impl.metrics->registry());
    }
  }
  for (unsigned i = 0; i < count; ++i) {
    impl.workers.push_back(std::make_unique<Worker>(i, impl.shared));
    impl.shared.workers.push_back(impl.workers.back().get());
  }
  // Every worker binds every listener with SO_REUSEPORT; the kernel spreads clients across
  // them by 5-tuple hash, so a client's packets always reach the same worker. Port 0 is
  // resolved by the first worker and reused by the others.
  const config::ListenUrl* rfc5780_primary =
      config.rfc5780 ? config::rfc5780_primary(config.listen, *config.rfc5780) : nullptr;
  for (const auto& listen : config.listen) {
    config::Endpoint endpoint = claim_port(listen);
    for (auto& worker : impl.workers) {
      switch (listen.transport) {
        case config::Transport::udp:
          endpoint = worker->listen_udp(endpoint, &listen == rfc5780_primary ? 0 : -1);
          break;
        case config::Transport::tcp:
          endpoint = worker->listen_stream(endpoint, ClientTransport::tcp, nullptr);
          break;
        case config::Transport::tls:
          endpoint = worker->listen_stream(endpoint, ClientTransport::tls, impl.tls.get());
          break;
        case config::Transport::dtls:
          if (!impl.dtls) {  // the config loader requires relay.tls for dtls://
            throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                                    "dtls:// listeners need relay.tls");
          }
          endpoint = worker->listen_dtls(endpoint, *impl.dtls);
          break;
      }
    }
    impl.bound.push_back({listen.transport, endpoint});
  }
  if (rfc5780_primary) {
    // RFC 5780 section 6: the other three of (primary, alternate IP) x (primary, alternate
    // port), role bit 0 = alternate IP, bit 1 = alternate port. They are not in listeners().
    const auto primary = std::find_if(impl.bound.begin(), impl.bound.end(), [&](const auto& b) {
      return b.transport == config::Transport::udp &&
             b.endpoint.address == rfc5780_primary->endpoint.address;
    });
    const std::uint16_t port = primary->endpoint.port;
    const auto& alternate = *config.rfc5780;
    for (int role = 1; role < 4; ++role) {
      config::ListenUrl url{config::Transport::udp,
                            {(role & 1) ? alternate.alternate_ip : primary->endpoint.address,
                             (role & 2) ? alternate.alternate_port : port}};
      config::Endpoint endpoint = claim_port(url);
      for (auto& worker : impl.workers) endpoint = worker->listen_udp(endpoint, role);
      log::get("relay")->info("RFC 5780 NAT behaviour discovery: also listening on {}",
                              url.to_string());
    }
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

std::vector<std::string> RelayServer::reload(const config::RelayConfig& requested) {
  auto& impl = *impl_;
  const auto& running = impl.shared.config;
  const auto restart_only = restart_only_changes(running, requested);
  // What needs a restart keeps its running value everywhere, including in what the policy
  // derives from it (the relay's own addresses and relayed ports in the peer policy).
  config::RelayConfig next = requested;
  next.listen = running.listen;
  next.realm = running.realm;
  next.relay_ip = running.relay_ip;
  next.extra_relay_ips = running.extra_relay_ips;
  next.external_ip = running.external_ip;
  next.relay_ports = running.relay_ports;
  next.workers = running.workers;
  next.nonce_lifetime = running.nonce_lifetime;
  next.proxy_protocol = running.proxy_protocol;
  next.rfc5780 = running.rfc5780;
  if (next.tls.has_value() != running.tls.has_value()) next.tls = running.tls;

  // Everything that can fail comes first, so a refused reload changes nothing.
  std::shared_ptr<const TlsCertificate> certificate;
  if (next.tls && impl.certificate) certificate = TlsCertificate::load(*next.tls);
  auto policy = std::make_shared<const RelayPolicy>(next);

  impl.shared.set_policy(std::move(policy));
  impl.shared.quota.set_limits(next.max_allocations, next.user_quota);
  impl.publish_capacity(next);
  if (certificate) {
    impl.publish_certificate(*certificate);
    impl.certificate->replace(std::move(certificate));
  }
  return restart_only;
}

void RelayServer::drain() {
  impl_->shared.draining = true;
}

std::size_t RelayServer::active_allocations() const {
  return impl_->shared.quota.total();
}

namespace {

// Runs `work(worker, result)` on every worker's own thread, one worker after the other, and
// returns the result. A worker that does not answer within 2 s (stopped, or stuck) is left out
// rather than hang the admin request; its handler owns everything it touches, so running late
// is harmless.
template <typename T, typename Work>
T on_every_worker(std::vector<std::unique_ptr<Worker>>& workers, Work work) {
  struct Shared {
    std::mutex mutex;
    T result{};
  };
  auto shared = std::make_shared<Shared>();
  for (auto& worker : workers) {
    auto done = std::make_shared<std::promise<void>>();
    auto finished = done->get_future();
    asio::post(worker->io(), [shared, done, work, target = worker.get()] {
      std::lock_guard lock(shared->mutex);
      work(*target, shared->result);
      done->set_value();
    });
    (void)finished.wait_for(std::chrono::seconds(2));
  }
  std::lock_guard lock(shared->mutex);
  return std::move(shared->result);
}

}  // namespace

std::vector<AllocationInfo> RelayServer::list_allocations() {
  if (!impl_->started) return {};
  auto all = on_every_worker<std::vector<AllocationInfo>>(
      impl_->workers,
      [](Worker& worker, std::vector<AllocationInfo>& out) { worker.describe_allocations(out); });
  std::sort(all.begin(), all.end(), [](const AllocationInfo& a, const AllocationInfo& b) {
    return a.age_seconds > b.age_seconds;
  });
  return all;
}

std::size_t RelayServer::terminate_user(const std::string& user) {
  if (!impl_->started || user.empty()) return 0;
  return on_every_worker<std::size_t>(impl_->workers, [user](Worker& worker, std::size_t& ended) {
    ended += worker.terminate_allocations(user);
  });
}

}  // namespace podium::relay
