// A worker thread that works beside a busier main thread, on a machine with few cores, costs that
// thread more than its share: the main thread's garbage collector runs helper threads that then wait
// for a core (the report's exports read about 0.1 s slower beside the cloud report's worker on 2
// cores). Such a worker lowers its own thread's priority, so those helpers come first.
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
