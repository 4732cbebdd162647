#define BOOST_TEST_MODULE store_job_store
#include <boost/test/unit_test.hpp>

#include "store/job_store.h"
#include "store/migrations.h"
#include "support/sandbox.h"

using namespace rr::store;
namespace t = rr::test;

namespace {
NewJob job(const std::string& path, int priority = 0) {
    NewJob j;
    j.source_path = path;
    j.size = 100;
    j.mtime_ns = 42;
    j.profile = "web";
    j.priority = priority;
    return j;
}
}  // namespace

BOOST_AUTO_TEST_CASE(migrates_a_new_database_and_refuses_a_newer_one) {
    t::Sandbox box;
    {
        auto s = JobStore::open(box / "db");
        BOOST_REQUIRE(s.ok());
        auto v = Stmt::prepare(s->db(), "PRAGMA user_version");
        BOOST_REQUIRE(v.ok());
        BOOST_REQUIRE(v->step().value());
        BOOST_TEST(v->integer(0) == latest_schema_version());
        auto mode = Stmt::prepare(s->db(), "PRAGMA journal_mode");
        BOOST_REQUIRE(mode->step().value());
        BOOST_TEST(mode->text(0) == "wal");
        BOOST_REQUIRE(s->db().exec("PRAGMA user_version = 99").ok());
    }
    auto again = JobStore::open(box / "db");
    BOOST_REQUIRE(!again.ok());
    BOOST_TEST(again.error().message.find("newer than this renderrushd") != std::string::npos);
}

// Migration 2 rebuilds the jobs table; the chunks and events that reference it must survive
// (with foreign keys on, dropping the old table would cascade into them).
BOOST_AUTO_TEST_CASE(rebuilding_the_jobs_table_keeps_chunks_and_events) {
    t::Sandbox box;
    int64_t id = 0;
    {
        auto s = JobStore::open(box / "db");
        BOOST_REQUIRE(s.ok());
        id = s->insert_job(job("/in/a.mov")).value();
        rr::store::ChunkRow c;
        c.job_id = id;
        c.frames = 10;
        BOOST_REQUIRE(s->replace_chunks(id, {c}).ok());
        BOOST_REQUIRE(s->add_event(id, "state", "queued").ok());
        // Back to version 1: what later migrations added to chunks goes too.
        BOOST_REQUIRE(s->db().exec("ALTER TABLE chunks DROP COLUMN node").ok());
        BOOST_REQUIRE(s->db().exec("PRAGMA user_version = 1").ok());
    }
    auto s = JobStore::open(box / "db");
    BOOST_REQUIRE(s.ok());
    BOOST_TEST(s->chunks(id).value().size() == 1u);
    BOOST_TEST(s->events(id, 10).value().size() == 1u);
    BOOST_TEST(s->set_state(id, JobState::done_with_warnings, "source stayed").ok());
    BOOST_TEST(s->job(id).value()->state == JobState::done_with_warnings);
}

BOOST_AUTO_TEST_CASE(queue_order_is_priority_then_age) {
    t::Sandbox box;
    auto s = JobStore::open(box / "db");
    BOOST_REQUIRE(s.ok());
    auto ids = s->insert_jobs({job("/a"), job("/b", 5), job("/c"), job("/d", 5)});
    BOOST_REQUIRE(ids.ok());
    BOOST_TEST(s->next_queued({}).value()->source_path == "/b");
    BOOST_TEST(s->next_queued({(*ids)[1]}).value()->source_path == "/d");
    BOOST_TEST(s->next_queued({(*ids)[1], (*ids)[3]}).value()->source_path == "/a");
    BOOST_REQUIRE(s->set_state((*ids)[0], JobState::failed, "broken").ok());
    auto counts = s->count_by_state().value();
    BOOST_TEST(counts["queued"] == 3);
    BOOST_TEST(counts["failed"] == 1);
    BOOST_TEST(s->job((*ids)[0]).value()->error.value() == "broken");
    BOOST_TEST(s->job((*ids)[0]).value()->finished_at.has_value());
}

BOOST_AUTO_TEST_CASE(sources_and_content_are_found_again) {
    t::Sandbox box;
    auto s = JobStore::open(box / "db");
    auto a = s->insert_job(job("/in/a.mov")).value();
    BOOST_TEST(s->find_by_source("/in/a.mov", 100, 42).value().value() == a);
    BOOST_TEST(!s->find_by_source("/in/a.mov", 101, 42).value().has_value());
    BOOST_REQUIRE(s->set_probed(a, "abc", 10, 2).ok());
    BOOST_REQUIRE(s->set_state(a, JobState::done).ok());
    auto b = s->insert_job(job("/in/b.mov")).value();
    BOOST_TEST(s->find_by_content("abc", "web", b).value() == std::vector<int64_t>{a});
    BOOST_TEST(s->find_by_content("abc", "other", b).value().empty());
    BOOST_REQUIRE(s->set_state(a, JobState::done_with_warnings, "source stayed").ok());
    BOOST_TEST(s->find_by_content("abc", "web", b).value() == std::vector<int64_t>{a});
    BOOST_REQUIRE(s->set_state(a, JobState::failed).ok());  // failed work does not count as done
    BOOST_TEST(s->find_by_content("abc", "web", b).value().empty());
}

