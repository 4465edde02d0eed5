// The podium command line: subcommands, --help on each, exit codes, one-line errors.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

struct Run {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

Run podium_command(const std::string& command_line) {
  std::string command = command_line + " 2>&1";
  Run run;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return run;
  std::array<char, 4096> buffer{};
  std::size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) run.out.append(buffer.data(), n);
  int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

Run podium(const std::string& args) {
  return podium_command(std::string(PODIUM_BINARY) + " " + args);
}

std::size_t lines(const std::string& text) {
  std::size_t count = 0;
  for (char c : text) count += c == '\n';
  return count;
}

std::string write_temp(const std::string& name, const std::string& content) {
  auto path = std::filesystem::temp_directory_path() /
              ("podium-cli-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path) << content;
  return path.string();
}

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

TEST(Cli, VersionPrintsVersion) {
  auto r = podium("version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, MatchesRegex("podium [0-9]+\\.[0-9]+\\.[0-9]+ \\(.*\\)\n"));
}

TEST(Cli, HelpOnEverySubcommand) {
  for (const char* args : {"--help", "serve --help", "check-config --help", "version --help",
                           "turn-credentials --help"}) {
    auto r = podium(args);
    EXPECT_EQ(r.exit_code, 0) << args;
    EXPECT_THAT(r.out, HasSubstr("Usage")) << args;
  }
  EXPECT_THAT(podium("serve --help").out, HasSubstr("--config"));
  EXPECT_THAT(podium("--help").out, HasSubstr("check-config"));
}

TEST(Cli, UnknownSubcommandIsOneLineExit2) {
  auto r = podium("frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.out), 1u) << r.out;
  EXPECT_THAT(r.out, HasSubstr("podium: "));
}

TEST(Cli, UnknownFlagIsOneLineExit2) {
  for (const char* args : {"serve --frobnicate", "version --x", "--nope", "check-config"}) {
    auto r = podium(args);
    EXPECT_EQ(r.exit_code, 2) << args << ": " << r.out;
    EXPECT_EQ(lines(r.out), 1u) << args << ": " << r.out;
  }
}

TEST(Cli, NoSubcommandIsAnError) {
  auto r = podium("");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.out), 1u) << r.out;
}

TEST(Cli, CheckConfigAcceptsTheExamples) {
  std::string dir = std::string(PODIUM_SOURCE_DIR) + "/config/examples/";
  // podium.yaml points its TLS listener at ${PODIUM_TLS_DIR}; check-config wants the files.
  auto tls_dir =
      std::filesystem::temp_directory_path() / ("podium-cli-tls-" + std::to_string(::getpid()));
  std::filesystem::create_directories(tls_dir);
  std::ofstream(tls_dir / "fullchain.pem") << "certificate\n";
  std::ofstream(tls_dir / "privkey.pem") << "key\n";
  // The examples take their secrets from the environment.
  std::string env =
      "PODIUM_TURN_SECRET=s1 PODIUM_TOKEN_SECRET=t PODIUM_API_KEY=k PODIUM_ADMIN_TOKEN=a "
      "PODIUM_ALICE_PASSWORD=p PODIUM_TLS_DIR=" +
      tls_dir.string() + " ";
  for (const char* name : {"podium.yaml", "relay.yaml"}) {
    std::string command = "env " + env + std::string(PODIUM_BINARY) + " check-config " + dir + name;
    auto r = podium_command(command);
    EXPECT_EQ(r.exit_code, 0) << command << "\n" << r.out;
    EXPECT_THAT(r.out, HasSubstr(": OK (runs:"));
  }
  std::filesystem::remove_all(tls_dir);
}

TEST(Cli, CheckConfigReportsFileLineColumn) {
  auto path =
      write_temp("bad.yaml", "log:\n  level: info\nrelay:\n  listen: [udp://1.2.3.4:99999]\n");
  auto r = podium("check-config " + path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr(path + ":4:"));
  EXPECT_THAT(r.out, HasSubstr("relay.listen[0]"));
  std::filesystem::remove(path);
}

TEST(Cli, ServeWithBrokenConfigExits1BeforeBinding) {
  auto path = write_temp("broken.yaml", "metrics:\n  listen: 127.0.0.1:0\n  bogus: 1\n");
  auto r = podium("serve --config " + path);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr(path + ":3:3: metrics.bogus"));
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("listening")));
  std::filesystem::remove(path);
}

TEST(Cli, ServeWithMissingConfigFileIsExit2) {
  auto r = podium("serve --config /nonexistent/podium.yaml");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.out), 1u) << r.out;
}

}  // namespace

namespace {

TEST(Cli, TurnCredentialsPrintsAnIceServer) {
  auto path = write_temp("creds.yaml",
                         "relay:\n  listen: [udp://127.0.0.1:3478, tcp://127.0.0.1:3478]\n"
                         "  auth_secrets: [first, second]\n");
  auto r = podium("turn-credentials --config " + path + " --user alice --ttl 1h");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("\"ttl\": 3600"));
  EXPECT_THAT(r.out, MatchesRegex("(.|\n)*\"username\": \"[0-9]+:alice\"(.|\n)*"));
  EXPECT_THAT(r.out, HasSubstr("turn:127.0.0.1:3478?transport=udp"));
  EXPECT_THAT(r.out, HasSubstr("turn:127.0.0.1:3478?transport=tcp"));
  EXPECT_THAT(r.out, HasSubstr("stun:127.0.0.1:3478"));
  EXPECT_THAT(r.out, HasSubstr("\"credential\": \""));
  // A bad --ttl is a usage error.
  EXPECT_EQ(podium("turn-credentials --config " + path + " --user alice --ttl soon").exit_code, 2);
  // Without a REST secret there is nothing to mint with.
  auto users_only =
      write_temp("users.yaml", "relay:\n  listen: [udp://127.0.0.1:3478]\n  users: {a: b}\n");
  auto none = podium("turn-credentials --config " + users_only + " --user alice");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_THAT(none.out, HasSubstr("relay.auth_secrets"));
  std::filesystem::remove(path);
  std::filesystem::remove(users_only);
}

}  // namespace
