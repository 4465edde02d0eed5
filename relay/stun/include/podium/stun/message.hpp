// A validated, read-only view of one STUN message (RFC 8489 §5, §6.3, §14).
//
// parse() checks the header and walks every attribute TLV once, remembering where each
// attribute sits. Nothing is copied or allocated: the view borrows the caller's buffer, which
// must outlive it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ranges>
#include <span>
#include <string_view>

#include "podium/common/result.hpp"
#include "podium/stun/address.hpp"
#include "podium/stun/attribute.hpp"
#include "podium/stun/constants.hpp"
#include "podium/stun/fixed_list.hpp"

namespace podium::stun {

class MessageView;

// The attributes of a message, optionally only those of one type, in message order.
class AttributeRange {
 public:
  class Iterator {
   public:
    using value_type = AttributeView;
    using difference_type = std::ptrdiff_t;

    Iterator() = default;
    AttributeView operator*() const;
    Iterator& operator++();
    Iterator operator++(int) {
      Iterator copy = *this;
      ++*this;
      return copy;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.index_ == b.index_; }

   private:
    friend class AttributeRange;
    Iterator(const MessageView* message, size_t index, std::optional<AttributeType> filter);
    void skip();

    const MessageView* message_ = nullptr;
    size_t index_ = 0;
    std::optional<AttributeType> filter_;
  };

  Iterator begin() const { return Iterator(message_, 0, filter_); }
  Iterator end() const;
  bool empty() const { return begin() == end(); }
  size_t count() const;

 private:
  friend class MessageView;
  AttributeRange(const MessageView* message, std::optional<AttributeType> filter)
      : message_(message), filter_(filter) {}

  const MessageView* message_;
  std::optional<AttributeType> filter_;
};

using AttributeTypeList = FixedList<AttributeType, 32>;

class MessageView {
 public:
  // Attributes beyond this count make parse() fail ("too many attributes").
  static constexpr size_t kMaxAttributes = 32;

  // Validates RFC 8489 §5/§6.3: the top two bits are zero, the length is a multiple of 4 and
  // matches the buffer exactly, the magic cookie is present, and every attribute (with its
  // padding) lies within the message. Per §14.5-§14.7, attributes after MESSAGE-INTEGRITY
  // other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT, and attributes after
  // MESSAGE-INTEGRITY-SHA256 other than FINGERPRINT, are bounds-checked but not indexed;
  // anything after FINGERPRINT is an error.
  static Result<MessageView, Reason> parse(std::span<const uint8_t> bytes);
  // The view would dangle: parsing a temporary container (e.g. a returned std::vector) is an
  // error caught at compile time.
  template <std::ranges::range R>
  requires(!std::ranges::borrowed_range<R>) static Result<MessageView, Reason> parse(
      R&& temporary) = delete;

  uint16_t message_type() const { return type_; }
  Method method() const { return method_of(type_); }
  Class cls() const { return class_of(type_); }
  bool is_request() const { return cls() == Class::kRequest; }
  bool is_indication() const { return cls() == Class::kIndication; }
  const TransactionId& transaction_id() const { return transaction_id_; }
  // The whole message, header included.
  std::span<const uint8_t> raw() const { return raw_; }
  size_t size() const { return raw_.size(); }

  // Indexed attributes in message order.
  size_t attribute_count() const { return count_; }
  AttributeView attribute(size_t index) const;
  AttributeRange attributes() const { return AttributeRange(this, std::nullopt); }
  // Every occurrence of `type` (XOR-PEER-ADDRESS repeats in CreatePermission).
  AttributeRange find_all(AttributeType type) const { return AttributeRange(this, type); }
  // The first occurrence, the only one that counts unless a usage says otherwise (§14).
  std::optional<AttributeView> find(AttributeType type) const;
  bool has(AttributeType type) const { return find(type).has_value(); }

  // Typed shortcuts: find + decode. A missing attribute fails with kMissingAttribute.
  Result<Address, Reason> xor_address(AttributeType type) const;
  Result<Address, Reason> address(AttributeType type) const;
  Result<std::string_view, Reason> string(AttributeType type) const;
  Result<uint32_t, Reason> u32(AttributeType type) const;
  Result<uint64_t, Reason> u64(AttributeType type) const;

  // Comprehension-required attribute types present but unknown to this codec, without
  // duplicates: the list an UNKNOWN-ATTRIBUTES in a 420 response carries (§6.3.1).
  AttributeTypeList unknown_comprehension_required() const;

 private:
  struct Entry {
    uint16_t type;
    uint16_t length;
    uint32_t offset;
  };

  std::span<const uint8_t> raw_;
  TransactionId transaction_id_{};
  uint16_t type_ = 0;
  uint8_t count_ = 0;
  std::array<Entry, kMaxAttributes> entries_{};
};

// The text of the Reason MessageView's typed shortcuts fail with when the attribute is absent.
inline constexpr char kMissingAttribute[] = "attribute missing";
inline bool is_missing_attribute(const Reason& reason) {
  return std::string_view(reason.text) == kMissingAttribute;
}

}  // namespace podium::stun
