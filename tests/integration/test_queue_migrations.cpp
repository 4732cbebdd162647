#define BOOST_TEST_MODULE queue_migrations
#include <unistd.h>

#include <barrier>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "store/db.h"
#include "store/pg.h"
#include "store/queue_migrations.h"
#include "store/sqlite_migrations.h"
#include "store/task_queue.h"
#include "support/must.h"
#include "support/pg_fixture.h"

using namespace rr::store;
namespace fs = std::filesystem;
namespace t = rr::test;
namespace utf = boost::unit_test;
using rr::test::must;

namespace {

// table -> its column names in order.
using Schema = std::map<std::string, std::vector<std::string>>;

struct TempDir {
    fs::path path;
    TempDir() {
        std::string tmpl = (fs::temp_directory_path() / "rr-queue-migrations-XXXXXX").string();
        BOOST_REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

Schema sqlite_schema(const fs::path& file) {
    Db db = must(Db::open(file));
    Schema out;
    Stmt tables = must(Stmt::prepare(db,
                                     "SELECT name FROM sqlite_master WHERE type = 'table' "
                                     "AND name NOT LIKE 'sqlite_%' ORDER BY name"));
    while (must(tables.step())) {
        const std::string table = tables.text(0);
        Stmt cols = must(Stmt::prepare(db, "SELECT name FROM pragma_table_info(?1) ORDER BY cid"));
        cols.bind(1, table);
        while (must(cols.step())) out[table].push_back(cols.text(0));
    }
    return out;
}

Schema pg_schema(const std::string& conninfo) {
    PgConn conn = must(PgConn::connect(conninfo));
    PgResult r =
        must(conn.query("SELECT table_name, column_name FROM information_schema.columns "
                        "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"));
    Schema out;
    for (int i = 0; i < r.rows(); ++i) out[r.text(i, 0)].push_back(r.text(i, 1));
    return out;
}

std::string describe(const Schema& s) {
    std::string out;
    for (const auto& [table, cols] : s) {
        out += table + "(";
        for (size_t i = 0; i < cols.size(); ++i) out += (i ? ", " : "") + cols[i];
        out += ") ";
    }
    return out;
}

QueueOptions options(const std::string& database, const std::string& node) {
    QueueOptions o;
    o.database = database;
    o.node_id = node;
    o.lease_seconds = 30;
    o.backoff_seconds = 0;
    return o;
}

std::unique_ptr<TaskQueue> node(const std::string& database, const std::string& id) {
    auto q = must(open_task_queue(options(database, id)));
    NodeRegistration r;
    r.host = "test";
    r.pid = static_cast<int>(::getpid());
    r.version = "test";
    r.workers = 2;
    must(q->register_node(r));
    return q;
}

std::vector<std::string> payloads(int n) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) out.push_back("chunk " + std::to_string(i));
    return out;
}

// A SQLite queue file at schema version `version`, as an older renderrushd left it.
Db sqlite_queue_at_version(const fs::path& file, int version) {
    Db db = must(Db::open(file));
    must(
        db.exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                "applied_at REAL NOT NULL DEFAULT 0)"));
    for (const QueueMigration& m : queue_migrations().first(static_cast<std::size_t>(version))) {
        must(db.exec(m.sqlite));
        must(db.exec("INSERT INTO schema_migrations (version) VALUES (" +
                     std::to_string(m.version) + ")"));
    }
    return db;
}

}  // namespace

BOOST_AUTO_TEST_CASE(versions_are_numbered_one_to_n_for_both_backends) {
    const auto list = queue_migrations();
    BOOST_REQUIRE(!list.empty());
    std::set<std::string_view> names;
    for (size_t i = 0; i < list.size(); ++i) {
        BOOST_TEST(list[i].version == static_cast<int>(i) + 1);
        BOOST_TEST(!list[i].postgres.empty());
        BOOST_TEST(!list[i].sqlite.empty());
        names.insert(list[i].name);
    }
    BOOST_TEST(names.size() == list.size());
    BOOST_TEST(latest_queue_schema_version() == list.back().version);
}

