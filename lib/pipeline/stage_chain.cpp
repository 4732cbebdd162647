#include "pipeline/stage_chain.h"

namespace rr::pipeline {

Result<StageChain> StageChain::open(const std::vector<std::unique_ptr<stages::Stage>>& stages,
                                    size_t count, const stages::ChunkContext& ctx) {
    StageChain chain;
    for (size_t i = 0; i < count && i < stages.size(); ++i) {
        auto inst = stages[i]->open(ctx);
        if (!inst) return inst.error().context("stage '" + stages[i]->name() + "'");
        chain.instances_.push_back(std::move(inst).value());
    }
    return chain;
}

Status StageChain::push_from(size_t first, std::vector<av::FramePtr> frames,
                             std::vector<av::FramePtr>& out) {
    for (size_t i = first; i < instances_.size() && !frames.empty(); ++i) {
        std::vector<av::FramePtr> next;
        for (auto& f : frames) RR_TRY(instances_[i]->process(std::move(f), next));
        frames = std::move(next);
    }
    for (auto& f : frames) out.push_back(std::move(f));
    return {};
}

Status StageChain::push(av::FramePtr frame, std::vector<av::FramePtr>& out) {
    std::vector<av::FramePtr> frames;
    frames.push_back(std::move(frame));
    return push_from(0, std::move(frames), out);
}

Status StageChain::flush(std::vector<av::FramePtr>& out) {
    for (size_t i = 0; i < instances_.size(); ++i) {
        std::vector<av::FramePtr> left;
        RR_TRY(instances_[i]->flush(left));
        RR_TRY(push_from(i + 1, std::move(left), out));
    }
    return {};
}

std::vector<nlohmann::json> StageChain::results() const {
    std::vector<nlohmann::json> r;
    for (const auto& inst : instances_) r.push_back(inst->chunk_result());
    return r;
}

}  // namespace rr::pipeline
