#pragma once
// Config options that name one of a fixed set of values, parsed once into enums. Each enum has
// one table of spellings, in enum order: parsing, to_string and the config error message
// ("expected a|b|c") all read it, so a new value (a webm container) is one line here plus
// whatever the value means where it is used.

#include <array>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string_view>

namespace rr {

enum class VideoCodec { h264, hevc, av1, vp9 };
enum class HwAccel { automatic, none, qsv, vaapi, nvenc };  // "auto" tries qsv, vaapi, nvenc
enum class Container { mp4, mkv, webm };
enum class AudioCodec { copy, aac, opus };
enum class Disposition { move, keep, remove };  // what happens to a source once its job ended
enum class Interlace { automatic, keep, deinterlace };  // interlaced input (docs/CONFIG.md)
enum class DeinterlaceRate { frame, field };            // one frame per frame, or per field

template <class E>
struct ChoiceNames;  // names[i] is how the config spells E(i)

template <>
struct ChoiceNames<VideoCodec> {
    static constexpr std::array<std::string_view, 4> names = {"h264", "hevc", "av1", "vp9"};
};
template <>
struct ChoiceNames<HwAccel> {
    static constexpr std::array<std::string_view, 5> names = {"auto", "none", "qsv", "vaapi",
                                                              "nvenc"};
};
template <>
struct ChoiceNames<Container> {
    static constexpr std::array<std::string_view, 3> names = {"mp4", "mkv", "webm"};
};
template <>
struct ChoiceNames<AudioCodec> {
    static constexpr std::array<std::string_view, 3> names = {"copy", "aac", "opus"};
};
template <>
struct ChoiceNames<Disposition> {
    static constexpr std::array<std::string_view, 3> names = {"move", "keep", "delete"};
};

template <>
struct ChoiceNames<Interlace> {
    static constexpr std::array<std::string_view, 3> names = {"auto", "keep", "deinterlace"};
};
template <>
struct ChoiceNames<DeinterlaceRate> {
    static constexpr std::array<std::string_view, 2> names = {"frame", "field"};
};

template <class E>
concept Choice = requires {
    ChoiceNames<E>::names;
};

template <Choice E>
[[nodiscard]] constexpr std::string_view to_string(E value) {
    return ChoiceNames<E>::names[static_cast<std::size_t>(value)];
}

template <Choice E>
[[nodiscard]] constexpr std::optional<E> parse_choice(std::string_view text) {
    const auto& names = ChoiceNames<E>::names;
    for (std::size_t i = 0; i < names.size(); ++i)
        if (names[i] == text) return static_cast<E>(i);
    return std::nullopt;
}

template <Choice E>
std::ostream& operator<<(std::ostream& os, E value) {
    return os << to_string(value);
}

// The file extension outputs in `c` get, with the dot: ".mp4", ".mkv", ".webm".
[[nodiscard]] std::string_view container_extension(Container c);
// FFmpeg's muxer for `c`: "mp4", "matroska", "webm".
[[nodiscard]] const char* muxer_name(Container c);
// The container an output path asks for by its extension (any case; ".m4v" and ".mov" are
// written as mp4), or nullopt for extensions we do not write.
[[nodiscard]] std::optional<Container> container_for_extension(std::string_view extension);

}  // namespace rr
