// posestream's command line: the list of subcommands; each one's flags live in its own file.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "app/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"posestream: MediaPipe pose and hand tracking on XNNPACK, served over WebSocket"};
  app.require_subcommand(1);
  app.get_formatter()->column_width(40);

  // The subcommands, explicitly. A new one is a file with an add_<name>(parent) function declared in
  // commands.h and one line here (serve, detect, video and `bench pipeline` go the same way).
  CLI::App& bench = *app.add_subcommand("bench", "Measure the engine and the pipeline");
  bench.require_subcommand(1);
  posestream::app::add_bench_models(bench);
  posestream::app::add_bench_pipeline(bench);
  posestream::app::add_bench_people(bench);
  posestream::app::add_detect(app);
  posestream::app::add_video(app);
  posestream::app::add_serve(app);
  posestream::app::add_load(app);

  // Subcommand actions run as CLI11 callbacks inside parse(); their failures come out here.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "posestream: error: %s\n", error.what());
    return 1;
  }
  return 0;
}
