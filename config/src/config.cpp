#include "podium/config/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <sstream>
#include <string_view>
#include <utility>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace podium::config {
namespace {

std::string format_error(const std::string& file, int line, int column, const std::string& key_path,
                         const std::string& message) {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line) + ":" + std::to_string(column);
  out += ": ";
  if (!key_path.empty()) out += key_path + ": ";
  out += message;
  return out;
}

std::optional<std::string> system_environment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

using Words = std::initializer_list<std::string_view>;

// The closest candidate, when it is close enough to be a plausible typo.
std::optional<std::string_view> closest(std::string_view word, Words candidates) {
  std::optional<std::string_view> best;
  std::size_t best_distance = std::numeric_limits<std::size_t>::max();
  for (std::string_view candidate : candidates) {
    std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  std::size_t allowed =
      std::max<std::size_t>(2, std::min(word.size(), best ? best->size() : 0) / 3);
  if (best && best_distance <= allowed && best_distance < word.size()) return best;
  return std::nullopt;
}

std::string join(Words words) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

const char* describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "a string";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::size_t utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) {
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++count;
  }
  return count;
}

// A YAML node with the position and key path errors about it are reported at. `key` is where
// the node's key is (the node's own position for list elements): errors about keys missing
// from a mapping point there.
struct Value {
  YAML::Node node;
  YAML::Mark mark;
  std::string path;
  YAML::Mark key;
};

// A socket some component binds, for detecting port clashes between listeners.
struct Socket {
  std::string label;  // listen URL, or empty
  bool udp;
  Endpoint endpoint;
  YAML::Mark mark;
  std::string path;
};

// Records where the last document started; ignores the content.
class DocumentStarts : public YAML::EventHandler {
 public:
  YAML::Mark start;
  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

class Loader {
 public:
  Loader(std::string file, EnvLookup env, std::filesystem::path base_dir)
      : file_(std::move(file)),
        env_(env != nullptr ? env : &system_environment),
        base_dir_(std::move(base_dir)) {}

  Config load(const std::string& text) {
    Config config;
    config.source = file_;
    YAML::Node root;
    try {
      if (!single_document(text)) return config;
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw error_at(e.mark, "(yaml)", e.msg);
    }
    if (root.IsNull()) return config;
    try {
      read_root(root, config);
    } catch (const YAML::Exception& e) {
      throw error_at(e.mark, "(yaml)", e.msg);
    }
    return config;
  }

 private:
  // The entries of one YAML mapping, with unknown and duplicate keys already rejected.
  class Section {
   public:
    Section(const Loader& loader, const Value& value, Words known) : value_(value) {
      if (value.node.IsNull()) return;
      if (!value.node.IsMap()) {
        loader.fail(value, std::string("expected a mapping with keys like ") +
                               std::string(*known.begin()) + ", got " + describe(value.node));
      }
      for (const auto& pair : value.node) {
        // Copies: yaml-cpp's iterator yields temporaries.
        YAML::Node key = pair.first;
        if (!key.IsScalar()) {
          loader.fail(Value{key, key.Mark(), value.path, key.Mark()}, "keys must be plain names");
        }
        std::string name = key.Scalar();
        std::string path = value.path.empty() ? name : value.path + "." + name;
        if (std::find(known.begin(), known.end(), name) == known.end()) {
          std::string message = value.path.empty() ? "unknown section" : "unknown key";
          if (std::optional<std::string_view> guess = closest(name, known)) {
            message += " (did you mean '" + std::string(*guess) + "'?)";
          } else {
            message += " (known: " + join(known) + ")";
          }
          loader.fail(Value{key, key.Mark(), path, key.Mark()}, message);
        }
        for (const Entry& entry : entries_) {
          if (entry.name == name) {
            loader.fail(Value{key, key.Mark(), path, key.Mark()},
                        "duplicate key (first set on line " +
                            std::to_string(entry.key.Mark().line + 1) + ")");
          }
        }
        YAML::Node child = pair.second;
        // A null value has no position of its own; point at its key instead.
        YAML::Mark mark = child.IsNull() ? key.Mark() : child.Mark();
        entries_.push_back(Entry{name, key, Value{child, mark, path, key.Mark()}});
      }
    }

    const Value* get(std::string_view name) const {
      for (const Entry& entry : entries_) {
        if (entry.name == name) return &entry.value;
      }
      return nullptr;
    }

    // Where to report a missing key: the mapping's own key.
    Value missing(std::string_view name) const {
      return Value{YAML::Node(), value_.key,
                   value_.path.empty() ? std::string(name) : value_.path + "." + std::string(name),
                   value_.key};
    }

   private:
    struct Entry {
      std::string name;
      YAML::Node key;
      Value value;
    };
    Value value_;
    std::vector<Entry> entries_;
  };

