import { createKafka } from '@sagaflow/messaging';

/** Deletes every topic with the prefix (best effort: cleanup must not fail a finished run). */
export async function deleteTopics(brokers: readonly string[], prefix: string): Promise<void> {
  const admin = createKafka({ brokers, clientId: 'sagaflow-bench-cleanup' }).admin();
  try {
    await admin.connect();
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } catch (error) {
    process.stderr.write(`bench: could not delete topics ${prefix}*: ${String(error)}\n`);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