BOOST_AUTO_TEST_CASE(chunks_record_their_life) {
    t::Sandbox box;
    auto s = JobStore::open(box / "db");
    auto id = s->insert_job(job("/x")).value();
    std::vector<ChunkRow> rows(3);
    for (int i = 0; i < 3; ++i) {
        rows[i].job_id = id;
        rows[i].task = i == 0 ? TaskRef::audio() : TaskRef::chunk(i - 1);
        rows[i].frames = 10;
    }
    BOOST_REQUIRE(s->replace_chunks(id, rows).ok());
    // A failed attempt first, then the queue's accepted one, as the owner learns of them.
    BOOST_REQUIRE(s->chunk_failed(id, TaskRef::chunk(0), "worker killed by signal 9").ok());
    BOOST_TEST(s->chunks(id).value()[1].state == ChunkState::failed);
    BOOST_TEST(s->chunks(id).value()[1].error.value_or("") == "worker killed by signal 9");
    ChunkRow done;
    done.job_id = id;
    done.task = TaskRef::chunk(0);
    done.file = "/w/chunk-0.nut";
    done.bytes = 1234;
    done.checksum = "ff";
    done.seconds = 0.5;
    done.result = R"({"frames":10})";
    done.worker = 1;
    done.attempts = 2;
    done.started_at = 100.0;
    BOOST_REQUIRE(s->chunk_done(done).ok());
    auto got = s->chunks(id).value();
    BOOST_REQUIRE_EQUAL(got.size(), 3u);
    BOOST_TEST(got[0].task.is_audio());
    BOOST_TEST(got[1].task.index() == 0);
    BOOST_TEST(got[1].state == ChunkState::done);
    BOOST_TEST(got[1].attempts == 2);
    BOOST_TEST(got[1].worker.value() == 1);
    BOOST_TEST(got[1].bytes.value() == 1234);
    BOOST_TEST(got[1].started_at.value_or(0) == 100.0);
    BOOST_TEST(got[1].finished_at.has_value());
    // A report that knows less (no worker, fewer attempts) takes nothing away.
    done.worker.reset();
    done.attempts = 0;
    BOOST_REQUIRE(s->chunk_done(done).ok());
    BOOST_TEST(s->chunks(id).value()[1].attempts == 2);
    BOOST_TEST(s->chunks(id).value()[1].worker.value_or(-1) == 1);
    BOOST_REQUIRE(s->add_event(id, "state", "queued").ok());
    BOOST_TEST(s->events(id, 10).value().size() == 1u);
}

// Stores written before the audio task had a name spell it chunk index -1; they still load,
// and updates addressed to the audio task reach that row.
BOOST_AUTO_TEST_CASE(a_stored_audio_row_is_the_audio_task) {
    t::Sandbox box;
    auto s = JobStore::open(box / "db");
    auto id = s->insert_job(job("/x")).value();
    BOOST_REQUIRE(s->db()
                      .exec("INSERT INTO chunks (job_id, idx, first_frame, frames, start_time, "
                            "end_time, state, attempts) VALUES (" +
                            std::to_string(id) + ", -1, 0, 0, 0, 4, 'pending', 0)")
                      .ok());
    BOOST_REQUIRE(s->chunk_failed(id, TaskRef::audio(), "boom").ok());
    auto got = s->chunks(id).value();
    BOOST_REQUIRE_EQUAL(got.size(), 1u);
    BOOST_TEST(got[0].task.is_audio());
    BOOST_TEST(got[0].task.name() == "audio");
    BOOST_TEST(got[0].state == ChunkState::failed);
    BOOST_TEST(got[0].error.value_or("") == "boom");
}

BOOST_AUTO_TEST_CASE(a_transaction_rolls_back_unless_committed) {
    t::Sandbox box;
    auto s = JobStore::open(box / "db");
    {
        auto tx = Transaction::begin(s->db());
        BOOST_REQUIRE(tx.ok());
        BOOST_REQUIRE(
            s->db().exec("INSERT INTO events (at, kind, message) VALUES (1, 'x', 'y')").ok());
    }
    BOOST_TEST(s->events(0, 10).value().empty());
    auto rows = Stmt::prepare(s->db(), "SELECT COUNT(*) FROM events");
    BOOST_REQUIRE(rows->step().value());
    BOOST_TEST(rows->integer(0) == 0);
}

