#pragma once
// The per-chunk instances of a job's first N stages, with frames pushed through in order.

#include <memory>
#include <vector>

#include "core/result.h"
#include "stages/stage.h"

namespace rr::pipeline {

class StageChain {
  public:
    [[nodiscard]] static Result<StageChain> open(
        const std::vector<std::unique_ptr<stages::Stage>>& stages, size_t count,
        const stages::ChunkContext& ctx);

    // Finished frames (those that left the last stage) are appended to `out`.
    [[nodiscard]] Status push(av::FramePtr frame, std::vector<av::FramePtr>& out);
    // Drains every stage in order, each one's leftovers flowing through the ones after it.
    [[nodiscard]] Status flush(std::vector<av::FramePtr>& out);
    [[nodiscard]] std::vector<nlohmann::json> results() const;

  private:
    Status push_from(size_t first, std::vector<av::FramePtr> frames,
                     std::vector<av::FramePtr>& out);
    std::vector<std::unique_ptr<stages::StageInstance>> instances_;
};

}  // namespace rr::pipeline
