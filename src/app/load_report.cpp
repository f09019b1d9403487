// The `posestream load` report: sums, percentiles, per-stream connections and reconnect gaps; JSON and text.
#include "app/load_report.h"

#include <algorithm>
#include <cstdio>
#include <iostream>

#include "app/measure.h"

namespace posestream::app {
namespace {

nlohmann::json connection_json(const ConnectionRecord& record) {
  return {{"frames_sent", record.frames_sent},
          {"answered", record.answered},
          {"unanswered", record.unanswered},
          {"ended", record.ended},
          {"dropped", record.dropped},
          {"gap_after_ms", record.gap_after_ms}};
}

// p50 and max of reconnect gaps; copies, since percentile sorts.
nlohmann::json gap_json(std::vector<double> gaps) {
  const double max = gaps.empty() ? 0.0 : *std::max_element(gaps.begin(), gaps.end());
  return {{"count", gaps.size()}, {"p50", percentile(gaps, 0.50)}, {"max", max}};
}

nlohmann::json stream_json(const LoadStats& stats) {
  nlohmann::json connections = nlohmann::json::array();
  for (const ConnectionRecord& record : stats.connections) connections.push_back(connection_json(record));
  return {{"frames_sent", stats.frames_sent},
          {"frames_skipped", stats.frames_skipped},
          {"frames_skipped_disconnected", stats.frames_skipped_disconnected},
          {"answers", stats.answers},
          {"unanswered", stats.unanswered},
          {"unanswered_at_drop", stats.unanswered_at_drop},
          {"answered_twice", stats.answered_twice},
          {"reconnects", stats.reconnects},
          {"reconnect_gap_ms", gap_json(stats.reconnect_gap_ms)},
          {"connections", connections},
          {"error", stats.error},
          {"server_close", stats.close_reason}};
}

void add_stats(LoadStats& total, const LoadStats& stats) {
  total.frames_sent += stats.frames_sent;
  total.frames_skipped += stats.frames_skipped;
  total.frames_skipped_disconnected += stats.frames_skipped_disconnected;
  total.answered_twice += stats.answered_twice;
  total.results_out_of_order += stats.results_out_of_order;
  total.people += stats.people;
  total.unanswered += stats.unanswered;
  total.unanswered_at_drop += stats.unanswered_at_drop;
  total.reconnects += stats.reconnects;
  for (const auto& [kind, count] : stats.answers) total.answers[kind] += count;
  const auto append = [](std::vector<double>& to, const std::vector<double>& from) { to.insert(to.end(), from.begin(), from.end()); };
  append(total.reconnect_gap_ms, stats.reconnect_gap_ms);
  append(total.latency_ms, stats.latency_ms);
  append(total.pipeline_ms, stats.pipeline_ms);
  append(total.server_total_ms, stats.server_total_ms);
}

}  // namespace

nlohmann::json summarize(const LoadRunInfo& run, const std::vector<std::shared_ptr<LoadStream>>& streams) {
  LoadStats total;
  nlohmann::json per_stream = nlohmann::json::array();
  for (const auto& stream : streams) {
    add_stats(total, stream->stats());
    per_stream.push_back(stream_json(stream->stats()));
  }
  std::sort(total.latency_ms.begin(), total.latency_ms.end());
  const double results = static_cast<double>(total.answers["result"]);
  double mean = 0;
  for (double value : total.latency_ms) mean += value / static_cast<double>(total.latency_ms.size());
  return {{"url", run.url},
          {"streams", run.streams},
          {"fps", run.fps},
          {"duration_s", run.duration_s},
          {"elapsed_s", run.elapsed_s},
          {"frames_sent", total.frames_sent},
          {"frames_skipped", total.frames_skipped},
          {"frames_skipped_disconnected", total.frames_skipped_disconnected},
          {"answers", total.answers},
          {"throughput_results_per_s", results / run.duration_s},
          {"people_per_result", results > 0 ? static_cast<double>(total.people) / results : 0.0},
          {"latency_ms",
           {{"p50", percentile(total.latency_ms, 0.50)},
            {"p95", percentile(total.latency_ms, 0.95)},
            {"p99", percentile(total.latency_ms, 0.99)},
            {"mean", mean},
            {"max", total.latency_ms.empty() ? 0.0 : total.latency_ms.back()}}},
          {"server_ms",
           {{"pipeline_p50", percentile(total.pipeline_ms, 0.50)},
            {"pipeline_p99", percentile(total.pipeline_ms, 0.99)},
            {"total_p50", percentile(total.server_total_ms, 0.50)},
            {"total_p99", percentile(total.server_total_ms, 0.99)}}},
          {"checks",
           {{"answered_twice", total.answered_twice},
            {"results_out_of_order", total.results_out_of_order},
            {"unanswered", total.unanswered},
            {"unanswered_at_drop", total.unanswered_at_drop}}},
          {"reconnects", total.reconnects},
          {"reconnect_gap_ms", gap_json(total.reconnect_gap_ms)},
          {"per_stream", per_stream}};
}

void print_text(const nlohmann::json& report) {
  std::cout << "posestream load: " << report["streams"] << " streams x " << report["fps"] << " fps for "
            << report["duration_s"] << " s -> " << report["url"].get<std::string>() << "\n";
  std::cout << "frames sent " << report["frames_sent"] << " (skipped " << report["frames_skipped"]
            << ", while disconnected " << report["frames_skipped_disconnected"] << "); answers:";
  for (const auto& [kind, count] : report["answers"].items()) std::cout << " " << kind << " " << count;
  std::cout << "\nthroughput " << report["throughput_results_per_s"].get<double>() << " results/s, "
            << report["people_per_result"].get<double>() << " people per result\n";
  const auto& latency = report["latency_ms"];
  std::printf("latency send->result ms: p50 %.1f  p95 %.1f  p99 %.1f  mean %.1f  max %.1f\n",
              latency["p50"].get<double>(), latency["p95"].get<double>(), latency["p99"].get<double>(),
              latency["mean"].get<double>(), latency["max"].get<double>());
  const auto& server = report["server_ms"];
  std::printf("server ms: pipeline (total - queue) p50 %.1f  p99 %.1f; arrival->ready p50 %.1f  p99 %.1f\n",
              server["pipeline_p50"].get<double>(), server["pipeline_p99"].get<double>(),
              server["total_p50"].get<double>(), server["total_p99"].get<double>());
  const auto& checks = report["checks"];
  std::cout << "checks: answered twice " << checks["answered_twice"] << ", results out of order "
            << checks["results_out_of_order"] << ", unanswered " << checks["unanswered"]
            << ", unanswered on dropped connections " << checks["unanswered_at_drop"] << "\n";
  const auto& gaps = report["reconnect_gap_ms"];
  std::printf("reconnects %d; gap last answer -> first answer after, ms: p50 %.1f  max %.1f\n",
              report["reconnects"].get<int>(), gaps["p50"].get<double>(), gaps["max"].get<double>());
  for (std::size_t i = 0; i < report["per_stream"].size(); ++i) {
    const auto& stream = report["per_stream"][i];
    if (!stream["error"].get<std::string>().empty()) std::cout << "stream " << i << ": " << stream["error"] << "\n";
    for (const auto& connection : stream["connections"]) {
      if (connection["dropped"].get<bool>()) std::cout << "stream " << i << ": dropped: " << connection["ended"] << "\n";
    }
    if (!stream["server_close"].get<std::string>().empty()) {
      std::cout << "stream " << i << ": server closed: " << stream["server_close"] << "\n";
    }
  }
}

}  // namespace posestream::app
