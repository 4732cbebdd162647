#include "store/pg_listener.h"

#include <poll.h>

#include <cerrno>

namespace rr::store {

Result<PgListener> PgListener::open(const std::string& conninfo, double silent_seconds,
                                    const std::string& channel) {
    RR_ASSIGN(auto conn, PgConn::connect(conninfo, silent_seconds));
    PgListener l(std::move(conn), channel);
    RR_TRY(l.listen());
    return l;
}

Status PgListener::listen() {
    // The channel is ours (a constant), never user input: quoting it as an identifier is enough.
    return conn_.exec("LISTEN \"" + channel_ + "\"");
}

Result<bool> PgListener::wait(std::chrono::milliseconds timeout) {
    if (broken_) {
        RR_TRY(conn_.reconnect());
        RR_TRY(listen());
        broken_ = false;
    }
    PGconn* c = conn_.get();
    auto drain = [&] {
        bool any = false;
        while (PGnotify* n = PQnotifies(c)) {
            any = true;
            PQfreemem(n);
        }
        return any;
    };
    if (drain()) return true;
    pollfd p{PQsocket(c), POLLIN, 0};
    if (p.fd < 0) {
        broken_ = true;
        return make_error(Errc::io, "postgresql: listener has no connection");
    }
    const int rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (rc < 0 && errno != EINTR) return make_error(Errc::io, "postgresql: listener poll failed");
    if (rc <= 0) return false;
    if (PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK) {
        broken_ = true;
        return make_error(
            Errc::io, std::string("postgresql: listener connection lost: ") + PQerrorMessage(c));
    }
    return drain();
}

}  // namespace rr::store
