import type { DataTimeInspection, DataTimeRequest } from './data-time-inspect.ts';
import type { DnsAnswer } from './dns-resolver.ts';
import type { ResolverRecipe } from './resolver-recipe.ts';

/**
 * The worker's own resolver for a job, when the pool's has a recipe: `id` names it in the worker, `recipe`
 * comes with the first job of that worker that uses it. Without one, the worker asks the pool.
 */
export interface OwnResolver {
  id: number;
  recipe?: ResolverRecipe;
}

/** Messages from the pool to a worker. */
export type ToWorker =
  /** Inspect one message; `raw` is the pool's own copy, transferred. */
  | { type: 'inspect'; id: number; raw: ArrayBuffer; request: DataTimeRequest; resolver?: OwnResolver }
  /** The answer to the worker's DNS question `q`. */
  | { type: 'dns'; q: number; ok: true; answer: DnsAnswer }
  | { type: 'dns'; q: number; ok: false; code: string | undefined; message: string }
  /** The pool gave up on job `id` (deadline): drop it, failing its DNS questions. */
  | { type: 'cancel'; id: number }
  | { type: 'ping'; seq: number };

/** Messages from a worker to the pool. */
export type FromWorker =
  | { type: 'ready' }
  /** A DNS question of job `id`, for the resolver in the main thread. */
  | { type: 'dns'; id: number; q: number; name: string; rrtype: string }
  | { type: 'done'; id: number; inspection: DataTimeInspection }
  | { type: 'failed'; id: number; message: string }
  | { type: 'pong'; seq: number };
