#include "podium/stun/message.hpp"

#include <cstring>

#include "byte_io.hpp"
#include "podium/stun/attributes.hpp"
#include "podium/stun/xor_address.hpp"

namespace podium::stun {

namespace {

// Which attributes still count while walking the message (RFC 8489 §14.5-§14.7).
enum class Stage : uint8_t {
  kOpen,                  // before any integrity attribute: everything counts
  kAfterIntegrity,        // after MESSAGE-INTEGRITY: only MI-SHA256 and FINGERPRINT count
  kAfterIntegritySha256,  // after MESSAGE-INTEGRITY-SHA256: only FINGERPRINT counts
  kAfterFingerprint,      // FINGERPRINT must be last
};

}  // namespace

Result<MessageView, Reason> MessageView::parse(std::span<const uint8_t> bytes) {
  // RFC 8489 §6.3: basic checks on the header.
  if (bytes.size() < kHeaderSize) return fail_reason("truncated header");
  if ((bytes[0] & 0xC0) != 0) return fail_reason("not a STUN message");
  const size_t length = detail::load_u16(&bytes[2]);
  if (length % 4 != 0) return fail_reason("length not a multiple of 4");
  if (detail::load_u32(&bytes[4]) != kMagicCookie) return fail_reason("bad magic cookie");
  if (kHeaderSize + length > bytes.size()) return fail_reason("truncated message");
  if (kHeaderSize + length < bytes.size()) return fail_reason("bytes after the message");

  MessageView view;
  view.raw_ = bytes;
  view.type_ = detail::load_u16(&bytes[0]);
  std::memcpy(view.transaction_id_.data(), &bytes[8], kTransactionIdSize);

  // RFC 8489 §14: type, length, value, padding to 4 bytes, each within the message.
  Stage stage = Stage::kOpen;
  size_t offset = kHeaderSize;
  while (offset < bytes.size()) {
    if (bytes.size() - offset < kAttributeHeaderSize) {
      return fail_reason("truncated attribute header");
    }
    const uint16_t type = detail::load_u16(&bytes[offset]);
    const uint16_t value_length = detail::load_u16(&bytes[offset + 2]);
    if (padded_length(value_length) > bytes.size() - offset - kAttributeHeaderSize) {
      return fail_reason("attribute overruns message");
    }
    const auto attribute = static_cast<AttributeType>(type);
    bool counts = false;
    switch (stage) {
      case Stage::kOpen:
        counts = true;
        if (attribute == AttributeType::kMessageIntegrity) stage = Stage::kAfterIntegrity;
        break;
      case Stage::kAfterIntegrity:
        counts = attribute == AttributeType::kMessageIntegritySha256 ||
                 attribute == AttributeType::kFingerprint;
        break;
      case Stage::kAfterIntegritySha256:
        counts = attribute == AttributeType::kFingerprint;
        break;
      case Stage::kAfterFingerprint:
        return fail_reason("attribute after FINGERPRINT");
    }
    if (counts) {
      if (attribute == AttributeType::kMessageIntegritySha256) {
        stage = Stage::kAfterIntegritySha256;
      } else if (attribute == AttributeType::kFingerprint) {
        stage = Stage::kAfterFingerprint;
      }
      if (view.count_ == kMaxAttributes) return fail_reason("too many attributes");
      view.entries_[view.count_++] = Entry{type, value_length, static_cast<uint32_t>(offset)};
    }
    offset += kAttributeHeaderSize + padded_length(value_length);
  }
  return view;
}

AttributeView MessageView::attribute(size_t index) const {
  const Entry& entry = entries_[index];
  return AttributeView{static_cast<AttributeType>(entry.type),
                       raw_.subspan(entry.offset + kAttributeHeaderSize, entry.length),
                       entry.offset};
}

std::optional<AttributeView> MessageView::find(AttributeType type) const {
  for (size_t i = 0; i < count_; ++i) {
    if (entries_[i].type == to_underlying(type)) return attribute(i);
  }
  return std::nullopt;
}

Result<Address, Reason> MessageView::xor_address(AttributeType type) const {
  const auto found = find(type);
  if (!found) return fail_reason(kMissingAttribute);
  return decode_xor_address(*found, transaction_id_);
}

Result<Address, Reason> MessageView::address(AttributeType type) const {
  const auto found = find(type);
  if (!found) return fail_reason(kMissingAttribute);
  return decode_address(*found);
}

Result<std::string_view, Reason> MessageView::string(AttributeType type) const {
  const auto found = find(type);
  if (!found) return fail_reason(kMissingAttribute);
  return decode_string(*found);
}

Result<uint32_t, Reason> MessageView::u32(AttributeType type) const {
  const auto found = find(type);
  if (!found) return fail_reason(kMissingAttribute);
  return decode_u32(*found);
}

Result<uint64_t, Reason> MessageView::u64(AttributeType type) const {
  const auto found = find(type);
  if (!found) return fail_reason(kMissingAttribute);
  return decode_u64(*found);
}

// RFC 8489 §6.3.1: unknown comprehension-required attributes make a request fail with 420.
AttributeTypeList MessageView::unknown_comprehension_required() const {
  AttributeTypeList unknown;
  for (size_t i = 0; i < count_; ++i) {
    const auto type = static_cast<AttributeType>(entries_[i].type);
    if (is_comprehension_required(type) && !is_known_attribute(type) && !unknown.contains(type)) {
      unknown.push_back(type);
    }
  }
  return unknown;
}

// --- AttributeRange ---

AttributeRange::Iterator::Iterator(const MessageView* message, size_t index,
                                   std::optional<AttributeType> filter)
    : message_(message), index_(index), filter_(filter) {
  skip();
}

void AttributeRange::Iterator::skip() {
  if (!filter_) return;
  while (index_ < message_->attribute_count() && message_->attribute(index_).type != *filter_) {
    ++index_;
  }
}

AttributeView AttributeRange::Iterator::operator*() const {
  return message_->attribute(index_);
}

AttributeRange::Iterator& AttributeRange::Iterator::operator++() {
  ++index_;
  skip();
  return *this;
}

AttributeRange::Iterator AttributeRange::end() const {
  return Iterator(message_, message_->attribute_count(), filter_);
}

size_t AttributeRange::count() const {
  size_t n = 0;
  for (auto it = begin(); it != end(); ++it) ++n;
  return n;
}

}  // namespace podium::stun
