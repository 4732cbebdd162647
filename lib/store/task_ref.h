#pragma once
// One of a job's tasks: a video chunk (0, 1, ...) or the job's audio track, which is processed
// once for the whole file beside the chunks. The store's `chunks.idx` column and the control
// protocol's chunk index spell the audio track -1; that number stays behind index().

#include <compare>
#include <string>

namespace rr::store {

class TaskRef {
  public:
    [[nodiscard]] static constexpr TaskRef chunk(int index) { return TaskRef(index); }
    [[nodiscard]] static constexpr TaskRef audio() { return TaskRef(kAudioIndex); }
    // From the stored / protocol form.
    [[nodiscard]] static constexpr TaskRef from_index(int index) {
        return index < 0 ? audio() : chunk(index);
    }

    [[nodiscard]] constexpr bool is_audio() const { return index_ == kAudioIndex; }
    // The stored / protocol form: the chunk's number, -1 for the audio track.
    [[nodiscard]] constexpr int index() const { return index_; }
    // For messages: "audio", "chunk 3".
    [[nodiscard]] std::string name() const {
        return is_audio() ? "audio" : "chunk " + std::to_string(index_);
    }

    constexpr auto operator<=>(const TaskRef&) const = default;

  private:
    static constexpr int kAudioIndex = -1;
    constexpr explicit TaskRef(int index) : index_(index) {}
    int index_;
};

}  // namespace rr::store
