// Interop with a foreign DTLS stack: the `openssl s_client` / `s_server` command-line tools
// over loopback UDP. Checks the handshake, the negotiated DTLS-SRTP profile, that both ends
// export the same keying material (RFC 5764 section 4.2), application data and close_notify.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dtls/certificate.hpp"
#include "dtls/dtls_context.hpp"
#include "dtls/dtls_transport.hpp"

extern char** environ;

namespace {

using namespace podium::sfu::dtls;
namespace srtp = podium::sfu::srtp;
using namespace std::chrono_literals;
using Bytes = std::vector<std::uint8_t>;

constexpr auto kTestLimit = 15s;

bool have_openssl() {
  return std::system("openssl version > /dev/null 2>&1") == 0;
}

std::string hex_upper(std::span<const std::uint8_t> data) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (std::uint8_t b : data) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

// RFC 5764 section 4.2 layout of the exporter output, rebuilt from our split keys.
std::string expected_keying_material(const SrtpKeys& keys, Role role) {
  const srtp::MasterKey& client = role == Role::client ? keys.local : keys.remote;
  const srtp::MasterKey& server = role == Role::client ? keys.remote : keys.local;
  return hex_upper(client.key_bytes()) + hex_upper(server.key_bytes()) +
         hex_upper(client.salt_bytes()) + hex_upper(server.salt_bytes());
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "podium-dtls-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// An `openssl` child with a stdin pipe and stdout+stderr captured into a file.
class OpensslProcess {
 public:
  OpensslProcess(std::vector<std::string> args, std::string output_path)
      : output_path_(std::move(output_path)) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], 0);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    posix_spawn_file_actions_addopen(&actions, 1, output_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    args.insert(args.begin(), "openssl");
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (::posix_spawnp(&pid_, "openssl", &actions, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[0]);
    stdin_ = fds[1];
  }
  ~OpensslProcess() {
    close_stdin();
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  bool running() const { return pid_ > 0; }
  void write_stdin(const std::string& text) {
    if (stdin_ < 0) return;
    EXPECT_EQ(::write(stdin_, text.data(), text.size()), ssize_t(text.size()));
  }
  void close_stdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }
  std::string output() const {
    std::ifstream in(output_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // The text after `marker` up to the end of its line, once it has appeared.
  std::optional<std::string> line_after(const std::string& marker) const {
    const std::string text = output();
    const auto at = text.find(marker);
    if (at == std::string::npos) return std::nullopt;
    const auto begin = at + marker.size();
    const auto end = text.find('\n', begin);
    if (end == std::string::npos) return std::nullopt;
    return text.substr(begin, end - begin);
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  std::string output_path_;
};

// Our transport on a loopback UDP socket.
class UdpEndpoint : public DtlsSink {
 public:
  UdpEndpoint() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    local.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)), 0);
    socklen_t length = sizeof(local);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length);
    port_ = ntohs(local.sin_port);
  }
  ~UdpEndpoint() override { ::close(fd_); }

  std::uint16_t port() const { return port_; }
  void set_peer_port(std::uint16_t port) {
    peer_.sin_family = AF_INET;
    peer_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    peer_.sin_port = htons(port);
    have_peer_ = true;
  }

  void send(std::span<const std::uint8_t> datagram) override {
    if (!have_peer_) return;
    ::sendto(fd_, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&peer_),
             sizeof(peer_));
  }
  void on_application_data(std::span<const std::uint8_t> data) override {
    received.append(data.begin(), data.end());
  }

  // Moves datagrams between the socket and `transport`, firing its timers, until `done` or the
  // limit passes.
  bool run(DtlsTransport& transport, const std::function<bool()>& done,
           std::chrono::milliseconds limit) {
    const TimePoint deadline = Clock::now() + limit;
    std::array<std::uint8_t, 65536> buffer{};
    while (!done()) {
      TimePoint now = Clock::now();
      if (now >= deadline) return false;
      TimePoint wake = std::min(deadline, now + 20ms);
      if (auto due = transport.next_timeout()) wake = std::min(wake, *due);
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now);
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::max<long>(0, wait.count()))) > 0) {
        sockaddr_in from{};
        socklen_t length = sizeof(from);
        const ssize_t n = ::recvfrom(fd_, buffer.data(), buffer.size(), 0,
                                     reinterpret_cast<sockaddr*>(&from), &length);
        if (n > 0) {
          if (!have_peer_) {  // we are the server: answer whoever spoke first
            peer_ = from;
            have_peer_ = true;
          }
          transport.feed(std::span<const std::uint8_t>(buffer.data(), static_cast<std::size_t>(n)),
                         Clock::now());
        }
      }
      now = Clock::now();
      if (auto due = transport.next_timeout(); due && *due <= now) transport.on_timeout(now);
    }
    return true;
  }

  std::string received;

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
  sockaddr_in peer_{};
  bool have_peer_ = false;
};

