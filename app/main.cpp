// podium: one binary, several subcommands (serve, check-config, version, ...).
#include <cstdio>
#include <iostream>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "podium/version.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Podium: a self-hosted real-time presentation server (TURN relay, SFU, signaling)",
               "podium"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");

  std::optional<std::string> serve_config;
  auto* serve = app.add_subcommand("serve", "Run the components whose config sections are present");
  serve->add_option("--config,-c", serve_config, "YAML config file (default: the embedded default)")
      ->check(CLI::ExistingFile);

  std::string check_path;
  auto* check = app.add_subcommand("check-config", "Validate a config file and exit");
  check->add_option("file", check_path, "YAML config file")->required();

  auto* version = app.add_subcommand("version", "Print the version");

  std::string cred_config, cred_user, cred_ttl;
  auto* creds = app.add_subcommand(
      "turn-credentials", "Mint TURN REST API credentials (JSON usable as an RTCIceServer)");
  creds->add_option("--config,-c", cred_config, "YAML config file with relay.auth_secrets")
      ->required();
  creds->add_option("--user,-u", cred_user, "User name the credential is for")->required();
  creds->add_option("--ttl", cred_ttl, "Validity, e.g. 24h (default: relay.credential_ttl)");

  std::string token_config, token_room, token_role, token_ttl;
  auto* token = app.add_subcommand("token", "Mint a room token offline (signaling.token_secret)");
  token->add_option("--config,-c", token_config, "YAML config file with signaling.token_secret")
      ->required();
  token->add_option("--room,-r", token_room, "Room name")->required();
  token->add_option("--role", token_role, "presenter or guest")
      ->required()
      ->check(CLI::IsMember({"presenter", "guest"}));
  token->add_option("--ttl", token_ttl, "Validity, e.g. 2h (default: signaling.token_ttl)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line, exit 2: what a script calling podium can rely on.
    std::string what = e.what();
    if (auto nl = what.find('\n'); nl != std::string::npos) what.resize(nl);
    std::fprintf(stderr, "podium: %s (see podium --help)\n", what.c_str());
    return 2;
  }

  if (*version) {
    std::printf("podium %s (%s)\n", podium::kVersion, podium::kRevision);
    return 0;
  }
  if (*check) return podium::app::check_config(check_path);
  if (*creds) return podium::app::turn_credentials(cred_config, cred_user, cred_ttl);
  if (*token) return podium::app::room_token(token_config, token_room, token_role, token_ttl);
  return podium::app::serve(serve_config);
}
