#pragma once
// libuv ownership. Only the loop thread touches these; other threads use Poster.

#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "core/result.h"

namespace rr::uv {

class Loop {
  public:
    Loop();
    // Closes every handle still open and runs the loop until they are gone (bounded), so no
    // callback fires into freed memory and uv_loop_close succeeds.
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    [[nodiscard]] uv_loop_t* get() { return &loop_; }
    void run() { uv_run(&loop_, UV_RUN_DEFAULT); }
    void stop() { uv_stop(&loop_); }

  private:
    uv_loop_t loop_{};
};

// Owns one handle of type H plus the state its callbacks need. The handle is freed in its
// close callback, never earlier, as libuv requires.
template <class H, class State>
class Handle {
  public:
    Handle() = default;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    Handle(Handle&& other) noexcept : box_(other.box_) { other.box_ = nullptr; }
    Handle& operator=(Handle&& other) noexcept {
        if (this != &other) {
            close();
            box_ = other.box_;
            other.box_ = nullptr;
        }
        return *this;
    }
    ~Handle() { close(); }

    void close() {
        if (!box_) return;
        auto* h = reinterpret_cast<uv_handle_t*>(&box_->handle);
        if (box_->initialized && !uv_is_closing(h)) {
            uv_close(h, [](uv_handle_t* closed) { delete static_cast<Box*>(closed->data); });
        } else if (!box_->initialized) {
            delete box_;
        }
        box_ = nullptr;
    }
    [[nodiscard]] bool open() const { return box_ != nullptr; }

    // The heap block libuv's handle lives in, with the callback state beside it.
    struct Box {
        H handle{};
        State state{};
        bool initialized = false;
    };

  protected:
    Box* make() {
        close();
        box_ = new Box();
        box_->handle.data = box_;
        return box_;
    }
    static Box* box_of(H* h) { return static_cast<Box*>(h->data); }
    Box* box_ = nullptr;
};

// A repeating or one-shot timer.
class Timer : public Handle<uv_timer_t, std::function<void()>> {
  public:
    [[nodiscard]] static Result<Timer> create(Loop& loop, std::function<void()> callback);
    void start(uint64_t timeout_ms, uint64_t repeat_ms);
    void stop();
};

// Readiness of a file descriptor (inotify, sockets).
class Poll : public Handle<uv_poll_t, std::function<void(int status, int events)>> {
  public:
    [[nodiscard]] static Result<Poll> create(Loop& loop, int fd,
                                             std::function<void(int, int)> callback);
    void start(int events);
    void stop();
};

// A signal delivered as an ordinary loop callback.
class Signal : public Handle<uv_signal_t, std::function<void()>> {
  public:
    [[nodiscard]] static Result<Signal> create(Loop& loop, int signum,
                                               std::function<void()> callback);
};

// Lets any thread run a function on the loop thread. Functions run in posting order.
class Poster {
  public:
    [[nodiscard]] static Result<std::unique_ptr<Poster>> create(Loop& loop);
    ~Poster();
    Poster(const Poster&) = delete;
    Poster& operator=(const Poster&) = delete;
    // Thread-safe.
    void post(std::function<void()> fn);

  private:
    struct Shared {
        std::mutex mutex;
        std::deque<std::function<void()>> queue;
    };
    Poster() = default;
    static void drain(uv_async_t* async);

    std::shared_ptr<Shared> shared_;
    class Async : public Handle<uv_async_t, std::shared_ptr<Shared>> {
      public:
        Box* init(Loop& loop, std::shared_ptr<Shared> shared);
        uv_async_t* raw() { return box_ ? &box_->handle : nullptr; }
    };
    Async async_;
};

}  // namespace rr::uv
