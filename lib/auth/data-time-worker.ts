/**
 * The worker side of {@link AuthWorkerPool}: runs {@link inspectAtDataTime} for each message it is sent,
 * several at once (they mostly wait for DNS). DNS questions go to the worker's own resolver, made from the
 * configured one's recipe, or, when it has none, to the main thread, where the configured resolver lives.
 * Loaded by the pool's bootstrap, never imported.
 */
import { parentPort } from 'node:worker_threads';
import { errorText, PostBatcher, unbatch } from '../kernel/index.ts';
import type { FromWorker, OwnResolver, ToWorker } from './auth-worker-protocol.ts';
import { preloadAuthentication } from './authenticate.ts';
import { inspectAtDataTime } from './data-time-inspect.ts';
import { type DnsAnswer, DnsError, type DnsErrorCode, type DnsResolver } from './dns-resolver.ts';
import { resolverFromRecipe } from './resolver-from-recipe.ts';

const DNS_CODES = new Set<string>(['ENOTFOUND', 'ENODATA', 'ETIMEOUT', 'ESERVFAIL', 'EREFUSED']);

interface Question {
  job: number;
  name: string;
  rrtype: string;
  resolve: (answer: DnsAnswer) => void;
  reject: (err: Error) => void;
}

// No stack traces in this thread: nothing it sends shows one (failures cross as their message), and mailauth
// makes an Error for every everyday outcome (`no SPF records found`, …): their stack walks were 10-18 % of the
// check's CPU.
Error.stackTraceLimit = 0;

const port = parentPort!;
const questions = new Map<number, Question>();
/** The resolvers made here from recipes, by the pool's id. */
const own = new Map<number, DnsResolver>();
let nextQuestion = 0;

// Outcomes and DNS questions of one turn go to the pool as one message (they are plain data: they clone).
const out = new PostBatcher<FromWorker>(port, () => {});
const send = (msg: FromWorker) => out.post(msg);

/**
 * Job `job`'s resolver: every question is registered (so that `cancel` fails it), then asked of `local`,
 * or of the main thread when there is none.
 */
function resolverFor(job: number, local: DnsResolver | undefined): DnsResolver {
  return (name, rrtype) =>
    new Promise<DnsAnswer>((resolve, reject) => {
      const q = ++nextQuestion;
      questions.set(q, { job, name, rrtype, resolve, reject });
      if (!local) {
        send({ type: 'dns', id: job, q, name, rrtype });
        return;
      }
      local(name, rrtype).then(
        (answer) => questions.delete(q) && resolve(answer),
        (err: Error) => questions.delete(q) && reject(err),
      );
    });
}

/** The resolver made from the job's recipe (made once per recipe); none if there is no recipe or it fails. */
function ownResolver(given: OwnResolver | undefined): DnsResolver | undefined {
  if (!given) return undefined;
  if (given.recipe && !own.has(given.id)) {
    try {
      own.set(given.id, resolverFromRecipe(given.recipe));
    } catch {
      // Asked in the main thread instead.
    }
  }
  return own.get(given.id);
}

function answer(msg: Extract<ToWorker, { type: 'dns' }>): void {
  const question = questions.get(msg.q);
  if (!question) return;
  questions.delete(msg.q);
  if (msg.ok) {
    question.resolve(msg.answer);
    return;
  }
  // mailauth reads `code`: keep the resolver's, as a DnsError when it is one of the codes it knows.
  const err =
    msg.code && DNS_CODES.has(msg.code)
      ? new DnsError(msg.code as DnsErrorCode, question.name, question.rrtype)
      : Object.assign(new Error(msg.message), { code: msg.code });
  question.reject(err);
}

function cancel(job: number): void {
  for (const [q, question] of questions) {
    if (question.job !== job) continue;
    questions.delete(q);
    question.reject(new DnsError('ETIMEOUT', question.name, question.rrtype));
  }
}

function inspect(msg: Extract<ToWorker, { type: 'inspect' }>): void {
  const local = ownResolver(msg.resolver);
  // Verdicts are cached under this thread's own resolver; those asked of the main thread are not.
  inspectAtDataTime(Buffer.from(msg.raw), msg.request, resolverFor(msg.id, local), local ?? null).then(
    (inspection) => send({ type: 'done', id: msg.id, inspection }),
    (err: unknown) => send({ type: 'failed', id: msg.id, message: errorText(err) }),
  );
}

port.on('message', (data: ToWorker | ToWorker[]) => {
  for (const msg of unbatch(data)) {
    if (msg.type === 'inspect') inspect(msg);
    else if (msg.type === 'dns') answer(msg);
    else if (msg.type === 'cancel') cancel(msg.id);
    else if (msg.type === 'ping') send({ type: 'pong', seq: msg.seq });
  }
});
await preloadAuthentication(); // ready means ready: mailauth loads before the first check, not during it
send({ type: 'ready' });