struct Files {
  TempDir dir;
  Certificate ours;
  Certificate theirs;
  std::string cert_path;
  std::string key_path;
  std::string output_path;
};

std::unique_ptr<Files> make_files() {
  auto ours = Certificate::generate();
  auto theirs = Certificate::generate();
  EXPECT_TRUE(ours.ok() && theirs.ok());
  auto files =
      std::unique_ptr<Files>(new Files{{}, std::move(*ours), std::move(*theirs), {}, {}, {}});
  files->cert_path = files->dir.file("peer-cert.pem");
  files->key_path = files->dir.file("peer-key.pem");
  files->output_path = files->dir.file("openssl.out");
  std::ofstream(files->cert_path) << files->theirs.certificate_pem();
  std::ofstream(files->key_path) << files->theirs.private_key_pem();
  return files;
}

std::unique_ptr<DtlsTransport> make_transport(const DtlsContext& context, Role role,
                                              const Fingerprint& remote, DtlsSink& sink) {
  DtlsTransportOptions options;
  options.role = role;
  options.remote_fingerprints = {remote};
  options.initial_retransmit = 200ms;
  options.handshake_timeout = 10s;
  auto transport = DtlsTransport::create(context, options, sink);
  EXPECT_TRUE(transport.ok()) << transport.error();
  return std::move(*transport);
}

// We are the DTLS server (a=setup:passive), `openssl s_client` the client.
void run_server_against_s_client(const std::string& client_profiles, std::size_t export_length,
                                 SrtpProfile expected) {
  auto files = make_files();
  auto context = DtlsContext::create(files->ours);
  ASSERT_TRUE(context.ok()) << context.error();
  UdpEndpoint endpoint;
  auto transport = make_transport(*context, Role::server, files->theirs.fingerprint(), endpoint);
  transport->start(Clock::now());

  OpensslProcess client(
      {"s_client", "-dtls1_2", "-connect", "127.0.0.1:" + std::to_string(endpoint.port()), "-cert",
       files->cert_path, "-key", files->key_path, "-use_srtp", client_profiles, "-keymatexport",
       "EXTRACTOR-dtls_srtp", "-keymatexportlen", std::to_string(export_length)},
      files->output_path);
  ASSERT_TRUE(client.running());

  ASSERT_TRUE(endpoint.run(
      *transport, [&] { return transport->state() != DtlsState::connecting; }, kTestLimit))
      << client.output();
  ASSERT_EQ(transport->state(), DtlsState::connected) << transport->failure_detail() << "\n"
                                                      << client.output();
  ASSERT_EQ(transport->srtp_profile(), expected);

  // s_client prints its view of the profile and the exported keys once connected.
  std::optional<std::string> material;
  ASSERT_TRUE(endpoint.run(
      *transport, [&] { return (material = client.line_after("Keying material: ")).has_value(); },
      kTestLimit))
      << client.output();
  EXPECT_EQ(*material, expected_keying_material(*transport->srtp_keys(), Role::server));
  EXPECT_EQ(client.line_after("SRTP Extension negotiated, profile="),
            std::string(to_string(expected)));

  // Application data both ways.
  client.write_stdin("hello from openssl\n");
  ASSERT_TRUE(endpoint.run(
      *transport, [&] { return endpoint.received.find('\n') != std::string::npos; }, kTestLimit));
  EXPECT_EQ(endpoint.received, "hello from openssl\n");
  const std::string reply = "hello from podium\n";
  ASSERT_TRUE(transport->send_application(Bytes(reply.begin(), reply.end())).ok());
  ASSERT_TRUE(endpoint.run(
      *transport, [&] { return client.output().find("hello from podium") != std::string::npos; },
      kTestLimit))
      << client.output();

  // s_client sends close_notify when its input ends.
  client.close_stdin();
  ASSERT_TRUE(endpoint.run(
      *transport, [&] { return transport->state() != DtlsState::connected; }, kTestLimit));
  EXPECT_EQ(transport->state(), DtlsState::closed);
  EXPECT_EQ(transport->failure_reason(), FailureReason::closed_by_peer);
}

