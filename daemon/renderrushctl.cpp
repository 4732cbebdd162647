// renderrushctl: the control client for a running renderrushd.

#include <CLI/CLI.hpp>
#include <cstdio>

#include "app/ctl.h"
#include "core/version.h"

namespace {

// The first word that is not an option (or an option's value): the command the user meant.
std::string first_word(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--socket") {
            ++i;  // its value
            continue;
        }
        if (!a.empty() && a[0] == '-') continue;
        return a;
    }
    return {};
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Control a running renderrushd over its Unix socket", "renderrushctl"};
    app.set_version_flag("--version", rr::kVersion);
    app.require_subcommand(1);
    // Global options may come before or after the command (`status --json`): subcommands
    // created below inherit fallthrough and hand options they do not know to this parent.
    app.fallthrough();
    std::string socket;
    bool json = false;
    app.add_option("--socket", socket,
                   "Control socket (default $RENDERRUSH_SOCKET or /run/renderrush/control.sock)");
    app.add_flag("--json", json, "Print the raw reply data as JSON, for scripts");

    std::string state, file, profile, watch_path;
    int64_t id = 0, limit = 50, offset = 0;
    bool wait = false, verbose = false, force = false;
    auto* status = app.add_subcommand("status", "Workers, jobs by state, watches, hardware");
    status->add_flag("--verbose,-v", verbose, "Also the decoders, encoders and input formats");
    app.add_subcommand("hardware", "The machine: cores, GPUs, decoders, encoders, formats");
    auto* jobs = app.add_subcommand("jobs", "List jobs, newest first");
    jobs->add_option("--state", state, "Only jobs in this state")
        ->check(CLI::IsMember(rr::app::job_state_names()));
    jobs->add_option("--limit", limit, "How many (default 50)")->check(CLI::Range(1, 1000));
    jobs->add_option("--offset", offset, "Skip this many")->check(CLI::NonNegativeNumber);
    auto* job = app.add_subcommand("job", "One job with its chunks and events");
    job->add_option("ID", id, "Job id")->required();
    auto* submit =
        app.add_subcommand("submit", "Queue a file inside a watched folder or submit_roots");
    submit->add_option("FILE", file, "The file")->required();
    submit->add_option("--profile", profile, "Profile (default: the watch's)");
    submit->add_flag("--wait", wait, "Follow the job; exit 0 when done, 1 when it fails");
    auto* cancel = app.add_subcommand("cancel", "Cancel a job");
    cancel->add_option("ID", id, "Job id")->required();
    auto* retry = app.add_subcommand("retry", "Queue a failed or cancelled job again");
    retry->add_option("ID", id, "Job id")->required();
    retry->add_flag("--force", force, "A done or duplicate job: make it again (as reprocess)");
    auto* reprocess = app.add_subcommand(
        "reprocess", "Make a done or duplicate job's file again, as a new job (dedupe skipped)");
    reprocess->add_option("ID", id, "Job id")->required();
    auto* pause = app.add_subcommand(
        "pause", "Stop taking files and starting work (everywhere, or one watch)");
    pause->add_option("WATCH", watch_path, "A watched folder");
    auto* resume = app.add_subcommand("resume", "Undo pause");
    resume->add_option("WATCH", watch_path, "A watched folder");
    app.add_subcommand("reload", "Re-read the daemon's configuration");
    app.add_subcommand("metrics", "Prometheus metrics");
    app.add_subcommand("watch", "Live progress of running jobs");
    app.add_subcommand("health", "Whether the daemon answers");
    app.add_subcommand("nodes", "The cluster's nodes (cluster mode)");
    app.add_subcommand("cluster-jobs",
                       "What the farm is working on: every node's jobs, the chunks each node "
                       "runs now (cluster mode)");
    std::string node;
    auto* drain = app.add_subcommand("drain", "Stop a node claiming new chunks (cluster mode)");
    drain->add_option("NODE", node, "Node id (default: this daemon's)");
    auto* undrain = app.add_subcommand("undrain", "Let a drained node claim again");
    undrain->add_option("NODE", node, "Node id (default: this daemon's)");
    app.add_subcommand("web-url",
                       "The web dashboard's login link (admins only: it holds the token)");

    // CLI11 would call a mistyped command "A subcommand is required"; say what happened instead.
    if (const std::string word = first_word(argc, argv); !word.empty()) {
        std::string known;
        bool found = false;
        for (const auto* sub : app.get_subcommands({})) {
            found = found || sub->get_name() == word;
            known += (known.empty() ? "" : ", ") + sub->get_name();
        }
        if (!found) {
            std::fprintf(stderr, "renderrushctl: unknown command '%s'; commands: %s\n",
                         word.c_str(), known.c_str());
            return rr::app::kCtlUsage;
        }
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : rr::app::kCtlUsage;
    }
    const rr::app::CtlOptions opts{rr::app::resolve_socket(socket), json};
    std::string cmd = app.get_subcommands().front()->get_name();
    if (cmd == "submit") return rr::app::ctl_submit(opts, file, profile, wait);
    if (cmd == "watch") return rr::app::ctl_watch(opts);
    nlohmann::json args = nlohmann::json::object();
    if (cmd == "jobs") {
        args = {{"limit", limit}, {"offset", offset}};
        if (!state.empty()) args["state"] = state;
    } else if (cmd == "job" || cmd == "cancel" || cmd == "retry" || cmd == "reprocess") {
        args = {{"id", id}};
        if (cmd == "retry" && force) args["force"] = true;
    } else if ((cmd == "pause" || cmd == "resume") && !watch_path.empty()) {
        args = {{"watch", watch_path}};
    } else if ((cmd == "drain" || cmd == "undrain") && !node.empty()) {
        args = {{"node", node}};
    } else if (cmd == "status" && verbose) {
        args = {{"verbose", true}};
    }
    return rr::app::ctl_request(opts, cmd, args);
}
