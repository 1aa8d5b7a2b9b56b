import { z } from 'zod';

/** Version tag carried by every envelope and the `sagaflow-protocol` header. */
export const PROTOCOL = 'sagaflow.v1';

/** Kafka header names; values are UTF-8 strings. Documented in docs/protocol.md. */
export const HEADERS = {
  protocol: 'sagaflow-protocol',
  messageId: 'sagaflow-message-id',
  sagaId: 'sagaflow-saga-id',
  sagaType: 'sagaflow-saga-type',
  step: 'sagaflow-step',
  kind: 'sagaflow-kind',
  attempt: 'sagaflow-attempt',
  messageType: 'sagaflow-message-type',
  idempotencyKey: 'sagaflow-idempotency-key',
  replyTopic: 'sagaflow-reply-topic',
  contentType: 'content-type',
  traceparent: 'traceparent',
} as const;

const Kind = z.enum(['forward', 'compensate']);
const Text = z.string().min(1).max(500);

/** The JSON body of a command (orchestrator → participant). The body is authoritative; headers mirror it. */
export const CommandEnvelope = z.object({
  protocol: z.literal(PROTOCOL),
  messageId: Text,
  sagaId: z.uuid(),
  sagaType: Text,
  sagaVersion: z.number().int().positive(),
  step: Text,
  kind: Kind,
  attempt: z.number().int().positive(),
  idempotencyKey: Text,
  commandType: Text,
  replyTopic: Text,
  /** False for notifications: the participant must not reply. Absent means true (older senders). */
  expectsReply: z.boolean().default(true),
  /** On `compensate`: the idempotency key of the forward command being undone; null on `forward`. */
  compensates: Text.nullable(),
  payload: z.unknown(),
});
export type CommandEnvelope = z.infer<typeof CommandEnvelope>;

const Failure = z.object({
  retryable: z.boolean(),
  type: z.string().min(1).max(200),
  message: z.string().max(10_000),
});

const ReplyBase = {
  protocol: z.literal(PROTOCOL),
  messageId: Text,
  inReplyTo: Text,
  sagaId: z.uuid(),
  step: Text,
  kind: Kind,
  attempt: z.number().int().positive(),
  idempotencyKey: Text,
};

/** The JSON body of a reply (participant → orchestrator). */
export const ReplyEnvelope = z.discriminatedUnion('outcome', [
  z.object({ ...ReplyBase, outcome: z.literal('success'), data: z.unknown() }),
  z.object({ ...ReplyBase, outcome: z.literal('failure'), failure: Failure }),
]);
export type ReplyEnvelope = z.infer<typeof ReplyEnvelope>;

/**
 * The id a participant gives its reply to a command: derived from the command's id, so a
 * re-sent reply (after a redelivered command) carries the same id and the inbox drops it.
 */
export function replyMessageId(commandMessageId: string): string {
  return `reply:${commandMessageId}`;
}
