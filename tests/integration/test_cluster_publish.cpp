#define BOOST_TEST_MODULE cluster_publish
// The cluster joiner's publication (lib/service/cluster_publish.*) against a real queue: the
// output is recorded before it is published, a joiner whose join was taken over publishes
// nothing, and a node taking a join over recognises an output that was already published.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <optional>

#include "media/checksum.h"
#include "pipeline/frame_pair.h"
#include "pipeline/publish.h"
#include "pipeline/sidecar.h"
#include "service/cluster_publish.h"
#include "stages/stage.h"
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
        job = must(owner->open_job("in/a.mkv", "1:1", "web", "{}", 0)).id;
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
        .output = must(rr::write_temp_file(output, bytes)),
        .sidecar = must(rr::write_temp_file(rr::pipeline::sidecar_path_for(output), sidecar)),
        .extras = {}};
}

// As stage(), with the accompanying files a join stages: a stage's extra file and the
// dashboard's <output>.frames/ folder, under their temporary names.
StagedPublish stage_with_extras(const fs::path& output, const std::string& bytes,
                                const std::string& sidecar, const std::string& detections,
                                const std::string& picture) {
    StagedPublish staged = stage(output, bytes, sidecar);
    staged.extras.push_back(must(rr::write_temp_file(
        output.string() + std::string(rr::stages::kDetectionsSuffix), detections)));
    rr::TempFile frames(rr::pipeline::frame_pair_dir(output));
    fs::create_directory(frames.path());
    t::write_file(frames.path() / "before.jpg", picture);
    staged.extras.push_back(std::move(frames));
    return staged;
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
    BOOST_TEST((no_sidecar.state == PublishedCheck::State::sidecar_missing));
    t::write_file(rr::pipeline::sidecar_path_for(out), "not json");
    const PublishedCheck bad_sidecar = must(check_published(recorded, out));
    BOOST_TEST((bad_sidecar.state == PublishedCheck::State::broken));
    BOOST_TEST(bad_sidecar.message.find("not a JSON object") != std::string::npos);
    fs::remove(rr::pipeline::sidecar_path_for(out));
    fs::remove(out);
    BOOST_TEST((must(check_published(recorded, out)).state == PublishedCheck::State::absent));
}

BOOST_AUTO_TEST_CASE(a_joiner_dead_between_its_output_and_its_sidecar_is_completed_by_the_next) {
    Joining db;
    t::Sandbox dir;
    const fs::path out = dir / "a.mkv";
    const std::string bytes = "joined output";
    {
        // The first joiner records and links its output, then dies before its sidecar.
        StagedPublish staged = stage(out, bytes, R"({"by":"joiner"})");
        const OutputRecord r = must(describe_output(staged.output.path()));
        must(db.joiner->record_output(db.job, r.size, r.checksum));
        must(staged.output.commit_exclusive());
    }
    BOOST_REQUIRE(fs::exists(out));
    BOOST_REQUIRE(!fs::exists(rr::pipeline::sidecar_path_for(out)));
    const ino_t first = inode(out);
    must(db.joiner->leave());
    BOOST_TEST(must(db.owner->take_over_join(db.job, "joiner")));
    const JobView j = must(db.owner->job(db.job));
    const OutputRecord recorded{*j.output_size, j.output_checksum.value_or("")};
    BOOST_TEST(
        (must(check_published(recorded, out)).state == PublishedCheck::State::sidecar_missing));
    // The new joiner joins again (the same chunks make the same bytes) and puts its sidecar
    // and accompanying files beside the output that stands.
    {
        StagedPublish again = stage_with_extras(out, bytes, R"({"by":"owner"})", "[]", "jpeg");
        const Publication p = must(record_then_publish(again, recorder(*db.owner, db.job)));
        BOOST_TEST((p.outcome == PublishOutcome::completed));
    }
    BOOST_TEST(inode(out) == first);
    BOOST_TEST(t::read_file(rr::pipeline::sidecar_path_for(out)) == R"({"by":"owner"})");
    BOOST_TEST(fs::exists(out.string() + std::string(rr::stages::kDetectionsSuffix)));
    BOOST_TEST(fs::exists(rr::pipeline::frame_pair_dir(out) / "before.jpg"));
    const PublishedCheck now = must(check_published(recorded, out));
    BOOST_TEST((now.state == PublishedCheck::State::matches));
    // Different bytes from the new join are not put beside another output.
    fs::remove(rr::pipeline::sidecar_path_for(out));
    {
        StagedPublish other = stage(out, "other bytes", R"({"by":"other"})");
        const Publication q = must(record_then_publish(other, recorder(*db.owner, db.job)));
        BOOST_TEST((q.outcome == PublishOutcome::lost_race));
    }
    BOOST_TEST(!fs::exists(rr::pipeline::sidecar_path_for(out)));
    BOOST_TEST(t::read_file(out) == bytes);
    // Nothing staged is left behind once the staged files' owners are gone.
    for (const auto& name : dir.list())
        BOOST_TEST(name.find(std::string(rr::kTempMarker)) == std::string::npos, name);
}