// Poison protection: a job that keeps being interrupted stays counted while only its audio
// task finishes (it finishes early on every run); a finished video chunk is progress.
BOOST_AUTO_TEST_CASE(only_a_video_chunk_resets_the_interruption_count) {
    t::Sandbox box;
    auto s = JobStore::open(box / "db");
    auto id = s->insert_job(job("/poison")).value();
    std::vector<ChunkRow> rows(2);
    rows[0].job_id = rows[1].job_id = id;
    rows[0].task = TaskRef::chunk(0);
    rows[1].task = TaskRef::audio();
    BOOST_REQUIRE(s->replace_chunks(id, rows).ok());
    BOOST_TEST(s->add_interruption(id).value() == 1);
    BOOST_TEST(s->add_interruption(id).value() == 2);
    ChunkRow audio;
    audio.job_id = id;
    audio.task = TaskRef::audio();
    BOOST_REQUIRE(s->chunk_done(audio).ok());
    BOOST_TEST(s->job(id).value()->interruptions == 2);
    ChunkRow video;
    video.job_id = id;
    video.task = TaskRef::chunk(0);
    BOOST_REQUIRE(s->chunk_done(video).ok());
    BOOST_TEST(s->job(id).value()->interruptions == 0);
}

// A run asked for (retry, reprocess) is marked until its queue job is open; recovery's requeue
// leaves the mark as it was, so a restart resumes a run instead of starting the file again.
BOOST_AUTO_TEST_CASE(a_run_asked_for_is_marked_until_its_queue_job_is_open) {
    t::Sandbox box;
    auto s = JobStore::open(box / "db");
    const int64_t watched = s->insert_job(job("/watched")).value();
    BOOST_TEST(!s->job(watched).value()->rerun);
    BOOST_REQUIRE(s->set_state(watched, JobState::running).ok());
    BOOST_REQUIRE(s->requeue(watched).ok());  // recovery
    BOOST_TEST(s->job(watched).value()->state == JobState::queued);
    BOOST_TEST(!s->job(watched).value()->rerun);
    BOOST_REQUIRE(s->set_state(watched, JobState::cancelled, std::string("by hand")).ok());
    BOOST_REQUIRE(s->retry(watched).ok());
    const auto retried = *s->job(watched).value();
    BOOST_TEST(retried.state == JobState::queued);
    BOOST_TEST(!retried.error.has_value());
    BOOST_TEST(retried.rerun);
    BOOST_REQUIRE(s->requeue(watched).ok());  // a restart before its queue job was open
    BOOST_TEST(s->job(watched).value()->rerun);
    BOOST_REQUIRE(s->clear_rerun(watched).ok());
    BOOST_TEST(!s->job(watched).value()->rerun);

    NewJob again = job("/watched");
    again.reprocess_of = watched;
    const int64_t reprocess = s->insert_job(again).value();
    BOOST_TEST(s->job(reprocess).value()->rerun);
}

// Cluster mode: each chunk row keeps the node whose completion the queue accepted, so
// `renderrushctl jobs` can list a job's nodes (its video chunks', as the sidecar does).
BOOST_AUTO_TEST_CASE(chunk_rows_record_the_node_that_produced_them) {
    t::Sandbox box;
    auto s = JobStore::open(box / "db");
    auto cluster = s->insert_job(job("/cluster")).value();
    auto alone = s->insert_job(job("/alone")).value();
    std::vector<ChunkRow> rows(4);
    for (int i = 0; i < 4; ++i) {
        rows[i].job_id = cluster;
        rows[i].task = i == 3 ? TaskRef::audio() : TaskRef::chunk(i);
    }
    BOOST_REQUIRE(s->replace_chunks(cluster, rows).ok());
    ChunkRow lone;
    lone.job_id = alone;
    BOOST_REQUIRE(s->replace_chunks(alone, {lone}).ok());
    const std::vector<std::pair<TaskRef, std::string>> ran = {{TaskRef::chunk(0), "render-07"},
                                                              {TaskRef::chunk(1), "render-02"},
                                                              {TaskRef::chunk(2), "render-07"},
                                                              {TaskRef::audio(), "render-09"}};
    for (const auto& [task, node] : ran) {
        ChunkRow done;
        done.job_id = cluster;
        done.task = task;
        done.node = node;
        BOOST_REQUIRE(s->chunk_done(done).ok());
    }
    lone.task = TaskRef::chunk(0);
    BOOST_REQUIRE(s->chunk_done(lone).ok());
    BOOST_TEST(s->chunks(cluster).value()[1].node.value_or("") == "render-07");
    auto nodes = s->chunk_nodes({cluster, alone}).value();
    BOOST_TEST((nodes[cluster] == std::vector<std::string>{"render-02", "render-07"}));
    BOOST_TEST(!nodes.count(alone));
    // replace_chunks keeps what it is given.
    auto kept = s->chunks(cluster).value();
    BOOST_REQUIRE(s->replace_chunks(cluster, kept).ok());
    BOOST_TEST(s->chunks(cluster).value()[1].node.value_or("") == "render-07");
}
