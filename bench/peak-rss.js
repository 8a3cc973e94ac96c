// Peak resident memory of this process, for the benchmarks.
import { readFileSync } from "node:fs";

/**
 * Peak RSS of this process, in bytes. Linux's VmHWM belongs to the address space, so it starts afresh
 * at exec; getrusage's maxRSS is inherited from the parent across fork+exec and would show the parent's.
 */
export function peakRss() {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}