// We are the DTLS client (a=setup:active), `openssl s_server` the server.
void run_client_against_s_server(const std::string& server_profiles, std::size_t export_length,
                                 SrtpProfile expected) {
  auto files = make_files();
  auto context = DtlsContext::create(files->ours);
  ASSERT_TRUE(context.ok()) << context.error();
  UdpEndpoint endpoint;

  OpensslProcess server(
      {"s_server", "-dtls1_2", "-accept", "127.0.0.1:0", "-cert", files->cert_path, "-key",
       files->key_path, "-verify", "1", "-use_srtp", server_profiles, "-keymatexport",
       "EXTRACTOR-dtls_srtp", "-keymatexportlen", std::to_string(export_length)},
      files->output_path);
  ASSERT_TRUE(server.running());
  std::optional<std::string> accept;
  const TimePoint wait_until = Clock::now() + kTestLimit;
  while (!(accept = server.line_after("ACCEPT 127.0.0.1:")) && Clock::now() < wait_until) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(accept.has_value()) << server.output();
  endpoint.set_peer_port(static_cast<std::uint16_t>(std::stoi(*accept)));

  auto transport = make_transport(*context, Role::client, files->theirs.fingerprint(), endpoint);
  transport->start(Clock::now());
  ASSERT_TRUE(endpoint.run(
      *transport, [&] { return transport->state() != DtlsState::connecting; }, kTestLimit))
      << server.output();
  ASSERT_EQ(transport->state(), DtlsState::connected) << transport->failure_detail() << "\n"
                                                      << server.output();
  ASSERT_EQ(transport->srtp_profile(), expected);

  std::optional<std::string> material;
  ASSERT_TRUE(endpoint.run(
      *transport, [&] { return (material = server.line_after("Keying material: ")).has_value(); },
      kTestLimit))
      << server.output();
  EXPECT_EQ(*material, expected_keying_material(*transport->srtp_keys(), Role::client));
  EXPECT_EQ(server.line_after("SRTP Extension negotiated, profile="),
            std::string(to_string(expected)));

  server.write_stdin("hello from s_server\n");
  ASSERT_TRUE(endpoint.run(
      *transport, [&] { return endpoint.received.find('\n') != std::string::npos; }, kTestLimit))
      << server.output();
  EXPECT_EQ(endpoint.received, "hello from s_server\n");
  const std::string line = "hello from podium\n";
  ASSERT_TRUE(transport->send_application(Bytes(line.begin(), line.end())).ok());
  ASSERT_TRUE(endpoint.run(
      *transport, [&] { return server.output().find("hello from podium") != std::string::npos; },
      kTestLimit))
      << server.output();

  // Our close_notify ends s_server's connection: it reports "DONE" on SSL_ERROR_ZERO_RETURN.
  transport->close();
  EXPECT_EQ(transport->state(), DtlsState::closed);
  const auto closed = [&] {
    const std::string text = server.output();
    const auto at = text.find("hello from podium");
    return at != std::string::npos && text.find("DONE", at) != std::string::npos;
  };
  const TimePoint close_until = Clock::now() + kTestLimit;
  while (!closed() && Clock::now() < close_until) std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(closed()) << server.output();
}

