// A value or the reason it could not be produced. Parsers on the packet path use
// Result<T, Reason> (a static string, no allocation); the control path uses std::string reasons.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace podium {

// A reason that points at a string literal: free to copy, never allocates.
struct Reason {
  const char* text = "";
  friend bool operator==(const Reason& a, const Reason& b) { return a.text == b.text; }
};

template <typename E>
struct Failure {
  E error;
};

template <typename E>
Failure<std::decay_t<E>> fail(E&& error) {
  return {std::forward<E>(error)};
}
inline Failure<std::string> fail(const char* error) {
  return {std::string(error)};
}
inline Failure<Reason> fail_reason(const char* text) {
  return {Reason{text}};
}

template <typename T, typename E = std::string>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  template <typename F>
  Result(Failure<F> failure) : state_(std::in_place_index<1>, E(std::move(failure.error))) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, E> state_;
};

// For operations that produce nothing but may fail.
struct Ok {};

}  // namespace podium