  ConfigError error_at(const YAML::Mark& mark, const std::string& path,
                       const std::string& message) const {
    if (mark.is_null() || mark.line < 0) return ConfigError(file_, 0, 0, path, message);
    return ConfigError(file_, mark.line + 1, mark.column + 1, path, message);
  }

  [[noreturn]] void fail(const Value& value, const std::string& message) const {
    throw error_at(value.mark, value.path, message);
  }

  // False for a stream without documents; throws unless there is exactly one. yaml-cpp 0.7
  // never finishes YAML::LoadAll on some inputs (a stray top-level ','): it keeps producing empty
  // documents at the same position. Counting at most two documents avoids that.
  bool single_document(const std::string& text) const {
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentStarts starts;
    if (!parser.HandleNextDocument(starts)) return false;
    YAML::Mark first = starts.start;
    if (!parser.HandleNextDocument(starts)) return true;
    if (starts.start.pos == first.pos && first.pos >= 0 &&
        static_cast<std::size_t>(first.pos) < text.size()) {
      unsigned char c = static_cast<unsigned char>(text[static_cast<std::size_t>(first.pos)]);
      std::string shown = c >= 0x20 && c < 0x7f ? std::string("'") + static_cast<char>(c) + "'"
                                                : "byte " + std::to_string(c);
      throw error_at(first, "(yaml)", "unexpected " + shown);
    }
    throw error_at(starts.start, "(yaml)", "only one YAML document is allowed");
  }

  // ---- scalars -------------------------------------------------------------------------------

  std::string expand(const Value& value, const std::string& raw) const {
    std::string out;
    std::size_t pos = 0;
    while (pos < raw.size()) {
      std::size_t dollar = raw.find('$', pos);
      if (dollar == std::string::npos) {
        out.append(raw, pos, std::string::npos);
        break;
      }
      out.append(raw, pos, dollar - pos);
      if (raw.compare(dollar, 3, "$${") == 0) {
        out += "${";
        pos = dollar + 3;
        continue;
      }
      if (raw.compare(dollar, 2, "${") != 0) {
        out += '$';
        pos = dollar + 1;
        continue;
      }
      std::size_t close = raw.find('}', dollar + 2);
      if (close == std::string::npos) fail(value, "unterminated ${ (write $${ for a literal ${)");
      std::string name = raw.substr(dollar + 2, close - dollar - 2);
      bool valid = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
      for (char c : name) {
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_')) {
          valid = false;
        }
      }
      if (!valid) fail(value, "invalid environment variable name '" + name + "' in ${...}");
      std::optional<std::string> replacement = env_(name);
      if (!replacement) fail(value, "environment variable " + name + " is not set");
      out += *replacement;
      pos = close + 1;
    }
    return out;
  }

  // The scalar's text after `${NAME}` substitution.
  std::string scalar(const Value& value, const char* expected) const {
    if (value.node.IsNull()) {
      fail(value, std::string("missing value: expected ") + expected +
                      " (remove the key to use the default)");
    }
    if (!value.node.IsScalar()) {
      fail(value, std::string("expected ") + expected + ", got " + describe(value.node));
    }
    return expand(value, value.node.Scalar());
  }

  bool quoted(const Value& value) const {
    const std::string& tag = value.node.Tag();
    return tag == "!" || tag == "tag:yaml.org,2002:str";
  }

  std::string read_string(const Value& value) const { return scalar(value, "a string"); }

  std::string read_nonempty_string(const Value& value) const {
    std::string text = read_string(value);
    if (text.empty()) fail(value, "must not be empty");
    return text;
  }

  bool read_bool(const Value& value) const {
    std::string text = scalar(value, "true or false");
    if (!quoted(value)) {
      if (text == "true") return true;
      if (text == "false") return false;
    }
    fail(value, "expected true or false, got '" + text + "'" +
                    (quoted(value) ? " (remove the quotes)" : ""));
  }

