// SharedWeights and WeightsCaches: one XNNPACK weights cache per Model and subgraph shape, made on first use.
#include "engine/weights_cache.h"

#include <stdexcept>
#include <string>

namespace posestream::engine::xnn {

SharedWeights::SharedWeights() {
  const xnn_status status = xnn_create_weights_cache(&cache_);
  if (status != xnn_status_success) {
    throw std::runtime_error("xnn_create_weights_cache failed with xnn_status " +
                             std::to_string(static_cast<int>(status)));
  }
}

SharedWeights::~SharedWeights() { xnn_delete_weights_cache(cache_); }

xnn_status SharedWeights::create_runtime(xnn_subgraph_t subgraph, xnn_workspace_t workspace, pthreadpool_t pool,
                                         uint32_t flags, xnn_runtime_t* runtime) {
  const std::lock_guard lock(mutex_);
  const xnn_status status = xnn_create_runtime_v4(subgraph, cache_, workspace, pool, flags, runtime);
  if (status != xnn_status_success || xnn_weights_cache_is_finalized(cache_)) return status;
  // Soft, not hard: a soft-finalized cache keeps room to pack one more set of weights, which a later
  // runtime needs to find the weights it packed itself (its int8 filters) by their bytes.
  const xnn_status finalized = xnn_finalize_weights_cache(cache_, xnn_weights_cache_finalization_kind_soft);
  if (finalized != xnn_status_success) {
    xnn_delete_runtime(*runtime);
    *runtime = nullptr;
  }
  return finalized;
}

std::shared_ptr<SharedWeights> WeightsCaches::get(const std::string& subgraph_key) {
  const std::lock_guard lock(mutex_);
  std::shared_ptr<SharedWeights>& cache = caches_[subgraph_key];
  if (!cache) cache = std::make_shared<SharedWeights>();
  return cache;
}

}  // namespace posestream::engine::xnn
