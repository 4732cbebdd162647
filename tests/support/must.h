#pragma once
// A fallible call a test cannot go on without: its value, or the test stops with the error.

#include <boost/test/unit_test.hpp>
#include <utility>

#include "core/result.h"

namespace rr::test {

template <class T>
T must(rr::Result<T> r) {
    BOOST_REQUIRE_MESSAGE(r.ok(), (r.ok() ? "" : r.error().message));
    return std::move(r).value();
}

inline void must(rr::Status s) {
    BOOST_REQUIRE_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
}

}  // namespace rr::test
