import { FieldError } from '@sagaflow/saga-dsl';
import { z } from 'zod';
import { CommandEnvelope, HEADERS, PROTOCOL, ReplyEnvelope } from './wire-contract';

/** A message as it travels: key, string headers and a JSON body. */
export interface WireMessage {
  readonly topic: string;
  readonly key: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

export type Decoded<T> =
  | { readonly ok: true; readonly value: T }
  | {
      readonly ok: false;
      readonly reasonCode: 'malformed';
      readonly reason: string;
      readonly errors: readonly FieldError[];
    };

/** Builds the wire form of a command; `traceparent` is passed through when the caller has one. */
export function encodeCommand(
  command: CommandEnvelope,
  topic: string,
  traceparent?: string,
): WireMessage {
  return {
    topic,
    key: command.sagaId,
    headers: {
      [HEADERS.protocol]: PROTOCOL,
      [HEADERS.messageId]: command.messageId,
      [HEADERS.sagaId]: command.sagaId,
      [HEADERS.sagaType]: command.sagaType,
      [HEADERS.step]: command.step,
      [HEADERS.kind]: command.kind,
      [HEADERS.attempt]: String(command.attempt),
      [HEADERS.messageType]: command.commandType,
      [HEADERS.idempotencyKey]: command.idempotencyKey,
      [HEADERS.replyTopic]: command.replyTopic,
      [HEADERS.contentType]: 'application/json',
      ...(traceparent ? { [HEADERS.traceparent]: traceparent } : {}),
    },
    body: command,
  };
}

export function encodeReply(
  reply: ReplyEnvelope,
  topic: string,
  traceparent?: string,
): WireMessage {
  return {
    topic,
    key: reply.sagaId,
    headers: {
      [HEADERS.protocol]: PROTOCOL,
      [HEADERS.messageId]: reply.messageId,
      [HEADERS.sagaId]: reply.sagaId,
      [HEADERS.step]: reply.step,
      [HEADERS.kind]: reply.kind,
      [HEADERS.attempt]: String(reply.attempt),
      [HEADERS.messageType]: `reply.${reply.outcome}`,
      [HEADERS.contentType]: 'application/json',
      ...(traceparent ? { [HEADERS.traceparent]: traceparent } : {}),
    },
    body: reply,
  };
}

export function decodeCommand(raw: Buffer | string | null): Decoded<CommandEnvelope> {
  return decode(CommandEnvelope, raw, 'command');
}

export function decodeReply(raw: Buffer | string | null): Decoded<ReplyEnvelope> {
  return decode(ReplyEnvelope, raw, 'reply');
}

function decode<T>(schema: z.ZodType<T>, raw: Buffer | string | null, what: string): Decoded<T> {
  if (raw === null) return malformed(`${what} has no body`);
  const text = raw.toString();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return malformed(`${what} body is not JSON`);
  }
  if (text.includes('u0000') && containsNul(json)) {
    return malformed(`${what} contains a NUL character (\\u0000), which PostgreSQL cannot store`);
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  const errors = parsed.error.issues.map((i) => ({
    path: i.path.map(String).join('.'),
    message: i.message,
  }));
  return malformed(
    `${what} envelope is invalid: ${errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ')}`,
    errors,
  );
}

/** PostgreSQL text and jsonb cannot hold U+0000, so such a message could never be stored. */
function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => k.includes('\u0000') || containsNul(v));
  }
  return false;
}

function malformed(reason: string, errors: readonly FieldError[] = []): Decoded<never> {
  return { ok: false, reasonCode: 'malformed', reason, errors };
}

/** Kafka headers arrive as Buffers (or arrays of them); the contract uses the first value as UTF-8. */
export function headersToStrings(
  headers: Record<string, unknown> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined && first !== null) out[name] = first.toString();
  }
  return out;
}
