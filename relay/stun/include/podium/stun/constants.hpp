// STUN/TURN protocol constants: methods, classes, attribute types, error codes.
// RFC 8489 (STUN), RFC 8656 (TURN), RFC 6062 (TURN-TCP), RFC 6156 / 8656 (IPv6),
// RFC 8016 (mobility), RFC 5780 (NAT behaviour discovery), RFC 8445 (ICE).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace podium::stun {

// RFC 8489 §5: fixed value carried in bytes 4..7 of every STUN header.
inline constexpr uint32_t kMagicCookie = 0x2112A442;
inline constexpr size_t kHeaderSize = 20;
inline constexpr size_t kAttributeHeaderSize = 4;
inline constexpr size_t kTransactionIdSize = 12;
// The 16-bit length field counts attribute bytes, always a multiple of 4.
inline constexpr size_t kMaxBodySize = 65532;
inline constexpr size_t kMaxMessageSize = kHeaderSize + kMaxBodySize;

using TransactionId = std::array<uint8_t, kTransactionIdSize>;

// Attribute values are padded to a multiple of 4 bytes (RFC 8489 §14).
constexpr size_t padded_length(size_t length) {
  return (length + 3) & ~size_t{3};
}

enum class Method : uint16_t {
  kBinding = 0x001,            // RFC 8489
  kAllocate = 0x003,           // RFC 8656
  kRefresh = 0x004,            // RFC 8656
  kSend = 0x006,               // RFC 8656
  kData = 0x007,               // RFC 8656
  kCreatePermission = 0x008,   // RFC 8656
  kChannelBind = 0x009,        // RFC 8656
  kConnect = 0x00A,            // RFC 6062
  kConnectionBind = 0x00B,     // RFC 6062
  kConnectionAttempt = 0x00C,  // RFC 6062
};

enum class Class : uint8_t {
  kRequest = 0b00,
  kIndication = 0b01,
  kSuccessResponse = 0b10,
  kErrorResponse = 0b11,
};

// RFC 8489 §5: the 14-bit message type interleaves the 12-bit method (M11..M0) with the
// 2-bit class (C1 C0): M11..M7 C1 M6..M4 C0 M3..M0.
constexpr uint16_t message_type(Method method, Class cls) {
  const auto m = static_cast<uint16_t>(method);
  const auto c = static_cast<uint16_t>(cls);
  return static_cast<uint16_t>((m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2) |
                               ((c & 0x1) << 4) | ((c & 0x2) << 7));
}
constexpr Method method_of(uint16_t type) {
  return static_cast<Method>((type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2));
}
constexpr Class class_of(uint16_t type) {
  return static_cast<Class>(((type & 0x0010) >> 4) | ((type & 0x0100) >> 7));
}

