/**
 * sqslite (an SQS emulator) for the integration tests, behind a small bridge: sqslite 2.1.1 speaks only
 * SQS's older Query protocol (form-encoded `Action=…`, XML answers), while `@aws-sdk/client-sqs` speaks the
 * AWS JSON 1.0 protocol. The bridge turns the JSON requests of the operations Mailroom uses into Query
 * requests and sqslite's XML answers back into JSON, so the real SDK client is what the tests exercise.
 * An action sqslite does not implement (`StartMessageMoveTask`) is answered as SQS answers an unknown
 * action: an `InvalidAction` error. Nothing here reaches AWS.
 *
 * sqslite's bugs are worked around here, not in Mailroom: its `SendMessageBatch` answers each entry's `Id`
 * as the MD5 of the Id given and names the body checksum `MDOfMessageBody` (both mapped back); it sends a
 * checksum of message attributes when there are none (dropped: the SDK would refuse it); its
 * `DeleteMessageBatch` keeps the listed messages and deletes the others (the bridge sends one
 * `DeleteMessage` per entry instead). Its receipt handles are per `ReceiveMessage` call, not per message:
 * deleting one deletes every message that call returned.
 */

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SQSClient } from '@aws-sdk/client-sqs';
import sqslite from 'sqslite';
import { EMULATOR_CREDENTIALS, EMULATOR_REGION } from './aws-emulators.ts';

export interface SqsEmulatorHandle {
  /** `http://localhost:<port>`: sqslite accepts only queue URLs on `localhost`. */
  endpoint: string;
  /** Actions the bridge forwarded, in order (`ReceiveMessage`, …). */
  actions: string[];
  close(): Promise<void>;
}

/** An SQS client for the emulator, with its region and dummy credentials. */
export function sqsClientFor(endpoint: string): SQSClient {
  return new SQSClient({ endpoint, region: EMULATOR_REGION, credentials: EMULATOR_CREDENTIALS });
}

type Json = Record<string, unknown>;

/** Query names of JSON lists and maps (`Entries` depends on the action). */
function flatten(action: string, input: Json): URLSearchParams {
  const form = new URLSearchParams({ Action: action });
  for (const [key, value] of Object.entries(input)) {
    if (key === 'Entries' && Array.isArray(value)) {
      value.forEach((entry: Json, i) => {
        const prefix = `${action}RequestEntry.${i + 1}.`;
        for (const [k, v] of Object.entries(entry)) {
          if (k === 'MessageAttributes') flattenAttributes(form, `${prefix}MessageAttribute`, v as Json);
          else form.set(prefix + k, String(v));
        }
      });
    } else if (/^(Message)?(System)?AttributeNames$/.test(key) && Array.isArray(value)) {
      const name = key === 'MessageAttributeNames' ? 'MessageAttributeName' : 'AttributeName';
      value.forEach((v, i) => {
        form.set(`${name}.${i + 1}`, String(v));
      });
    } else if (key === 'Attributes') {
      Object.entries(value as Json).forEach(([k, v], i) => {
        form.set(`Attribute.${i + 1}.Name`, k);
        form.set(`Attribute.${i + 1}.Value`, String(v));
      });
    } else if (key === 'MessageAttributes') flattenAttributes(form, 'MessageAttribute', value as Json);
    else form.set(key, String(value));
  }
  return form;
}

function flattenAttributes(form: URLSearchParams, prefix: string, attributes: Json): void {
  Object.entries(attributes).forEach(([name, value], i) => {
    const at = `${prefix}.${i + 1}.`;
    form.set(`${at}Name`, name);
    for (const [k, v] of Object.entries(value as Json)) form.set(`${at}Value.${k}`, String(v));
  });
}

/** An XML element: its name, text and child elements. */
interface Node {
  name: string;
  text: string;
  children: Node[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (whole, ref: string) => {
    if (ref[0] !== '#') return ENTITIES[ref] ?? whole;
    return String.fromCodePoint(ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1)));
  });
}

/** Enough XML for sqslite's answers: elements and text, no attributes kept. */
function parseXml(xml: string): Node {
  const root: Node = { name: '', text: '', children: [] };
  const stack = [root];
  for (const m of xml.matchAll(/<(\/?)([\w:.-]+)[^>]*?(\/?)>|<\?[^>]*\?>|([^<]+)/g)) {
    const top = stack[stack.length - 1]!;
    if (m[4] !== undefined) top.text += decode(m[4]);
    else if (m[2] === undefined) continue;
    else if (m[1]) stack.pop();
    else {
      const node: Node = { name: m[2], text: '', children: [] };
      top.children.push(node);
      if (!m[3]) stack.push(node);
    }
  }
  return root;
}

const all = (n: Node, name: string) => n.children.filter((c) => c.name === name);
const text = (n: Node, name: string) => all(n, name)[0]?.text.trim();

/** The leaf children of an element as a JSON object (empty ones left out). */
function leaves(n: Node): Json {
  const out: Json = {};
  for (const c of n.children) if (c.children.length === 0 && c.text.trim()) out[c.name] = c.text.trim();
  return out;
}

function nameValues(n: Node, name: string): Record<string, string> {
  return Object.fromEntries(all(n, name).map((a) => [text(a, 'Name') ?? '', text(a, 'Value') ?? '']));
}

