/** The profile module's public API: types, defaults, resolver, file loading, sharding. */

export type { Executor, Profile, ProfileInput, ServerSettings, TargetSpec, Timeouts } from './types.js';
export { DEFAULTS } from './defaults.js';
export { MAX_DURATION_MS, MAX_RECIPIENTS, MAX_SIZE_BYTES, MAX_WORKERS } from './limits.js';
export { parseDuration, parseSize } from './units.js';
export { resolveProfile } from './resolve.js';
export { parseTarget } from './schema.js';
export { defaultProfilePath, loadProfileFile } from './load.js';
export { planShard, splitExactly, WHOLE, type Part, type ShardPlan, type WorkerPlan } from './shard.js';
