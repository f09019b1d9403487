// SharedWeights and WeightsCaches: XNNPACK weights caches through which runtimes of one Model share packed weights.
#pragma once

#include <xnnpack.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace posestream::engine::xnn {

// One XNNPACK weights cache. The first runtime created on it packs its weights into it; the cache is then
// soft-finalized, as XNNPACK reads packed weights only from a finalized cache. Every later runtime of the
// same subgraph finds its packed weights there (by the original weights' address, or by the packed bytes
// for weights a runtime made itself, its int8 filters) instead of keeping a copy of its own. A finalized cache cannot take
// weights it has not seen, so one cache serves exactly one subgraph shape: see WeightsCaches.
class SharedWeights {
 public:
  SharedWeights();  // Throws std::runtime_error when XNNPACK cannot make the cache (after xnn_initialize).
  ~SharedWeights();
  SharedWeights(const SharedWeights&) = delete;
  SharedWeights& operator=(const SharedWeights&) = delete;

  // xnn_create_runtime_v4 on this cache, with `workspace` (null: the runtime's own). Serialized with every
  // other creation on it: the first must pack and finalize before another looks its weights up.
  xnn_status create_runtime(xnn_subgraph_t subgraph, xnn_workspace_t workspace, pthreadpool_t pool, uint32_t flags,
                            xnn_runtime_t* runtime);

 private:
  std::mutex mutex_;
  xnn_weights_cache_t cache_ = nullptr;
};

// A Model's weights caches, one per subgraph shape (precision and the outputs computed), made on first use.
// Thread-safe. Runtimes keep their cache alive, so it outlives them.
class WeightsCaches {
 public:
  std::shared_ptr<SharedWeights> get(const std::string& subgraph_key);

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<SharedWeights>> caches_;
};

}  // namespace posestream::engine::xnn