function message(n: Node): Json {
  const out = leaves(n);
  const body = all(n, 'Body')[0];
  if (body) out.Body = body.text; // untrimmed
  const attributes = nameValues(n, 'Attribute');
  if (Object.keys(attributes).length) out.Attributes = attributes;
  const custom = all(n, 'MessageAttribute');
  // sqslite sends a checksum of attributes even when there are none; the SDK would refuse it.
  if (!custom.length) delete out.MD5OfMessageAttributes;
  else {
    out.MessageAttributes = Object.fromEntries(
      custom.map((a) => [text(a, 'Name'), leaves(all(a, 'Value')[0] ?? a)]),
    );
  }
  return out;
}

/** sqslite's XML answer to `action` as the JSON protocol's output. */
function toJson(action: string, xml: string): Json {
  const response = parseXml(xml).children[0];
  const result = response && all(response, `${action}Result`)[0];
  if (!result) return {};
  switch (action) {
    case 'ReceiveMessage':
      return { Messages: all(result, 'Message').map(message) };
    case 'GetQueueAttributes':
      return { Attributes: nameValues(result, 'Attribute') };
    case 'SendMessageBatch':
    case 'DeleteMessageBatch':
      return {
        Successful: all(result, `${action}ResultEntry`).map(leaves),
        Failed: all(result, 'BatchResultErrorEntry').map((e) => ({
          ...leaves(e),
          SenderFault: text(e, 'SenderFault') === 'true',
        })),
      };
    default:
      return leaves(result);
  }
}

/**
 * sqslite answers `md5(Id)` for each sent entry, and names its body checksum `MDOfMessageBody`: the Ids
 * the request gave, and the checksum under its name.
 */
function fixBatchIds(action: string, input: Json, output: Json): Json {
  if (action !== 'SendMessageBatch') return output;
  const byHash = new Map(
    (input.Entries as Json[]).map((e) => [createHash('md5').update(String(e.Id)).digest('hex'), e.Id]),
  );
  for (const entry of output.Successful as Json[]) {
    entry.Id = byHash.get(String(entry.Id)) ?? entry.Id;
    entry.MD5OfMessageBody ??= entry.MDOfMessageBody;
    delete entry.MDOfMessageBody;
  }
  return output;
}

async function deleteOneByOne(url: string, host: string, input: Json): Promise<Json> {
  const Successful: Json[] = [];
  const Failed: Json[] = [];
  for (const entry of input.Entries as Json[]) {
    const form = flatten('DeleteMessage', { QueueUrl: input.QueueUrl, ReceiptHandle: entry.ReceiptHandle });
    const { status, body } = await post(url, host, form);
    if (status < 300) Successful.push({ Id: entry.Id });
    else Failed.push({ Id: entry.Id, Code: 'InternalError', Message: body, SenderFault: false });
  }
  return { Successful, Failed };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A form POST with a chosen Host header (fetch does not let one set it). */
function post(url: string, host: string, form: URLSearchParams): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: { host, 'content-type': 'application/x-www-form-urlencoded' },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      readBody(res).then((body) => resolve({ status: res.statusCode ?? 500, body }), reject);
    });
    req.end(form.toString());
  });
}

function answer(res: ServerResponse, status: number, body: Json): void {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
  res.end(JSON.stringify(body));
}

/** Starts sqslite and the bridge in front of it, both on loopback (free ports). */
export async function startSqsEmulator(): Promise<SqsEmulatorHandle> {
  const emulator = sqslite({ logger: false });
  const sqsliteUrl = await emulator.listen({ port: 0, host: '127.0.0.1' });
  const actions: string[] = [];
  const bridge: Server = createServer((req, res) => {
    void (async () => {
      const action = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonSQS\./, '');
      const input = JSON.parse((await readBody(req)) || '{}') as Json;
      actions.push(action);
      const host = String(req.headers.host);
      if (action === 'DeleteMessageBatch') {
        answer(res, 200, await deleteOneByOne(sqsliteUrl, host, input));
        return;
      }
      // The bridge's Host: sqslite writes it into queue URLs, and the SDK sends to a queue URL's host.
      const upstream = await post(sqsliteUrl, host, flatten(action, input));
      const xml = upstream.body;
      if (xml.startsWith('Action:')) {
        answer(res, 400, { __type: 'InvalidAction', message: xml });
      } else if (upstream.status >= 300) {
        const error = parseXml(xml).children[0];
        const detail = (error && all(error, 'Error')[0]) ?? { name: '', text: '', children: [] };
        answer(res, 400, {
          __type: text(detail, 'Code') ?? 'InternalError',
          message: text(detail, 'Message'),
        });
      } else answer(res, 200, fixBatchIds(action, input, toJson(action, xml)));
    })().catch((err: unknown) => answer(res, 500, { __type: 'InternalError', message: String(err) }));
  });
  await new Promise<void>((resolve) => bridge.listen(0, 'localhost', resolve));
  const { port } = bridge.address() as AddressInfo;
  return {
    endpoint: `http://localhost:${port}`,
    actions,
    async close() {
      bridge.closeAllConnections();
      await new Promise<void>((resolve) => bridge.close(() => resolve()));
      await emulator.close();
    },
  };
}
