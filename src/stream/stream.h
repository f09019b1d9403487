// Public API of the stream layer: per-stream ordering and state, and the worker pool that runs frames.
#pragma once

#include "stream/frame_pipeline.h"
#include "stream/model_library.h"
#include "stream/reorder_buffer.h"