enum class AttributeType : uint16_t {
  // Comprehension-required range 0x0000-0x7FFF.
  kMappedAddress = 0x0001,           // RFC 8489 §14.1
  kChangeRequest = 0x0003,           // RFC 5780 §7.2
  kUsername = 0x0006,                // RFC 8489 §14.3
  kMessageIntegrity = 0x0008,        // RFC 8489 §14.5
  kErrorCode = 0x0009,               // RFC 8489 §14.8
  kUnknownAttributes = 0x000A,       // RFC 8489 §14.13
  kChannelNumber = 0x000C,           // RFC 8656 §18.1
  kLifetime = 0x000D,                // RFC 8656 §18.2
  kXorPeerAddress = 0x0012,          // RFC 8656 §18.3
  kData = 0x0013,                    // RFC 8656 §18.4
  kRealm = 0x0014,                   // RFC 8489 §14.9
  kNonce = 0x0015,                   // RFC 8489 §14.10
  kXorRelayedAddress = 0x0016,       // RFC 8656 §18.5
  kRequestedAddressFamily = 0x0017,  // RFC 8656 §18.6
  kEvenPort = 0x0018,                // RFC 8656 §18.7
  kRequestedTransport = 0x0019,      // RFC 8656 §18.8
  kDontFragment = 0x001A,            // RFC 8656 §18.9
  kMessageIntegritySha256 = 0x001C,  // RFC 8489 §14.6
  kPasswordAlgorithm = 0x001D,       // RFC 8489 §14.12
  kUserhash = 0x001E,                // RFC 8489 §14.4
  kXorMappedAddress = 0x0020,        // RFC 8489 §14.2
  kReservationToken = 0x0022,        // RFC 8656 §18.10
  kPriority = 0x0024,                // RFC 8445 §16.1
  kUseCandidate = 0x0025,            // RFC 8445 §16.1
  kConnectionId = 0x002A,            // RFC 6062 §6.2.1
  // Comprehension-optional range 0x8000-0xFFFF.
  kAdditionalAddressFamily = 0x8000,  // RFC 8656 §18.11
  kAddressErrorCode = 0x8001,         // RFC 8656 §18.12
  kPasswordAlgorithms = 0x8002,       // RFC 8489 §14.11
  kAlternateDomain = 0x8003,          // RFC 8489 §14.16
  kIcmp = 0x8004,                     // RFC 8656 §18.13
  kSoftware = 0x8022,                 // RFC 8489 §14.14
  kAlternateServer = 0x8023,          // RFC 8489 §14.15
  kFingerprint = 0x8028,              // RFC 8489 §14.7
  kIceControlled = 0x8029,            // RFC 8445 §16.1
  kIceControlling = 0x802A,           // RFC 8445 §16.1
  kResponseOrigin = 0x802B,           // RFC 5780 §7.3
  kOtherAddress = 0x802C,             // RFC 5780 §7.4
  kMobilityTicket = 0x8030,           // RFC 8016 §3.1
  // The code points of the draft that became RFC 8656's dual allocation
  // (draft-ietf-tram-turn-ipv6/"SSODA"), still sent by coturn's clients (turnutils_uclient -Z):
  // accepted as aliases of ADDITIONAL-ADDRESS-FAMILY and answered in kind.
  kAdditionalAddressFamilyDraft = 0x8032,
  kAddressErrorCodeDraft = 0x8033,
};

constexpr uint16_t to_underlying(AttributeType type) {
  return static_cast<uint16_t>(type);
}

// RFC 8489 §14: types 0x0000-0x7FFF must be understood or the request rejected with 420.
constexpr bool is_comprehension_required(AttributeType type) {
  return to_underlying(type) < 0x8000;
}

// True for every attribute type listed above (the ones this codec can decode).
bool is_known_attribute(AttributeType type);

// Attribute name as written in the RFCs ("XOR-MAPPED-ADDRESS"), or "UNKNOWN".
std::string_view attribute_name(AttributeType type);
// Method name ("Binding", "Allocate", ...), or "Unknown".
std::string_view method_name(Method method);

// REQUESTED-TRANSPORT protocol numbers (RFC 8656 §18.8, RFC 6062 §6.1).
inline constexpr uint8_t kProtocolUdp = 17;
inline constexpr uint8_t kProtocolTcp = 6;

// Error codes (RFC 8489 §14.8, RFC 8656 §19, RFC 6062 §6.3, RFC 8445 §7.3.1.1).
namespace errc {
inline constexpr uint16_t kTryAlternate = 300;
inline constexpr uint16_t kBadRequest = 400;
inline constexpr uint16_t kUnauthenticated = 401;
inline constexpr uint16_t kForbidden = 403;
inline constexpr uint16_t kMobilityForbidden = 405;
inline constexpr uint16_t kUnknownAttribute = 420;
inline constexpr uint16_t kAllocationMismatch = 437;
inline constexpr uint16_t kStaleNonce = 438;
inline constexpr uint16_t kAddressFamilyNotSupported = 440;
inline constexpr uint16_t kWrongCredentials = 441;
inline constexpr uint16_t kUnsupportedTransportProtocol = 442;
inline constexpr uint16_t kPeerAddressFamilyMismatch = 443;
inline constexpr uint16_t kConnectionAlreadyExists = 446;
inline constexpr uint16_t kConnectionTimeoutOrFailure = 447;
inline constexpr uint16_t kAllocationQuotaReached = 486;
inline constexpr uint16_t kRoleConflict = 487;
inline constexpr uint16_t kServerError = 500;
inline constexpr uint16_t kInsufficientCapacity = 508;
}  // namespace errc

// The reason phrase the RFCs suggest for a code ("Bad Request"); empty for unknown codes.
std::string_view default_reason_phrase(uint16_t code);

}  // namespace podium::stun
