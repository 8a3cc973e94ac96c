// The shared sample exports: ../shared/samples beside the repository (where CI puts its copy of
// shared/), or LICENSE_SYNC_SAMPLES. No trailing slash.
import { resolve } from "node:path";

export const SAMPLES = resolve(process.env.LICENSE_SYNC_SAMPLES ?? "../shared/samples");
