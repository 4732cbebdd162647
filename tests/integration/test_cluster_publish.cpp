#define BOOST_TEST_MODULE cluster_publish
// The cluster joiner's publication (lib/service/cluster_publish.*) against a real queue: the
// output is recorded before it is published, a joiner whose join was taken over publishes
// nothing, and a node taking a join over recognises an output that was already published.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <optional>

#include "media/checksum.h"
#include "pipeline/sidecar.h"
#include "service/cluster_publish.h"
#include "store/pg_queue.h"
#include "support/must.h"
#include "support/pg_fixture.h"
#include "support/sandbox.h"

using namespace rr::service;
using rr::store::JobView;
using rr::store::NodeRegistration;
using rr::store::PgQueue;
using rr::store::QueueOptions;
namespace t = rr::test;
namespace utf = boost::unit_test;
namespace fs = std::filesystem;

namespace {

using rr::test::must;

// A database of its own, and a job of one chunk whose completion made `joiner` its joiner.
struct Joining {
    std::string conninfo;
    std::optional<PgQueue> owner, joiner;
    int64_t job = 0;

    Joining() {
        static int n = 0;
        conninfo = t::shared_pg_server().create_database("publish_" + std::to_string(++n));
        owner.emplace(node("owner"));
        joiner.emplace(node("joiner"));
        job = must(owner->open_job("in/a.mkv", "1:1", "web", "{}")).id;
        must(owner->start_tasks(job, {"chunk 0"}));
        BOOST_REQUIRE(must(joiner->complete(must(joiner->claim(1)).at(0), "{}")).job_ready);
    }
    PgQueue node(const std::string& id) {
        QueueOptions o;
        o.database = conninfo;
        o.node_id = id;
        auto q = must(PgQueue::open(o));
        must(
            q.register_node(NodeRegistration{"test", static_cast<int>(::getpid()), "test", 1, 60}));
        return q;
    }
};

StagedPublish stage(const fs::path& output, const std::string& bytes, const std::string& sidecar) {
    return StagedPublish{
        must(rr::write_temp_file(output, bytes)),
        must(rr::write_temp_file(rr::pipeline::sidecar_path_for(output), sidecar))};
}

std::function<rr::Status(const OutputRecord&)> recorder(PgQueue& q, int64_t job) {
    return [&q, job](const OutputRecord& r) { return q.record_output(job, r.size, r.checksum); };
}

ino_t inode(const fs::path& p) {
    struct stat st {};
    BOOST_REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_ino;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_publish, *utf::precondition(t::have_postgres))

BOOST_AUTO_TEST_CASE(the_output_is_recorded_before_it_is_published) {
    Joining db;
    t::Sandbox dir;
    const fs::path out = dir / "a.mkv";
    const fs::path sidecar = rr::pipeline::sidecar_path_for(out);
    const std::string bytes = "the joined output";
    const std::string expected_sum = rr::media::xxh3_128_hex(bytes.data(), bytes.size());
    std::optional<JobView> at_record;
    bool final_existed = true, sidecar_existed = true;
    {
        StagedPublish staged = stage(out, bytes, R"({"chunks":[]})");
        BOOST_TEST(dir.list().size() == 2u);  // both under temporary names
        auto base = recorder(*db.joiner, db.job);
        const Publication p = must(record_then_publish(staged, [&](const OutputRecord& r) {
            rr::Status st = base(r);
            at_record = must(db.owner->job(db.job));  // what another node sees at that moment
            final_existed = fs::exists(out);
            sidecar_existed = fs::exists(sidecar);
            return st;
        }));
        BOOST_TEST((p.outcome == PublishOutcome::published));
        BOOST_TEST(p.record.size == static_cast<int64_t>(bytes.size()));
        BOOST_TEST(p.record.checksum == expected_sum);
    }
    BOOST_REQUIRE(at_record.has_value());
    BOOST_TEST(at_record->output_size.value_or(0) == static_cast<int64_t>(bytes.size()));
    BOOST_TEST(at_record->output_checksum.value_or("") == expected_sum);
    BOOST_TEST(!final_existed);
    BOOST_TEST(!sidecar_existed);
    BOOST_TEST(t::read_file(out) == bytes);
    BOOST_TEST(t::read_file(sidecar) == R"({"chunks":[]})");
    BOOST_TEST(dir.list() == (std::vector<std::string>{"a.mkv", sidecar.filename().string()}));
}

BOOST_AUTO_TEST_CASE(a_joiner_whose_join_was_taken_over_publishes_nothing) {
    Joining db;
    t::Sandbox dir;
    const fs::path out = dir / "a.mkv";
    {
        StagedPublish late = stage(out, "stale join", "{}");
        must(db.joiner->leave());  // lost while it assembled
        BOOST_TEST(must(db.owner->take_over_join(db.job, "joiner")));
        const Publication p = must(record_then_publish(late, recorder(*db.joiner, db.job)));
        BOOST_TEST((p.outcome == PublishOutcome::fenced_off));
    }
    BOOST_TEST(dir.list().empty());  // its staged files are gone, nothing was published
    const JobView j = must(db.owner->job(db.job));
    BOOST_TEST(!j.output_size.has_value());
    BOOST_TEST(j.joiner.value_or("") == "owner");

    // The new joiner publishes; a second publisher of the same output loses the link() race
    // and leaves the first one's files alone.
    {
        StagedPublish staged = stage(out, "the join", R"({"by":"owner"})");
        BOOST_TEST((must(record_then_publish(staged, recorder(*db.owner, db.job))).outcome ==
                    PublishOutcome::published));
    }
    {
        StagedPublish again = stage(out, "another join", R"({"by":"again"})");
        const Publication p = must(record_then_publish(again, recorder(*db.owner, db.job)));
        BOOST_TEST((p.outcome == PublishOutcome::lost_race));
        const PublishedCheck c = must(check_published(p.record, out));
        BOOST_TEST((c.state == PublishedCheck::State::broken));
        BOOST_TEST(c.message.find("is not the output this job recorded") != std::string::npos);
    }
    BOOST_TEST(t::read_file(out) == "the join");
    BOOST_TEST(dir.list().size() == 2u);  // the output and its sidecar, no temporaries
}

BOOST_AUTO_TEST_CASE(a_join_taken_over_after_publishing_finishes_without_joining_again) {
    Joining db;
    t::Sandbox dir;
    const fs::path out = dir / "a.mkv";
    const std::string sidecar = R"({"chunks":[{"node":"joiner"}]})";
    {
        StagedPublish staged = stage(out, "published by the joiner", sidecar);
        BOOST_TEST((must(record_then_publish(staged, recorder(*db.joiner, db.job))).outcome ==
                    PublishOutcome::published));
    }
    must(db.joiner->leave());  // lost between publishing and finish_job
    BOOST_TEST(must(db.owner->take_over_join(db.job, "joiner")));
    const ino_t published = inode(out);

    // What the taking-over node finds: the output as recorded, with its sidecar.
    JobView j = must(db.owner->job(db.job));
    BOOST_REQUIRE(j.output_size.has_value());
    const OutputRecord recorded{*j.output_size, j.output_checksum.value_or("")};
    const PublishedCheck c = must(check_published(recorded, out));
    BOOST_REQUIRE((c.state == PublishedCheck::State::matches));
    BOOST_TEST(c.sidecar == sidecar);
    must(db.owner->finish_job(db.job, c.sidecar));
    j = must(db.owner->job(db.job));
    BOOST_TEST(j.state == "done");
    BOOST_TEST(j.result.value_or("") == sidecar);
    BOOST_TEST(inode(out) == published);  // the joiner's file, untouched
    BOOST_TEST(dir.list().size() == 2u);

    // An output that is not the recorded one is an error that says so; none at all: join.
    t::write_file(out, "replaced by hand");
    const PublishedCheck differs = must(check_published(recorded, out));
    BOOST_TEST((differs.state == PublishedCheck::State::broken));
    BOOST_TEST(differs.message.find(out.string() + " exists but is not the output this job "
                                                   "recorded (recorded 23 bytes") == 0u);
    fs::remove(rr::pipeline::sidecar_path_for(out));
    t::write_file(out, "published by the joiner");
    const PublishedCheck no_sidecar = must(check_published(recorded, out));
    BOOST_TEST((no_sidecar.state == PublishedCheck::State::broken));
    BOOST_TEST(no_sidecar.message.find("sidecar") != std::string::npos);
    fs::remove(out);
    BOOST_TEST((must(check_published(recorded, out)).state == PublishedCheck::State::absent));
}

BOOST_AUTO_TEST_SUITE_END()
