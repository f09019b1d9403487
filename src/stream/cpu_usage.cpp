// CPU usage readings: /proc/stat, the process CPU clock and schedstat run-queue waits, parsed and read.
#include "stream/cpu_usage.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

namespace posestream::stream {
namespace {

// The next whitespace-separated field of `text` from `position`, as an unsigned number.
std::optional<std::uint64_t> next_number(std::string_view text, std::size_t& position) {
  while (position < text.size() && (text[position] == ' ' || text[position] == '\t')) ++position;
  std::uint64_t value = 0;
  const char* begin = text.data() + position;
  const auto [end, error] = std::from_chars(begin, text.data() + text.size(), value);
  if (error != std::errc{} || end == begin) return std::nullopt;
  position += static_cast<std::size_t>(end - begin);
  return value;
}

// "cpuN a b c ..." -> the busy ticks of that line (fields 1, 2, 3, 6, 7, 8: user nice system irq
// softirq steal; 4 and 5 are idle and iowait).
std::optional<std::uint64_t> busy_ticks_of_line(std::string_view line, std::size_t fields_from) {
  std::uint64_t busy = 0;
  std::size_t position = fields_from;
  for (int field = 1; field <= 8; ++field) {
    const std::optional<std::uint64_t> value = next_number(line, position);
    if (!value) return std::nullopt;
    if (field != 4 && field != 5) busy += *value;
  }
  return busy;
}

// Reads a small /proc file from its start (it is regenerated on each read at offset 0).
std::optional<std::string> pread_all(int fd) {
  std::array<char, 256> buffer{};
  const ssize_t bytes = ::pread(fd, buffer.data(), buffer.size() - 1, 0);
  if (bytes <= 0) return std::nullopt;
  return std::string(buffer.data(), static_cast<std::size_t>(bytes));
}

std::optional<std::uint64_t> read_run_delay_file(const char* path) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const std::optional<std::string> text = pread_all(fd);
  ::close(fd);
  return text ? parse_run_delay_ns(*text) : std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> parse_busy_ticks(std::string_view proc_stat, const std::vector<int>& cpus) {
  std::uint64_t total = 0;
  for (const int cpu : cpus) {
    const std::string prefix = "\ncpu" + std::to_string(cpu) + " ";
    const std::size_t at = proc_stat.find(prefix);
    if (at == std::string_view::npos) return std::nullopt;
    const std::size_t end = proc_stat.find('\n', at + 1);
    const std::string_view line = proc_stat.substr(at + 1, end == std::string_view::npos ? end : end - at - 1);
    const std::optional<std::uint64_t> busy = busy_ticks_of_line(line, prefix.size() - 1);
    if (!busy) return std::nullopt;
    total += *busy;
  }
  return total;
}

std::optional<std::uint64_t> parse_run_delay_ns(std::string_view schedstat) {
  std::size_t position = 0;
  if (!next_number(schedstat, position)) return std::nullopt;  // Time on a CPU.
  return next_number(schedstat, position);
}

std::vector<int> affinity_cpu_list() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (::sched_getaffinity(0, sizeof(set), &set) != 0) return cpus;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

std::optional<CpuSample> read_cpu_sample(const std::vector<int>& cpus) {
  std::ifstream file("/proc/stat");
  if (!file || cpus.empty()) return std::nullopt;
  std::ostringstream text;
  text << '\n' << file.rdbuf();  // The leading newline lets parse_busy_ticks match the first line too.
  const std::optional<std::uint64_t> ticks = parse_busy_ticks(text.str(), cpus);
  const long ticks_per_second = ::sysconf(_SC_CLK_TCK);
  timespec own{};
  if (!ticks || ticks_per_second <= 0 || ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &own) != 0) return std::nullopt;
  CpuSample sample;
  sample.at = std::chrono::steady_clock::now();
  sample.busy_cpu_seconds = static_cast<double>(*ticks) / static_cast<double>(ticks_per_second);
  sample.own_cpu_seconds = static_cast<double>(own.tv_sec) + static_cast<double>(own.tv_nsec) * 1e-9;
  return sample;
}

ThreadRunDelay::ThreadRunDelay() : fd_(::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC)) {}

ThreadRunDelay::~ThreadRunDelay() {
  if (fd_ >= 0) ::close(fd_);
}

ThreadRunDelay::ThreadRunDelay(ThreadRunDelay&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

ThreadRunDelay& ThreadRunDelay::operator=(ThreadRunDelay&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

std::optional<std::uint64_t> ThreadRunDelay::read_ns() const {
  if (fd_ < 0) return std::nullopt;
  const std::optional<std::string> text = pread_all(fd_);
  return text ? parse_run_delay_ns(*text) : std::nullopt;
}

std::optional<std::uint64_t> process_run_delay_ns() {
  std::error_code error;
  std::filesystem::directory_iterator tasks("/proc/self/task", error);
  if (error) return std::nullopt;
  std::uint64_t total = 0;
  for (const std::filesystem::directory_entry& task : tasks) {
    const std::string path = task.path().string() + "/schedstat";
    // A thread that ended since the listing has no file any more: it simply drops out.
    if (const std::optional<std::uint64_t> delay = read_run_delay_file(path.c_str())) total += *delay;
  }
  return total;
}

}  // namespace posestream::stream
