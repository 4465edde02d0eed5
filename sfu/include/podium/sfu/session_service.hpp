// The SFU as signaling sees it: create a session from an SDP offer and get the answer, update it
// with a trickle-ICE fragment, close it. Small on purpose, so that a multi-node version can put a
// network between signaling and the SFU. Every call is thread-safe and may block briefly (it
// runs on the SFU's media thread and waits for the result); none keeps references to arguments.
#pragma once

#include <cstdint>
#include <string>

#include "podium/common/result.hpp"

namespace podium::sfu {

// WHIP publishes the presenter's audio; WHEP plays it to a guest.
enum class SessionRole : std::uint8_t { presenter, guest };

struct SessionOffer {
  SessionRole role = SessionRole::guest;
  std::string room;  // validated by signaling (token or open room)
  std::string sdp;   // application/sdp body as received
};

struct SessionAnswer {
  std::string session_id;  // opaque, URL-safe; the Location is /whip|whep/{room}/{session_id}
  std::string sdp;         // application/sdp answer
  std::string etag;        // identifies the ICE session (RFC 9725 section 4.3.1)
};

enum class SessionErrorCode : std::uint8_t {
  bad_offer,            // 400: unparseable or unservable SDP / sdpfrag; `reason` says why
  not_found,            // 404: no such session in that room
  capacity,             // 503: sfu.max_sessions reached; retry later
  unavailable,          // 503: the SFU is stopping or did not answer in time
  precondition_failed,  // 412: If-Match does not name the current ICE session
};

struct SessionError {
  SessionErrorCode code = SessionErrorCode::bad_offer;
  std::string reason;
};

// A PATCH (RFC 9725 section 4.3) outcome: trickle (no body, 204) or ICE restart (200 with the
// SFU's new credentials as an application/trickle-ice-sdpfrag body and a new ETag).
struct SessionUpdate {
  bool ice_restarted = false;
  std::string sdpfrag;  // only when ice_restarted
  std::string etag;     // only when ice_restarted
};

class SessionService {
 public:
  virtual ~SessionService() = default;

  // A second presenter in a room replaces the first: the old WHIP session is closed and guests
  // keep receiving one continuous stream (no sequence gap, no timestamp jump).
  virtual Result<SessionAnswer, SessionError> create_session(const SessionOffer& offer) = 0;

  // `if_match` is the request's If-Match header ("" when absent, "*" for any). A fragment with
  // new ICE credentials is an ICE restart and needs If-Match (RFC 9725 section 4.3.2).
  virtual Result<SessionUpdate, SessionError> update_session(const std::string& room,
                                                             const std::string& session_id,
                                                             const std::string& sdpfrag,
                                                             const std::string& if_match) = 0;

  // Ends the session (DELETE). not_found when there is no such session in that room.
  virtual Result<Ok, SessionError> close_session(const std::string& room,
                                                 const std::string& session_id) = 0;
};

}  // namespace podium::sfu