BOOST_AUTO_TEST_CASE(sqlite_version_is_read_without_creating_the_file) {
    TempDir dir;
    const fs::path file = dir.path / "queue.db";
    BOOST_TEST(must(queue_schema_version("sqlite:" + file.string())) == 0);
    BOOST_TEST(!fs::exists(file));
    must(open_task_queue(options("sqlite://" + file.string(), "a")));
    BOOST_TEST(fs::exists(file));
    BOOST_TEST(must(queue_schema_version("sqlite:" + file.string())) ==
               latest_queue_schema_version());
    BOOST_TEST(is_sqlite_database("sqlite:" + file.string()));
    BOOST_TEST(!is_sqlite_database("postgresql://db/renderrush"));
    // An absolute path only: a relative one would follow each node's working folder.
    BOOST_TEST(!open_task_queue(options("sqlite://relative/queue.db", "a")).ok());
    BOOST_TEST(!open_task_queue(options("sqlite:queue.db", "a")).ok());
    BOOST_TEST(!queue_schema_version("sqlite:queue.db").ok());
}

BOOST_AUTO_TEST_CASE(both_backends_have_the_same_tables_and_columns,
                     *utf::precondition(t::have_postgres)) {
    TempDir dir;
    const fs::path file = dir.path / "queue.db";
    must(open_task_queue(options("sqlite:" + file.string(), "a")));
    const std::string conninfo = t::shared_pg_server().create_database("same_schema");
    BOOST_TEST(must(queue_schema_version(conninfo)) == 0);
    must(open_task_queue(options(conninfo, "a")));
    BOOST_TEST(must(queue_schema_version(conninfo)) == latest_queue_schema_version());

    const Schema lite = sqlite_schema(file);
    const Schema pg = pg_schema(conninfo);
    BOOST_TEST_MESSAGE("sqlite: " << describe(lite));
    BOOST_TEST(lite.count("jobs") == 1);
    BOOST_TEST(lite.count("schema_migrations") == 1);
    BOOST_TEST(describe(lite) == describe(pg));
}

BOOST_AUTO_TEST_CASE(a_newer_schema_is_refused_by_both_backends,
                     *utf::precondition(t::have_postgres)) {
    const int newer = latest_queue_schema_version() + 1;
    TempDir dir;
    const std::string lite = "sqlite:" + (dir.path / "queue.db").string();
    must(open_task_queue(options(lite, "a")));
    {
        Db db = must(Db::open(dir.path / "queue.db"));
        must(db.exec("INSERT INTO schema_migrations (version) VALUES (" + std::to_string(newer) +
                     ")"));
    }
    const std::string pg = t::shared_pg_server().create_database("newer_schema");
    must(open_task_queue(options(pg, "a")));
    t::shared_pg_server().sql("newer_schema", "INSERT INTO schema_migrations (version) VALUES (" +
                                                  std::to_string(newer) + ")");
    for (const std::string& database : {lite, pg}) {
        BOOST_TEST_CONTEXT(database) {
            BOOST_TEST(must(queue_schema_version(database)) == newer);
            auto refused = open_task_queue(options(database, "b"));
            BOOST_REQUIRE(!refused.ok());
            BOOST_TEST(refused.error().code == rr::Errc::unsupported);
            BOOST_TEST(refused.error().message.find("newer") != std::string::npos);
        }
    }
}

