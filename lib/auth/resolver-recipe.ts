import type { DnsResolver } from './dns-resolver.ts';
import type { StaticZone } from './static-zone.ts';
import type { SystemResolverOptions } from './system-resolver-options.ts';

/**
 * How to make a {@link DnsResolver} again, as plain data: the authentication workers build their own from
 * it, so that their DNS questions are answered in their thread instead of crossing to the main thread and
 * back (see {@link AuthWorkerPool}). Resolvers made by {@link createStaticResolver} and
 * {@link createSystemResolver} carry one; any other function (a wrapper, a test's) has none and is asked
 * in the thread that owns it.
 */
export type ResolverRecipe =
  | { kind: 'static'; zone: StaticZone }
  | { kind: 'system'; options: SystemResolverOptions };

/** The property under which a resolver carries its {@link ResolverRecipe}. */
export const RESOLVER_RECIPE: unique symbol = Symbol.for('mailroom.resolverRecipe');

/** `resolver`, carrying `recipe` (a property that is not enumerable). */
export function withRecipe(resolver: DnsResolver, recipe: ResolverRecipe): DnsResolver {
  return Object.defineProperty(resolver, RESOLVER_RECIPE, { value: recipe });
}

/** The recipe `resolver` carries, if any. */
export function recipeOf(resolver: DnsResolver): ResolverRecipe | undefined {
  return (resolver as DnsResolver & { [RESOLVER_RECIPE]?: ResolverRecipe })[RESOLVER_RECIPE];
}
