#include "support/postgres.h"

#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <vector>

#include "support/process.h"
#include "support/sandbox.h"

namespace fs = std::filesystem;

namespace rr::test {
namespace {

constexpr const char* kNobody = "nobody";

void chown_to(const fs::path& p, uid_t uid, gid_t gid) {
    if (::chown(p.c_str(), uid, gid) != 0) throw std::runtime_error("chown " + p.string());
}

}  // namespace

std::optional<fs::path> PgCluster::bin_dir() {
    if (const char* env = std::getenv("RR_PG_BINDIR"); env && *env) {
        if (fs::exists(fs::path(env) / "initdb")) return fs::path(env);
        return std::nullopt;
    }
    std::optional<fs::path> best;
    int best_version = -1;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        const int v = std::atoi(e.path().filename().c_str());
        if (v > best_version && fs::exists(e.path() / "bin" / "initdb")) {
            best_version = v;
            best = e.path() / "bin";
        }
    }
    return best;
}

PgCluster::PgCluster() {
    auto bin = bin_dir();
    if (!bin) throw std::runtime_error("PostgreSQL server binaries are not installed");
    bin_ = *bin;
    std::string tmpl = (fs::temp_directory_path() / "rr-pg-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
    root_ = tmpl;
    fs::create_directories(root_ / "data");
    fs::create_directories(root_ / "sock");
    as_nobody_ = ::geteuid() == 0;
    if (as_nobody_) {
        const passwd* pw = ::getpwnam(kNobody);
        if (!pw) throw std::runtime_error("no user 'nobody' to run PostgreSQL as");
        // nobody must reach its folders through the root-owned temporary folder.
        fs::permissions(root_,
                        fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
        chown_to(root_ / "data", pw->pw_uid, pw->pw_gid);
        chown_to(root_ / "sock", pw->pw_uid, pw->pw_gid);
    }
    fs::permissions(root_ / "data", fs::perms::owner_all);
    std::vector<std::string> argv =
        as_user({(bin_ / "initdb").string(), "--no-sync", "-D", (root_ / "data").string(), "-U",
                 "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"});
    const CommandResult r = run(argv, std::chrono::seconds(120));
    if (r.exit_code != 0) throw std::runtime_error("initdb failed: " + r.out + r.err);
    pg_ctl("start");
}

std::vector<std::string> PgCluster::as_user(std::vector<std::string> command) const {
    // From "/": the server and initdb resolve paths from a working folder nobody can read.
    std::vector<std::string> argv = {"/bin/sh", "-c", "cd / && exec \"$0\" \"$@\""};
    if (as_nobody_) {
        for (const char* a : {"setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"})
            argv.emplace_back(a);
    }
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
}

void PgCluster::pg_ctl(const std::string& action) const {
    std::vector<std::string> argv = as_user({(bin_ / "pg_ctl").string()});
    argv.insert(argv.end(), {"-D", (root_ / "data").string(), "-w", "-t", "60"});
    if (action == "start") {
        argv.insert(argv.end(),
                    {"-l", (root_ / "sock" / "server.log").string(), "-o",
                     "-c listen_addresses='' -k " + (root_ / "sock").string() +
                         " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                         " -c max_connections=300 -c shared_buffers=32MB"});
    } else {
        argv.insert(argv.end(), {"-m", "immediate"});
    }
    argv.push_back(action);
    const CommandResult r = run(argv, std::chrono::seconds(90));
    if (r.exit_code != 0) {
        std::error_code ec;
        const fs::path log_file = root_ / "sock" / "server.log";
        const std::string log = fs::exists(log_file, ec) ? "\n" + read_file(log_file) : "";
        throw std::runtime_error("pg_ctl " + action + " failed: " + r.out + r.err + log);
    }
}

PgCluster::~PgCluster() {
    try {
        pg_ctl("stop");
    } catch (...) {
        // Removing the folder below still takes the socket away; nothing else can be done.
    }
    std::error_code ec;
    fs::remove_all(root_, ec);
}

std::string PgCluster::conninfo(const std::string& database) const {
    return "host=" + (root_ / "sock").string() + " user=postgres dbname=" + database;
}

std::string PgCluster::sql(const std::string& database, const std::string& statement) const {
    PGconn* c = PQconnectdb(conninfo(database).c_str());
    std::string err, value;
    if (PQstatus(c) != CONNECTION_OK) {
        err = PQerrorMessage(c);
    } else {
        PGresult* r = PQexec(c, statement.c_str());
        const auto st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) err = PQresultErrorMessage(r);
        if (st == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0)
            value = PQgetvalue(r, 0, 0);
        PQclear(r);
    }
    PQfinish(c);
    if (!err.empty()) throw std::runtime_error(statement + ": " + err);
    return value;
}

std::string PgCluster::create_database(const std::string& name) {
    sql("postgres", "CREATE DATABASE " + name);
    return conninfo(name);
}

}  // namespace rr::test