BOOST_AUTO_TEST_CASE(sqlite_migration_3_keeps_the_jobs_and_tasks_of_version_2) {
    // Migration 3 rebuilds jobs on SQLite (a CHECK cannot be altered): what a version-2 queue
    // held must survive it, tasks keep their job, and no job id is handed out again.
    TempDir dir;
    const fs::path file = dir.path / "queue.db";
    {
        Db db = sqlite_queue_at_version(file, 2);
        must(
            db.exec("INSERT INTO jobs (source_path, profile, state, chunks_total, "
                    "chunks_remaining) VALUES ('in/a.mkv', 'web', 'running', 1, 1), "
                    "('in/b.mkv', 'web', 'running', 1, 1)"));
        must(db.exec("INSERT INTO tasks (job_id, idx, payload) VALUES (1, 0, 'p')"));
        must(db.exec("DELETE FROM jobs WHERE id = 2"));
    }
    auto q = node("sqlite:" + file.string(), "a");
    const JobView kept = must(q->job(1));
    BOOST_TEST(kept.source_path == "in/a.mkv");
    BOOST_TEST(kept.state == "running");
    BOOST_TEST(kept.source_key == "");
    const auto tasks = must(q->tasks(1));
    BOOST_REQUIRE(tasks.size() == 1u);
    BOOST_TEST(tasks[0].payload == "p");
    BOOST_TEST(must(q->add_job("in/c.mkv", "web", payloads(1), 0)) == 3);
    const Lease l = must(q->claim(1)).at(0);
    BOOST_TEST(l.job_id == 1);
}

BOOST_AUTO_TEST_CASE(sqlite_nodes_on_one_file_elect_exactly_one_joiner_per_job) {
    // Two nodes, each with its own connection to one file, complete a job's last two chunks
    // at the same moment: the single writer lets exactly one take the counter to 0.
    TempDir dir;
    const std::string database = "sqlite:" + (dir.path / "queue.db").string();
    auto a = node(database, "a");
    auto b = node(database, "b");
    const int rounds = 200;
    int single_joiner = 0;
    for (int round = 0; round < rounds; ++round) {
        const int64_t job = must(a->add_job("in/r.mkv", "web", payloads(2), 0));
        const Lease la = must(a->claim(1)).at(0);
        const Lease lb = must(b->claim(1)).at(0);
        BOOST_REQUIRE(la.task_id != lb.task_id);
        std::barrier go(2);
        rr::Result<Completion> ca = rr::make_error(rr::Errc::io, "not run");
        rr::Result<Completion> cb = rr::make_error(rr::Errc::io, "not run");
        std::thread ta([&] {
            go.arrive_and_wait();
            ca = a->complete(la, "a");
        });
        std::thread tb([&] {
            go.arrive_and_wait();
            cb = b->complete(lb, "b");
        });
        ta.join();
        tb.join();
        BOOST_REQUIRE(ca.ok() && cb.ok());
        BOOST_REQUIRE(ca->accepted && cb->accepted);
        const JobView j = must(a->job(job));
        BOOST_REQUIRE(j.state == "joining");
        BOOST_REQUIRE(j.chunks_remaining == 0);
        if (int(ca->job_ready) + int(cb->job_ready) == 1 &&
            j.joiner.value_or("") == (ca->job_ready ? "a" : "b")) {
            ++single_joiner;
        }
        must(j.joiner == "a" ? a->finish_job(job, "{}") : b->finish_job(job, "{}"));
    }
    BOOST_TEST(single_joiner == rounds);
    std::int64_t done = 0;
    for (const NodeView& n : must(a->nodes())) done += n.chunks_done;
    BOOST_TEST(done == 2 * rounds);
}

