// make_y4m: JPEG frames -> one YUV4MPEG2 (4:2:0) file, the format Chromium's fake camera plays in a loop.
//   make_y4m OUTPUT.y4m WIDTH HEIGHT FRAME.jpg...
// Frames of another size are scaled to WIDTH x HEIGHT (both even, as 4:2:0 needs).
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "make_y4m: %s\n", message.c_str());
  return 1;
}

// One frame's bytes in planar I420 (Y plane, then U, then V), which is what Y4M's C420 stores.
bool append_frame(std::ofstream& output, const std::string& path, int width, int height, std::string& error) {
  cv::Mat image = cv::imread(path, cv::IMREAD_COLOR);
  if (image.empty()) {
    error = path + ": not a readable image";
    return false;
  }
  if (image.cols != width || image.rows != height) cv::resize(image, image, cv::Size(width, height), 0, 0, cv::INTER_AREA);
  cv::Mat planes;
  cv::cvtColor(image, planes, cv::COLOR_BGR2YUV_I420);
  output << "FRAME\n";
  output.write(reinterpret_cast<const char*>(planes.data), static_cast<std::streamsize>(planes.total() * planes.elemSize()));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) return fail("usage: make_y4m OUTPUT.y4m WIDTH HEIGHT FRAME.jpg...");
  const int width = std::atoi(argv[2]);
  const int height = std::atoi(argv[3]);
  if (width <= 0 || height <= 0 || width % 2 != 0 || height % 2 != 0) {
    return fail("WIDTH and HEIGHT must be positive and even, got " + std::string(argv[2]) + " x " + argv[3]);
  }
  std::ofstream output(argv[1], std::ios::binary);
  if (!output) return fail(std::string(argv[1]) + ": cannot write");
  // C420jpeg: 4:2:0 with chroma sited between luma samples, as JPEG (and OpenCV's I420 conversion) has it.
  output << "YUV4MPEG2 W" << width << " H" << height << " F30:1 Ip A1:1 C420jpeg\n";
  for (int index = 4; index < argc; ++index) {
    std::string error;
    if (!append_frame(output, argv[index], width, height, error)) return fail(error);
  }
  output.close();
  if (!output) return fail(std::string(argv[1]) + ": write failed");
  std::printf("make_y4m: %s: %d frames of %dx%d\n", argv[1], argc - 4, width, height);
  return 0;
}
