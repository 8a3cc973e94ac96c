// A worker thread beside a busier main thread, on a machine with few cores, costs that thread more
// than its share: measured on 2 cores, the report's exports read about 0.1 s slower beside the cloud
// report's worker (likely the main thread's garbage-collector helper threads waiting for a core).
// Such a worker lowers its own thread's priority, so whatever the main thread runs comes first.
import { setPriority } from "node:os";

/**
 * The calling thread at the lowest priority (nice 19), on Linux only: there the nice value is each
 * thread's own, elsewhere it would be the whole process's. Threads the caller starts later inherit
 * it: call it once the libuv thread pool is running (after an asynchronous file operation).
 */
export function lowerThreadPriority(): boolean {
  if (process.platform !== "linux") return false;
  try {
    setPriority(0, 19);
    return true;
  } catch {
    return false; // not allowed here: the thread keeps its priority
  }
}
