// Value-or-error for wire, file and I/O paths (STYLE.md rule 7).
// C++20 has no std::expected; this is the small subset we use.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace pib {

/// The closed set of error kinds a library may return.
enum class Errc {
    truncated,     ///< input ended early
    corrupted,     ///< input is malformed or fails an integrity check
    unsupported,   ///< valid but not something we handle
    not_found,     ///< a named file, key or object does not exist
    io,            ///< the operating system refused (errno is in the message)
    invalid,       ///< a caller-supplied argument is wrong
    verification,  ///< a signature or digest does not match
    exists,        ///< the destination already exists
    busy,          ///< held by someone else for now (a database lock): try again
};

/// Short lower-case name of an error kind, for logs.
const char* errc_name(Errc c);

/// An error: a kind plus a human-readable message naming what failed.
struct Error {
    Errc code;
    std::string message;
};

/// Builds an Error; `Result<T> r = fail(Errc::io, "open " + path + ": " + strerror(errno));`.
inline Error fail(Errc code, std::string message) { return Error{code, std::move(message)}; }

/// Either a T or an Error.
template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error err) : v_(std::in_place_index<1>, std::move(err)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() & { assert(ok()); return std::get<0>(v_); }
    const T& value() const& { assert(ok()); return std::get<0>(v_); }
    T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const { assert(!ok()); return std::get<1>(v_); }

private:
    std::variant<T, Error> v_;
};

/// Success-or-error without a value.
template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error err) : err_(std::move(err)), ok_(false) {}

    bool ok() const { return ok_; }
    explicit operator bool() const { return ok_; }
    const Error& error() const { assert(!ok_); return err_; }

private:
    Error err_{};
    bool ok_ = true;
};

using Status = Result<void>;

}  // namespace pib

/// Propagates an error from an expression returning Result<...>.
#define PIB_TRY(expr)                                  \
    do {                                               \
        auto pib_try_r_ = (expr);                      \
        if (!pib_try_r_.ok()) return pib_try_r_.error(); \
    } while (0)