BOOST_AUTO_TEST_CASE(sqlite_nodes_starting_together_on_a_new_file_migrate_it_once) {
    // Nodes on one host started at once (systemd) all open a file that does not exist yet:
    // every one must get the queue, the schema applied exactly once.
    const int rounds = 20;
    const int nodes = 6;
    for (int round = 0; round < rounds; ++round) {
        TempDir dir;
        const std::string database = "sqlite:" + (dir.path / "queue.db").string();
        std::barrier go(nodes);
        std::vector<std::string> errors(nodes);
        std::vector<std::thread> threads;
        for (int i = 0; i < nodes; ++i) {
            threads.emplace_back([&, i] {
                go.arrive_and_wait();
                auto q = open_task_queue(options(database, "n" + std::to_string(i)));
                if (!q.ok()) errors[static_cast<size_t>(i)] = q.error().message;
            });
        }
        for (auto& th : threads) th.join();
        for (const auto& e : errors)
            BOOST_REQUIRE_MESSAGE(e.empty(), "round " << round << ": " << e);
        Db db = must(Db::open(dir.path / "queue.db"));
        Stmt versions =
            must(Stmt::prepare(db, "SELECT count(*), max(version) FROM schema_migrations"));
        BOOST_REQUIRE(must(versions.step()));
        BOOST_TEST(versions.integer(0) == latest_queue_schema_version());
        BOOST_TEST(versions.integer(1) == latest_queue_schema_version());
    }
}

BOOST_AUTO_TEST_CASE(sqlite_migration_6_queues_earlier_tasks_at_priority_0_in_their_order) {
    // Tasks queued before jobs had a priority keep their order, at the default priority 0; a
    // job with a higher priority queued after the upgrade is claimed before them.
    TempDir dir;
    const fs::path file = dir.path / "queue.db";
    {
        Db db = sqlite_queue_at_version(file, 5);
        must(
            db.exec("INSERT INTO jobs (source_path, profile, state, chunks_total, "
                    "chunks_remaining) VALUES ('in/a.mkv', 'web', 'running', 2, 2), "
                    "('in/b.mkv', 'web', 'running', 1, 1)"));
        must(
            db.exec("INSERT INTO tasks (job_id, idx, payload) VALUES (1, 0, 'a0'), (1, 1, 'a1'), "
                    "(2, 0, 'b0')"));
    }
    auto q = node("sqlite:" + file.string(), "a");
    BOOST_TEST(must(q->job(1)).priority == 0);
    BOOST_TEST(must(q->tasks(2)).at(0).priority == 0);
    const int64_t urgent = must(q->add_job("in/c.mkv", "web", payloads(1), 1));
    const auto got = must(q->claim(4));
    std::vector<std::string> order;
    for (const Lease& l : got) order.push_back(l.payload);
    BOOST_TEST(got.at(0).job_id == urgent);
    BOOST_TEST((order == std::vector<std::string>{"chunk 0", "a0", "a1", "b0"}));
}

BOOST_AUTO_TEST_CASE(both_backends_index_the_available_tasks_in_claim_order,
                     *utf::precondition(t::have_postgres)) {
    // The claim reads available tasks by priority, then id: the partial index must be in that
    // order on both backends, or every claim sorts the whole live queue.
    TempDir dir;
    const fs::path file = dir.path / "queue.db";
    must(open_task_queue(options("sqlite:" + file.string(), "a")));
    {
        Db db = must(Db::open(file));
        Stmt s =
            must(Stmt::prepare(db, "SELECT sql FROM sqlite_master WHERE name = 'tasks_available'"));
        BOOST_REQUIRE(must(s.step()));
        const std::string sql = s.text(0);
        BOOST_TEST_MESSAGE("sqlite: " << sql);
        BOOST_TEST(sql.find("(priority DESC, id) WHERE state = 'available'") != std::string::npos);
    }
    const std::string conninfo = t::shared_pg_server().create_database("claim_index");
    must(open_task_queue(options(conninfo, "a")));
    PgConn conn = must(PgConn::connect(conninfo));
    PgResult r =
        must(conn.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'tasks_available'"));
    BOOST_REQUIRE_EQUAL(r.rows(), 1);
    const std::string def = r.text(0, 0);
    BOOST_TEST_MESSAGE("postgresql: " << def);
    BOOST_TEST(def.find("(priority DESC, id) WHERE (state = 'available'::text)") !=
               std::string::npos);
}
