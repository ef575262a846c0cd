// Result<T, E>: a value or an error, a subset of C++23 std::expected with the same member names
// (has_value, value, error, operator*, operator->). g++ 12 has no <expected> in C++20 mode.
#pragma once

#include <utility>
#include <variant>

#include "core/assert.h"

namespace registry {

template <class E>
struct Unexpected {
  E error;
};

template <class E>
Unexpected<std::decay_t<E>> Fail(E&& e) {
  return Unexpected<std::decay_t<E>>{std::forward<E>(e)};
}

template <class T, class E>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  template <class G>
  Result(Unexpected<G> e) : v_(std::in_place_index<1>, std::move(e.error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }
  T& value() & {
    REGISTRY_ASSERT(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    REGISTRY_ASSERT(has_value());
    return std::get<0>(v_);
  }
  // By value, not T&&: `for (auto& x : F().value())` must not dangle.
  T value() && {
    REGISTRY_ASSERT(has_value());
    return std::get<0>(std::move(v_));
  }
  const E& error() const& {
    REGISTRY_ASSERT(!has_value());
    return std::get<1>(v_);
  }
  E error() && {
    REGISTRY_ASSERT(!has_value());
    return std::get<1>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, E> v_;
};

// Status: success, or an error with no value.
template <class E>
class [[nodiscard]] Status {
 public:
  Status() = default;
  template <class G>
  Status(Unexpected<G> e) : error_(std::move(e.error)), ok_(false) {}  // NOLINT
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const E& error() const {
    REGISTRY_ASSERT(!ok_);
    return error_;
  }

 private:
  E error_{};
  bool ok_ = true;
};

}  // namespace registry
