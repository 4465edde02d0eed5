// A small list with inline storage: the packet path collects repeated values without allocating.
#pragma once

#include <array>
#include <cstddef>
#include <span>

namespace podium::stun {

template <typename T, size_t N>
class FixedList {
 public:
  static constexpr size_t capacity() { return N; }

  // False (and nothing stored) when the list is full.
  bool push_back(const T& value) {
    if (size_ == N) return false;
    items_[size_++] = value;
    return true;
  }
  void clear() { size_ = 0; }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool full() const { return size_ == N; }
  const T& operator[](size_t index) const { return items_[index]; }
  const T* begin() const { return items_.data(); }
  const T* end() const { return items_.data() + size_; }
  std::span<const T> span() const { return {items_.data(), size_}; }

  bool contains(const T& value) const {
    for (const T& item : span()) {
      if (item == value) return true;
    }
    return false;
  }

 private:
  std::array<T, N> items_{};
  size_t size_ = 0;
};

}  // namespace podium::stun
