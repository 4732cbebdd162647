#pragma once
// Real photographs and the pretrained models for tests that need real content.

#include <filesystem>
#include <string>

namespace rr::test {

// A photo from scikit-image's data set (e.g. "astronaut.png", "coffee.png"), taken from the
// Debian package python3-skimage: downloaded once with `apt-get download`, unpacked with
// `dpkg -x` into the test cache under a lock. Throws with the reason when that fails.
[[nodiscard]] std::filesystem::path skimage_photo(const std::string& name);

// A file from OpenCV's sample data (e.g. "vtest.avi", pedestrians filmed from above), taken
// from the Debian package opencv-doc the same way, once, under a lock.
[[nodiscard]] std::filesystem::path opencv_sample(const std::string& name);

// The source tree's models/ (what scripts/fetch-models fills). Throws, naming the script,
// when the models are not there.
[[nodiscard]] std::filesystem::path models_dir();
// The model packages' fixture and published outputs (kept by scripts/fetch-models outside
// models/, which holds only what the code loads).
[[nodiscard]] std::filesystem::path model_samples_dir();

}  // namespace rr::test
