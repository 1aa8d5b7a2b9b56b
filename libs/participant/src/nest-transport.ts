import {
  CustomTransportStrategy,
  RpcException,
  Server,
  BaseRpcContext,
} from '@nestjs/microservices';
import { CommandEnvelope } from '@sagaflow/messaging';
import { CommandDefinition } from '@sagaflow/saga-dsl';
import { Kafka } from 'kafkajs';
import { Pool, PoolClient } from 'pg';
import { lastValueFrom } from 'rxjs';
import { handle, HandlerRegistration } from './command-handler';
import { ParticipantFailure } from './participant-failure';
import { ParticipantKafkaSettings } from './participant-consumer';
import { ParticipantService } from './participant-service';

/** `@Ctx()` in a Sagaflow `@MessagePattern` handler: the command envelope and the open transaction. */
export class SagaflowContext extends BaseRpcContext<[CommandEnvelope, PoolClient, unknown]> {
  get command(): CommandEnvelope {
    return this.args[0];
  }

  get tx(): PoolClient {
    return this.args[1];
  }

  /** On a compensation: the reply recorded for the forward command (see HandlerContext). */
  get forwardReply(): unknown {
    return this.args[2];
  }
}

export interface SagaflowTransportOptions extends ParticipantKafkaSettings {
  readonly kafka: Kafka;
  readonly pool: Pool;
  readonly schema: string;
  readonly groupId: string;
  readonly topics: readonly string[];
  /** The commands this service handles; every `@MessagePattern` must name one of their types. */
  readonly commands: readonly CommandDefinition[];
}

/**
 * Throw this from a Nest handler to reply `failure` (Nest's RPC exception filter lets an
 * RpcException through with its payload; any other error would become "Internal server error").
 *
 * @example
 * throw participantRpcFailure(ParticipantFailure.rejected('card-declined', 'the card was declined'));
 */
export function participantRpcFailure(failure: ParticipantFailure): RpcException {
  return new RpcException({
    sagaflowFailure: { type: failure.type, message: failure.message, retryable: failure.retryable },
  });
}

/**
 * A NestJS custom transport: `@MessagePattern('credit.reserve')` handlers become Sagaflow
 * participants with the same idempotency and reply rules as ParticipantService.
 *
 * @example
 * const app = await NestFactory.createMicroservice(OrderModule, {
 *   strategy: new SagaflowTransport({ kafka, pool, schema: 'orders', groupId: 'orders', topics, commands: [ConfirmOrder] }),
 * });
 */
export class SagaflowTransport extends Server implements CustomTransportStrategy {
  private service: ParticipantService | null = null;

  constructor(private readonly options: SagaflowTransportOptions) {
    super();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      this.service = new ParticipantService({ ...this.options, handlers: this.registrations() });
      await this.service.start();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  async close(): Promise<void> {
    await this.service?.stop();
  }

  on(): void {
    throw new Error('SagaflowTransport does not emit events');
  }

  unwrap<T>(): T {
    return this.service as T;
  }

  /** Fails fast when a handler names no known command, or a command has no handler. */
  private registrations(): HandlerRegistration[] {
    const byType = new Map(this.options.commands.map((c) => [c.type, c]));
    for (const pattern of this.messageHandlers.keys()) {
      if (!byType.has(pattern))
        throw new Error(
          `@MessagePattern('${pattern}') names no command passed to SagaflowTransport: add its definition to "commands".`,
        );
    }
    return this.options.commands.map((command) => {
      const handler = this.getHandlerByPattern(command.type);
      if (!handler)
        throw new Error(
          `no @MessagePattern('${command.type}') handler: add one, or remove the command from "commands".`,
        );
      return handle(command, async (payload, ctx) => {
        try {
          return await lastValueFrom(
            this.transformToObservable(
              await handler(payload, new SagaflowContext([ctx.command, ctx.tx, ctx.forwardReply])),
            ),
          );
        } catch (error) {
          throw toParticipantFailure(error);
        }
      });
    });
  }
}

function toParticipantFailure(error: unknown): unknown {
  const failure = (
    error as { sagaflowFailure?: { type: string; message: string; retryable: boolean } } | null
  )?.sagaflowFailure;
  return failure ? new ParticipantFailure(failure.type, failure.message, failure.retryable) : error;
}
