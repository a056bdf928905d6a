import type { DnsResolver } from './dns-resolver.ts';
import type { ResolverRecipe } from './resolver-recipe.ts';
import { createStaticResolver } from './static-resolver.ts';
import { createSystemResolver } from './system-resolver.ts';

/** The resolver a {@link ResolverRecipe} describes, made in the calling thread. */
export function resolverFromRecipe(recipe: ResolverRecipe): DnsResolver {
  return recipe.kind === 'static' ? createStaticResolver(recipe.zone) : createSystemResolver(recipe.options);
}
