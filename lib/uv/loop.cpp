#include "uv/loop.h"

#include <stdexcept>

namespace rr::uv {
namespace {

Error uv_error(int rc, const std::string& what) {
    return Error{Errc::io, what + ": " + uv_strerror(rc)};
}

}  // namespace

Loop::Loop() {
    if (int rc = uv_loop_init(&loop_); rc != 0)
        throw std::runtime_error(std::string("uv_loop_init: ") + uv_strerror(rc));
}

Loop::~Loop() {
    uv_walk(
        &loop_,
        [](uv_handle_t* h, void*) {
            // Owners close their handles; anything left here was orphaned by an early exit.
            if (!uv_is_closing(h)) uv_close(h, nullptr);
        },
        nullptr);
    for (int i = 0; i < 100 && uv_run(&loop_, UV_RUN_NOWAIT) != 0; ++i) {
    }
    uv_loop_close(&loop_);
}

Result<Timer> Timer::create(Loop& loop, std::function<void()> callback) {
    Timer t;
    Box* b = t.make();
    if (int rc = uv_timer_init(loop.get(), &b->handle); rc != 0) return uv_error(rc, "timer");
    b->initialized = true;
    b->state = std::move(callback);
    return t;
}

void Timer::start(uint64_t timeout_ms, uint64_t repeat_ms) {
    if (!box_) return;
    uv_timer_start(
        &box_->handle, [](uv_timer_t* h) { box_of(h)->state(); }, timeout_ms, repeat_ms);
}

void Timer::stop() {
    if (box_) uv_timer_stop(&box_->handle);
}

Result<Poll> Poll::create(Loop& loop, int fd, std::function<void(int, int)> callback) {
    Poll p;
    Box* b = p.make();
    if (int rc = uv_poll_init(loop.get(), &b->handle, fd); rc != 0) return uv_error(rc, "poll");
    b->initialized = true;
    b->state = std::move(callback);
    return p;
}

void Poll::start(int events) {
    if (!box_) return;
    uv_poll_start(&box_->handle, events,
                  [](uv_poll_t* h, int status, int ev) { box_of(h)->state(status, ev); });
}

void Poll::stop() {
    if (box_) uv_poll_stop(&box_->handle);
}

Result<Signal> Signal::create(Loop& loop, int signum, std::function<void()> callback) {
    Signal s;
    Box* b = s.make();
    if (int rc = uv_signal_init(loop.get(), &b->handle); rc != 0) return uv_error(rc, "signal");
    b->initialized = true;
    b->state = std::move(callback);
    if (int rc = uv_signal_start(
            &b->handle, [](uv_signal_t* h, int) { box_of(h)->state(); }, signum);
        rc != 0) {
        return uv_error(rc, "signal " + std::to_string(signum));
    }
    return s;
}

Poster::Async::Box* Poster::Async::init(Loop& loop, std::shared_ptr<Shared> shared) {
    Box* b = make();
    if (uv_async_init(loop.get(), &b->handle, &Poster::drain) != 0) return nullptr;
    b->initialized = true;
    b->state = std::move(shared);
    return b;
}

Result<std::unique_ptr<Poster>> Poster::create(Loop& loop) {
    std::unique_ptr<Poster> p(new Poster());
    p->shared_ = std::make_shared<Shared>();
    if (!p->async_.init(loop, p->shared_)) return make_error(Errc::io, "uv_async_init failed");
    return p;
}

Poster::~Poster() {
    async_.close();
}

void Poster::post(std::function<void()> fn) {
    {
        std::lock_guard lock(shared_->mutex);
        shared_->queue.push_back(std::move(fn));
    }
    if (auto* a = async_.raw()) uv_async_send(a);
}

void Poster::drain(uv_async_t* async) {
    // uv_async_send coalesces wake-ups: take everything queued so far.
    auto& shared = *static_cast<Async::Box*>(async->data)->state;
    std::deque<std::function<void()>> batch;
    {
        std::lock_guard lock(shared.mutex);
        batch.swap(shared.queue);
    }
    for (auto& fn : batch) fn();
}

}  // namespace rr::uv
