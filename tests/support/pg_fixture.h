#pragma once
// What every PostgreSQL test binary shares: the skip condition and one throwaway server per
// binary (starting one costs seconds); each case creates a database of its own on it.

#include <boost/test/unit_test.hpp>

#include "support/postgres.h"

namespace rr::test {

inline boost::test_tools::assertion_result have_postgres(boost::unit_test::test_unit_id) {
    boost::test_tools::assertion_result r(PgCluster::bin_dir().has_value());
    r.message() << "PostgreSQL server binaries (initdb, pg_ctl) are not installed; "
                   "install Debian's postgresql package or set RR_PG_BINDIR";
    return r;
}

// Created on first use, removed when the binary exits.
inline PgCluster& shared_pg_server() {
    static PgCluster shared;
    return shared;
}

}  // namespace rr::test
