#define BOOST_TEST_MODULE progress
// A cluster job's owner sets its frames from what the nodes report; the count it shows never
// goes back within one run, even when a chunk taken over starts again from 0.
#include <boost/test/unit_test.hpp>

#include "pipeline/progress.h"

using rr::pipeline::Progress;

BOOST_AUTO_TEST_CASE(advance_to_moves_forward_only_and_start_resets_it) {
    Progress p;
    p.start(96, 2);
    p.advance_to(30);
    BOOST_TEST(p.snapshot().frames_done == 30);
    p.advance_to(12);  // a chunk's lease was taken over: its 18 frames start again elsewhere
    BOOST_TEST(p.snapshot().frames_done == 30);
    p.advance_to(41);
    BOOST_TEST(p.snapshot().frames_done == 41);
    p.add_frames(5);  // the single-node way still adds
    BOOST_TEST(p.snapshot().frames_done == 46);
    p.start(96, 2);  // a new run of the job starts from 0
    p.advance_to(7);
    BOOST_TEST(p.snapshot().frames_done == 7);
}
