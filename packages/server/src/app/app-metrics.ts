import { Counter, Registry } from 'prom-client';

/** The chat's own counters, shown on `/metrics` next to the framework's. */
export class AppMetrics {
  readonly registry = new Registry();
  readonly messagesStored = new Counter({
    name: 'streampod_messages_stored_total',
    help: 'Chat messages stored (a retry of a stored one does not count).',
    registers: [this.registry],
  });
  readonly presenceChanges = new Counter({
    name: 'streampod_presence_changes_total',
    help: "Changes of users' presence made by this node (status, devices, last seen).",
    registers: [this.registry],
  });
  readonly typingEvents = new Counter({
    name: 'streampod_typing_events_total',
    help: 'Typing starts and ends broadcast to rooms.',
    registers: [this.registry],
  });
}
