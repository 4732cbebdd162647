#pragma once
// How a cluster joiner publishes (docs/CLUSTER.md, "Joining"): the output, its sidecar and its
// accompanying files are staged under temporary names and fsynced, the output's size and
// checksum are recorded in the queue (fenced: only the job's current joiner may record), and
// only then is anything published: the output first, by link() and unlink() of its temporary
// name, so on shared storage the first publisher wins; then, only by that winner, the
// accompanying files and last the sidecar, by rename. A publisher that was fenced off after
// its record (its node was taken for lost) can thus never replace the files of the output that
// another joiner published. A node that takes a lost joiner's join over compares the final
// output with that record to tell whether publishing already happened.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/result.h"

namespace rr::service {

// What the queue records of an output (jobs.output_size, jobs.output_checksum).
struct OutputRecord {
    int64_t size = 0;
    std::string checksum;  // xxh3-128, 32 hex digits
    bool operator==(const OutputRecord&) const = default;
};

[[nodiscard]] Result<OutputRecord> describe_output(const std::filesystem::path& file);

// An output, its sidecar and its accompanying files (stages' extras, <output>.frames/) under
// their temporary names; whatever is not published when this goes is removed.
struct StagedPublish {
    TempFile output;
    TempFile sidecar;
    std::vector<TempFile> extras;
};

enum class PublishOutcome {
    published,   // recorded, then the output, the accompanying files and the sidecar are in place
    fenced_off,  // the record was refused (another node took the join over): nothing published
    lost_race,   // recorded, but the output already existed: another publisher's files stand,
                 // none of ours was put in place
    // recorded; the output was already there exactly as recorded but without its sidecar (a
    // joiner died between the two): our sidecar and accompanying files are put beside it
    completed,
};

struct Publication {
    PublishOutcome outcome = PublishOutcome::published;
    OutputRecord record;  // what was recorded (not for fenced_off)
};

// Describes the staged output, calls `record` with it, and publishes only when it succeeded.
// `record` returning Errc::conflict means this node is not the joiner any more (fenced_off);
// any other error is returned and nothing is published. The staged files are removed unless
// published.
[[nodiscard]] Result<Publication> record_then_publish(
    StagedPublish& staged, const std::function<Status(const OutputRecord&)>& record);

// Whether a recorded output was already published at `output`.
struct PublishedCheck {
    enum class State {
        absent,   // not there: join (again)
        matches,  // there and as recorded: publishing happened; `sidecar` is the one beside it
        // there and as recorded, but its sidecar is not (its joiner died in between): join
        // again, and the new join's record_then_publish completes it
        sidecar_missing,
        broken,  // there but not as recorded, or its sidecar is unreadable: `message` says
    } state = State::absent;
    std::string sidecar;  // matches: the sidecar's text
    std::string message;  // broken
};
[[nodiscard]] Result<PublishedCheck> check_published(const OutputRecord& recorded,
                                                     const std::filesystem::path& output);

}  // namespace rr::service