BOOST_AUTO_TEST_CASE(the_accompanying_files_are_put_in_place_only_after_the_record) {
    Joining db;
    t::Sandbox dir;
    const fs::path out = dir / "a.mkv";
    const fs::path detections = dir / "a.mkv.detections.json";
    const fs::path frames = dir / "a.mkv.frames";
    // An earlier run's pictures: the new set replaces them as a whole.
    fs::create_directory(frames);
    t::write_file(frames / "old.jpg", "old");
    std::vector<std::string> at_record;
    {
        StagedPublish staged =
            stage_with_extras(out, "the join", R"({"by":"joiner"})", R"({"faces":2})", "jpeg");
        auto base = recorder(*db.joiner, db.job);
        const Publication p = must(record_then_publish(staged, [&](const OutputRecord& r) {
            at_record = dir.list();
            return base(r);
        }));
        BOOST_TEST((p.outcome == PublishOutcome::published));
    }
    // While recording: the old pictures and hidden temporaries only.
    BOOST_TEST(at_record.size() == 5u);
    for (const auto& name : at_record) BOOST_TEST((name == "a.mkv.frames" || name[0] == '.'), name);
    BOOST_TEST(dir.list() == (std::vector<std::string>{"a.mkv", "a.mkv.detections.json",
                                                       "a.mkv.frames", "a.renderrush.json"}));
    BOOST_TEST(t::read_file(detections) == R"({"faces":2})");
    BOOST_TEST(t::read_file(frames / "before.jpg") == "jpeg");
    BOOST_TEST(!fs::exists(frames / "old.jpg"));
    BOOST_TEST(t::read_file(rr::pipeline::sidecar_path_for(out)) == R"({"by":"joiner"})");
}

BOOST_AUTO_TEST_CASE(a_fenced_off_joiner_leaves_no_accompanying_files) {
    Joining db;
    t::Sandbox dir;
    const fs::path out = dir / "a.mkv";
    {
        StagedPublish late =
            stage_with_extras(out, "stale join", "{}", R"({"faces":1})", "stale jpeg");
        BOOST_TEST(dir.list().size() == 4u);  // all four under temporary names
        must(db.joiner->leave());
        BOOST_TEST(must(db.owner->take_over_join(db.job, "joiner")));
        const Publication p = must(record_then_publish(late, recorder(*db.joiner, db.job)));
        BOOST_TEST((p.outcome == PublishOutcome::fenced_off));
    }
    BOOST_TEST(dir.list().empty());  // no detections, no frames folder, no temporaries
}

