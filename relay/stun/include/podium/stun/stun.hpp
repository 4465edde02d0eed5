// Umbrella header for the STUN/TURN codec.
#pragma once

#include "podium/stun/address.hpp"
#include "podium/stun/attribute.hpp"
#include "podium/stun/attributes.hpp"
#include "podium/stun/channel_data.hpp"
#include "podium/stun/constants.hpp"
#include "podium/stun/credentials.hpp"
#include "podium/stun/demux.hpp"
#include "podium/stun/fingerprint.hpp"
#include "podium/stun/fixed_list.hpp"
#include "podium/stun/framing.hpp"
#include "podium/stun/message.hpp"
#include "podium/stun/message_builder.hpp"
#include "podium/stun/message_integrity.hpp"
#include "podium/stun/nonce_cookie.hpp"
#include "podium/stun/transaction_id.hpp"
#include "podium/stun/xor_address.hpp"