  std::uint64_t read_integer(const Value& value, std::uint64_t min, std::uint64_t max,
                             const char* what = "an integer") const {
    std::string text = scalar(value, what);
    std::string range = std::to_string(min) + "-" + std::to_string(max);
    if (quoted(value)) {
      fail(value, std::string("expected ") + what + " " + range + ", got the quoted string '" +
                      text + "' (remove the quotes)");
    }
    bool digits =
        !text.empty() && text.size() <= 19 &&
        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits)
      fail(value, std::string("expected ") + what + " " + range + ", got '" + text + "'");
    std::uint64_t number = std::stoull(text);
    if (number < min || number > max) {
      fail(value, std::to_string(number) + " is out of range (" + range + ")");
    }
    return number;
  }

  unsigned read_unsigned(const Value& value, unsigned min, unsigned max) const {
    return static_cast<unsigned>(read_integer(value, min, max));
  }

  std::uint16_t read_port(const Value& value) const {
    return static_cast<std::uint16_t>(read_integer(value, 0, 65535, "a port number"));
  }

  template <typename T>
  T parsed(const Value& value, Result<T> result) const {
    if (!result) fail(value, result.error());
    return std::move(*result);
  }

  std::chrono::seconds read_seconds(const Value& value, std::chrono::seconds min,
                                    std::optional<std::chrono::seconds> max = std::nullopt) const {
    std::chrono::milliseconds duration =
        parsed(value, parse_duration(scalar(value, "a duration like 30s")));
    if (duration.count() % 1000 != 0) fail(value, "must be a whole number of seconds");
    std::chrono::seconds seconds = std::chrono::duration_cast<std::chrono::seconds>(duration);
    if (seconds < min) fail(value, "must be at least " + format_duration(min));
    if (max && seconds > *max) fail(value, "must be at most " + format_duration(*max));
    return seconds;
  }

  IpAddress read_ip(const Value& value) const {
    return parsed(value, parse_ip_address(scalar(value, "an IP address")));
  }

  Endpoint read_endpoint(const Value& value) const {
    return parsed(value, parse_endpoint(scalar(value, "HOST:PORT")));
  }

  // ---- collections ---------------------------------------------------------------------------

  std::vector<Value> list(const Value& value, const char* element) const {
    std::vector<Value> out;
    if (value.node.IsNull()) return out;
    if (!value.node.IsSequence()) {
      fail(value, std::string("expected a list of ") + element + ", got " + describe(value.node));
    }
    std::size_t index = 0;
    for (const YAML::Node& child : value.node) {
      YAML::Mark mark = child.IsNull() ? value.mark : child.Mark();
      out.push_back(Value{child, mark, value.path + "[" + std::to_string(index++) + "]", mark});
    }
    return out;
  }

  template <typename Parse>
  auto read_list(const Value& value, const char* element, Parse parse) const {
    std::vector<decltype(parse(std::declval<const Value&>()))> out;
    for (const Value& child : list(value, element)) out.push_back(parse(child));
    return out;
  }

  std::vector<Cidr> read_cidrs(const Value& value) const {
    return read_list(value, "networks", [&](const Value& child) {
      return parsed(child, parse_cidr(scalar(child, "a network like 10.0.0.0/8")));
    });
  }

  // ---- sections ------------------------------------------------------------------------------

  void read_root(const YAML::Node& root, Config& config) {
    Value value{root, root.Mark(), "", root.Mark()};
    if (!root.IsMap()) {
      fail(Value{root, root.Mark(), "(root)", root.Mark()},
           std::string(
               "expected a mapping of sections (log, metrics, relay, sfu, signaling), got ") +
               describe(root));
    }
    Section sections(*this, value, {"log", "metrics", "relay", "sfu", "signaling"});
    std::vector<Socket> sockets;
    if (const Value* log = sections.get("log")) config.log = read_log(*log);
    if (const Value* metrics = sections.get("metrics"))
      config.metrics = read_metrics(*metrics, sockets);
    if (const Value* relay = sections.get("relay")) config.relay = read_relay(*relay, sockets);
    if (const Value* sfu = sections.get("sfu")) config.sfu = read_sfu(*sfu, sockets);
    if (const Value* signaling = sections.get("signaling")) {
      config.signaling = read_signaling(*signaling, sockets);
    }
    check_clashes(sockets);
  }

  LogConfig read_log(const Value& value) const {
    Section section(*this, value, {"level", "format"});
    LogConfig log;
    if (const Value* level = section.get("level")) {
      log.level = read_string(*level);
      Words levels{"trace", "debug", "info", "warn", "error", "critical", "off"};
      if (std::find(levels.begin(), levels.end(), log.level) == levels.end()) {
        std::string message = "unknown log level '" + log.level + "'";
        if (std::optional<std::string_view> guess = closest(log.level, levels)) {
          message += " (did you mean '" + std::string(*guess) + "'?)";
        } else {
          message += " (expected one of " + join(levels) + ")";
        }
        fail(*level, message);
      }
    }
    if (const Value* format = section.get("format")) {
      std::string text = read_string(*format);
      if (text == "text") {
        log.format = LogConfig::Format::text;
      } else if (text == "json") {
        log.format = LogConfig::Format::json;
      } else {
        fail(*format, "unknown log format '" + text + "' (expected text or json)");
      }
    }
    return log;
  }

  MetricsConfig read_metrics(const Value& value, std::vector<Socket>& sockets) {
    Section section(*this, value, {"listen", "admin_token", "drain_timeout"});
    MetricsConfig metrics;
    Value listen_at = section.missing("listen");
    if (const Value* listen = section.get("listen")) {
      metrics.listen = read_endpoint(*listen);
      listen_at = *listen;
    }
    sockets.push_back(Socket{"", false, metrics.listen, listen_at.mark, "metrics.listen"});
    if (const Value* token = section.get("admin_token")) metrics.admin_token = read_string(*token);
    if (const Value* drain = section.get("drain_timeout")) {
      metrics.drain_timeout = read_seconds(*drain, std::chrono::seconds{0});
    }
    return metrics;
  }

  TlsConfig read_tls(const Value& value) {
    Section section(*this, value, {"cert", "key"});
    if (value.node.IsNull()) fail(value, "expected a mapping with cert and key");
    TlsConfig tls;
    const Value* cert = section.get("cert");
    if (cert == nullptr)
      fail(section.missing("cert"), "missing (path of the PEM certificate chain)");
    const Value* key = section.get("key");
    if (key == nullptr) fail(section.missing("key"), "missing (path of the PEM private key)");
    tls.cert = readable_file(*cert, "certificate");
    tls.key = readable_file(*key, "private key");
    return tls;
  }

  std::string readable_file(const Value& value, const char* what) const {
    std::string path = read_nonempty_string(value);
    std::filesystem::path resolved(path);
    if (resolved.is_relative() && !base_dir_.empty()) resolved = base_dir_ / resolved;
    path = resolved.string();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    int error = fd < 0 ? errno : 0;
    if (fd >= 0) {
      struct stat info {};
      if (::fstat(fd, &info) != 0) {
        error = errno;
      } else if (S_ISDIR(info.st_mode)) {
        error = EISDIR;
      }
      ::close(fd);
    }
    if (error != 0) {
      fail(value,
           std::string("cannot read ") + what + " file " + path + ": " + std::strerror(error));
    }
    return path;
  }

  // relay.rfc5780: the alternate address and port of the first udp:// listener whose address
  // has the alternate's family.
  Rfc5780Config read_rfc5780(const Value& value, const std::vector<ListenUrl>& listen) {
    Section section(*this, value, {"alternate_ip", "alternate_port"});
    if (value.node.IsNull()) fail(value, "expected a mapping with alternate_ip and alternate_port");
    const Value* ip = section.get("alternate_ip");
    if (ip == nullptr) fail(section.missing("alternate_ip"), "missing (the second IP address)");
    const Value* port = section.get("alternate_port");
    if (port == nullptr) fail(section.missing("alternate_port"), "missing (the second port)");
    Rfc5780Config rfc5780;
    rfc5780.alternate_ip = read_ip(*ip);
    rfc5780.alternate_port = read_port(*port);
    if (rfc5780.alternate_ip.is_unspecified()) {
      fail(*ip, "must be a concrete address, not " + rfc5780.alternate_ip.to_string());
    }
    const ListenUrl* primary = rfc5780_primary(listen, rfc5780);
    if (primary == nullptr) {
      fail(value, std::string("needs a udp:// listener with an ") +
                      (rfc5780.alternate_ip.is_v4() ? "IPv4" : "IPv6") + " address");
    }
    if (primary->endpoint.address.is_unspecified()) {
      fail(value, "needs a concrete address on " + primary->to_string() +
                      " (the primary address of RFC 5780), not " +
                      primary->endpoint.address.to_string());
    }
    if (rfc5780.alternate_ip == primary->endpoint.address) {
      fail(*ip, "must differ from the address of " + primary->to_string());
    }
    if (rfc5780.alternate_port == 0) fail(*port, "must not be 0");
    if (rfc5780.alternate_port == primary->endpoint.port) {
      fail(*port, "must differ from the port of " + primary->to_string());
    }
    return rfc5780;
  }

  RelayConfig read_relay(const Value& value, std::vector<Socket>& sockets) {
    Section section(*this, value,
                    {"listen",
                     "realm",
                     "relay_ip",
                     "external_ip",
                     "relay_ports",
                     "users",
                     "auth_secrets",
                     "ephemeral_secret",
                     "allow_peers",
                     "deny_peers",
                     "trusted_peers",
                     "tls",
                     "workers",
                     "default_lifetime",
                     "max_lifetime",
                     "nonce_lifetime",
                     "credential_ttl",
                     "max_allocations",
                     "user_quota",
                     "allocation_bandwidth",
                     "unauthenticated_rate",
                     "software",
                     "proxy_protocol",
                     "mobility",
                     "rfc5780"});
    RelayConfig relay;
    if (const Value* tls = section.get("tls")) relay.tls = read_tls(*tls);

    std::vector<Value> listen_values;
    if (const Value* listen = section.get("listen")) {
      listen_values = list(*listen, "listen URLs");
      if (listen_values.empty()) {
        fail(*listen, "at least one listener is required (e.g. udp://0.0.0.0:3478)");
      }
    } else {
      fail(section.missing("listen"),
           "missing: at least one listener is required (e.g. "
           "udp://0.0.0.0:3478)");
    }
    for (const Value& child : listen_values) {
      ListenUrl url = parsed(child, parse_listen_url(scalar(child, "a listen URL")));
      if ((url.transport == Transport::tls || url.transport == Transport::dtls) && !relay.tls) {
        fail(child, std::string(to_string(url.transport)) +
                        ":// needs a certificate: add relay.tls with cert and key");
      }
      relay.listen.push_back(url);
      bool udp = url.transport == Transport::udp || url.transport == Transport::dtls;
      sockets.push_back(Socket{url.to_string(), udp, url.endpoint, child.mark, child.path});
    }

    if (const Value* realm = section.get("realm")) {
      relay.realm = read_nonempty_string(*realm);
      if (utf8_length(relay.realm) >= 128) fail(*realm, "must be shorter than 128 characters");
    }
    std::optional<Value> relay_ip_at;
    if (const Value* relay_ip = section.get("relay_ip")) {
      if (relay_ip->node.IsSequence()) {
        read_relay_ips(*relay_ip, relay);
        relay_ip_at = list(*relay_ip, "IP addresses").front();
      } else {
        relay.relay_ip = read_ip(*relay_ip);
        relay_ip_at = *relay_ip;
      }
    }
    if (const Value* external_ip = section.get("external_ip")) {
      relay.external_ip = read_ip(*external_ip);
      if (relay.external_ip->is_unspecified()) {
        fail(*external_ip, "must be the concrete address clients reach the relay at, not " +
                               relay.external_ip->to_string());
      }
      if (!relay.extra_relay_ips.empty()) {
        fail(*external_ip,
             "cannot be combined with several relay.relay_ip addresses: it would replace every "
             "one of them in XOR-RELAYED-ADDRESS, so allocations on the same port of different "
             "addresses would be advertised as the same address. List addresses clients reach "
             "directly, or run one relay per external address");
      }
    }
    if (!relay.external_ip) {
      // The advertised relayed address falls back to relay_ip, then to the first listen host.
      if (relay.relay_ip && relay.relay_ip->is_unspecified()) {
        fail(*relay_ip_at, relay.relay_ip->to_string() +
                               " cannot be advertised to clients: set relay.external_ip too");
      }
      if (!relay.relay_ip && relay.listen.front().endpoint.address.is_unspecified()) {
        fail(listen_values.front(), "listens on " +
                                        relay.listen.front().endpoint.address.to_string() +
                                        ", so set relay.relay_ip (or relay.external_ip) to the "
                                        "address relayed sockets are reached at");
      }
    }
    if (const Value* ports = section.get("relay_ports")) {
      relay.relay_ports = parsed(*ports, parse_port_range(scalar(*ports, "a port range")));
    }

    const Value* users = section.get("users");
    if (users != nullptr) read_users(*users, relay.users);
    const Value* secrets = section.get("auth_secrets");
    if (secrets != nullptr) {
      relay.auth_secrets = read_list(
          *secrets, "secrets", [&](const Value& child) { return read_nonempty_string(child); });
    }
    if (const Value* proxy = section.get("proxy_protocol")) {
      relay.proxy_protocol = read_bool(*proxy);
    }
    if (const Value* mobility = section.get("mobility")) relay.mobility = read_bool(*mobility);
    if (const Value* rfc5780 = section.get("rfc5780")) {
      relay.rfc5780 = read_rfc5780(*rfc5780, relay.listen);
    }
    const Value* ephemeral = section.get("ephemeral_secret");
    if (ephemeral != nullptr) relay.ephemeral_secret = read_bool(*ephemeral);
    if (relay.ephemeral_secret && !relay.auth_secrets.empty()) {
      fail(*ephemeral, "cannot be combined with auth_secrets (the first secret already mints)");
    }
    if (relay.users.empty() && relay.auth_secrets.empty() && !relay.ephemeral_secret) {
      Value at = users != nullptr     ? *users
                 : secrets != nullptr ? *secrets
                                      : section.missing("users");
      fail(at, "the relay needs credentials: set users, auth_secrets or ephemeral_secret: true");
    }

    if (const Value* allow = section.get("allow_peers")) relay.allow_peers = read_cidrs(*allow);
    if (const Value* trusted = section.get("trusted_peers")) {
      for (const Value& item : list(*trusted, "HOST:PORT peers")) {
        relay.trusted_peers.push_back(read_endpoint(item));
      }
    }
    if (const Value* deny = section.get("deny_peers")) relay.deny_peers = read_cidrs(*deny);
    if (const Value* workers = section.get("workers"))
      relay.workers = read_unsigned(*workers, 0, 1024);

    using std::chrono::seconds;
    const Value* max_lifetime = section.get("max_lifetime");
    if (max_lifetime != nullptr)
      relay.max_lifetime = read_seconds(*max_lifetime, seconds{1}, seconds{3600});
    const Value* default_lifetime = section.get("default_lifetime");
    if (default_lifetime != nullptr) {
      relay.default_lifetime = read_seconds(*default_lifetime, seconds{1}, seconds{3600});
    }
    if (relay.default_lifetime > relay.max_lifetime) {
      const Value& at = default_lifetime != nullptr ? *default_lifetime : *max_lifetime;
      fail(at, "default_lifetime (" + format_duration(relay.default_lifetime) +
                   ") must not exceed max_lifetime (" + format_duration(relay.max_lifetime) + ")");
    }
    if (const Value* nonce = section.get("nonce_lifetime")) {
      relay.nonce_lifetime = read_seconds(*nonce, seconds{1});
    }
    if (const Value* ttl = section.get("credential_ttl")) {
      relay.credential_ttl = read_seconds(*ttl, seconds{1});
    }
    constexpr unsigned unsigned_max = std::numeric_limits<unsigned>::max();
    if (const Value* max = section.get("max_allocations")) {
      relay.max_allocations = read_unsigned(*max, 0, unsigned_max);
    }
    if (const Value* quota = section.get("user_quota")) {
      relay.user_quota = read_unsigned(*quota, 0, unsigned_max);
    }
    if (const Value* bandwidth = section.get("allocation_bandwidth")) {
      relay.allocation_bandwidth =
          parsed(*bandwidth, parse_rate(scalar(*bandwidth, "a rate like 2Mbit/s")));
    }
    if (const Value* rate = section.get("unauthenticated_rate")) {
      relay.unauthenticated_rate = read_unsigned(*rate, 0, 1'000'000);
    }
    if (const Value* software = section.get("software")) {
      relay.software = read_string(*software);
      if (utf8_length(relay.software) >= 128)
        fail(*software, "must be shorter than 128 characters");
    }
    return relay;
  }

  // relay.relay_ip as a list: several relay addresses, each with the whole relay_ports range.
  // IPv4 and IPv6 may be mixed (an Allocate gets one of the family it requests, RFC 6156).
  void read_relay_ips(const Value& value, RelayConfig& relay) const {
    std::vector<Value> items = list(value, "IP addresses");
    if (items.empty()) {
      fail(value,
           "expected at least one IP address (remove the key to use the first listener's "
           "address)");
    }
    std::vector<IpAddress> addresses;
    for (std::size_t i = 0; i < items.size(); ++i) {
      IpAddress address = read_ip(items[i]);
      if (address.is_unspecified() && items.size() > 1) {
        fail(items[i], address.to_string() +
                           " cannot be one of several relay addresses: list the concrete "
                           "addresses relayed sockets bind to");
      }
      auto seen = std::find(addresses.begin(), addresses.end(), address);
      if (seen != addresses.end()) {
        fail(items[i], address.to_string() + " is listed twice (also " +
                           items[static_cast<std::size_t>(seen - addresses.begin())].path + ")");
      }
      addresses.push_back(address);
    }
    relay.relay_ip = addresses.front();
    relay.extra_relay_ips.assign(addresses.begin() + 1, addresses.end());
  }

  void read_users(const Value& value, std::map<std::string, std::string>& users) {
    if (value.node.IsNull()) return;
    if (!value.node.IsMap()) {
      fail(value, std::string("expected a mapping of user: password, got ") + describe(value.node));
    }
    for (const auto& pair : value.node) {
      YAML::Node key = pair.first;
      if (!key.IsScalar()) {
        fail(Value{key, key.Mark(), value.path, key.Mark()}, "user names must be strings");
      }
      std::string name = key.Scalar();
      Value name_at{key, key.Mark(), value.path + "." + name, key.Mark()};
      if (name.empty()) fail(name_at, "user name must not be empty");
      if (name.find(':') != std::string::npos) {
        fail(name_at, "user names must not contain ':' (reserved for TURN REST credentials)");
      }
      if (users.count(name) != 0) fail(name_at, "duplicate user");
      YAML::Node password = pair.second;
      Value password_at{password, password.IsNull() ? key.Mark() : password.Mark(), name_at.path,
                        key.Mark()};
      users[name] = read_nonempty_string(password_at);
    }
  }

  SfuConfig read_sfu(const Value& value, std::vector<Socket>& sockets) {
    Section section(*this, value,
                    {"listen_ip", "announced_ip", "udp_port", "tcp_port", "workers", "max_sessions",
                     "consent_timeout", "certificate", "slides"});
    SfuConfig sfu;
    Value listen_at = section.missing("listen_ip");
    if (const Value* listen_ip = section.get("listen_ip")) {
      sfu.listen_ip = read_ip(*listen_ip);
      listen_at = *listen_ip;
    }
    if (const Value* announced = section.get("announced_ip")) {
      sfu.announced_ip = read_ip(*announced);
      if (sfu.announced_ip->is_unspecified()) {
        fail(*announced, "must be the concrete address browsers reach the SFU at, not " +
                             sfu.announced_ip->to_string());
      }
    } else if (sfu.listen_ip.is_unspecified()) {
      fail(listen_at, sfu.listen_ip.to_string() +
                          " cannot be announced to browsers: set sfu.announced_ip too");
    }
    Value port_at = listen_at;
    if (const Value* port = section.get("udp_port")) {
      sfu.udp_port = read_port(*port);
      port_at = *port;
    }
    sockets.push_back(
        Socket{"", true, Endpoint{sfu.listen_ip, sfu.udp_port}, port_at.mark, "sfu.udp_port"});
    if (const Value* port = section.get("tcp_port")) {
      // A TCP socket: it may share its number with sfu.udp_port, not with a TCP listener.
      sfu.tcp_port = read_port(*port);
      sockets.push_back(
          Socket{"", false, Endpoint{sfu.listen_ip, *sfu.tcp_port}, port->mark, "sfu.tcp_port"});
    }
    if (const Value* workers = section.get("workers"))
      sfu.workers = read_unsigned(*workers, 0, 1024);
    if (const Value* max = section.get("max_sessions")) {
      sfu.max_sessions = read_unsigned(*max, 1, 1'000'000);
    }
    if (const Value* consent = section.get("consent_timeout")) {
      sfu.consent_timeout = read_seconds(*consent, std::chrono::seconds{5});
    }
    if (const Value* certificate = section.get("certificate")) {
      sfu.certificate = read_tls(*certificate);
    }
    if (const Value* slides = section.get("slides")) sfu.slides = read_slides(*slides);
    return sfu;
  }

  // 262144 → "256KiB", 1073741824 → "1GiB" (the bounds are whole binary units).
  static std::string human_size(std::uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB"};
    std::size_t unit = 0;
    while (unit < 3 && bytes >= 1024 && bytes % 1024 == 0) {
      bytes /= 1024;
      ++unit;
    }
    return std::to_string(bytes) + units[unit];
  }

  SlidesConfig read_slides(const Value& value) {
    Section section(*this, value, {"guest_queue", "max_room_bytes", "max_slide_bytes"});
    SlidesConfig slides;
    auto size = [&](const char* key, ByteSize& out, std::uint64_t min, std::uint64_t max) {
      const Value* given = section.get(key);
      if (given == nullptr) return;
      out = parsed(*given, parse_size(scalar(*given, "a size like 2MiB")));
      if (out.bytes < min || out.bytes > max) {
        fail(*given, "must be between " + human_size(min) + " and " + human_size(max));
      }
    };
    size("guest_queue", slides.guest_queue, 256u << 10, 256u << 20);
    size("max_slide_bytes", slides.max_slide_bytes, 1u << 10, 1ull << 30);
    size("max_room_bytes", slides.max_room_bytes, 1u << 20, 64ull << 30);
    if (slides.max_room_bytes < slides.max_slide_bytes) {
      const Value* at = section.get("max_room_bytes");
      fail(at ? *at : section.missing("max_room_bytes"),
           "must be at least sfu.slides.max_slide_bytes (" +
               std::to_string(slides.max_slide_bytes.bytes) + " bytes)");
    }
    return slides;
  }

  SignalingConfig read_signaling(const Value& value, std::vector<Socket>& sockets) {
    Section section(*this, value,
                    {"listen", "public_url", "token_secret", "api_key", "open_rooms", "token_ttl",
                     "max_sdp_bytes", "max_image_edge"});
    SignalingConfig signaling;
    Value listen_at = section.missing("listen");
    if (const Value* listen = section.get("listen")) {
      signaling.listen = read_endpoint(*listen);
      listen_at = *listen;
    }
    sockets.push_back(Socket{"", false, signaling.listen, listen_at.mark, "signaling.listen"});
    if (const Value* url = section.get("public_url")) signaling.public_url = read_public_url(*url);
    if (const Value* open = section.get("open_rooms")) signaling.open_rooms = read_bool(*open);
    for (auto [key, field] : {std::pair{"token_secret", &signaling.token_secret},
                              std::pair{"api_key", &signaling.api_key}}) {
      const Value* given = section.get(key);
      if (given != nullptr) *field = read_string(*given);
      if (field->empty() && !signaling.open_rooms) {
        fail(given != nullptr ? *given : section.missing(key), "required when open_rooms is false");
      }
    }
    if (const Value* ttl = section.get("token_ttl")) {
      signaling.token_ttl = read_seconds(*ttl, std::chrono::seconds{1});
    }
    if (const Value* sdp = section.get("max_sdp_bytes")) {
      signaling.max_sdp_bytes = parsed(*sdp, parse_size(scalar(*sdp, "a size like 64KiB")));
      if (signaling.max_sdp_bytes.bytes < 1024 || signaling.max_sdp_bytes.bytes > (16u << 20)) {
        fail(*sdp, "must be between 1KiB and 16MiB");
      }
    }
    if (const Value* edge = section.get("max_image_edge")) {
      signaling.max_image_edge = read_unsigned(*edge, 256, 16384);
    }
    return signaling;
  }

  std::string read_public_url(const Value& value) const {
    std::string url = read_string(value);
    std::size_t host_start = 0;
    if (url.rfind("http://", 0) == 0) {
      host_start = 7;
    } else if (url.rfind("https://", 0) == 0) {
      host_start = 8;
    } else {
      fail(value, "expected an http:// or https:// URL, got '" + url + "'");
    }
    while (url.size() > host_start && url.back() == '/') url.pop_back();
    if (host_start >= url.size() || url[host_start] == '/') fail(value, "the URL has no host");
    if (url.find_first_of("?# ") != std::string::npos) {
      fail(value, "the URL must not contain a query, fragment or spaces");
    }
    return url;
  }

  // Two listeners clash when they use the same protocol and port on the same address, or one
  // of them binds the wildcard address of the other's family.
  void check_clashes(std::vector<Socket>& sockets) const {
    std::stable_sort(sockets.begin(), sockets.end(), [](const Socket& a, const Socket& b) {
      return std::pair(a.mark.line, a.mark.column) < std::pair(b.mark.line, b.mark.column);
    });
    for (std::size_t i = 0; i < sockets.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        const Socket& a = sockets[j];
        const Socket& b = sockets[i];
        if (a.udp != b.udp || a.endpoint.port != b.endpoint.port || a.endpoint.port == 0) continue;
        const IpAddress& x = a.endpoint.address;
        const IpAddress& y = b.endpoint.address;
        bool overlap =
            x == y || (x.is_v4() == y.is_v4() && (x.is_unspecified() || y.is_unspecified()));
        if (!overlap) continue;
        std::string message = std::string(b.udp ? "UDP" : "TCP") + " " + b.endpoint.to_string();
        if (!a.label.empty() && a.label == b.label) {
          message = "duplicate listener (same as " + a.path + ")";
        } else {
          message += " is already used by " + a.path + " (" + a.endpoint.to_string() + ")";
        }
        throw error_at(b.mark, b.path, message);
      }
    }
  }

  std::string file_;
  EnvLookup env_;
  std::filesystem::path base_dir_;
};

}  // namespace

