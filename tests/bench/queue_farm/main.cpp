// rr-queue-farm: the cluster queue at farm scale, simulated (scripts/bench cluster, ctest
// integration.queue_farm). Without a subcommand it is the coordinator: it starts a throwaway
// PostgreSQL server (or uses --conninfo), fills the queue, runs --nodes copies of itself as
// `node`, and prints a JSON report; exit 0 when every task was completed exactly once.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "coordinator.h"
#include "node.h"
#include "support/postgres.h"
#include "verdict.h"

namespace fs = std::filesystem;
using namespace rr::farm;

namespace {

int coordinate(FarmOptions o, bool keep_logs) {
    std::unique_ptr<rr::test::PgCluster> server;
    std::string socket_dir;
    if (o.conninfo.empty()) {
        server = std::make_unique<rr::test::PgCluster>();
        o.conninfo = server->create_database("farm");
        socket_dir = o.conninfo.substr(5, o.conninfo.find(' ') - 5);  // "host=DIR user=..."
    }
    rr::store::QueueOptions qo;
    qo.database = o.conninfo;
    qo.node_id = "farm-coordinator";
    auto queue = rr::store::PgQueue::open(qo);
    if (!queue) {
        std::cerr << "rr-queue-farm: " << queue.error().message << "\n";
        return 2;
    }
    std::string dir = (fs::temp_directory_path() / "rr-farm-XXXXXX").string();
    if (!::mkdtemp(dir.data())) {
        std::cerr << "rr-queue-farm: mkdtemp failed\n";
        return 2;
    }
    auto run = run_farm(o, *queue, dir, socket_dir);
    if (!run) {
        std::cerr << "rr-queue-farm: " << run.error().message << "\n";
        return 1;
    }
    auto report = verdict(o, *run, *queue);
    if (!report) {
        std::cerr << "rr-queue-farm: " << report.error().message << "\n";
        return 1;
    }
    std::cout << report->dump(2) << std::endl;
    if (keep_logs) {
        std::cerr << "rr-queue-farm: event logs kept in " << dir << "\n";
    } else {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
    return (*report)["ok"].get<bool>() ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"The cluster queue at farm scale: node processes claiming sleeping tasks"};
    FarmOptions o;
    o.self = fs::canonical("/proc/self/exe").string();
    bool shared = false, keep_logs = false;
    app.add_option("--conninfo", o.conninfo, "use this database instead of a throwaway server");
    app.add_option("--nodes", o.nodes, "node processes")->check(CLI::Range(1, 200));
    app.add_option("--workers", o.node.workers, "workers per node")->check(CLI::Range(1, 16));
    app.add_option("--tasks", o.tasks, "tasks in all")->check(CLI::Range(1, 1000000));
    app.add_option("--jobs", o.jobs, "jobs the tasks are spread over")
        ->check(CLI::Range(1, 100000));
    app.add_option("--task-ms", o.node.task_ms, "what one task sleeps")
        ->check(CLI::Range(0, 60000));
    app.add_option("--poll-ms", o.node.poll_ms, "idle worker's wait before claiming again");
    app.add_option("--lease", o.node.lease_seconds, "lease seconds");
    app.add_option("--heartbeat", o.node.heartbeat_seconds, "heartbeat seconds");
    app.add_option("--kill", o.kill, "nodes killed with SIGKILL mid-run");
    app.add_option("--kill-at", o.kill_at, "share of the tasks done when they are killed")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--freeze", o.freeze, "nodes stopped (SIGSTOP) when the others are killed");
    app.add_option("--freeze-seconds", o.freeze_seconds, "... and continued after this long");
    app.add_option("--timeout", o.timeout_seconds, "give up after this many seconds");
    app.add_flag("--shared-connection", shared, "one connection per node, shared by its threads");
    app.add_flag("--keep-logs", keep_logs, "keep the nodes' event logs");

    auto* node = app.add_subcommand("node", "one node process (started by the coordinator)");
    int ready_fd = -1, go_fd = -1;
    node->add_option("--conninfo", o.node.conninfo)->required();
    node->add_option("--node-id", o.node.node_id)->required();
    node->add_option("--log", o.node.log_path)->required();
    node->add_option("--workers", o.node.workers);
    node->add_option("--task-ms", o.node.task_ms);
    node->add_option("--poll-ms", o.node.poll_ms);
    node->add_option("--lease", o.node.lease_seconds);
    node->add_option("--heartbeat", o.node.heartbeat_seconds);
    node->add_option("--ready-fd", ready_fd)->required();
    node->add_option("--go-fd", go_fd)->required();
    node->add_flag("--shared-connection", shared);
    CLI11_PARSE(app, argc, argv);
    o.node.connection_per_thread = !shared;
    if (o.kill + o.freeze >= o.nodes) {
        std::cerr << "rr-queue-farm: --kill and --freeze must leave at least one node\n";
        return 2;
    }
    try {
        if (*node) return run_node(o.node, ready_fd, go_fd);
        return coordinate(o, keep_logs);
    } catch (const std::exception& e) {
        std::cerr << "rr-queue-farm: " << e.what() << "\n";
        return 2;
    }
}
