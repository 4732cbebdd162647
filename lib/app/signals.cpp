#include "app/signals.h"

#include <pthread.h>
#include <signal.h>

namespace rr::app {

StopOnSignals::StopOnSignals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR2);                   // internal: wakes the waiter at shutdown
    pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread started later
    waiter_ = std::jthread([this, set](std::stop_token stop) {
        while (!stop.stop_requested()) {
            int sig = 0;
            if (sigwait(&set, &sig) != 0) continue;
            if (sig == SIGINT || sig == SIGTERM) source_.request_stop();
        }
    });
}

StopOnSignals::~StopOnSignals() {
    waiter_.request_stop();
    pthread_kill(waiter_.native_handle(), SIGUSR2);
    waiter_.join();
}

}  // namespace rr::app
