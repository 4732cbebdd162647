#pragma once
// A throwaway PostgreSQL cluster for tests: initdb into a temporary folder, a Unix socket only
// (no TCP port to collide with), fsync off, stopped and removed afterwards. Tests run as root
// in CI and initdb refuses root, so the server runs as `nobody` then.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rr::test {

class PgCluster {
  public:
    // Where initdb/pg_ctl live (RR_PG_BINDIR, else the newest /usr/lib/postgresql/N/bin);
    // nullopt when PostgreSQL is not installed.
    [[nodiscard]] static std::optional<std::filesystem::path> bin_dir();

    // Starts the cluster; throws std::runtime_error with initdb/pg_ctl's output on failure.
    PgCluster();
    ~PgCluster();
    PgCluster(const PgCluster&) = delete;
    PgCluster& operator=(const PgCluster&) = delete;

    // A fresh database; returns its libpq conninfo.
    [[nodiscard]] std::string create_database(const std::string& name);
    [[nodiscard]] std::string conninfo(const std::string& database = "postgres") const;
    // The server's one socket (a Unix socket: it listens on no TCP port).
    [[nodiscard]] std::filesystem::path socket_path() const {
        return root_ / "sock" / ".s.PGSQL.5432";
    }
    // Stops the server at once (no clean shutdown, like a crash) / starts it again, for
    // tests of what nodes do while the database is away.
    void stop() const { pg_ctl("stop"); }
    void start() const { pg_ctl("start"); }
    // Runs SQL as the superuser through psql-free libpq; throws on error. Returns the first
    // value of the first row (empty when there is none).
    std::string sql(const std::string& database, const std::string& statement) const;

  private:
    void pg_ctl(const std::string& action) const;
    // The command run as the server's user, from "/".
    [[nodiscard]] std::vector<std::string> as_user(std::vector<std::string> command) const;
    std::filesystem::path bin_;
    std::filesystem::path root_;
    bool as_nobody_ = false;
};

}  // namespace rr::test
