import { formatLastSeen, type ChatUser, type PresenceStatus, type UserPresence } from '@streampod/client';
import type { ReactElement } from 'react';
import { nameOf } from '../users/use-users';
import { PresenceDot } from '../ui/presence-dot';
import { useNow } from '../ui/use-now';

const order: Record<PresenceStatus, number> = { online: 0, busy: 1, away: 2, offline: 3 };

/**
 * The "Members" region: everyone in the room, here first, each with a dot, the status word
 * and, when offline, when they were last seen (kept fresh by a clock).
 */
export function MemberList(props: {
  members: readonly UserPresence[];
  listed: boolean;
  memberCount: number;
  loading: boolean;
  error: Error | null;
  users: ReadonlyMap<number, ChatUser>;
  me: number;
}): ReactElement {
  const now = useNow(30_000);
  const { users } = props;
  const sorted = [...props.members].sort(
    (a, b) => order[a.status] - order[b.status] || nameOf(users, a.userId).localeCompare(nameOf(users, b.userId)),
  );
  return (
    <section className="members" aria-labelledby="members-heading">
      <h2 id="members-heading">Members</h2>
      {props.error !== null ? (
        <p className="panel-note">Members cannot be shown right now.</p>
      ) : props.loading ? (
        <p className="panel-note">Loading…</p>
      ) : !props.listed ? (
        <p className="panel-note">{props.memberCount} members: too many to list.</p>
      ) : (
        <ul className="member-list">
          {sorted.map((presence) => (
            <MemberItem
              key={presence.userId}
              presence={presence}
              name={nameOf(users, presence.userId)}
              isMe={presence.userId === props.me}
              now={now}
            />
          ))}
        </ul>
      )}
    </section>
  );
}

function MemberItem(props: { presence: UserPresence; name: string; isMe: boolean; now: number }): ReactElement {
  const { presence } = props;
  const lastSeen = presence.status === 'offline' && presence.lastSeen !== null ? lastSeenText(presence, props.now) : '';
  return (
    <li className={`member member-${presence.status}`}>
      <PresenceDot status={presence.status} />
      <span className="member-text">
        <span className="member-name">
          {props.name}
          {props.isMe && <span className="member-you"> (you)</span>}
        </span>
        <span className="member-status">
          {presence.status}
          {lastSeen !== '' && `, last seen ${lastSeen}`}
        </span>
      </span>
    </li>
  );
}

/** "5m ago", "just now", "yesterday": the client's wording, lower-cased to sit after "last seen". */
function lastSeenText(presence: UserPresence, now: number): string {
  const text = formatLastSeen(presence, { now });
  return text.charAt(0).toLowerCase() + text.slice(1);
}
