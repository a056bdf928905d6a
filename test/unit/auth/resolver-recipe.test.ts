import { describe, expect, it } from 'vitest';
import {
  createStaticResolver,
  createSystemResolver,
  type DnsResolver,
  recipeOf,
  type StaticZone,
} from '../../../lib/auth/index.ts';
import { resolverFromRecipe } from '../../../lib/auth/resolver-from-recipe.ts';

const QUESTIONS = [
  ['example.com', 'TXT'],
  ['EXAMPLE.com.', 'MX'],
  ['alias.example.com', 'A'],
  ['example.com', 'AAAA'],
  ['nowhere.example', 'TXT'],
  ['slow.example.com', 'TXT'],
] as const;

/** Every answer or error code of `resolver` for QUESTIONS. */
async function answers(resolver: DnsResolver): Promise<unknown[]> {
  return Promise.all(
    QUESTIONS.map(([name, type]) =>
      resolver(name, type).then(
        (answer) => ({ answer }),
        (err: { code?: string; message?: string }) => ({ code: err.code, message: err.message }),
      ),
    ),
  );
}

function zone(): Record<string, Record<string, unknown>> {
  return {
    'Example.COM.': {
      TXT: ['v=spf1 -all', ['v=DKIM1; p=', 'AB']],
      MX: [{ exchange: 'mx.test', priority: 1 }],
    },
    'alias.example.com': { CNAME: 'example.com', A: undefined },
    'slow.example.com': { error: 'ETIMEOUT' },
  };
}

describe('resolver recipes', () => {
  it('a static resolver carries a copy of its zone, from which the same resolver is made again', async () => {
    const resolver = createStaticResolver(zone() as StaticZone);
    const recipe = recipeOf(resolver);
    expect(recipe).toEqual({ kind: 'static', zone: zone() });
    expect(await answers(resolverFromRecipe(structuredClone(recipe!)))).toEqual(await answers(resolver));
  });

  it('the zone is read when the resolver is made: later changes are seen by neither copy', async () => {
    const live = zone();
    const resolver = createStaticResolver(live as StaticZone);
    const before = await answers(resolver);
    live['nowhere.example'] = { TXT: ['late'] };
    (live['Example.COM.']!.TXT as string[]).push('late');
    expect(await answers(resolver)).toEqual(before);
    expect(await answers(resolverFromRecipe(recipeOf(resolver)!))).toEqual(before);
  });

  it('a zone that is not plain data is read as it is, and carries no recipe', async () => {
    const odd = { 'example.com': { TXT: ['v=spf1 -all'], note: () => 'not data' } };
    const resolver = createStaticResolver(odd as unknown as StaticZone);
    expect(recipeOf(resolver)).toBeUndefined();
    expect(await resolver('example.com', 'TXT')).toEqual([['v=spf1 -all']]);
  });

  it('the system resolver carries its servers, timeout and tries', () => {
    const resolver = createSystemResolver({ servers: ['192.0.2.53', '[2001:db8::53]:5353'], timeoutMs: 900 });
    expect(recipeOf(resolver)).toEqual({
      kind: 'system',
      options: { servers: ['192.0.2.53', '[2001:db8::53]:5353'], timeoutMs: 900, tries: 2 },
    });
    expect(recipeOf(resolverFromRecipe(recipeOf(resolver)!))).toEqual(recipeOf(resolver));
  });

  it('any other function has none', () => {
    expect(recipeOf(async () => [])).toBeUndefined();
  });
});
