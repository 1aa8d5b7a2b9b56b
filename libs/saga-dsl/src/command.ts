import { InferOutput, StandardSchemaV1 } from './standard-schema';

/**
 * A command a saga sends and a participant handles, with its reply. Defined once and
 * imported by both sides, so a payload or reply that drifts fails to compile.
 * `Payload` and `Reply` are carried by the schemas; the runtime validators sit next to them.
 */
export interface CommandDefinition<Payload = unknown, Reply = unknown> {
  /** Stable message type on the wire, e.g. `credit.reserve`. */
  readonly type: string;
  /** Kafka topic the participant consumes (the orchestrator adds the deployment's prefix). */
  readonly topic: string;
  readonly payload: StandardSchemaV1<unknown, Payload>;
  readonly reply: StandardSchemaV1<unknown, Reply>;
}

export interface CommandOptions<P extends StandardSchemaV1, R extends StandardSchemaV1> {
  readonly type: string;
  readonly topic: string;
  readonly payload: P;
  readonly reply: R;
}

const COMMAND_TYPE = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;
const TOPIC = /^[a-zA-Z0-9._-]{1,200}$/;

/**
 * Declares a command and its reply.
 *
 * @example
 * export const ReserveCredit = defineCommand({
 *   type: 'credit.reserve',
 *   topic: 'credit.commands',
 *   payload: z.object({ customerId: z.string(), amount: z.number().positive() }),
 *   reply: z.object({ reservationId: z.string() }),
 * });
 */
export function defineCommand<P extends StandardSchemaV1, R extends StandardSchemaV1>(
  options: CommandOptions<P, R>,
): CommandDefinition<InferOutput<P>, InferOutput<R>> {
  if (!COMMAND_TYPE.test(options.type)) {
    throw new TypeError(
      `Command type "${options.type}" is invalid: use dotted lower-case words such as "credit.reserve".`,
    );
  }
  if (!TOPIC.test(options.topic)) {
    throw new TypeError(
      `Topic "${options.topic}" of command "${options.type}" is invalid: use letters, digits, ".", "_" or "-".`,
    );
  }
  return Object.freeze({ ...options }) as CommandDefinition<InferOutput<P>, InferOutput<R>>;
}

/** The payload type of a command definition. */
export type PayloadOf<C> = C extends CommandDefinition<infer P, unknown> ? P : never;
/** The reply type of a command definition. */
export type ReplyOf<C> = C extends CommandDefinition<unknown, infer R> ? R : never;
