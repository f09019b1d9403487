// Public API of the stream layer: per-stream ordering and state, and the worker pool that runs frames.
//
// The server's side of it:
//   ModelLibrary (one per process) -> Scheduler(models, {worker_count, max_sessions, ...}); counts of 0
//     resolve to read_cpu_budget().cpus, which scheduler.cpu_budget() reports
//   per connection: scheduler.open_session(options, sink) -> shared_ptr<Session>
//     session->push(frame, now); arm a timer at session->next_deadline() and call session->poll(now);
//     session->configure(config) / set_drop_policy(policy) / reset(); session->close() on disconnect.
//   Every frame is answered exactly once through the sink (ResultAnswer or DroppedAnswer).
//   scheduler.stop() at shutdown answers whatever is still waiting.
// The CLI runs frames directly: FramePipeline(models).run(bytes, timestamp_us, stream_state).
#pragma once

#include "stream/cpu_budget.h"
#include "stream/frame_pipeline.h"
#include "stream/model_library.h"
#include "stream/parallelism.h"
#include "stream/reorder_buffer.h"
#include "stream/scheduler.h"
#include "stream/session.h"
