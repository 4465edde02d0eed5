#include "podium/stun/constants.hpp"

namespace podium::stun {

std::string_view attribute_name(AttributeType type) {
  switch (type) {
    case AttributeType::kMappedAddress:
      return "MAPPED-ADDRESS";
    case AttributeType::kChangeRequest:
      return "CHANGE-REQUEST";
    case AttributeType::kUsername:
      return "USERNAME";
    case AttributeType::kMessageIntegrity:
      return "MESSAGE-INTEGRITY";
    case AttributeType::kErrorCode:
      return "ERROR-CODE";
    case AttributeType::kUnknownAttributes:
      return "UNKNOWN-ATTRIBUTES";
    case AttributeType::kChannelNumber:
      return "CHANNEL-NUMBER";
    case AttributeType::kLifetime:
      return "LIFETIME";
    case AttributeType::kXorPeerAddress:
      return "XOR-PEER-ADDRESS";
    case AttributeType::kData:
      return "DATA";
    case AttributeType::kRealm:
      return "REALM";
    case AttributeType::kNonce:
      return "NONCE";
    case AttributeType::kXorRelayedAddress:
      return "XOR-RELAYED-ADDRESS";
    case AttributeType::kRequestedAddressFamily:
      return "REQUESTED-ADDRESS-FAMILY";
    case AttributeType::kEvenPort:
      return "EVEN-PORT";
    case AttributeType::kRequestedTransport:
      return "REQUESTED-TRANSPORT";
    case AttributeType::kDontFragment:
      return "DONT-FRAGMENT";
    case AttributeType::kMessageIntegritySha256:
      return "MESSAGE-INTEGRITY-SHA256";
    case AttributeType::kPasswordAlgorithm:
      return "PASSWORD-ALGORITHM";
    case AttributeType::kUserhash:
      return "USERHASH";
    case AttributeType::kXorMappedAddress:
      return "XOR-MAPPED-ADDRESS";
    case AttributeType::kReservationToken:
      return "RESERVATION-TOKEN";
    case AttributeType::kPriority:
      return "PRIORITY";
    case AttributeType::kUseCandidate:
      return "USE-CANDIDATE";
    case AttributeType::kConnectionId:
      return "CONNECTION-ID";
    case AttributeType::kAdditionalAddressFamily:
      return "ADDITIONAL-ADDRESS-FAMILY";
    case AttributeType::kAddressErrorCode:
      return "ADDRESS-ERROR-CODE";
    case AttributeType::kPasswordAlgorithms:
      return "PASSWORD-ALGORITHMS";
    case AttributeType::kAlternateDomain:
      return "ALTERNATE-DOMAIN";
    case AttributeType::kIcmp:
      return "ICMP";
    case AttributeType::kSoftware:
      return "SOFTWARE";
    case AttributeType::kAlternateServer:
      return "ALTERNATE-SERVER";
    case AttributeType::kFingerprint:
      return "FINGERPRINT";
    case AttributeType::kIceControlled:
      return "ICE-CONTROLLED";
    case AttributeType::kIceControlling:
      return "ICE-CONTROLLING";
    case AttributeType::kResponseOrigin:
      return "RESPONSE-ORIGIN";
    case AttributeType::kOtherAddress:
      return "OTHER-ADDRESS";
    case AttributeType::kMobilityTicket:
      return "MOBILITY-TICKET";
    case AttributeType::kAdditionalAddressFamilyDraft:
      return "ADDITIONAL-ADDRESS-FAMILY (draft)";
    case AttributeType::kAddressErrorCodeDraft:
      return "ADDRESS-ERROR-CODE (draft)";
  }
  return "UNKNOWN";
}

bool is_known_attribute(AttributeType type) {
  return attribute_name(type) != "UNKNOWN";
}

std::string_view method_name(Method method) {
  switch (method) {
    case Method::kBinding:
      return "Binding";
    case Method::kAllocate:
      return "Allocate";
    case Method::kRefresh:
      return "Refresh";
    case Method::kSend:
      return "Send";
    case Method::kData:
      return "Data";
    case Method::kCreatePermission:
      return "CreatePermission";
    case Method::kChannelBind:
      return "ChannelBind";
    case Method::kConnect:
      return "Connect";
    case Method::kConnectionBind:
      return "ConnectionBind";
    case Method::kConnectionAttempt:
      return "ConnectionAttempt";
  }
  return "Unknown";
}

std::string_view default_reason_phrase(uint16_t code) {
  switch (code) {
    case errc::kTryAlternate:
      return "Try Alternate";
    case errc::kBadRequest:
      return "Bad Request";
    case errc::kUnauthenticated:
      return "Unauthenticated";
    case errc::kForbidden:
      return "Forbidden";
    case errc::kMobilityForbidden:
      return "Mobility Forbidden";
    case errc::kUnknownAttribute:
      return "Unknown Attribute";
    case errc::kAllocationMismatch:
      return "Allocation Mismatch";
    case errc::kStaleNonce:
      return "Stale Nonce";
    case errc::kAddressFamilyNotSupported:
      return "Address Family not Supported";
    case errc::kWrongCredentials:
      return "Wrong Credentials";
    case errc::kUnsupportedTransportProtocol:
      return "Unsupported Transport Protocol";
    case errc::kPeerAddressFamilyMismatch:
      return "Peer Address Family Mismatch";
    case errc::kConnectionAlreadyExists:
      return "Connection Already Exists";
    case errc::kConnectionTimeoutOrFailure:
      return "Connection Timeout or Failure";
    case errc::kAllocationQuotaReached:
      return "Allocation Quota Reached";
    case errc::kRoleConflict:
      return "Role Conflict";
    case errc::kServerError:
      return "Server Error";
    case errc::kInsufficientCapacity:
      return "Insufficient Capacity";
    default:
      return {};
  }
}

}  // namespace podium::stun