TEST(DtlsInterop, ServerWithOpensslClientPrefersGcm) {
  if (!have_openssl()) GTEST_SKIP() << "openssl command not found";
  run_server_against_s_client("SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM", 56,
                              SrtpProfile::aead_aes_128_gcm);
}

TEST(DtlsInterop, ServerWithOpensslClientOfferingOnlyCmSha1_80) {
  if (!have_openssl()) GTEST_SKIP() << "openssl command not found";
  run_server_against_s_client("SRTP_AES128_CM_SHA1_80", 60, SrtpProfile::aes128_cm_sha1_80);
}

TEST(DtlsInterop, ClientWithOpensslServerGcm) {
  if (!have_openssl()) GTEST_SKIP() << "openssl command not found";
  run_client_against_s_server("SRTP_AEAD_AES_128_GCM", 56, SrtpProfile::aead_aes_128_gcm);
}

TEST(DtlsInterop, ClientWithOpensslServerCmSha1_80) {
  if (!have_openssl()) GTEST_SKIP() << "openssl command not found";
  run_client_against_s_server("SRTP_AES128_CM_SHA1_80", 60, SrtpProfile::aes128_cm_sha1_80);
}

TEST(DtlsInterop, OpensslClientWithWrongCertificateIsRejected) {
  if (!have_openssl()) GTEST_SKIP() << "openssl command not found";
  auto files = make_files();
  auto context = DtlsContext::create(files->ours);
  ASSERT_TRUE(context.ok());
  auto stranger = Certificate::generate();
  ASSERT_TRUE(stranger.ok());
  UdpEndpoint endpoint;
  auto transport = make_transport(*context, Role::server, stranger->fingerprint(), endpoint);
  transport->start(Clock::now());
  OpensslProcess client(
      {"s_client", "-dtls1_2", "-connect", "127.0.0.1:" + std::to_string(endpoint.port()), "-cert",
       files->cert_path, "-key", files->key_path, "-use_srtp", "SRTP_AEAD_AES_128_GCM"},
      files->output_path);
  ASSERT_TRUE(endpoint.run(
      *transport, [&] { return transport->state() != DtlsState::connecting; }, kTestLimit));
  EXPECT_EQ(transport->state(), DtlsState::failed);
  EXPECT_EQ(transport->failure_reason(), FailureReason::fingerprint_mismatch);
}

TEST(DtlsInterop, OpensslClientWithoutCertificateIsRejected) {
  if (!have_openssl()) GTEST_SKIP() << "openssl command not found";
  auto files = make_files();
  auto context = DtlsContext::create(files->ours);
  ASSERT_TRUE(context.ok());
  UdpEndpoint endpoint;
  auto transport = make_transport(*context, Role::server, files->theirs.fingerprint(), endpoint);
  transport->start(Clock::now());
  OpensslProcess client(
      {"s_client", "-dtls1_2", "-connect", "127.0.0.1:" + std::to_string(endpoint.port()),
       "-use_srtp", "SRTP_AEAD_AES_128_GCM"},
      files->output_path);
  ASSERT_TRUE(endpoint.run(
      *transport, [&] { return transport->state() != DtlsState::connecting; }, kTestLimit));
  EXPECT_EQ(transport->state(), DtlsState::failed);
  EXPECT_EQ(transport->failure_reason(), FailureReason::handshake_error);
  EXPECT_FALSE(transport->failure_detail().empty());
}

}  // namespace
