import { DefinitionRegistry } from './definition-registry';
import { deadLetterTopicFor } from './reply-batch-processor';

/**
 * Every topic the orchestrator writes to or reads from, prefixed: the relay cannot publish to
 * a topic that does not exist (auto-creation is off), so whatever provisions topics uses this list.
 */
export function sagaflowTopics(
  settings: {
    readonly topicPrefix: string;
    readonly replyTopic: string;
    readonly lifecycleTopic?: string | null;
  },
  registry: DefinitionRegistry,
): string[] {
  return [
    settings.replyTopic,
    deadLetterTopicFor(settings.replyTopic),
    ...(settings.lifecycleTopic ? [settings.lifecycleTopic] : []),
    ...registry.commandTopics().map((t) => `${settings.topicPrefix}${t}`),
  ];
}
