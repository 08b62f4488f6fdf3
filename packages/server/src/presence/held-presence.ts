import type { ShownPresence, UserPresence } from '@streampod/protocol';

/**
 * A user's presence as this node holds it for those it tells (a watched room's member, what a
 * user's watchers were sent), with its version: flat and without the user's id (the key it is
 * kept under), ~56 bytes where a note and its presence object are ~96. A node keeps one per
 * user it tells of, for as long as someone here is told.
 */
export class HeldPresence implements ShownPresence {
  status!: UserPresence['status'];
  lastSeen!: Date | null;
  devices!: number;
  version!: number;

  constructor(presence: ShownPresence, version: number) {
    this.set(presence, version);
  }

  /** Changes it in place. */
  set(presence: ShownPresence, version: number): void {
    this.status = presence.status;
    this.lastSeen = presence.lastSeen;
    this.devices = presence.devices;
    this.version = version;
  }

  /** User `userId`'s presence as the wire has it (a snapshot's entry). */
  presenceOf(userId: number): UserPresence {
    return { userId, status: this.status, lastSeen: this.lastSeen, devices: this.devices };
  }
}