BOOST_AUTO_TEST_CASE(a_take_over_removes_what_a_dead_joiner_left_staged_and_nothing_else) {
    Joining db;
    t::Sandbox dir;
    const fs::path out = dir / "a.mkv";
    {
        // The joiner's process dies after staging: nothing removes its files.
        StagedPublish dead =
            stage_with_extras(out, "dead join", "{}", R"({"faces":1})", "dead jpeg");
        (void)dead.output.release();
        (void)dead.sidecar.release();
        for (auto& e : dead.extras) (void)e.release();
    }
    // Hidden names that are not a publication of a.mkv stay.
    const std::vector<std::string> others{
        ".a.mkv.rr-tmp-NOTMINE123",           // not a name temp_sibling() makes
        ".a.mkv.rr-tmp-abc",                  // too short
        ".a.mkv.old.rr-tmp-abcdefghij",       // not a file a publication writes
        ".b.mkv.rr-tmp-abcdefghij",           // another output's
        ".a.mkv.frames.rr-tmp-abcdefghij.x",  // a longer name
    };
    for (const auto& n : others) t::write_file(dir / n, "someone else's");
    BOOST_TEST(dir.list().size() == 4u + others.size());
    must(db.joiner->leave());
    BOOST_TEST(must(db.owner->take_over_join(db.job, "joiner")));
    // What the node taking the join over does first (ClusterWork::join).
    BOOST_TEST(rr::pipeline::remove_staged_files(out) == 4u);
    std::vector<std::string> left = others;
    std::sort(left.begin(), left.end());
    BOOST_TEST(dir.list() == left);
    // It joins again and publishes, as any joiner.
    {
        StagedPublish staged =
            stage_with_extras(out, "the join", R"({"by":"owner"})", R"({"faces":2})", "jpeg");
        BOOST_TEST((must(record_then_publish(staged, recorder(*db.owner, db.job))).outcome ==
                    PublishOutcome::published));
    }
    BOOST_TEST(t::read_file(out) == "the join");
    BOOST_TEST(t::read_file(dir / "a.mkv.detections.json") == R"({"faces":2})");
    BOOST_TEST(dir.list().size() == 4u + others.size());
}

BOOST_AUTO_TEST_CASE(a_stale_publisher_replaces_none_of_the_winners_files) {
    // The joiner recorded its output, then was taken for lost (paused past its lease) before it
    // put anything in place; the owner took the join over, joined again and published. When the
    // old joiner goes on, its link() fails and it puts none of its files in place.
    Joining db;
    t::Sandbox dir;
    const fs::path out = dir / "a.mkv";
    const fs::path sidecar = rr::pipeline::sidecar_path_for(out);
    StagedPublish stale =
        stage_with_extras(out, "stale join", R"({"by":"joiner"})", R"({"faces":1})", "stale");
    bool stale_recorded = false;
    Publication late;
    {
        auto base = recorder(*db.joiner, db.job);
        late = must(record_then_publish(stale, [&](const OutputRecord& r) {
            stale_recorded = static_cast<bool>(base(r));
            // Paused here: lost, taken over, joined and published by the owner.
            must(db.joiner->leave());
            BOOST_REQUIRE(must(db.owner->take_over_join(db.job, "joiner")));
            StagedPublish fresh =
                stage_with_extras(out, "the join", R"({"by":"owner"})", R"({"faces":2})", "jpeg");
            BOOST_REQUIRE((must(record_then_publish(fresh, recorder(*db.owner, db.job))).outcome ==
                           PublishOutcome::published));
            return rr::Status{};  // the old joiner's record had been accepted
        }));
    }
    BOOST_TEST(stale_recorded);
    BOOST_TEST((late.outcome == PublishOutcome::lost_race));
    {
        StagedPublish gone = std::move(stale);  // what the old joiner drops when it returns
    }
    BOOST_TEST(t::read_file(out) == "the join");
    BOOST_TEST(t::read_file(sidecar) == R"({"by":"owner"})");
    BOOST_TEST(t::read_file(dir / "a.mkv.detections.json") == R"({"faces":2})");
    BOOST_TEST(t::read_file(dir / "a.mkv.frames" / "before.jpg") == "jpeg");
    BOOST_TEST(dir.list() == (std::vector<std::string>{"a.mkv", "a.mkv.detections.json",
                                                       "a.mkv.frames", "a.renderrush.json"}));
    // What the old joiner then finds: not the output it recorded; it says so and leaves it.
    const PublishedCheck c = must(check_published(late.record, out));
    BOOST_TEST((c.state == PublishedCheck::State::broken));
}

BOOST_AUTO_TEST_SUITE_END()
