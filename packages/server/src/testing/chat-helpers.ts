import { Recorder, type StockWsClient } from '@streampod/framework/testing';
import type { ChatMessage, ChatRoom, ChatStreamMessage } from '@streampod/protocol';
import type { TRPCClientError } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';

/** What one `chat.stream` subscriber sees: events (with their tracked ids) and errors. */
export function openChatStream(client: StockWsClient, input: { lastEventId?: string } = {}) {
  const events = new Recorder<{ id: string; event: ChatStreamMessage }>();
  const errors = new Recorder<string>();
  const started = new Recorder<true>();
  const sub = client.subscription('chat.stream', input, {
    onStarted: () => started.push(true),
    onData: (data) => {
      const { id, data: event } = data as { id: string; data: ChatStreamMessage };
      events.push({ id, event });
    },
    onError: (error: TRPCClientError<AnyTRPCRouter>) => errors.push(`${error.data?.code ?? '?'}: ${error.message}`),
  });
  const messages = () =>
    events.entries.flatMap((e) => (e.event.type === 'message' ? [e.event] : [])).map((m) => m.content);
  return {
    events,
    errors,
    /** Resolves once `streamOpened` has run (catch-up included) and the server accepted messages for it. */
    ready: () => started.untilCount(true),
    messages,
    untilMessages: (n: number) => events.until(() => messages().length >= n),
    untilEvent: (test: (e: ChatStreamMessage) => boolean) => events.until((all) => all.some((e) => test(e.event))),
    lastId: () => events.entries.at(-1)?.id,
    stop: () => sub.unsubscribe(),
  };
}

export async function createRoom(
  client: StockWsClient,
  input: { name: string; memberIds: number[] },
): Promise<ChatRoom> {
  return (await client.mutation('chat.createRoom', input)) as ChatRoom;
}

let clientSeq = 0;

export async function send(client: StockWsClient, roomId: number, content: string): Promise<ChatMessage> {
  return (await client.mutation('chat.sendMessage', {
    roomId,
    content,
    clientMessageId: `c${++clientSeq}`,
  })) as ChatMessage;
}
