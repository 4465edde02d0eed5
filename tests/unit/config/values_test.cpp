#include "podium/config/values.hpp"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace podium::config {
namespace {

using namespace std::chrono_literals;
using boost::asio::ip::make_address;

// The error of a failed parse, or a marker when it unexpectedly succeeded.
template <typename T>
std::string error_of(const Result<T>& result) {
  return result ? std::string("<parsed>") : result.error();
}

TEST(ParseDuration, AcceptsEachUnit) {
  EXPECT_EQ(*parse_duration("500ms"), 500ms);
  EXPECT_EQ(*parse_duration("30s"), 30s);
  EXPECT_EQ(*parse_duration("10m"), 10min);
  EXPECT_EQ(*parse_duration("24h"), 24h);
  EXPECT_EQ(*parse_duration("7d"), 7 * 24h);
  EXPECT_EQ(*parse_duration("0s"), 0ms);
  EXPECT_EQ(*parse_duration("0"), 0ms);
}

TEST(ParseDuration, AcceptsCombinationsLargestFirst) {
  EXPECT_EQ(*parse_duration("1h30m"), 90min);
  EXPECT_EQ(*parse_duration("1d2h3m4s5ms"), 24h + 2h + 3min + 4s + 5ms);
  EXPECT_EQ(*parse_duration("1s500ms"), 1500ms);
}

TEST(ParseDuration, RejectsBareIntegerWithHint) {
  EXPECT_EQ(error_of(parse_duration("30")), "duration '30' has no unit (add a unit, e.g. 30s)");
}

TEST(ParseDuration, RejectsMalformedText) {
  EXPECT_EQ(error_of(parse_duration("")), "empty duration (expected e.g. 30s, 10m, 24h)");
  EXPECT_EQ(error_of(parse_duration("10x")),
            "unknown unit 'x' in duration '10x' (use ms, s, m, h or d)");
  EXPECT_EQ(error_of(parse_duration("10 s")),
            "unknown unit ' s' in duration '10 s' (use ms, s, m, h or d)");
  EXPECT_EQ(error_of(parse_duration("-5s")),
            "invalid duration '-5s' (expected e.g. 500ms, 30s, 10m, 1h30m)");
  EXPECT_EQ(error_of(parse_duration("s")),
            "invalid duration 's' (expected e.g. 500ms, 30s, 10m, 1h30m)");
  EXPECT_EQ(error_of(parse_duration("1.5h")),
            "fractions are not supported in duration '1.5h' (use a smaller unit, e.g. 1h30m or "
            "1500ms)");
  EXPECT_EQ(error_of(parse_duration("30m1h")),
            "units in duration '30m1h' must each appear once, largest first (e.g. 1h30m)");
  EXPECT_EQ(error_of(parse_duration("1m1m")),
            "units in duration '1m1m' must each appear once, largest first (e.g. 1h30m)");
  EXPECT_EQ(error_of(parse_duration("1h30")),
            "duration '1h30' ends without a unit (use ms, s, m, h or d)");
}

TEST(ParseDuration, RejectsOverflow) {
  EXPECT_EQ(error_of(parse_duration("99999999999999999999s")),
            "duration '99999999999999999999s' is too large");
  EXPECT_EQ(error_of(parse_duration("9999999999999999d")),
            "duration '9999999999999999d' is too large");
}

TEST(FormatDuration, UsesLargestUnitsFirst) {
  EXPECT_EQ(format_duration(0ms), "0s");
  EXPECT_EQ(format_duration(500ms), "500ms");
  EXPECT_EQ(format_duration(30s), "30s");
  EXPECT_EQ(format_duration(10min), "10m");
  EXPECT_EQ(format_duration(90min), "1h30m");
  EXPECT_EQ(format_duration(24h), "1d");
  EXPECT_EQ(format_duration(1500ms), "1s500ms");
  EXPECT_EQ(format_duration(-90s), "-1m30s");
}

TEST(FormatDuration, RoundTripsThroughParse) {
  for (auto duration : {1ms, 999ms, 61000ms, 3600000ms, 90061001ms}) {
    EXPECT_EQ(*parse_duration(format_duration(duration)), duration) << format_duration(duration);
  }
}

TEST(ParseSize, AcceptsBytesAndUnits) {
  EXPECT_EQ(parse_size("512")->bytes, 512u);
  EXPECT_EQ(parse_size("0")->bytes, 0u);
  EXPECT_EQ(parse_size("512B")->bytes, 512u);
  EXPECT_EQ(parse_size("10kB")->bytes, 10'000u);
  EXPECT_EQ(parse_size("50MB")->bytes, 50'000'000u);
  EXPECT_EQ(parse_size("2GB")->bytes, 2'000'000'000u);
  EXPECT_EQ(parse_size("64KiB")->bytes, 65'536u);
  EXPECT_EQ(parse_size("1MiB")->bytes, 1'048'576u);
  EXPECT_EQ(parse_size("1GiB")->bytes, 1'073'741'824u);
}

TEST(ParseSize, RejectsUnknownUnitsAndGarbage) {
  EXPECT_EQ(error_of(parse_size("50M")),
            "unknown unit 'M' in size '50M' (use B, kB, MB, GB, KiB, MiB or GiB)");
  EXPECT_EQ(error_of(parse_size("10KB")),
            "unknown unit 'KB' in size '10KB' (use B, kB, MB, GB, KiB, MiB or GiB)");
  EXPECT_EQ(error_of(parse_size("MB")), "invalid size 'MB' (expected e.g. 512, 64KiB, 50MB)");
  EXPECT_EQ(error_of(parse_size("")), "invalid size '' (expected e.g. 512, 64KiB, 50MB)");
  EXPECT_EQ(error_of(parse_size("-1")), "invalid size '-1' (expected e.g. 512, 64KiB, 50MB)");
  EXPECT_EQ(error_of(parse_size("20000000000GiB")), "size '20000000000GiB' is too large");
  EXPECT_EQ(error_of(parse_size("99999999999999999999")),
            "size '99999999999999999999' is too large");
}

TEST(ParseRate, AcceptsBitAndByteUnits) {
  EXPECT_EQ(parse_rate("0")->bits_per_second, 0u);
  EXPECT_EQ(parse_rate("800bit/s")->bits_per_second, 800u);
  EXPECT_EQ(parse_rate("64kbit/s")->bits_per_second, 64'000u);
  EXPECT_EQ(parse_rate("2Mbit/s")->bits_per_second, 2'000'000u);
  EXPECT_EQ(parse_rate("1Gbit/s")->bits_per_second, 1'000'000'000u);
  EXPECT_EQ(parse_rate("100B/s")->bits_per_second, 800u);
  EXPECT_EQ(parse_rate("100kB/s")->bits_per_second, 800'000u);
  EXPECT_EQ(parse_rate("1MB/s")->bits_per_second, 8'000'000u);
  EXPECT_EQ(parse_rate("1GB/s")->bits_per_second, 8'000'000'000u);
}

TEST(ParseRate, RejectsMissingOrUnknownUnits) {
  EXPECT_EQ(error_of(parse_rate("2000")), "rate '2000' has no unit (add a unit, e.g. 2000kbit/s)");
  EXPECT_EQ(error_of(parse_rate("2Mbps")),
            "unknown unit 'Mbps' in rate '2Mbps' (use bit/s, kbit/s, Mbit/s, Gbit/s, B/s, kB/s, "
            "MB/s or GB/s)");
  EXPECT_EQ(error_of(parse_rate("fast")),
            "invalid rate 'fast' (expected e.g. 64kbit/s, 2Mbit/s, 1MB/s)");
  EXPECT_EQ(error_of(parse_rate("9999999999999GB/s")), "rate '9999999999999GB/s' is too large");
}

TEST(ParseIpAddress, AcceptsV4AndV6) {
  EXPECT_EQ(*parse_ip_address("127.0.0.1"), make_address("127.0.0.1"));
  EXPECT_EQ(*parse_ip_address("::1"), make_address("::1"));
  EXPECT_EQ(*parse_ip_address("2001:db8::5"), make_address("2001:db8::5"));
  EXPECT_TRUE(parse_ip_address("0.0.0.0")->is_unspecified());
}

TEST(ParseIpAddress, RejectsHostNamesBracketsAndGarbage) {
  EXPECT_EQ(error_of(parse_ip_address("localhost")),
            "expected an IP address, got 'localhost' (host names are not resolved)");
  EXPECT_EQ(error_of(parse_ip_address("[::1]")),
            "expected an IP address, got '[::1]' (write IPv6 addresses without brackets here)");
  EXPECT_EQ(error_of(parse_ip_address("1.2.3")), "expected an IP address, got '1.2.3'");
  EXPECT_EQ(error_of(parse_ip_address("256.1.1.1")), "expected an IP address, got '256.1.1.1'");
  EXPECT_EQ(error_of(parse_ip_address("")), "expected an IP address, got an empty string");
}

TEST(ParseEndpoint, AcceptsV4AndBracketedV6) {
  Endpoint v4 = *parse_endpoint("1.2.3.4:80");
  EXPECT_EQ(v4.address, make_address("1.2.3.4"));
  EXPECT_EQ(v4.port, 80);
  Endpoint v6 = *parse_endpoint("[::1]:8080");
  EXPECT_EQ(v6.address, make_address("::1"));
  EXPECT_EQ(v6.port, 8080);
  EXPECT_EQ(parse_endpoint("0.0.0.0:0")->port, 0);
  EXPECT_EQ(parse_endpoint("1.2.3.4:65535")->port, 65535);
}

TEST(ParseEndpoint, RejectsBadInput) {
  EXPECT_EQ(error_of(parse_endpoint("1.2.3.4")),
            "missing port in '1.2.3.4' (expected HOST:PORT, e.g. 127.0.0.1:8080)");
  EXPECT_EQ(error_of(parse_endpoint("example.org:80")),
            "expected an IP address, got 'example.org' (host names are not resolved)");
  EXPECT_EQ(error_of(parse_endpoint("::1:80")),
            "IPv6 address in '::1:80' needs brackets, e.g. [::1]:8080");
  EXPECT_EQ(error_of(parse_endpoint("[::1]")), "missing port in '[::1]' (expected [IPv6]:PORT)");
  EXPECT_EQ(error_of(parse_endpoint("[::1:80")), "missing ']' in '[::1:80' (expected [IPv6]:PORT)");
  EXPECT_EQ(error_of(parse_endpoint("[1.2.3.4]:80")),
            "expected an IPv6 address inside the brackets of '[1.2.3.4]:80'");
  EXPECT_EQ(error_of(parse_endpoint("1.2.3.4:65536")), "port 65536 is out of range (0-65535)");
  EXPECT_EQ(error_of(parse_endpoint("1.2.3.4:http")), "invalid port 'http' in '1.2.3.4:http'");
  EXPECT_EQ(error_of(parse_endpoint("1.2.3.4:")), "invalid port '' in '1.2.3.4:'");
}

TEST(Endpoint, ToString) {
  EXPECT_EQ(parse_endpoint("1.2.3.4:5")->to_string(), "1.2.3.4:5");
  EXPECT_EQ(parse_endpoint("[::1]:5")->to_string(), "[::1]:5");
  EXPECT_EQ(parse_endpoint("[2001:DB8:0::1]:443")->to_string(), "[2001:db8::1]:443");
}

TEST(ParseCidr, AcceptsNetworksAndBareAddresses) {
  Cidr v4 = *parse_cidr("10.0.0.0/8");
  EXPECT_EQ(v4.network, make_address("10.0.0.0"));
  EXPECT_EQ(v4.prefix, 8u);
  Cidr v6 = *parse_cidr("fc00::/7");
  EXPECT_EQ(v6.prefix, 7u);
  EXPECT_EQ(parse_cidr("192.0.2.7")->prefix, 32u);
  EXPECT_EQ(parse_cidr("::1")->prefix, 128u);
  EXPECT_EQ(parse_cidr("0.0.0.0/0")->prefix, 0u);
}

TEST(ParseCidr, RejectsHostBitsAndBadPrefixes) {
  EXPECT_EQ(error_of(parse_cidr("10.0.0.1/8")),
            "host bits are set in '10.0.0.1/8' (did you mean 10.0.0.0/8?)");
  EXPECT_EQ(error_of(parse_cidr("fc00::1/7")),
            "host bits are set in 'fc00::1/7' (did you mean fc00::/7?)");
  EXPECT_EQ(error_of(parse_cidr("10.0.0.0/33")),
            "prefix length 33 in '10.0.0.0/33' is out of range (0-32)");
  EXPECT_EQ(error_of(parse_cidr("::/129")),
            "prefix length 129 in '::/129' is out of range (0-128)");
  EXPECT_EQ(error_of(parse_cidr("10.0.0.0/")),
            "invalid prefix length in '10.0.0.0/' (expected ADDRESS/BITS)");
  EXPECT_EQ(error_of(parse_cidr("10.0.0.0/x")),
            "invalid prefix length in '10.0.0.0/x' (expected ADDRESS/BITS)");
  EXPECT_EQ(error_of(parse_cidr("lan/8")),
            "expected an IP address, got 'lan' (host names are not resolved) in network 'lan/8'");
}

TEST(Cidr, ContainsRespectsPrefixAndFamily) {
  Cidr private10 = *parse_cidr("10.0.0.0/8");
  EXPECT_TRUE(private10.contains(make_address("10.255.1.2")));
  EXPECT_FALSE(private10.contains(make_address("11.0.0.1")));
  EXPECT_FALSE(private10.contains(make_address("::ffff:10.0.0.1")));

  Cidr odd = *parse_cidr("192.168.0.0/23");
  EXPECT_TRUE(odd.contains(make_address("192.168.1.255")));
  EXPECT_FALSE(odd.contains(make_address("192.168.2.0")));

  Cidr ula = *parse_cidr("fc00::/7");
  EXPECT_TRUE(ula.contains(make_address("fd12::1")));
  EXPECT_FALSE(ula.contains(make_address("fe80::1")));
  EXPECT_FALSE(ula.contains(make_address("10.0.0.1")));

  Cidr everything_v4 = *parse_cidr("0.0.0.0/0");
  EXPECT_TRUE(everything_v4.contains(make_address("8.8.8.8")));
  EXPECT_FALSE(everything_v4.contains(make_address("::")));
  Cidr everything_v6 = *parse_cidr("::/0");
  EXPECT_TRUE(everything_v6.contains(make_address("2001:db8::1")));
  EXPECT_FALSE(everything_v6.contains(make_address("1.2.3.4")));

  Cidr single = *parse_cidr("::1");
  EXPECT_TRUE(single.contains(make_address("::1")));
  EXPECT_FALSE(single.contains(make_address("::2")));
}

TEST(Cidr, ToString) {
  EXPECT_EQ(parse_cidr("10.0.0.0/8")->to_string(), "10.0.0.0/8");
  EXPECT_EQ(parse_cidr("192.0.2.7")->to_string(), "192.0.2.7/32");
  EXPECT_EQ(parse_cidr("FC00::/7")->to_string(), "fc00::/7");
}

TEST(ParseListenUrl, AcceptsEveryTransport) {
  ListenUrl udp = *parse_listen_url("udp://127.0.0.1:3478");
  EXPECT_EQ(udp.transport, Transport::udp);
  EXPECT_EQ(udp.endpoint, *parse_endpoint("127.0.0.1:3478"));
  EXPECT_EQ(parse_listen_url("tcp://0.0.0.0:3478")->transport, Transport::tcp);
  EXPECT_EQ(parse_listen_url("tls://[::]:5349")->transport, Transport::tls);
  EXPECT_EQ(parse_listen_url("dtls://[::1]:5349")->transport, Transport::dtls);
  // Port 0: the OS picks one (tests read back the bound port).
  EXPECT_EQ(parse_listen_url("udp://127.0.0.1:0")->endpoint.port, 0);
}

TEST(ParseListenUrl, RejectsBadInput) {
  EXPECT_EQ(error_of(parse_listen_url("127.0.0.1:3478")),
            "expected a listen URL like udp://127.0.0.1:3478, got '127.0.0.1:3478'");
  EXPECT_EQ(error_of(parse_listen_url("turn://127.0.0.1:3478")),
            "unknown transport 'turn' in 'turn://127.0.0.1:3478' (use udp, tcp, tls or dtls)");
  EXPECT_EQ(error_of(parse_listen_url("udp://turn.example.org:3478")),
            "expected an IP address, got 'turn.example.org' (host names are not resolved)");
  EXPECT_EQ(error_of(parse_listen_url("udp://127.0.0.1")),
            "missing port in '127.0.0.1' (expected HOST:PORT, e.g. 127.0.0.1:8080)");
}

TEST(ListenUrl, ToString) {
  EXPECT_EQ(parse_listen_url("udp://127.0.0.1:3478")->to_string(), "udp://127.0.0.1:3478");
  EXPECT_EQ(parse_listen_url("tls://[::]:5349")->to_string(), "tls://[::]:5349");
  EXPECT_STREQ(to_string(Transport::dtls), "dtls");
  EXPECT_STREQ(to_string(Transport::tcp), "tcp");
}

TEST(ParsePortRange, AcceptsRanges) {
  EXPECT_EQ(*parse_port_range("49152-65535"), (PortRange{49152, 65535}));
  EXPECT_EQ(*parse_port_range("5000-5000"), (PortRange{5000, 5000}));
  EXPECT_EQ(*parse_port_range("1-2"), (PortRange{1, 2}));
}

TEST(ParsePortRange, RejectsBadRanges) {
  EXPECT_EQ(error_of(parse_port_range("5000")),
            "expected a port range FIRST-LAST (e.g. 49152-65535), got '5000'");
  EXPECT_EQ(error_of(parse_port_range("6000-5000")),
            "port range '6000-5000' ends before it starts");
  EXPECT_EQ(error_of(parse_port_range("0-10")), "port range '0-10' must start at 1 or above");
  EXPECT_EQ(error_of(parse_port_range("1-70000")), "port 70000 is out of range (0-65535)");
  EXPECT_EQ(error_of(parse_port_range("a-b")), "invalid port 'a' in 'a-b'");
  EXPECT_EQ(error_of(parse_port_range("1-")), "invalid port '' in '1-'");
}

}  // namespace
}  // namespace podium::config