ConfigError::ConfigError(std::string file, int line, int column, std::string key_path,
                         std::string message)
    : std::runtime_error(format_error(file, line, column, key_path, message)),
      file_(std::move(file)),
      line_(line),
      column_(column),
      key_path_(std::move(key_path)),
      message_(std::move(message)) {}

const ListenUrl* rfc5780_primary(const std::vector<ListenUrl>& listen,
                                 const Rfc5780Config& rfc5780) {
  for (const auto& url : listen) {
    if (url.transport == Transport::udp &&
        url.endpoint.address.is_v4() == rfc5780.alternate_ip.is_v4()) {
      return &url;
    }
  }
  return nullptr;
}

std::vector<IpAddress> relay_addresses(const RelayConfig& relay) {
  std::vector<IpAddress> addresses;
  if (!relay.relay_ip) return addresses;
  addresses.push_back(*relay.relay_ip);
  addresses.insert(addresses.end(), relay.extra_relay_ips.begin(), relay.extra_relay_ips.end());
  return addresses;
}

Config load_string(const std::string& yaml, const std::string& file_name, EnvLookup env) {
  return Loader(file_name, env, {}).load(yaml);
}

Config load_file(const std::string& path, EnvLookup env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int error = errno;
    throw ConfigError(path, 0, 0, "",
                      std::string("cannot read configuration file: ") +
                          std::strerror(error != 0 ? error : ENOENT));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    throw ConfigError(path, 0, 0, "", "cannot read configuration file: read error");
  }
  return Loader(path, env, std::filesystem::path(path).parent_path()).load(text.str());
}

}  // namespace podium::config
