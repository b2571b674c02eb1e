#pragma once
// Lets Catch2 print a boost::system::result in failure messages (its own operator<< needs the
// value type to be printable, which ours are not).

#include <string>
#include <type_traits>

#include <boost/system/result.hpp>
#include <catch2/catch.hpp>

namespace Catch {

template <class T, class E>
struct StringMaker<boost::system::result<T, E>> {
    static std::string convert(const boost::system::result<T, E>& r) {
        if (r.has_value()) {
            return "{value}";
        }
        if constexpr (std::is_same_v<E, std::string>) {
            return "{error: " + r.error() + "}";
        } else if constexpr (std::is_enum_v<E>) {
            return "{error: " + std::to_string(static_cast<int>(r.error())) + "}";
        } else {
            return "{error: " + r.error().message() + "}";
        }
    }
};

}  // namespace Catch
