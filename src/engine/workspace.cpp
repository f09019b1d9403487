// Workspace: one XNNPACK workspace, the arena of intermediate tensors that runtimes invoked in turn share.
#include <xnnpack.h>

#include <utility>

#include "engine/engine.h"
#include "engine/xnn_ops.h"

namespace posestream::engine {

Workspace::Workspace() {
  xnn::initialize("Workspace");
  const xnn_status status = xnn_create_workspace(&workspace_);
  if (status != xnn_status_success) throw ModelError("xnn_create_workspace failed with " + xnn::describe(status));
}

// XNNPACK counts references: each runtime created on it holds one, so the arena lives while they do.
Workspace::~Workspace() { xnn_release_workspace(workspace_); }

std::shared_ptr<Workspace> own_if_null(std::shared_ptr<Workspace> workspace) {
  return workspace ? std::move(workspace) : std::make_shared<Workspace>();
}

}  // namespace posestream::engine
