#include "podium/sfu/sfu_server.hpp"

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>

#include <boost/asio/post.hpp>

#include "dtls/certificate.hpp"
#include "dtls/dtls_context.hpp"
#include "podium/monitoring/logging.hpp"
#include "sfu_metrics.hpp"
#include "transport/media_worker.hpp"

namespace podium::sfu {

namespace {

// How long a control call waits for the media thread before answering 503.
constexpr auto kControlTimeout = std::chrono::seconds(5);

}  // namespace

struct SfuServer::Impl final : SessionService {
  Impl(const config::SfuConfig& cfg, monitoring::Metrics& m) : config(cfg), metrics(m.registry()) {}

  // Runs `call` on the media thread and waits for its result.
  template <typename T, typename F>
  Result<T, SessionError> on_worker(F call) {
    if (!worker || stopped) {
      return fail(SessionError{SessionErrorCode::unavailable, "the SFU is not running"});
    }
    auto promise = std::make_shared<std::promise<Result<T, SessionError>>>();
    auto future = promise->get_future();
    boost::asio::post(worker->io(),
                      [promise, call = std::move(call)]() mutable { promise->set_value(call()); });
    if (future.wait_for(kControlTimeout) != std::future_status::ready) {
      return fail(SessionError{SessionErrorCode::unavailable, "the SFU did not answer in time"});
    }
    try {
      return future.get();
    } catch (const std::future_error&) {  // the media thread stopped before running the call
      return fail(SessionError{SessionErrorCode::unavailable, "the SFU is stopping"});
    }
  }

  Result<SessionAnswer, SessionError> create_session(const SessionOffer& offer) override {
    if (draining) {
      return fail(SessionError{SessionErrorCode::unavailable, "the SFU is draining"});
    }
    return on_worker<SessionAnswer>([this, offer] { return worker->create_session(offer); });
  }
  Result<SessionUpdate, SessionError> update_session(const std::string& room, const std::string& id,
                                                     const std::string& sdpfrag,
                                                     const std::string& if_match) override {
    return on_worker<SessionUpdate>([this, room, id, sdpfrag, if_match] {
      return worker->update_session(room, id, sdpfrag, if_match);
    });
  }
  Result<Ok, SessionError> close_session(const std::string& room, const std::string& id) override {
    return on_worker<Ok>([this, room, id] { return worker->close_session(room, id); });
  }

  config::SfuConfig config;
  SfuMetrics metrics;
  std::optional<dtls::Certificate> certificate;
  std::optional<dtls::DtlsContext> dtls;
  std::unique_ptr<MediaWorker> worker;
  std::uint16_t port = 0;
  std::atomic<bool> stopped{false};   // read by signaling's thread
  std::atomic<bool> draining{false};  // no new sessions (set by `podium serve` on a drain)
};

SfuServer::SfuServer(const config::SfuConfig& config, monitoring::Metrics& metrics)
    : impl_(std::make_unique<Impl>(config, metrics)) {}

SfuServer::~SfuServer() {
  stop();
}

void SfuServer::start() {
  const auto& files = impl_->config.certificate;
  auto certificate = files ? dtls::Certificate::load_pem_files(files->cert, files->key)
                           : dtls::Certificate::generate();
  if (!certificate) throw std::runtime_error("DTLS certificate: " + certificate.error());
  impl_->certificate.emplace(std::move(*certificate));
  auto context = dtls::DtlsContext::create(*impl_->certificate);
  if (!context) throw std::runtime_error("DTLS context: " + context.error());
  impl_->dtls.emplace(std::move(*context));
  impl_->worker = std::make_unique<MediaWorker>(impl_->config, *impl_->dtls, impl_->metrics);
  impl_->port = impl_->worker->bind();
  impl_->worker->start();
  auto log = log::get("sfu");
  log->info("SFU started on UDP port {}, DTLS certificate {} (sha-256 {})", impl_->port,
            files ? files->cert : std::string("generated at start"),
            impl_->dtls->fingerprint().to_sdp());
  if (impl_->worker->tcp_port() != 0) {
    log->info("SFU ICE-TCP (RFC 6544 passive candidate) on TCP port {}", impl_->worker->tcp_port());
  }
  if (impl_->config.workers > 1) {
    log->warn("sfu.workers is {}, but the SFU runs one media thread (docs/sfu.md)",
              impl_->config.workers);
  }
}

void SfuServer::stop() {
  if (!impl_ || !impl_->worker || impl_->stopped) return;
  impl_->stopped = true;
  impl_->worker->stop();
}

void SfuServer::drain() {
  impl_->draining = true;
}

std::size_t SfuServer::active_sessions() {
  auto count = impl_->on_worker<std::size_t>(
      [this]() -> Result<std::size_t, SessionError> { return impl_->worker->session_count(); });
  return count ? *count : 0;
}

std::uint16_t SfuServer::udp_port() const {
  return impl_->port;
}

std::uint16_t SfuServer::tcp_port() const {
  return impl_->worker ? impl_->worker->tcp_port() : 0;
}

SessionService& SfuServer::sessions() {
  return *impl_;
}

}  // namespace podium::sfu
